//! Exercise `pivot_into` (hard, root). Book: ch03-union-fs.md, "pivot_root, not chroot".
//!
//! runc's way into the container's root, step by step:
//! 1. open `/` (the old root) and `new_root`, both as directories;
//! 2. `fchdir` into the new root, then `pivot_root(".", ".")`: the new root
//!    becomes `/`, the old one is stacked beneath it at the same place;
//! 3. `fchdir` back to the old root, make it `MS_SLAVE | MS_REC` so that
//!    unmounting it cannot propagate to the host;
//! 4. `umount2(".", MNT_DETACH)`: the host's tree is gone; `chdir("/")`.
//!
//! The test runs your function in a child in new namespaces (chapter 1's
//! spawn protocol), with a bind-mounted busybox root, then checks from a
//! shell inside that only the new root and /proc are mounted.

use std::path::Path;

use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, fchdir, pivot_root};

/// Make `new_root` (a mount point) the root of this mount namespace and
/// drop the old root.
pub fn pivot_into(new_root: &Path) -> nix::Result<()> {
    todo!("open both roots, pivot_root(\".\", \".\"), then detach the old one")
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch03_union_fs::pivot as solution;

    use std::path::Path;

    use ch01_namespaces::proc_mount::make_mounts_private;
    use ch01_namespaces::{ChildHook, ExitStatus, Process, Spawn};
    use nix::mount::{mount, MsFlags};

    /// Runs inside the container after the pivot: 10 = not in the new
    /// root, 11 = the host's mounts are still there.
    const CHECK: &str = "test -f /marker || exit 10; \
        mount -t proc proc /proc; \
        n=$(wc -l < /proc/self/mountinfo); \
        [ \"$n\" = 2 ] || { cat /proc/self/mountinfo | head -5; exit 11; }";

    fn run_in_new_root(root: &Path) -> Result<ExitStatus, String> {
        let new_root = root.to_path_buf();
        let process = Process {
            argv: vec!["/bin/sh".into(), "-c".into(), CHECK.into()],
            env: vec!["PATH=/bin".into()],
            cwd: None,
        };
        let mut spawn = Spawn::new(process);
        spawn.child_hook(ChildHook::new("entering the new root", move || {
            make_mounts_private()?;
            // pivot_root needs a mount point: bind the directory onto itself.
            mount(
                Some(&new_root),
                &new_root,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None::<&str>,
            )?;
            match std::panic::catch_unwind(|| solution::pivot_into(&new_root)) {
                Ok(result) => Ok(result?),
                Err(_) => anyhow::bail!("pivot_into panicked (is the todo!() still there?)"),
            }
        }));
        let child = spawn.spawn().map_err(|e| e.to_string())?;
        child.wait().map_err(|e| e.to_string())
    }

    #[test]
    fn the_new_root_is_all_that_is_left() {
        crate::needs_root();
        assert!(
            testkit::busybox::require_busybox("pivot_into"),
            "needs /bin/busybox (apt-get install busybox-static)"
        );
        let root = testkit::temp_dir();
        testkit::busybox::make_busybox_rootfs(root.path());
        std::fs::write(root.path().join("marker"), "the new root").unwrap();
        match run_in_new_root(root.path()) {
            Ok(ExitStatus::Exited(0)) => {}
            Ok(ExitStatus::Exited(10)) => panic!("after pivot_into, / is not the new root (no /marker)"),
            Ok(ExitStatus::Exited(11)) => panic!("the old root is still mounted beneath: detach it (MS_SLAVE | MS_REC, then umount2 MNT_DETACH)"),
            Ok(other) => panic!("the check inside the container ended with {other:?}"),
            Err(e) => panic!("{e}"),
        }
        assert!(root.path().join("marker").exists(), "the host still sees the directory");
    }
}
