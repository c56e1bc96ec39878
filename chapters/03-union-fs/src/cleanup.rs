//! When the container is done: remove its directory on the host.
//!
//! The union was mounted inside the container's own mount namespace, so it
//! disappeared with the container's last process; what is left are plain
//! directories (upper, work, merged, or the vfs copy) and the /etc files.

use std::io;
use std::path::Path;

use ch01_namespaces::explain::{self, Step};
use nix::mount::{umount2, MntFlags};

// ANCHOR: remove_container_dir
/// Remove `container_dir` and everything in it. If its root is still a
/// mount point here (someone mounted it on the host by hand), detach it
/// first: `remove_dir_all` walks into whatever is mounted, and would delete
/// the files of any host directory bound inside it.
pub fn remove_container_dir(container_dir: &Path) -> io::Result<()> {
    for name in ["merged", "rootfs"] {
        let dir = container_dir.join(name);
        if is_mount_point(&dir) {
            explain::step(Step {
                what: &format!("detach the mount left on {}", dir.display()),
                syscall: &format!("umount2({:?}, MNT_DETACH)", dir),
                shell: &format!("umount -l {}", dir.display()),
                book: "ch03-union-fs.md#cleaning-up",
            });
            umount2(&dir, MntFlags::MNT_DETACH)?;
        }
    }
    again_while_not_empty(3, || match std::fs::remove_dir_all(container_dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    })
}
// ANCHOR_END: remove_container_dir

// ANCHOR: again_while_not_empty
/// Run `remove` again (up to `attempts` times in all) while it fails with
/// "directory not empty". A file can be made in a directory *after* the
/// walk listed it: `open(O_CREAT)` looks its parent up first and creates
/// in it after, so a creation under way when the container's directory was
/// renamed away (`Store::retire`) lands in the renamed one. The next walk
/// finds it; a creation that starts later finds no such path.
fn again_while_not_empty(
    attempts: u32,
    mut remove: impl FnMut() -> io::Result<()>,
) -> io::Result<()> {
    let mut result = remove();
    for _ in 1..attempts {
        match &result {
            Err(e) if e.kind() == io::ErrorKind::DirectoryNotEmpty => result = remove(),
            _ => break,
        }
    }
    result
}
// ANCHOR_END: again_while_not_empty

/// Is `path` the mount point of something in our mount namespace?
pub fn is_mount_point(path: &Path) -> bool {
    let Ok(path) = path.canonicalize() else { return false };
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    // Field 5 is the mount point, with spaces and such escaped as \040.
    let wanted =
        path.to_string_lossy().replace(' ', "\\040").replace('\t', "\\011").replace('\n', "\\012");
    mountinfo.lines().any(|line| line.split(' ').nth(4) == Some(wanted.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removal_that_met_a_late_file_walks_again() {
        let not_empty = || io::Error::from(io::ErrorKind::DirectoryNotEmpty);
        let mut calls = 0;
        let removed = again_while_not_empty(3, || {
            calls += 1;
            if calls == 1 {
                Err(not_empty())
            } else {
                Ok(())
            }
        });
        assert!(removed.is_ok());
        assert_eq!(calls, 2);
        let mut calls = 0;
        let given_up = again_while_not_empty(3, || {
            calls += 1;
            Err(not_empty())
        });
        assert_eq!(given_up.unwrap_err().kind(), io::ErrorKind::DirectoryNotEmpty);
        assert_eq!(calls, 3, "three walks in all, then the error");
        let mut calls = 0;
        let other = again_while_not_empty(3, || {
            calls += 1;
            Err(io::Error::from(io::ErrorKind::PermissionDenied))
        });
        assert!(other.is_err());
        assert_eq!(calls, 1, "any other error is told at once");
    }

    #[test]
    fn root_is_a_mount_point_and_a_temp_dir_is_not() {
        assert!(is_mount_point(Path::new("/")));
        let dir = testkit::temp_dir();
        assert!(!is_mount_point(dir.path()));
    }

    #[test]
    fn removes_everything_and_tolerates_absence() {
        let dir = testkit::temp_dir();
        let container = dir.path().join("c1");
        std::fs::create_dir_all(container.join("upper/etc")).unwrap();
        std::fs::write(container.join("upper/etc/x"), "x").unwrap();
        remove_container_dir(&container).unwrap();
        assert!(!container.exists());
        remove_container_dir(&container).unwrap();
    }
}
