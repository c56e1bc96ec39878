//! Exercise `probe_config` (easy). Book: ch10-images.md, "Building from a
//! Dockerfile".
//!
//! The classic builder keeps no cache key: a step is reused when an image
//! made here from the same parent recorded the same *probe*. The probe is
//! the config after the step (`after`) with the step written into its
//! command: give back a copy of `after` whose `cmd` is `Some(cmd)` and,
//! for a RUN step (`run`), whose `entrypoint` is `None` (the command is
//! all that ran). Everything else — Env, User, WorkingDir, Labels … — stays:
//! that is why an ENV upstream changes every probe after it.

use ch10_images::config::RunConfig;

/// The probe of a step whose config after it is `after`.
pub fn probe_config(after: &RunConfig, cmd: Vec<String>, run: bool) -> RunConfig {
    todo!("clone, set the command, and clear the entrypoint for RUN")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the command set, the entrypoint kept for RUN
    // (the probe no longer equals what the step records). Checked by pasting it into the stub: it
    // fails `a_run_has_no_entrypoint_and_any_change_is_another_probe`.
    //
    //     let mut probe = after.clone();
    //     let _ = run;
    //     probe.cmd = Some(cmd);
    //     probe

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::build::cache as solution;

    use ch10_images::config::RunConfig;

    fn words(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn before() -> RunConfig {
        RunConfig {
            env: words(&["PATH=/bin"]),
            entrypoint: Some(words(&["/app"])),
            cmd: Some(words(&["serve"])),
            working_dir: "/srv".into(),
            ..RunConfig::default()
        }
    }

    #[test]
    fn the_step_is_the_command() {
        let cmd = words(&["/bin/sh", "-c", "#(nop)  ENV A=1"]);
        let probe = solution::probe_config(&before(), cmd.clone(), false);
        assert_eq!(probe.cmd, Some(cmd));
        assert_eq!(probe.entrypoint, before().entrypoint, "a config step keeps the entrypoint");
        assert_eq!((probe.env, probe.working_dir), (before().env, before().working_dir));
    }

    #[test]
    fn a_run_has_no_entrypoint_and_any_change_is_another_probe() {
        let run = solution::probe_config(&before(), words(&["/bin/sh", "-c", "make"]), true);
        assert_eq!(run.entrypoint, None);
        let mut elsewhere = before();
        elsewhere.working_dir = "/other".into();
        let cmd = words(&["/bin/sh", "-c", "make"]);
        assert_ne!(solution::probe_config(&elsewhere, cmd.clone(), true), run);
        assert_eq!(solution::probe_config(&before(), cmd, true), run);
    }
}
