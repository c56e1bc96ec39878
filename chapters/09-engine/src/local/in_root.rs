//! Paths inside a container's root, resolved by the kernel in one step.
//!
//! The race (CVE-2018-15664): a daemon that resolves a path itself — read
//! each component, follow each link by hand, then `open` the host path it
//! computed — checks at one moment and uses at another. A process in the
//! container that swaps a directory for a link `-> /` between the two makes
//! the daemon, which is root on the host, open the *host's* file: `cp` out
//! reads `/etc/shadow`, `cp` in writes into `/etc`. No check done in user
//! space can close that window, because the name is looked up again at the
//! open. `openat2(2)` with `RESOLVE_IN_ROOT` moves the whole walk into the
//! kernel: the directory fd is the root for that walk (`/` and `..` stop
//! there, absolute links start again there), and a rename that could let
//! the walk out makes it fail with `EAGAIN` instead. From the fd it returns,
//! each later step is `*at(fd, name)` on one component with `O_NOFOLLOW`:
//! nothing is ever looked up by a host path again.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;

/// How many times a walk disturbed by a rename (`EAGAIN`) is tried again.
const RETRIES: usize = 32;

/// A container's root, held open: every path is resolved from it.
#[derive(Debug)]
pub struct Root(OwnedFd);

impl Root {
    /// Open `dir` (a host path we trust: the container's mounted root, or
    /// `/proc/PID/root` of a running one) as the root of later walks.
    pub fn open(dir: &Path) -> io::Result<Root> {
        let flags = nix::fcntl::OFlag::O_PATH
            | nix::fcntl::OFlag::O_DIRECTORY
            | nix::fcntl::OFlag::O_CLOEXEC;
        let fd = nix::fcntl::open(dir, flags, nix::sys::stat::Mode::empty())?;
        Ok(Root(fd))
    }

    /// `path` opened with `flags` as the container sees it.
    pub fn open_at(&self, path: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
        openat2_in_root(self.0.as_fd(), path, flags)
    }
}

// ANCHOR: openat2
/// `openat2(root, path, flags)` with `root` as `/` for the whole walk:
/// links are followed, but never out of `root` (`RESOLVE_IN_ROOT`), and
/// `/proc/self/fd/N`-style "magic" links are refused (`RESOLVE_NO_MAGICLINKS`):
/// they jump to a file without a path walk, so no root could contain them.
pub fn openat2_in_root(root: BorrowedFd, path: &str, flags: libc::c_int) -> io::Result<OwnedFd> {
    let name = CString::new(if path.is_empty() { "." } else { path })?;
    // SAFETY: `open_how` is plain integers; all zero is a valid value.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64; // `mode` stays 0: we never create here
    how.resolve = libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS;
    for _ in 0..RETRIES {
        let size = std::mem::size_of::<libc::open_how>();
        // SAFETY: `name` and `how` live across the call; the kernel reads
        // `size` bytes of `how` and returns a new fd or -1.
        let fd = unsafe {
            libc::syscall(libc::SYS_openat2, root.as_raw_fd(), name.as_ptr(), &how, size)
        };
        if fd >= 0 {
            // SAFETY: a fresh fd that nothing else owns.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) });
        }
        match io::Error::last_os_error() {
            e if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            e => return Err(explain(e)),
        }
    }
    Err(io::Error::other(format!("{path}: the container's tree kept changing")))
}
// ANCHOR_END: openat2

/// A kernel without `openat2` (Linux < 5.6) answers `ENOSYS`: say so once,
/// plainly, rather than fall back to a walk in user space that is racy.
fn explain(error: io::Error) -> io::Error {
    match error.raw_os_error() {
        Some(libc::ENOSYS) => io::Error::new(
            io::ErrorKind::Unsupported,
            "cp needs openat2(2) with RESOLVE_IN_ROOT (Linux 5.6 or later); this kernel lacks it",
        ),
        _ => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn ino(fd: &OwnedFd) -> u64 {
        nix::sys::stat::fstat(fd).unwrap().st_ino
    }

    fn host_ino(path: &Path) -> u64 {
        std::os::unix::fs::MetadataExt::ino(&fs::metadata(path).unwrap())
    }

    #[test]
    fn links_and_dotdots_stay_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let r = dir.path();
        fs::create_dir_all(r.join("real/sub")).unwrap();
        fs::create_dir_all(r.join("etc")).unwrap();
        symlink("/", r.join("up")).unwrap();
        symlink("../../../../real", r.join("real/sub/back")).unwrap();
        symlink("/real/sub", r.join("abs")).unwrap();
        let root = Root::open(r).unwrap();
        let dirs = libc::O_PATH | libc::O_DIRECTORY;
        assert_eq!(ino(&root.open_at("/up/etc", dirs).unwrap()), host_ino(&r.join("etc")));
        assert_eq!(ino(&root.open_at("../../etc", dirs).unwrap()), host_ino(&r.join("etc")));
        let back = root.open_at("/real/sub/back/sub", dirs).unwrap();
        assert_eq!(ino(&back), host_ino(&r.join("real/sub")));
        assert_eq!(ino(&root.open_at("/abs", dirs).unwrap()), host_ino(&r.join("real/sub")));
        assert_eq!(ino(&root.open_at("/", dirs).unwrap()), host_ino(r));
    }

    #[test]
    fn a_link_to_a_host_path_is_a_path_in_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        fs::write(host.path().join("secret"), "host").unwrap();
        symlink(host.path().join("secret"), dir.path().join("link")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        let err = root.open_at("/link", libc::O_RDONLY).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    }

    #[test]
    fn a_missing_openat2_is_one_clear_error() {
        let err = explain(io::Error::from_raw_os_error(libc::ENOSYS));
        assert_eq!(err.kind(), io::ErrorKind::Unsupported);
        assert!(err.to_string().contains("Linux 5.6"), "{err}");
        let other = explain(io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(other.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        symlink("loop", dir.path().join("loop")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        assert!(root.open_at("/loop", libc::O_PATH).is_err());
    }
}
