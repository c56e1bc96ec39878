//! `docker cp`'s two halves in the container's root: a tar of a path, and
//! a tar unpacked into a directory. Every path is resolved by us, one
//! component at a time, with symbolic links followed *inside* the root —
//! `/etc -> /` in a container must mean the container's `/`, never the
//! host's (CVE-2018-15664 was this, in dockerd's `cp`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::manage::PathStat;

/// More links than this on one path is a loop (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

// ANCHOR: resolve
/// `path` inside `root`, every symbolic link on the way followed as the
/// container would see it (an absolute target starts again at `root`, a
/// `..` stops at `root`). The last component is followed only if `follow_last`.
pub fn resolve_in_root(root: &Path, path: &str, follow_last: bool) -> io::Result<PathBuf> {
    let mut todo: Vec<PathBuf> = components(Path::new(path)).into_iter().rev().collect();
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        if name.as_os_str() == ".." {
            resolved.pop();
            continue;
        }
        let candidate = root.join(&resolved).join(&name);
        let is_link = candidate.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink());
        if !is_link || (todo.is_empty() && !follow_last) {
            resolved.push(&name);
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Err(io::Error::other(format!("too many levels of symbolic links: {path}")));
        }
        let target = fs::read_link(&candidate)?;
        if target.is_absolute() {
            resolved = PathBuf::new();
        }
        todo.extend(components(&target).into_iter().rev());
    }
    Ok(root.join(resolved))
}
// ANCHOR_END: resolve

/// The normal parts and `..`s of a path; `/` and `.` dropped.
fn components(path: &Path) -> Vec<PathBuf> {
    let each = path.components().filter_map(|c| match c {
        Component::Normal(name) => Some(PathBuf::from(name)),
        Component::ParentDir => Some(PathBuf::from("..")),
        _ => None,
    });
    each.collect()
}

/// The stat of the resolved `path` (a symbolic link itself, not its target).
pub fn stat(root: &Path, path: &str) -> io::Result<PathStat> {
    let host = resolve_in_root(root, path, false)?;
    let meta = host.symlink_metadata()?;
    let mut mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        mode |= 1 << 31; // Go's os.ModeDir
    }
    if meta.file_type().is_symlink() {
        mode |= 1 << 27; // os.ModeSymlink
    }
    let link_target = match meta.file_type().is_symlink() {
        true => fs::read_link(&host)?.display().to_string(),
        false => String::new(),
    };
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(meta.mtime().max(0) as u64);
    Ok(PathStat {
        name: name_of(path),
        size: meta.size() as i64,
        mode,
        mtime: humantime::format_rfc3339_seconds(mtime).to_string(),
        link_target,
    })
}

/// `/etc/hosts` → `hosts`; `/` → `/`.
fn name_of(path: &str) -> String {
    let name = Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned());
    name.unwrap_or_else(|| "/".to_string())
}

// ANCHOR: tar_of
/// A tar of `path`, its entries named from the path's last component, as
/// dockerd's archive: symbolic links stay links.
pub fn tar_of(root: &Path, path: &str) -> io::Result<Vec<u8>> {
    let host = resolve_in_root(root, path, false)?;
    let meta = host.symlink_metadata()?;
    let name = name_of(path);
    let name = if name == "/" { ".".to_string() } else { name };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    match meta.is_dir() {
        true => builder.append_dir_all(&name, &host)?,
        false => builder.append_path_with_name(&host, &name)?,
    }
    builder.into_inner()
}
// ANCHOR_END: tar_of

// ANCHOR: unpack
/// Unpack `tar` into the directory `dir` of the container: each entry's
/// path is resolved in the root like any other, so neither a `../` in the
/// archive nor a link already in the container leads outside.
pub fn unpack(root: &Path, dir: &str, tar: &[u8]) -> io::Result<()> {
    let target = resolve_in_root(root, dir, true)?;
    if !target.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotADirectory,
            format!("{dir}: not a directory"),
        ));
    }
    let inside = |name: &Path| Path::new(dir).join(name).display().to_string();
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.into_owned();
        let host = resolve_in_root(root, &inside(&name), false)?;
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                if !host.is_dir() {
                    fs::create_dir(&host)?;
                }
                fs::set_permissions(&host, fs::Permissions::from_mode(mode))?;
            }
            tar::EntryType::Symlink => {
                let link = entry.link_name()?.unwrap_or_default().into_owned();
                let _ = fs::remove_file(&host);
                std::os::unix::fs::symlink(link, &host)?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                write_file(&host, &mut entry, mode)?;
            }
            other => {
                let message = format!("{}: unsupported entry type {other:?}", name.display());
                return Err(io::Error::new(io::ErrorKind::Unsupported, message));
            }
        }
        let (uid, gid) = (entry.header().uid().ok(), entry.header().gid().ok());
        let _ = std::os::unix::fs::lchown(&host, uid.map(|u| u as u32), gid.map(|g| g as u32));
    }
    Ok(())
}
// ANCHOR_END: unpack

/// A regular file, replacing what was there, never through a link
/// (`O_NOFOLLOW`): the entry's path was resolved, its last part not.
fn write_file(host: &Path, from: &mut impl Read, mode: u32) -> io::Result<()> {
    if host.symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
        fs::remove_file(host)?;
    }
    let mut file: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(host)?;
    io::copy(from, &mut file)?;
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_followed_inside_the_root_only() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("real/sub")).unwrap();
        std::os::unix::fs::symlink("/", r.join("up")).unwrap();
        std::os::unix::fs::symlink("../../../real", r.join("real/sub/back")).unwrap();
        std::os::unix::fs::symlink("/real/sub", r.join("abs")).unwrap();
        assert_eq!(resolve_in_root(r, "/up/etc/passwd", true).unwrap(), r.join("etc/passwd"));
        assert_eq!(resolve_in_root(r, "../../etc", true).unwrap(), r.join("etc"));
        assert_eq!(resolve_in_root(r, "/real/sub/back/sub", true).unwrap(), r.join("real/sub"));
        assert_eq!(resolve_in_root(r, "/abs", true).unwrap(), r.join("real/sub"));
        assert_eq!(resolve_in_root(r, "/abs", false).unwrap(), r.join("abs"));
        std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();
        assert!(resolve_in_root(r, "/loop", true).is_err());
    }

    #[test]
    fn a_tar_round_trips_and_cannot_write_outside() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("dir")).unwrap();
        fs::write(r.join("dir/a"), "hello").unwrap();
        let tar = tar_of(r, "/dir").unwrap();
        fs::create_dir(r.join("copy")).unwrap();
        unpack(r, "/copy", &tar).unwrap();
        assert_eq!(fs::read_to_string(r.join("copy/dir/a")).unwrap(), "hello");
        assert_eq!(stat(r, "/dir").unwrap().mode & (1 << 31), 1 << 31);
        // A link in the container pointing at "/" and an entry through it.
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), r.join("copy/escape")).unwrap();
        let mut evil = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(3);
        header.set_mode(0o644);
        header.set_cksum();
        evil.append_data(&mut header, "escape/x", &b"bad"[..]).unwrap();
        unpack(r, "/copy", &evil.into_inner().unwrap()).unwrap_or(());
        assert!(!outside.path().join("x").exists(), "an entry went out of the root");
    }
}
