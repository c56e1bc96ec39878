//! Build the container's process from the image config and the user's
//! `run` options, exactly as Docker combines them.

use thiserror::Error;

use ch01_namespaces::exec::DEFAULT_PATH;

/// The runtime defaults an image config carries (`config.config` in OCI).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageDefaults {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
}

/// What the user typed on the `run` command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserOverrides {
    /// `--entrypoint X`; `Some("")` clears the image's entrypoint.
    pub entrypoint: Option<String>,
    /// The arguments after the image name.
    pub cmd: Vec<String>,
    /// `-e` and `--env-file`, already parsed into `KEY=VALUE`.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MergeError {
    #[error(
        "no command specified: the image has no Cmd or Entrypoint, give one after the image name"
    )]
    NoCommand,
    #[error("the working directory {0:?} is invalid: it must be an absolute path")]
    RelativeWorkdir(String),
}

/// The merged result: what the container will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    /// `USER[:GROUP]` still to be resolved against the image's /etc/passwd.
    pub user: String,
}

// ANCHOR: argv
/// Entrypoint and Cmd, combined as moby's `merge` and
/// `getEntrypointAndArgs` do. The surprise: `--entrypoint` discards the
/// image's Cmd; the arguments after the image name replace only the Cmd.
pub fn argv(image: &ImageDefaults, user: &UserOverrides) -> Result<Vec<String>, MergeError> {
    let (entrypoint, cmd) = match &user.entrypoint {
        Some(e) if e.is_empty() => (Vec::new(), user.cmd.clone()),
        Some(e) => (vec![e.clone()], user.cmd.clone()),
        None => {
            let cmd = if user.cmd.is_empty() {
                image.cmd.clone().unwrap_or_default()
            } else {
                user.cmd.clone()
            };
            (image.entrypoint.clone().unwrap_or_default(), cmd)
        }
    };
    let argv: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if argv.is_empty() {
        return Err(MergeError::NoCommand);
    }
    Ok(argv)
}
// ANCHOR_END: argv

// ANCHOR: env
/// The environment: Docker's defaults, then the image's, then the user's;
/// a later `KEY=` replaces an earlier one in place.
pub fn environment(
    image: &ImageDefaults,
    user: &UserOverrides,
    hostname: &str,
    tty: bool,
) -> Vec<String> {
    let mut env = vec![format!("PATH={DEFAULT_PATH}"), format!("HOSTNAME={hostname}")];
    if tty {
        env.push("TERM=xterm".to_string());
    }
    for kv in image.env.iter().chain(&user.env) {
        replace_or_append(&mut env, kv);
    }
    env
}

/// Docker's `ReplaceOrAppendEnvValues`: a variable already set keeps its
/// place with the new value; a new one goes at the end.
pub fn replace_or_append(env: &mut Vec<String>, kv: &str) {
    let key = kv.split_once('=').map_or(kv, |(k, _)| k);
    match env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
        Some(existing) => *existing = kv.to_string(),
        None => env.push(kv.to_string()),
    }
}
// ANCHOR_END: env

/// Everything together; `hostname` is already decided (short id by default).
pub fn merge(
    image: &ImageDefaults,
    user: &UserOverrides,
    hostname: &str,
    tty: bool,
) -> Result<Merged, MergeError> {
    let working_dir =
        user.workdir.clone().or_else(|| image.working_dir.clone()).filter(|w| !w.is_empty());
    let working_dir = working_dir.unwrap_or_else(|| "/".to_string());
    if !working_dir.starts_with('/') {
        return Err(MergeError::RelativeWorkdir(working_dir));
    }
    let user_spec = user.user.clone().or_else(|| image.user.clone()).filter(|u| !u.is_empty());
    Ok(Merged {
        argv: argv(image, user)?,
        env: environment(image, user, hostname, tty),
        working_dir,
        user: user_spec.unwrap_or_else(|| "0:0".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(argv(&image(None, Some(&["sh"])), &user(None, &[])).unwrap(), ["sh"]);
    }

    #[test]
    fn arguments_replace_cmd_and_keep_entrypoint() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(argv(&img, &user(None, &[])).unwrap(), ["/entry.sh", "serve"]);
        assert_eq!(
            argv(&img, &user(None, &["debug", "-v"])).unwrap(),
            ["/entry.sh", "debug", "-v"]
        );
    }

    #[test]
    fn entrypoint_flag_discards_the_images_cmd() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(argv(&img, &user(Some("ls"), &[])).unwrap(), ["ls"]);
        assert_eq!(argv(&img, &user(Some("ls"), &["-l"])).unwrap(), ["ls", "-l"]);
    }

    #[test]
    fn empty_entrypoint_flag_clears_it() {
        let img = image(Some(&["/entry.sh"]), Some(&["serve"]));
        assert_eq!(argv(&img, &user(Some(""), &["sh"])).unwrap(), ["sh"]);
        assert_eq!(argv(&img, &user(Some(""), &[])), Err(MergeError::NoCommand));
    }

    #[test]
    fn no_command_at_all_is_an_error() {
        assert_eq!(argv(&image(None, None), &user(None, &[])), Err(MergeError::NoCommand));
    }

    #[test]
    fn env_defaults_then_image_then_user() {
        let img =
            ImageDefaults { env: strings(&["PATH=/opt/bin:/bin", "LANG=C"]), ..Default::default() };
        let usr = UserOverrides { env: strings(&["LANG=fr_FR", "X=1"]), ..Default::default() };
        let env = environment(&img, &usr, "abc123", true);
        assert_eq!(
            env,
            ["PATH=/opt/bin:/bin", "HOSTNAME=abc123", "TERM=xterm", "LANG=fr_FR", "X=1"]
        );
        assert_eq!(
            environment(&ImageDefaults::default(), &UserOverrides::default(), "h", false).len(),
            2
        );
    }

    #[test]
    fn workdir_and_user_precedence() {
        let img = ImageDefaults {
            cmd: Some(strings(&["sh"])),
            working_dir: Some("/app".into()),
            user: Some("www".into()),
            ..Default::default()
        };
        let merged = merge(&img, &UserOverrides::default(), "h", false).unwrap();
        assert_eq!((merged.working_dir.as_str(), merged.user.as_str()), ("/app", "www"));
        let usr = UserOverrides {
            workdir: Some("/tmp".into()),
            user: Some("0".into()),
            ..Default::default()
        };
        let merged = merge(&img, &usr, "h", false).unwrap();
        assert_eq!((merged.working_dir.as_str(), merged.user.as_str()), ("/tmp", "0"));
        let bare = ImageDefaults { cmd: Some(strings(&["sh"])), ..Default::default() };
        let merged = merge(&bare, &UserOverrides::default(), "h", false).unwrap();
        assert_eq!((merged.working_dir.as_str(), merged.user.as_str()), ("/", "0:0"));
        let relative = UserOverrides { workdir: Some("tmp".into()), ..Default::default() };
        assert_eq!(
            merge(&bare, &relative, "h", false),
            Err(MergeError::RelativeWorkdir("tmp".into()))
        );
    }
}
