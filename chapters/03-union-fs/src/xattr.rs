//! Extended attributes, never following symlinks (`llistxattr`,
//! `lgetxattr`, `lsetxattr`): nix has no wrappers for them.

use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))
}

fn c_name(name: &OsStr) -> io::Result<CString> {
    CString::new(name.as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "xattr name contains a NUL byte"))
}

/// Call `f(buffer, len)` with a buffer big enough for the answer: ask for
/// the size first (len 0), then fetch, retrying if it grew in between.
fn read_sized(mut f: impl FnMut(*mut libc::c_char, usize) -> isize) -> io::Result<Vec<u8>> {
    loop {
        let size = f(std::ptr::null_mut(), 0);
        if size < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buffer = vec![0u8; size as usize];
        let got = f(buffer.as_mut_ptr().cast(), buffer.len());
        if got >= 0 {
            buffer.truncate(got as usize);
            return Ok(buffer);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ERANGE) {
            return Err(error);
        }
    }
}

/// The names of `path`'s extended attributes (empty where unsupported).
pub fn list(path: &Path) -> io::Result<Vec<OsString>> {
    let path = c_path(path)?;
    // SAFETY: the buffer pointer and length come from read_sized's own Vec.
    match read_sized(|buf, len| unsafe { libc::llistxattr(path.as_ptr(), buf, len) }) {
        Ok(names) => Ok(names
            .split(|b| *b == 0)
            .filter(|n| !n.is_empty())
            .map(|n| OsString::from_vec(n.to_vec()))
            .collect()),
        Err(e) if e.raw_os_error() == Some(libc::ENOTSUP) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The value of attribute `name`, or `None` when it is not set.
pub fn get(path: &Path, name: &str) -> io::Result<Option<Vec<u8>>> {
    let (path, name) = (c_path(path)?, c_name(OsStr::new(name))?);
    // SAFETY: as in `list`.
    match read_sized(|buf, len| unsafe {
        libc::lgetxattr(path.as_ptr(), name.as_ptr(), buf.cast(), len)
    }) {
        Ok(value) => Ok(Some(value)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENODATA) | Some(libc::ENOTSUP)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Set attribute `name` of `path` to `value`.
pub fn set(path: &Path, name: &OsStr, value: &[u8]) -> io::Result<()> {
    let (path, name) = (c_path(path)?, c_name(name)?);
    // SAFETY: all pointers are valid for the lengths given.
    let rc = unsafe {
        libc::lsetxattr(path.as_ptr(), name.as_ptr(), value.as_ptr().cast(), value.len(), 0)
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Like [`get`], for a name that may not be UTF-8.
pub fn get_os(path: &Path, name: &OsStr) -> io::Result<Option<Vec<u8>>> {
    get(path, &name.to_string_lossy())
}
