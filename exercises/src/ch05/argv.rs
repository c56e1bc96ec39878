//! Exercise `argv` (medium). Book: ch05-run.md.
//!
//! What the container runs, from the image's Entrypoint and Cmd and what
//! the user typed, as moby combines them:
//! - arguments after the image name replace the image's Cmd, and keep its
//!   Entrypoint: `ENTRYPOINT ["/entry.sh"]` + `run img debug` → `/entry.sh debug`;
//! - `--entrypoint X` replaces the Entrypoint AND discards the image's Cmd
//!   (the surprise); `--entrypoint ""` clears the Entrypoint;
//! - nothing left to run is `MergeError::NoCommand`.

use ch05_run::merge::{ImageDefaults, MergeError, UserOverrides};

/// Entrypoint and Cmd, combined as Docker does.
pub fn argv(image: &ImageDefaults, user: &UserOverrides) -> Result<Vec<String>, MergeError> {
    todo!("three cases on user.entrypoint: None, Some(\"\"), Some(x)")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: `--entrypoint` given, the image's Cmd kept when
    // no arguments follow (Docker drops it). Checked by pasting it into the reference
    // implementation: it fails `entrypoint_flag_discards_the_images_cmd`.
    //
    //     Some(e) => {
    //         let cmd = if user.cmd.is_empty() { image.cmd.clone().unwrap_or_default() } else { user.cmd.clone() };
    //         (vec![e.clone()], cmd)
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::merge as solution;

    use ch05_run::merge::{ImageDefaults, MergeError, UserOverrides};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ImageDefaults {
        ImageDefaults {
            entrypoint: entrypoint.map(strings),
            cmd: cmd.map(strings),
            ..Default::default()
        }
    }

    fn user(entrypoint: Option<&str>, cmd: &[&str]) -> UserOverrides {
        UserOverrides {
            entrypoint: entrypoint.map(str::to_string),
            cmd: strings(cmd),
            ..Default::default()
        }
    }

    #[test]
    fn image_cmd_runs_when_nothing_is_given() {
        assert_eq!(solution::argv(&image(None, Some(&["sh"])), &user(None, &[])).unwrap(), ["sh"]);
        assert_eq!(
            solution::argv(&image(None, Some(&["sh"])), &user(None, &["ls", "/"])).unwrap(),
            ["ls", "/"]
        );
    }

    #[test]
    fn arguments_replace_cmd_and_keep_entrypoint() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(solution::argv(&img, &user(None, &[])).unwrap(), ["/entry.sh", "serve"]);
        assert_eq!(
            solution::argv(&img, &user(None, &["debug", "-v"])).unwrap(),
            ["/entry.sh", "debug", "-v"]
        );
        assert_eq!(
            solution::argv(&image(Some(&["/entry.sh"]), None), &user(None, &[])).unwrap(),
            ["/entry.sh"]
        );
    }

    #[test]
    fn entrypoint_flag_discards_the_images_cmd() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(solution::argv(&img, &user(Some("ls"), &[])).unwrap(), ["ls"]);
        assert_eq!(solution::argv(&img, &user(Some("ls"), &["-l"])).unwrap(), ["ls", "-l"]);
    }

    #[test]
    fn empty_entrypoint_flag_clears_it() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(solution::argv(&img, &user(Some(""), &["sh"])).unwrap(), ["sh"]);
        assert_eq!(solution::argv(&img, &user(Some(""), &[])), Err(MergeError::NoCommand));
    }

    #[test]
    fn no_command_at_all_is_an_error() {
        assert_eq!(
            solution::argv(&image(None, None), &user(None, &[])),
            Err(MergeError::NoCommand)
        );
        assert_eq!(
            solution::argv(&image(Some(&[]), Some(&[])), &user(None, &[])),
            Err(MergeError::NoCommand)
        );
    }
}
