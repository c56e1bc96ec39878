//! The classic builder's cache: no key is stored anywhere. A step is
//! "in the cache" when the store holds an image that (1) was made here
//! from the same parent and (2) whose `container_config` — the config
//! after the step, with the step itself written into its `Cmd` — equals
//! the one this step would make. The newest such image wins.
//!
//! ```text
//! parent sha256:3f57…  +  Cmd ["/bin/sh","-c","#(nop) COPY file:9a1c… in /app "]
//!                           Env, User, WorkingDir, Labels … all of it
//! ```
//!
//! So a change upstream (a new parent) misses every step after it, an ENV
//! or a WORKDIR changes every later probe, and a COPY misses when the hash
//! of its sources changes even if its line did not.

use ch04_image_pull::store::Store;

use crate::config::{ImageConfig, RunConfig};

/// The key in an image config under which a built step keeps its probe.
pub const CONTAINER_CONFIG: &str = "container_config";

// ANCHOR: probe
/// The image a step made before: a child of `parent` (`None`: a step on
/// `scratch`) whose recorded probe equals `probe`.
pub fn probe(
    store: &Store,
    parent: Option<&str>,
    probe: &RunConfig,
) -> anyhow::Result<Option<String>> {
    let mut best: Option<(Option<String>, String)> = None;
    for record in store.images()? {
        if record.parent.as_deref() != parent {
            continue;
        }
        let Ok(config) = ImageConfig::parse(&store.read_blob(&record.id)?) else { continue };
        if recorded_probe(&config).as_ref() != Some(probe) {
            continue;
        }
        if best.as_ref().is_none_or(|(created, _)| record.created > *created) {
            best = Some((record.created.clone(), record.id.clone()));
        }
    }
    Ok(best.map(|(_, id)| id))
}
// ANCHOR_END: probe

/// The probe a built image was made with (none for pulled or committed ones).
pub fn recorded_probe(config: &ImageConfig) -> Option<RunConfig> {
    let value = config.other.get(CONTAINER_CONFIG)?;
    serde_json::from_value(value.clone()).ok()
}

// ANCHOR: probe_config
/// The probe of a step: the config after it, with `cmd` (what the step
/// is) as its command. RUN's has no entrypoint: it is what ran.
pub fn probe_config(after: &RunConfig, cmd: Vec<String>, run: bool) -> RunConfig {
    let mut probe = after.clone();
    probe.cmd = Some(cmd);
    if run {
        probe.entrypoint = None;
    }
    probe
}
// ANCHOR_END: probe_config

/// What a metadata step's `Cmd` says: `/bin/sh -c #(nop)  ENV A=b`.
pub fn nop(shell: &[String], what: &str) -> Vec<String> {
    let mut cmd = shell.to_vec();
    cmd.push(format!("#(nop) {what}"));
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_differ_when_the_step_or_the_config_before_it_does() {
        let shell = vec!["/bin/sh".to_string(), "-c".to_string()];
        let before = RunConfig { env: vec!["PATH=/bin".into()], ..RunConfig::default() };
        let a = probe_config(&before, nop(&shell, " ENV A=1"), false);
        let b = probe_config(&before, nop(&shell, " ENV A=2"), false);
        assert_ne!(a, b);
        assert_eq!(a.cmd.as_ref().unwrap()[2], "#(nop)  ENV A=1");
        let mut other = before.clone();
        other.working_dir = "/app".into();
        assert_ne!(probe_config(&other, nop(&shell, " ENV A=1"), false), a);
        let run = probe_config(
            &RunConfig { entrypoint: Some(vec!["x".into()]), ..before.clone() },
            vec!["/bin/sh".into(), "-c".into(), "true".into()],
            true,
        );
        assert_eq!(run.entrypoint, None);
    }

    #[test]
    fn a_probe_survives_the_image_config() {
        let probe = RunConfig { cmd: Some(vec!["#(nop) x".into()]), ..RunConfig::default() };
        let mut config = ImageConfig::default();
        config.other.insert(CONTAINER_CONFIG.into(), serde_json::to_value(&probe).unwrap());
        let again = ImageConfig::parse(&config.to_bytes()).unwrap();
        assert_eq!(recorded_probe(&again), Some(probe));
        assert_eq!(recorded_probe(&ImageConfig::default()), None);
    }
}
