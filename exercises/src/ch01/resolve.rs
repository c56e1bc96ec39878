//! Exercise `resolve` (medium). Book: ch01-namespaces.md, "The spawn protocol".
//!
//! The last thing the child does before `execve` is to find the program,
//! the way a shell does, inside the container, with the container's PATH:
//! - a name containing `/` is a path: missing → NotFound (exit 127),
//!   a directory → NotExecutable (exit 126), anything else → that path;
//! - any other name is looked up in each directory of `path_var`, in order;
//!   the first *executable regular file* wins; none → NotFound with Docker's
//!   words: `exec "NAME": executable file not found in $PATH`.

use std::path::{Path, PathBuf};

use ch01_namespaces::exec::ExecFailure;

/// Find `program` in `path_var` (a `PATH` value), or say why not.
pub fn resolve(program: &str, path_var: &str) -> Result<PathBuf, ExecFailure> {
    todo!("a path, or a search through the PATH directories")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: any file that exists taken as the program,
    // executable or not: a non-executable file earlier in PATH shadows the real one (the shell
    // skips it). Checked by pasting it into the reference implementation: it fails
    // `first_executable_in_path_order_wins`.
    //
    //     for dir in path_var.split(':').filter(|d| !d.is_empty()) {
    //         let candidate = Path::new(dir).join(program);
    //         if candidate.exists() {
    //             return Ok(candidate);
    //         }
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch01_namespaces::exec as solution;

    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;

    use ch01_namespaces::exec::{ExecFailure, DEFAULT_PATH};

    fn program(dir: &Path, name: &str, mode: u32) {
        std::fs::write(dir.join(name), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(dir.join(name), std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn first_executable_in_path_order_wins() {
        let (a, b) = (testkit::temp_dir(), testkit::temp_dir());
        program(a.path(), "tool", 0o644); // not executable: skipped
        program(b.path(), "tool", 0o755);
        program(a.path(), "both", 0o755);
        program(b.path(), "both", 0o755);
        std::fs::create_dir(a.path().join("dir")).unwrap(); // a directory: skipped
        program(b.path(), "dir", 0o755);
        let path = format!("/nonexistent::{}:{}", a.path().display(), b.path().display());
        assert_eq!(solution::resolve("tool", &path).unwrap(), b.path().join("tool"));
        assert_eq!(solution::resolve("both", &path).unwrap(), a.path().join("both"));
        assert_eq!(solution::resolve("dir", &path).unwrap(), b.path().join("dir"));
    }

    #[test]
    fn missing_program_is_127_with_dockers_words() {
        let err = solution::resolve("no-such-program-xyz", DEFAULT_PATH).unwrap_err();
        assert_eq!(err.exit_code(), 127);
        assert_eq!(
            err.message(),
            "exec \"no-such-program-xyz\": executable file not found in $PATH"
        );
    }

    #[test]
    fn a_path_is_not_searched() {
        let dir = testkit::temp_dir();
        program(dir.path(), "x", 0o755);
        let full = dir.path().join("x");
        assert_eq!(solution::resolve(full.to_str().unwrap(), "/bin").unwrap(), full);
        assert_eq!(solution::resolve("/no/such/file", DEFAULT_PATH).unwrap_err().exit_code(), 127);
        assert!(matches!(
            solution::resolve("/no/such/file", DEFAULT_PATH),
            Err(ExecFailure::NotFound(_))
        ));
    }

    #[test]
    fn a_directory_is_126() {
        let err = solution::resolve("/tmp", DEFAULT_PATH).unwrap_err();
        assert_eq!(err.exit_code(), 126);
        assert!(err.message().contains("is a directory"), "{}", err.message());
    }
}
