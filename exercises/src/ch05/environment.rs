//! Exercise `environment` (medium). Book: ch05-run.md.
//!
//! The container's environment, in this order:
//! 1. Docker's defaults: `PATH=` + `DEFAULT_PATH`, `HOSTNAME=<hostname>`,
//!    and `TERM=xterm` when the container has a terminal (`tty`);
//! 2. the image's `env`, then the user's (`-e`, `--env-file`);
//!    a later `KEY=...` replaces an earlier one with the same KEY *in place*
//!    (it keeps the earlier one's position); a new KEY is appended.

use ch01_namespaces::exec::DEFAULT_PATH;
use ch05_run::merge::{ImageDefaults, UserOverrides};

/// The environment the container's process gets.
pub fn environment(
    image: &ImageDefaults,
    user: &UserOverrides,
    hostname: &str,
    tty: bool,
) -> Vec<String> {
    todo!("start from the defaults, then replace or append each KEY=VALUE")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: every KEY=VALUE appended, never replacing: the
    // image's PATH follows the default one and the process sees two. Checked by pasting it into
    // the reference implementation: it fails `defaults_then_image_then_user_replacing_in_place`.
    //
    //     for kv in image.env.iter().chain(&user.env) {
    //         env.push(kv.to_string());
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::merge as solution;

    use ch01_namespaces::exec::DEFAULT_PATH;
    use ch05_run::merge::{ImageDefaults, UserOverrides};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn dockers_defaults() {
        let env = solution::environment(
            &ImageDefaults::default(),
            &UserOverrides::default(),
            "abc123",
            false,
        );
        assert_eq!(env, [format!("PATH={DEFAULT_PATH}"), "HOSTNAME=abc123".to_string()]);
        let env =
            solution::environment(&ImageDefaults::default(), &UserOverrides::default(), "h", true);
        assert_eq!(env[2], "TERM=xterm");
    }

    #[test]
    fn defaults_then_image_then_user_replacing_in_place() {
        let img =
            ImageDefaults { env: strings(&["PATH=/opt/bin:/bin", "LANG=C"]), ..Default::default() };
        let usr = UserOverrides {
            env: strings(&["LANG=fr_FR", "X=1", "TERM=dumb"]),
            ..Default::default()
        };
        let env = solution::environment(&img, &usr, "abc123", true);
        assert_eq!(
            env,
            ["PATH=/opt/bin:/bin", "HOSTNAME=abc123", "TERM=dumb", "LANG=fr_FR", "X=1"]
        );
    }

    #[test]
    fn keys_are_compared_whole() {
        let img = ImageDefaults { env: strings(&["PATHS=x", "HOST=y"]), ..Default::default() };
        let env = solution::environment(&img, &UserOverrides::default(), "h", false);
        assert_eq!(
            env,
            [
                format!("PATH={DEFAULT_PATH}"),
                "HOSTNAME=h".into(),
                "PATHS=x".into(),
                "HOST=y".into()
            ]
        );
    }
}
