//! Putting the child in its cgroup before it execs, at the moments chapter
//! 1's spawn protocol gives. Three ways, the cheapest first:
//!
//! ```text
//!  cgroup v2     clone3(CLONE_INTO_CGROUP)      born inside: nothing moves
//!  cgroup v1     the child's first step:        echo 0 > <each hierarchy>/tasks
//!  otherwise     the parent, on a thread:       echo <pid> > <each>/cgroup.procs
//! ```
//!
//! The last is runc's way, and the slow one: the kernel moves a whole
//! process, or a task other than the writer, under a global lock whose
//! first writer after a quiet spell waits for an RCU grace period.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::{BackgroundHook, ChildHook, Spawn};
use nix::fcntl::OFlag;

use crate::cgroup::{Cgroup, Version};
use crate::files::FileError;

const BOOK_JOIN_SELF: &str = "ch02-cgroups.md#the-child-moves-itself";

// ANCHOR: join_at_spawn
/// Put the child of `spawn` in `cgroup` before it execs: born there on
/// cgroup v2, moving itself on v1, moved by the parent where neither
/// can be done. Call it before adding any other child hook: the move
/// must be the child's first step.
pub fn join_at_spawn(spawn: &mut Spawn, cgroup: &Cgroup) {
    if let Some(dir) = cgroup.open_for_clone() {
        spawn.clone_into_cgroup(dir, join_hook(cgroup));
        return;
    }
    let own_move = match cgroup.version {
        Version::V1 => join_self_hook(&cgroup.paths()),
        Version::V2 => None,
    };
    match own_move {
        Some(own_move) => spawn.child_hook(own_move),
        None => spawn.background_hook(join_hook(cgroup)),
    };
}
// ANCHOR_END: join_at_spawn

// ANCHOR: join_hook
/// The background hook of the spawn protocol that puts the child in the
/// cgroup before it execs: it runs already limited and counted. A move
/// by pid may wait for an RCU grace period (milliseconds), so it runs
/// beside the rest of the start.
pub fn join_hook(cgroup: &Cgroup) -> BackgroundHook {
    let cgroup = cgroup.clone();
    BackgroundHook::new("joining the cgroup", move |pid| Ok(cgroup.add_pid(pid)?))
}
// ANCHOR_END: join_hook

// ANCHOR: join_self_hook
/// The child moves itself into the cgroup v1 directories `dirs`, as its
/// first step. `"0"` written to a hierarchy's `tasks` file means "the
/// thread that writes", and moving only that thread needs none of the
/// kernel's global lock: no grace period to wait for. The child has one
/// thread, so the whole process moves. The files are opened here, by the
/// parent, before the clone: a cgroup file checks the credentials of
/// whoever opened it, so a child in a user namespace may write them too.
/// `None` when a `tasks` file cannot be opened (cgroup v2 has none).
pub fn join_self_hook(dirs: &[&Path]) -> Option<ChildHook> {
    let mut files = open_tasks_files(dirs).ok()?;
    Some(ChildHook::new("joining the cgroup", move || {
        // Each file is closed once written: the child needs it no more.
        for (path, mut file) in files.drain(..) {
            explain::step(Step {
                what: &format!("the child moves itself: write \"0\" to {}", path.display()),
                syscall: &format!(
                    "open(\"{}\", O_WRONLY) in the parent; write(fd, \"0\") in the child",
                    path.display()
                ),
                shell: &format!("echo 0 > {}", path.display()),
                book: BOOK_JOIN_SELF,
            });
            file.write_all(b"0").map_err(|e| FileError::new("writing to", &path, e))?;
        }
        Ok(())
    }))
}
// ANCHOR_END: join_self_hook

/// A cgroup v2 directory, open as `clone3(CLONE_INTO_CGROUP)` takes it
/// (for reading, not `O_PATH`); `None` where it cannot be opened.
pub fn open_for_clone(dir: &Path) -> Option<OwnedFd> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    nix::fcntl::open(dir, flags, nix::sys::stat::Mode::empty()).ok()
}

/// The `tasks` file of each directory, open for writing.
fn open_tasks_files(dirs: &[&Path]) -> io::Result<Vec<(PathBuf, File)>> {
    let open = |path: PathBuf| Ok((path.clone(), OpenOptions::new().write(true).open(&path)?));
    dirs.iter().map(|dir| open(dir.join("tasks"))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(dirs: &[PathBuf]) -> Vec<&Path> {
        dirs.iter().map(PathBuf::as_path).collect()
    }

    #[test]
    fn on_v1_the_child_writes_zero_to_every_tasks_file() {
        let root = tempfile::tempdir().unwrap();
        let dirs = [root.path().join("memory"), root.path().join("pids")];
        for dir in &dirs {
            std::fs::create_dir(dir).unwrap();
            std::fs::write(dir.join("tasks"), "").unwrap();
        }
        let mut hook = join_self_hook(&refs(&dirs)).unwrap();
        (hook.run)().unwrap();
        for dir in &dirs {
            assert_eq!(std::fs::read_to_string(dir.join("tasks")).unwrap(), "0");
        }
    }

    #[test]
    fn a_missing_tasks_file_leaves_the_move_to_the_parent() {
        let root = tempfile::tempdir().unwrap();
        assert!(join_self_hook(&[root.path()]).is_none());
    }
}
