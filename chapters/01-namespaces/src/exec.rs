//! The last step of the child: find the command and `execve` it.
//!
//! The lookup runs inside the container (after any `pivot_root`), with the
//! container's own `PATH`, as runc does: the host's `PATH` means nothing there.

use std::ffi::CString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;

/// Docker's `PATH` when the image sets none (moby `oci/defaults.go`).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why the command could not be started; the exit code follows Docker's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecFailure {
    /// Exit code 127: nothing by that name.
    NotFound(String),
    /// Exit code 126: found, but it cannot be run (a directory, no `x` bit, not a program).
    NotExecutable(String),
}

impl ExecFailure {
    pub fn exit_code(&self) -> i32 {
        match self {
            ExecFailure::NotFound(_) => 127,
            ExecFailure::NotExecutable(_) => 126,
        }
    }

    pub fn message(&self) -> &str {
        match self {
            ExecFailure::NotFound(m) | ExecFailure::NotExecutable(m) => m,
        }
    }
}

// ANCHOR: resolve
/// Find `program` the way a shell would: a name with a `/` is a path, any
/// other name is looked up in each directory of `path_var` in turn.
pub fn resolve(program: &str, path_var: &str) -> Result<PathBuf, ExecFailure> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        check_runnable(program, &path)?;
        return Ok(path);
    }
    for dir in path_var.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(dir).join(program);
        if is_executable_file(&candidate) {
            return Ok(candidate);
        }
    }
    Err(ExecFailure::NotFound(format!("exec {program:?}: executable file not found in $PATH")))
}
// ANCHOR_END: resolve

fn is_executable_file(path: &Path) -> bool {
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn check_runnable(program: &str, path: &Path) -> Result<(), ExecFailure> {
    match path.metadata() {
        Err(_) => {
            Err(ExecFailure::NotFound(format!("exec {program:?}: no such file or directory")))
        }
        Ok(m) if m.is_dir() => {
            Err(ExecFailure::NotExecutable(format!("exec {program:?}: is a directory")))
        }
        Ok(_) => Ok(()),
    }
}

/// The value of `PATH` in a `KEY=VALUE` environment, or Docker's default.
pub fn path_from_env(env: &[String]) -> &str {
    env.iter().rev().find_map(|kv| kv.strip_prefix("PATH=")).unwrap_or(DEFAULT_PATH)
}

/// Replace this process with `path`. Returns only on failure.
pub fn execve(path: &Path, argv: &[String], env: &[String]) -> ExecFailure {
    let program = argv.first().map(String::as_str).unwrap_or("");
    let (Ok(c_path), Ok(c_argv), Ok(c_env)) =
        (to_cstring(path.as_os_str().as_encoded_bytes()), to_cstrings(argv), to_cstrings(env))
    else {
        return ExecFailure::NotExecutable(format!(
            "exec {program:?}: argument contains a NUL byte"
        ));
    };
    let errno = nix::unistd::execve(&c_path, &c_argv, &c_env).unwrap_err();
    match errno {
        Errno::ENOENT => {
            ExecFailure::NotFound(format!("exec {program:?}: no such file or directory"))
        }
        other => {
            ExecFailure::NotExecutable(format!("exec {program:?}: {}", other.desc().to_lowercase()))
        }
    }
}

fn to_cstring(bytes: &[u8]) -> Result<CString, std::ffi::NulError> {
    CString::new(bytes)
}

fn to_cstrings(items: &[String]) -> Result<Vec<CString>, std::ffi::NulError> {
    items.iter().map(|s| CString::new(s.as_bytes())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_in_path_order() {
        let found = resolve("sh", "/nonexistent:/bin:/usr/bin").unwrap();
        assert!(found.ends_with("sh"));
        assert!(found.starts_with("/bin") || found.starts_with("/usr/bin"));
    }

    #[test]
    fn missing_program_is_127_with_dockers_words() {
        let err = resolve("no-such-program-xyz", DEFAULT_PATH).unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert_eq!(
            err.message(),
            "exec \"no-such-program-xyz\": executable file not found in $PATH"
        );
    }

    #[test]
    fn directory_is_126() {
        let err = resolve("/tmp", DEFAULT_PATH).unwrap_err();
        assert_eq!(err.exit_code(), 126);
        assert!(err.message().contains("is a directory"));
    }

    #[test]
    fn explicit_missing_path_is_127() {
        assert_eq!(resolve("/no/such/file", DEFAULT_PATH).unwrap_err().exit_code(), 127);
    }

    #[test]
    fn path_comes_from_the_containers_env() {
        let env = vec!["HOME=/root".to_string(), "PATH=/opt/bin".to_string()];
        assert_eq!(path_from_env(&env), "/opt/bin");
        assert_eq!(path_from_env(&[]), DEFAULT_PATH);
    }
}
