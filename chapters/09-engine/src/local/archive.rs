//! `docker cp`'s two halves in the container's root: a tar of a path, and
//! a tar unpacked into a directory. Every path is resolved by the kernel
//! from the root's fd ([`in_root`](super::in_root)): symbolic links are
//! followed *inside* the root — `/etc -> /` in a container means the
//! container's `/`, never the host's — and each file is then reached by
//! one `*at` call on one name, so a link swapped in meanwhile cannot
//! redirect it (CVE-2018-15664 was that race, in dockerd's `cp`).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use nix::fcntl::{openat, readlinkat, OFlag};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use super::in_root::Root;
use crate::manage::PathStat;

/// What one name in the container is, opened without following it.
enum Node {
    /// A directory, as an `O_PATH` fd to walk from.
    Dir(OwnedFd),
    /// A regular file, open for reading.
    File(File),
    /// A symbolic link and its target, never followed.
    Link(OsString),
    /// A FIFO, socket or device: its header only, never opened.
    Other,
}

/// `path` split into its directory and last name, or `None` when the path
/// names a directory to follow (`/`, a trailing `/`, `/.` or `..`).
fn split(path: &str) -> Option<(String, OsString)> {
    let ends_as_dir = path.ends_with('/') || path.ends_with("/.") || path == ".";
    let name = Path::new(path).file_name().filter(|_| !ends_as_dir)?;
    let parent = Path::new(path).parent().map(|p| p.display().to_string());
    Some((parent.unwrap_or_default(), name.to_owned()))
}

// ANCHOR: locate
/// `path` in the container: its directory resolved by the kernel inside
/// the root, its last name opened from that directory's fd, not followed.
fn locate(root: &Root, path: &str) -> io::Result<(fs::Metadata, Node)> {
    match split(path) {
        Some((parent, name)) => {
            let dir = root.open_at(&parent, libc::O_PATH | libc::O_DIRECTORY)?;
            open_child(dir.as_fd(), &name)
        }
        None => {
            let dir = root.open_at(path, libc::O_PATH | libc::O_DIRECTORY)?;
            Ok((metadata(&dir)?, Node::Dir(dir)))
        }
    }
}

/// The entry `name` of the directory `dir`, one component, no link followed.
fn open_child(dir: BorrowedFd, name: &OsStr) -> io::Result<(fs::Metadata, Node)> {
    let fd =
        openat(dir, name, OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC, Mode::empty())?;
    let meta = metadata(&fd)?;
    let kind = meta.file_type();
    let node = if kind.is_dir() {
        Node::Dir(fd)
    } else if kind.is_symlink() {
        Node::Link(readlinkat(&fd, "")?)
    } else if kind.is_file() {
        let read = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC;
        let file = File::from(openat(dir, name, read, Mode::empty())?);
        if file.metadata()?.ino() != meta.ino() {
            return Err(io::Error::other(format!("{}: replaced during the copy", name.display())));
        }
        Node::File(file)
    } else {
        Node::Other
    };
    Ok((meta, node))
}
// ANCHOR_END: locate

/// `fstat` of an fd (an `O_PATH` one too): the file itself, never a target.
fn metadata(fd: &OwnedFd) -> io::Result<fs::Metadata> {
    File::from(fd.try_clone()?).metadata()
}

/// The names in the directory `dir`, sorted, without `.` and `..`.
fn list(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    let mut listing = nix::dir::Dir::openat(dir, ".", flags, Mode::empty())?;
    let mut names = Vec::new();
    for entry in listing.iter() {
        let name = OsStr::from_bytes(entry?.file_name().to_bytes()).to_owned();
        if name != "." && name != ".." {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// The stat of `path` (a symbolic link itself, not its target).
pub fn stat(root: &Path, path: &str) -> io::Result<PathStat> {
    let (meta, node) = locate(&Root::open(root)?, path)?;
    let mut mode = meta.permissions().mode() & 0o7777;
    if meta.is_dir() {
        mode |= 1 << 31; // Go's os.ModeDir
    }
    let link_target = match node {
        Node::Link(target) => {
            mode |= 1 << 27; // os.ModeSymlink
            target.to_string_lossy().into_owned()
        }
        _ => String::new(),
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
    let (meta, node) = locate(&Root::open(root)?, path)?;
    let name = name_of(path);
    let name = if name == "/" { ".".to_string() } else { name };
    let mut builder = tar::Builder::new(Vec::new());
    append(&mut builder, Path::new(&name), &meta, node)?;
    builder.into_inner()
}

/// One node and, for a directory, everything below it, walked by fds.
fn append(
    out: &mut tar::Builder<Vec<u8>>,
    name: &Path,
    meta: &fs::Metadata,
    node: Node,
) -> io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
    match node {
        Node::File(file) => out.append_data(&mut header, name, file),
        Node::Link(target) => out.append_link(&mut header, name, target),
        Node::Other => out.append_data(&mut header, name, io::empty()),
        Node::Dir(dir) => {
            out.append_data(&mut header, name, io::empty())?;
            for child in list(&dir)? {
                let (meta, node) = open_child(dir.as_fd(), &child)?;
                append(out, &name.join(&child), &meta, node)?;
            }
            Ok(())
        }
    }
}
// ANCHOR_END: tar_of

// ANCHOR: unpack
/// Unpack `tar` into the directory `dir` of the container: each entry's
/// directory is resolved in the root like any other path, so neither a
/// `../` in the archive nor a link in the container leads outside, and
/// the entry is made from that directory's fd.
pub fn unpack(root: &Path, dir: &str, tar: &[u8]) -> io::Result<()> {
    let root = Root::open(root)?;
    root.open_at(dir, libc::O_PATH | libc::O_DIRECTORY).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOTDIR) => io::Error::new(e.kind(), format!("{dir}: not a directory")),
        _ => e,
    })?;
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let inside = Path::new(dir).join(entry.path()?).display().to_string();
        match split(&inside) {
            Some((parent, name)) => {
                let parent = root.open_at(&parent, libc::O_PATH | libc::O_DIRECTORY)?;
                make(parent.as_fd(), &name, &mut entry)?;
            }
            None => {
                let existing = root.open_at(&inside, libc::O_RDONLY | libc::O_DIRECTORY)?;
                own(&File::from(existing), entry.header())?;
            }
        }
    }
    Ok(())
}
// ANCHOR_END: unpack

/// Make the entry `name` in `dir` from one tar entry, replacing what was
/// there unless it is a directory that stays one.
fn make(dir: BorrowedFd, name: &OsStr, entry: &mut tar::Entry<&[u8]>) -> io::Result<()> {
    let header = entry.header().clone();
    match header.entry_type() {
        tar::EntryType::Directory => {
            let made = make_dir(dir, name, mode_of(&header))?;
            own(&made, &header)
        }
        tar::EntryType::Symlink => {
            let link = entry.link_name()?.unwrap_or_default().into_owned();
            remove(dir, name)?;
            nix::unistd::symlinkat(&link, dir, name)?;
            let (uid, gid) = ids(&header);
            let nofollow = nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
            Ok(nix::unistd::fchownat(dir, name, uid, gid, nofollow)?)
        }
        tar::EntryType::Regular | tar::EntryType::Continuous => {
            remove_link(dir, name)?;
            let write = OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_TRUNC | OFlag::O_NOFOLLOW;
            let mode = Mode::from_bits_truncate(mode_of(&header));
            let mut file = File::from(openat(dir, name, write | OFlag::O_CLOEXEC, mode)?);
            io::copy(entry, &mut file)?;
            own(&file, &header)
        }
        other => {
            let message = format!("{}: unsupported entry type {other:?}", name.display());
            Err(io::Error::new(io::ErrorKind::Unsupported, message))
        }
    }
}

/// The directory `name` in `dir`, made if missing, opened without
/// following a link (a link or file in its place is replaced).
fn make_dir(dir: BorrowedFd, name: &OsStr, mode: u32) -> io::Result<File> {
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    match openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => return Ok(File::from(fd)),
        Err(nix::errno::Errno::ENOENT) => {}
        Err(nix::errno::Errno::ELOOP | nix::errno::Errno::ENOTDIR) => remove(dir, name)?,
        Err(e) => return Err(e.into()),
    }
    nix::sys::stat::mkdirat(dir, name, Mode::from_bits_truncate(mode))?;
    Ok(File::from(openat(dir, name, flags, Mode::empty())?))
}

/// Remove a non-directory `name` in `dir`, if there is one.
fn remove(dir: BorrowedFd, name: &OsStr) -> io::Result<()> {
    match nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir) {
        Ok(()) | Err(nix::errno::Errno::ENOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Remove `name` in `dir` if it is a symbolic link: a file is written in
/// its place, never through it.
fn remove_link(dir: BorrowedFd, name: &OsStr) -> io::Result<()> {
    let nofollow = nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW;
    match nix::sys::stat::fstatat(dir, name, nofollow) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => remove(dir, name),
        _ => Ok(()),
    }
}

/// The permission bits of an entry.
fn mode_of(header: &tar::Header) -> u32 {
    header.mode().unwrap_or(0o644) & 0o7777
}

/// The owner an entry names.
fn ids(header: &tar::Header) -> (Option<Uid>, Option<Gid>) {
    let uid = header.uid().ok().map(|u| Uid::from_raw(u as u32));
    (uid, header.gid().ok().map(|g| Gid::from_raw(g as u32)))
}

/// Give an opened file the entry's mode and owner (`fchmod`, `fchown`).
fn own(file: &File, header: &tar::Header) -> io::Result<()> {
    let (uid, gid) = ids(header);
    nix::unistd::fchown(file, uid, gid)?;
    file.set_permissions(fs::Permissions::from_mode(mode_of(header)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A tar of one regular file `name` holding `data`. The name is written
    /// raw: the tar crate itself refuses a `..`, a hostile client would not.
    fn one_file(name: &str, data: &[u8]) -> Vec<u8> {
        let mut out = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        out.append(&header, data).unwrap();
        out.into_inner().unwrap()
    }

    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        let each =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string());
        each.collect()
    }

    #[test]
    fn a_tar_round_trips() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("dir/sub")).unwrap();
        fs::write(r.join("dir/a"), "hello").unwrap();
        symlink("/nowhere", r.join("dir/sub/l")).unwrap();
        let tar = tar_of(r, "/dir").unwrap();
        assert_eq!(names(&tar), ["dir", "dir/a", "dir/sub", "dir/sub/l"]);
        fs::create_dir(r.join("copy")).unwrap();
        unpack(r, "/copy", &tar).unwrap();
        assert_eq!(fs::read_to_string(r.join("copy/dir/a")).unwrap(), "hello");
        assert_eq!(fs::read_link(r.join("copy/dir/sub/l")).unwrap(), Path::new("/nowhere"));
        assert_eq!(stat(r, "/dir").unwrap().mode & (1 << 31), 1 << 31);
        let link = stat(r, "/dir/sub/l").unwrap();
        assert_eq!((link.mode & (1 << 27), link.link_target.as_str()), (1 << 27, "/nowhere"));
    }

    #[test]
    fn reading_follows_links_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("etc")).unwrap();
        fs::write(r.join("etc/hostname"), "inside").unwrap();
        fs::write(host.path().join("hostname"), "HOST").unwrap();
        symlink("/", r.join("up")).unwrap();
        symlink("../../..", r.join("etc/dots")).unwrap();
        symlink(host.path(), r.join("hostdir")).unwrap();
        for path in ["/up/etc/hostname", "/etc/dots/etc/hostname", "../../etc/hostname"] {
            let tar = tar_of(r, path).unwrap();
            let mut archive = tar::Archive::new(tar.as_slice());
            let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
            let mut text = String::new();
            io::Read::read_to_string(&mut entry, &mut text).unwrap();
            assert_eq!(text, "inside", "{path}");
        }
        let err = tar_of(r, "/hostdir/hostname").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound, "{err}");
    }

    #[test]
    fn writing_through_a_link_never_leaves_the_root() {
        let root = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let r = root.path();
        fs::create_dir_all(r.join("data")).unwrap();
        symlink("/", r.join("data/up")).unwrap();
        symlink("../../../..", r.join("data/dots")).unwrap();
        symlink(host.path(), r.join("data/escape")).unwrap();
        unpack(r, "/data", &one_file("up/x", b"1")).unwrap();
        assert_eq!(fs::read_to_string(r.join("x")).unwrap(), "1");
        unpack(r, "/data/dots", &one_file("y", b"2")).unwrap();
        assert_eq!(fs::read_to_string(r.join("y")).unwrap(), "2");
        unpack(r, "/data", &one_file("../../../z", b"3")).unwrap();
        assert_eq!(fs::read_to_string(r.join("z")).unwrap(), "3");
        // The host directory the link names does not exist in the root.
        assert!(unpack(r, "/data", &one_file("escape/bad", b"4")).is_err());
        assert!(unpack(r, "/data/escape", &one_file("bad", b"5")).is_err());
        assert!(!host.path().join("bad").exists(), "an entry went out of the root");
    }

    #[test]
    fn a_file_replaces_a_link_instead_of_writing_through_it() {
        let root = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let r = root.path();
        let target = host.path().join("victim");
        symlink(&target, r.join("f")).unwrap();
        unpack(r, "/", &one_file("f", b"new")).unwrap();
        assert!(!target.exists(), "the file was written through the link");
        assert_eq!(fs::read_to_string(r.join("f")).unwrap(), "new");
    }

    #[test]
    fn a_link_swapped_in_during_copies_never_leads_out() {
        let root = tempfile::tempdir().unwrap();
        let host = tempfile::tempdir().unwrap();
        let r = root.path().to_owned();
        fs::write(host.path().join("secret"), "HOST").unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            // The container: `/d` is a directory one moment and a link to
            // the host the next, swapped atomically (`RENAME_EXCHANGE`).
            fs::create_dir(r.join("d")).unwrap();
            fs::write(r.join("d/secret"), "inside").unwrap();
            symlink(host.path(), r.join("l")).unwrap();
            scope.spawn(|| {
                let swap = nix::fcntl::RenameFlags::RENAME_EXCHANGE;
                let here = nix::fcntl::AT_FDCWD;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    nix::fcntl::renameat2(here, &r.join("d"), here, &r.join("l"), swap).unwrap();
                }
            });
            // A user-space walk loses this race within some 50000 rounds.
            let read_the_host = (0..50_000).any(|_| {
                let _ = unpack(&r, "/d", &one_file("planted", b"x"));
                tar_of(&r, "/d/secret")
                    .is_ok_and(|tar| String::from_utf8_lossy(&tar).contains("HOST"))
            });
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            assert!(!read_the_host, "a copy read the host's file");
        });
        assert!(!host.path().join("planted").exists(), "a copy wrote onto the host");
    }

    #[test]
    fn split_keeps_the_last_name_unless_it_means_a_directory() {
        assert_eq!(split("/etc/hosts"), Some(("/etc".into(), "hosts".into())));
        assert_eq!(split("hosts"), Some(("".into(), "hosts".into())));
        assert_eq!(split("/etc/"), None);
        assert_eq!(split("/etc/."), None);
        assert_eq!(split("/etc/.."), None);
        assert_eq!(split("/"), None);
    }
}
