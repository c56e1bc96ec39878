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

    // Wrong answers this test catches:
    // - no `MS_SLAVE | MS_REC` before `umount2`: the detach of the old root
    //   reaches a mount namespace outside (here one we set up; in real life,
    //   the host's) through mounts it shares with it;
    // - no final `chdir("/")`: the working directory is left in the
    //   detached old root, where a `..` walks back to the host's files.
    // Both checked by deleting the step from the reference: without
    // `make_rslave_here()` this test fails with "detaching the old root
    // unmounted .../inner in the namespace next door", without `chdir("/")`
    // with "the working directory is not the new root".

    /// Exit codes of the process that pivots.
    const PIVOT_FAILED: i32 = 20;
    const CWD_NOT_ROOT: i32 = 21;

    /// In a new mount namespace (a peer of the caller's), pivot into
    /// `new_root`, check the working directory, and report by exit code.
    fn pivot_in_a_peer_namespace(new_root: &Path) -> i32 {
        use nix::sys::wait::{waitpid, WaitStatus};
        use nix::unistd::{fork, ForkResult};
        // SAFETY: the spawn child is single-threaded; the forked child only
        // makes system calls and leaves with _exit.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = match nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)
                    .ok()
                    .and_then(|_| std::panic::catch_unwind(|| solution::pivot_into(new_root)).ok())
                {
                    Some(Ok(())) => {
                        let same = |a: &std::fs::Metadata, b: &std::fs::Metadata| {
                            use std::os::unix::fs::MetadataExt;
                            (a.dev(), a.ino()) == (b.dev(), b.ino())
                        };
                        match (std::fs::metadata("."), std::fs::metadata("/")) {
                            (Ok(cwd), Ok(root)) if same(&cwd, &root) => 0,
                            _ => CWD_NOT_ROOT,
                        }
                    }
                    _ => PIVOT_FAILED,
                };
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => match waitpid(child, None) {
                Ok(WaitStatus::Exited(_, code)) => code,
                other => panic!("the pivoting process ended with {other:?}"),
            },
        }
    }

    #[test]
    fn the_old_root_goes_without_reaching_outside_and_the_cwd_is_the_new_root() {
        crate::needs_root();
        assert!(testkit::busybox::require_busybox("pivot_into"), "needs /bin/busybox");
        let work = testkit::temp_dir();
        let (root, shared) = (work.path().join("root"), work.path().join("shared"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&shared).unwrap();
        testkit::busybox::make_busybox_rootfs(&root);
        let inner = shared.join("inner");
        let process = Process { argv: vec!["/bin/true".into()], env: vec![], cwd: None };
        let mut spawn = Spawn::new(process);
        spawn.child_hook(ChildHook::new("pivoting next door", move || {
            make_mounts_private()?;
            let none = None::<&str>;
            mount(Some(&root), &root, none, MsFlags::MS_BIND, none)?;
            // A shared tmpfs with a mount inside: the pivoting namespace's
            // copies are peers of these, so an umount there can reach here.
            mount(Some("tmpfs"), &shared, Some("tmpfs"), MsFlags::empty(), none)?;
            mount(none, &shared, none, MsFlags::MS_SHARED, none)?;
            std::fs::create_dir(&inner)?;
            mount(Some("tmpfs"), &inner, Some("tmpfs"), MsFlags::empty(), none)?;
            match pivot_in_a_peer_namespace(&root) {
                0 => {}
                PIVOT_FAILED => anyhow::bail!("pivot_into failed or panicked (is the todo!() still there?)"),
                CWD_NOT_ROOT => anyhow::bail!("after pivot_into the working directory is not the new root: end with chdir(\"/\")"),
                other => anyhow::bail!("the pivoting process exited with {other}"),
            }
            let mounts = std::fs::read_to_string("/proc/self/mountinfo")?;
            let inner_line = format!(" {} ", inner.display());
            anyhow::ensure!(
                mounts.lines().any(|l| l.contains(&inner_line)),
                "detaching the old root unmounted {} in the namespace next door: make the old \
                 root MS_SLAVE | MS_REC before umount2, so its unmounts stay inside",
                inner.display()
            );
            Ok(())
        }));
        let child = spawn.spawn().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(child.wait().map_err(|e| e.to_string()), Ok(ExitStatus::Exited(0)));
    }
}
