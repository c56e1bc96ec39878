//! The three things we ever do to a cgroup filesystem: make a directory,
//! write a value into a file, remove a directory. Each is narrated by
//! `--explain` with its shell equivalent, because that is all a cgroup is:
//! a directory whose files are the kernel's knobs.

use std::io;
use std::path::{Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use thiserror::Error;

/// A cgroup filesystem operation that failed, with the path.
/// The io error is part of the message, not a `source`: the message is
/// one line already, and `{:#}` would print the reason twice.
#[derive(Debug, Error)]
#[error("{action} {path}: {error}", path = path.display())]
pub struct FileError {
    pub action: &'static str,
    pub path: PathBuf,
    pub error: io::Error,
}

impl FileError {
    pub fn new(action: &'static str, path: &Path, error: io::Error) -> Self {
        FileError { action, path: path.to_path_buf(), error }
    }
}

// ANCHOR: write_value
/// Write `value` into the cgroup file `path` — how every limit is set.
pub fn write_value(path: &Path, value: &str, book: &str) -> Result<(), FileError> {
    explain::step(Step {
        what: &format!("write {value:?} to {}", path.display()),
        syscall: &format!("open(\"{}\", O_WRONLY); write(fd, \"{value}\")", path.display()),
        shell: &format!("echo {value} > {}", path.display()),
        book,
    });
    std::fs::write(path, value).map_err(|e| FileError::new("writing to", path, e))
}
// ANCHOR_END: write_value

/// Create the cgroup directory `path`; the kernel fills it with files.
pub fn make_dir(path: &Path, book: &str) -> Result<(), FileError> {
    explain::step(Step {
        what: &format!("create the cgroup {}", path.display()),
        syscall: &format!("mkdir(\"{}\", 0755)", path.display()),
        shell: &format!("mkdir {}", path.display()),
        book,
    });
    std::fs::create_dir(path).map_err(|e| FileError::new("creating", path, e))
}

/// Remove the cgroup directory `path`. Only `rmdir` works on a cgroup: its
/// files cannot be deleted, and the kernel refuses while tasks remain.
pub fn remove_dir(path: &Path, book: &str) -> io::Result<()> {
    explain::step(Step {
        what: &format!("remove the cgroup {}", path.display()),
        syscall: &format!("rmdir(\"{}\")", path.display()),
        shell: &format!("rmdir {}", path.display()),
        book,
    });
    std::fs::remove_dir(path)
}

/// Read a cgroup file, trimmed; `None` when it does not exist.
pub fn read_value(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok().map(|s| s.trim().to_string())
}

/// A number from a one-value file such as `memory.max_usage_in_bytes`.
pub fn read_number(path: &Path) -> Option<u64> {
    read_value(path)?.parse().ok()
}

/// The value of `key` in a flat keyed file such as `memory.events`
/// (`oom_kill 1`) or `cpu.stat` (`usage_usec 1234`).
pub fn read_key(path: &Path, key: &str) -> Option<u64> {
    let text = read_value(path)?;
    parse_key(&text, key)
}

pub fn parse_key(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// The pids listed in a `cgroup.procs` file.
pub fn read_pids(procs: &Path) -> Vec<i32> {
    read_value(procs).unwrap_or_default().lines().filter_map(|l| l.trim().parse().ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_files() {
        let text = "oom 2\noom_kill 1\nmax 7";
        assert_eq!(parse_key(text, "oom_kill"), Some(1));
        assert_eq!(parse_key(text, "oom"), Some(2));
        assert_eq!(parse_key(text, "low"), None);
    }
}
