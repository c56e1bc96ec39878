//! A stopped container's root, mounted for one `cp` and for it alone.
//!
//! The overlay is mounted by a thread of its own that first leaves the
//! daemon's mount namespace (`unshare(CLONE_NEWNS)`, which a thread may do
//! alone) and makes every mount in its copy private: nobody else ever sees
//! the mount, and when the thread ends its namespace and the mount go with
//! it — on success, on an error, on a panic. Two copies of one stopped
//! container take turns on an exclusive `flock` of its `merged` directory:
//! one overlay over one upper directory at a time, as overlayfs wants.

use std::fs::File;
use std::io;
use std::path::Path;

use nix::mount::{mount, MsFlags};

// ANCHOR: with_mounted
/// Run `work` on `merged`, the overlay `mount_data` describes mounted
/// there, in a mount namespace of this call's own.
pub fn with_mounted<T: Send>(
    mount_data: &str,
    merged: &Path,
    work: impl FnOnce(&Path) -> io::Result<T> + Send,
) -> io::Result<T> {
    let _turn = take_turn(merged)?;
    std::thread::scope(|scope| {
        let copy = scope.spawn(|| {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
            let private = MsFlags::MS_REC | MsFlags::MS_PRIVATE;
            mount(None::<&str>, "/", None::<&str>, private, None::<&str>)?;
            let overlay = Some("overlay");
            mount(overlay, merged, overlay, MsFlags::empty(), Some(mount_data))
                .map_err(|e| io::Error::other(format!("mounting the container's root: {e}")))?;
            work(merged) // the mount ends with this thread's namespace
        });
        copy.join().unwrap_or_else(|_| Err(io::Error::other("the copy failed (a panic)")))
    })
}
// ANCHOR_END: with_mounted

/// An exclusive `flock` of `merged`, held until the returned file drops.
fn take_turn(merged: &Path) -> io::Result<File> {
    let dir = File::open(merged)?;
    // SAFETY: flock on an fd we own; blocks until the other copy is done.
    if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&dir), libc::LOCK_EX) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// lower/upper/work/merged in a fresh directory, and the mount data.
    fn overlay() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        for part in ["lower", "upper", "work", "merged"] {
            fs::create_dir(dir.path().join(part)).unwrap();
        }
        fs::write(dir.path().join("lower/f"), "from the layer").unwrap();
        let p = |part: &str| dir.path().join(part).display().to_string();
        let data = format!("lowerdir={},upperdir={},workdir={}", p("lower"), p("upper"), p("work"));
        (dir, data)
    }

    fn mounted_here(path: &Path) -> bool {
        let table = fs::read_to_string("/proc/self/mountinfo").unwrap();
        table.lines().any(|l| l.split(' ').nth(4) == Some(path.to_str().unwrap()))
    }

    fn root_or_ci() -> bool {
        nix::unistd::geteuid().is_root() || std::env::var("CI").is_ok_and(|v| v == "true")
    }

    #[test]
    fn the_mount_is_private_and_gone_after_success_or_error() {
        if !root_or_ci() {
            return;
        }
        let (dir, data) = overlay();
        let merged = dir.path().join("merged");
        let read = with_mounted(&data, &merged, |m| {
            let main = fs::read_to_string(format!("/proc/{}/mountinfo", std::process::id()))?;
            assert!(!main.contains(m.to_str().unwrap()), "the daemon's namespace sees it");
            fs::read_to_string(m.join("f"))
        });
        assert_eq!(read.unwrap(), "from the layer");
        assert!(!mounted_here(&merged));
        let failed = with_mounted(&data, &merged, |m| fs::read(m.join("missing")));
        assert_eq!(failed.unwrap_err().kind(), io::ErrorKind::NotFound);
        assert!(!mounted_here(&merged) && fs::read_dir(&merged).unwrap().next().is_none());
    }

    #[test]
    fn two_copies_of_one_container_take_turns() {
        if !root_or_ci() {
            return;
        }
        let (dir, data) = overlay();
        let merged = dir.path().join("merged");
        let inside = AtomicUsize::new(0);
        let copy = |name: &str| {
            with_mounted(&data, &merged, |m| {
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two mounts at once");
                std::thread::sleep(Duration::from_millis(200));
                fs::write(m.join(name), name)?;
                inside.fetch_sub(1, Ordering::SeqCst);
                Ok(())
            })
        };
        std::thread::scope(|s| {
            let one = s.spawn(|| copy("one"));
            let two = s.spawn(|| copy("two"));
            one.join().unwrap().unwrap();
            two.join().unwrap().unwrap();
        });
        let upper = dir.path().join("upper");
        assert_eq!(fs::read_to_string(upper.join("one")).unwrap(), "one");
        assert_eq!(fs::read_to_string(upper.join("two")).unwrap(), "two");
    }
}
