//! CVE-2019-5736: never let a container reach the host's binary.
//!
//! When our child `execve`s a program of the container, the kernel reads
//! its first line. A script starting with `#!/proc/self/exe` names *the
//! process doing the exec* as its interpreter: that is us, mini-docker,
//! the binary on the host. It then runs inside the container, where the
//! container's root can open `/proc/<pid>/exe` and — once we exit —
//! write into the host's binary. runc's answer, and ours: run from a
//! *sealed copy* in memory. `/proc/self/exe` then points at a memfd the
//! kernel refuses to change, and the host's file is never mapped.

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use ch01_namespaces::explain::{self, Step};
use nix::errno::Errno;
use thiserror::Error;

use crate::walls::BOOK_CVE_2019_5736;

/// The name every sealed copy has in `/proc/self/exe`: `/memfd:<NAME> (deleted)`.
pub const MEMFD_NAME: &str = "mini-docker-sealed";

#[derive(Debug, Error)]
pub enum SealError {
    #[error("making a sealed copy of our binary ({what}): {error}")]
    Copy { what: &'static str, error: std::io::Error },
    #[error("re-executing from the sealed copy: {0}")]
    Exec(Errno),
}

/// True when this process already runs from a sealed copy.
pub fn running_sealed() -> bool {
    std::fs::read_link("/proc/self/exe")
        .map(|p| p.to_string_lossy().starts_with(&format!("/memfd:{MEMFD_NAME}")))
        .unwrap_or(false)
}

// ANCHOR: sealed_copy
/// A memfd holding a copy of `source`, sealed against every change:
/// no write, no shrink, no grow, and no removing of the seals.
pub fn sealed_copy(source: &std::path::Path) -> Result<OwnedFd, SealError> {
    let copy_err = |what| move |error| SealError::Copy { what, error };
    let name = CString::new(MEMFD_NAME).expect("no NUL");
    // SAFETY: memfd_create with a valid C string; we own the returned fd.
    let fd =
        unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING) };
    if fd < 0 {
        return Err(copy_err("memfd_create")(std::io::Error::last_os_error()));
    }
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut memfd = std::fs::File::from(fd);
    let mut binary = std::fs::File::open(source).map_err(copy_err("open"))?;
    std::io::copy(&mut binary, &mut memfd).map_err(copy_err("copy"))?;
    memfd.flush().map_err(copy_err("copy"))?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on our own fd with integer arguments.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(copy_err("F_ADD_SEALS")(std::io::Error::last_os_error()));
    }
    Ok(memfd.into())
}
// ANCHOR_END: sealed_copy

// ANCHOR: reexec
/// Re-execute this program from a sealed copy of itself, with the same
/// arguments and environment. Returns `Ok` at once when already sealed;
/// otherwise it only returns on failure.
pub fn reexec_sealed() -> Result<(), SealError> {
    if running_sealed() {
        return Ok(());
    }
    let copy = sealed_copy(std::path::Path::new("/proc/self/exe"))?;
    explain::step(Step {
        what: "re-execute mini-docker from a sealed in-memory copy, so no container can reach the binary on disk",
        syscall: "memfd_create(); copy; fcntl(F_ADD_SEALS, SEAL|SHRINK|GROW|WRITE); execveat(fd, \"\", argv, envp, AT_EMPTY_PATH)",
        shell: "(runc does the same at every start: libcontainer/exeseal)",
        book: BOOK_CVE_2019_5736,
    });
    let to_c = |s: String| CString::new(s).map_err(|_| SealError::Exec(Errno::EINVAL));
    let argv: Vec<CString> = std::env::args().map(to_c).collect::<Result<_, _>>()?;
    // The copy's /proc/self/exe is the memfd: tell it where the binary (and
    // the shim beside it, chapter 5) is on disk.
    let binary = ch05_run::shim::BINARY_ENV;
    let on_disk =
        std::fs::read_link("/proc/self/exe").ok().filter(|_| std::env::var_os(binary).is_none());
    let named = on_disk.map(|path| (binary.to_string(), path.display().to_string()));
    let env: Vec<CString> = std::env::vars()
        .chain(named)
        .map(|(k, v)| to_c(format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let errno = nix::unistd::fexecve(&copy, &argv, &env).unwrap_err();
    Err(SealError::Exec(errno))
}
// ANCHOR_END: reexec

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_copy_cannot_be_written() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("binary");
        std::fs::write(&file, b"#!/bin/sh\necho original\n").unwrap();
        let copy = sealed_copy(&file).unwrap();
        let path = format!("/proc/self/fd/{}", copy.as_raw_fd());
        assert_eq!(std::fs::read(&path).unwrap(), b"#!/bin/sh\necho original\n");
        // Opening it for writing works, but every write is refused: it is sealed.
        let mut writer = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let err = writer.write_all(b"#!/bin/sh\necho evil\n").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
        assert!(
            std::fs::OpenOptions::new().write(true).truncate(true).open(&path).is_err(),
            "no shrinking either"
        );
        assert!(std::fs::read_link(&path)
            .unwrap()
            .to_string_lossy()
            .starts_with(&format!("/memfd:{MEMFD_NAME}")));
    }

    #[test]
    fn the_test_binary_is_not_sealed() {
        assert!(!running_sealed());
    }
}
