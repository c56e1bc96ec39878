//! Reading a container's files without ever following one of its symlinks.
//!
//! A container's writable layer is the container's to shape: by the time we
//! read it, `etc` may be a symlink to `/` — and a reader that followed it
//! would put the host's `/etc/shadow` into an image. So every directory is
//! opened relative to its parent's file descriptor with `O_NOFOLLOW`, every
//! name is looked at with `fstatat(AT_SYMLINK_NOFOLLOW)`, and a file is
//! opened the same way and checked to be the very inode that was listed.
//!
//! ```text
//! open(root, O_DIRECTORY)                         the layer root (our own path)
//!   getdents64 → names, sorted                    parents before children
//!   fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)     what is it? (never followed)
//!   openat(dirfd, name, O_NOFOLLOW|O_DIRECTORY)   descend; same inode as listed?
//!   openat(dirfd, name, O_NOFOLLOW|O_RDONLY)      read a file; same inode?
//! ```

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use ch03_union_fs::xattr;
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, readlinkat, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};

/// The one extended attribute a layer keeps, as moby does: file capabilities.
pub const CAPABILITY_XATTR: &str = "security.capability";
/// overlayfs keeps a renamed directory's children in the lower layer
/// (`redirect_dir`) or a file's data there (`metacopy`): such an upper
/// directory is not a layer on its own.
const OVERLAY_LOWER_REFERENCES: [&str; 2] =
    ["trusted.overlay.redirect", "trusted.overlay.metacopy"];

// ANCHOR: node
/// What an entry is: its kind and the metadata a layer records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    /// Permission bits with set-uid, set-gid and sticky (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    /// Device number of a device node (0:0 for an overlay whiteout).
    pub rdev: u64,
    /// Where the inode lives: hard links share `(dev, ino)`.
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    /// `security.capability`, the only xattr a layer keeps.
    pub capability: Option<Vec<u8>>,
    /// `trusted.overlay.opaque = y`: hides what the layers below have here.
    pub opaque: bool,
    /// overlayfs redirect or metacopy: part of this entry is in a lower layer.
    pub refers_below: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink(OsString),
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}
// ANCHOR_END: node

impl Node {
    /// overlayfs's mark for "deleted here": a character device 0:0.
    pub fn is_whiteout(&self) -> bool {
        self.kind == Kind::CharDevice && self.rdev == 0
    }

    pub fn is_dir(&self) -> bool {
        self.kind == Kind::Dir
    }

    fn from_stat(stat: &FileStat, kind: Kind) -> Node {
        Node {
            kind,
            mode: stat.st_mode & 0o7777,
            uid: stat.st_uid,
            gid: stat.st_gid,
            size: stat.st_size as u64,
            mtime: stat.st_mtime,
            mtime_nsec: stat.st_mtime_nsec,
            rdev: stat.st_rdev,
            dev: stat.st_dev,
            ino: stat.st_ino,
            nlink: stat.st_nlink,
            capability: None,
            opaque: false,
            refers_below: false,
        }
    }
}

fn kind_of(stat: &FileStat) -> Kind {
    match SFlag::from_bits_truncate(stat.st_mode & SFlag::S_IFMT.bits()) {
        SFlag::S_IFDIR => Kind::Dir,
        SFlag::S_IFLNK => Kind::Symlink(OsString::new()),
        SFlag::S_IFCHR => Kind::CharDevice,
        SFlag::S_IFBLK => Kind::BlockDevice,
        SFlag::S_IFIFO => Kind::Fifo,
        SFlag::S_IFSOCK => Kind::Socket,
        _ => Kind::File,
    }
}

/// A directory held open: names in it are looked up, never followed.
pub struct DirFd {
    fd: OwnedFd,
}

impl DirFd {
    /// Open a tree's root. The root is our own path (a layer directory, a
    /// container's `upper/`), so it may be followed; nothing below it is.
    pub fn open_root(path: &Path) -> io::Result<DirFd> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let fd = nix::fcntl::open(path, flags, Mode::empty()).map_err(io::Error::from)?;
        Ok(DirFd { fd })
    }

    /// The names in this directory, in byte order (`.` and `..` left out).
    pub fn names(&self) -> io::Result<Vec<OsString>> {
        let dup = nix::unistd::dup(&self.fd).map_err(io::Error::from)?;
        // A duplicate shares the offset: start reading at the beginning.
        nix::unistd::lseek(&dup, 0, nix::unistd::Whence::SeekSet).map_err(io::Error::from)?;
        let mut dir = nix::dir::Dir::from_fd(dup).map_err(io::Error::from)?;
        let mut names = Vec::new();
        for entry in dir.iter() {
            let name = entry.map_err(io::Error::from)?.file_name().to_bytes().to_vec();
            if name != b"." && name != b".." {
                names.push(OsString::from(OsStr::from_bytes(&name)));
            }
        }
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        Ok(names)
    }

    // ANCHOR: stat
    /// `lstat` of `name` in this directory, with the xattrs a layer needs.
    pub fn stat(&self, name: &OsStr) -> io::Result<Node> {
        let stat = fstatat(&self.fd, name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        let mut node = Node::from_stat(&stat, kind_of(&stat));
        if let Kind::Symlink(target) = &mut node.kind {
            *target = readlinkat(&self.fd, name)?;
            return Ok(node); // symlinks carry no xattrs we keep
        }
        if node.kind == Kind::Socket || node.is_whiteout() {
            return Ok(node);
        }
        // lgetxattr on /proc/self/fd/<dir>/<name>: the name is not followed.
        let path = self.proc_path(name);
        let names = xattr::list(&path)?;
        let has = |key: &str| names.iter().any(|n| n.as_bytes() == key.as_bytes());
        if has(CAPABILITY_XATTR) {
            node.capability = xattr::get(&path, CAPABILITY_XATTR)?;
        }
        if node.is_dir() && has(ch03_union_fs::OPAQUE_XATTR) {
            let value = xattr::get(&path, ch03_union_fs::OPAQUE_XATTR)?;
            node.opaque = value.as_deref() == Some(ch03_union_fs::OPAQUE_XATTR_VALUE);
        }
        node.refers_below = OVERLAY_LOWER_REFERENCES.iter().any(|key| has(key));
        Ok(node)
    }
    // ANCHOR_END: stat

    /// Open the directory `name` that [`DirFd::stat`] described as `node`.
    pub fn open_dir(&self, name: &OsStr, node: &Node) -> io::Result<DirFd> {
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        let fd = openat(&self.fd, name, flags, Mode::empty())?;
        same_inode(&fd, node, name)?;
        Ok(DirFd { fd })
    }

    /// Open the regular file `name` that [`DirFd::stat`] described as `node`.
    pub fn open_file(&self, name: &OsStr, node: &Node) -> io::Result<File> {
        let flags = OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NOCTTY | OFlag::O_CLOEXEC;
        let fd = openat(&self.fd, name, flags, Mode::empty())?;
        same_inode(&fd, node, name)?;
        Ok(File::from(fd))
    }

    fn proc_path(&self, name: &OsStr) -> PathBuf {
        Path::new(&format!("/proc/self/fd/{}", self.fd.as_fd().as_raw_fd())).join(name)
    }
}

/// The file we opened must be the one we listed: a container that swapped
/// it for something else in between gets an error, not a wrong layer.
fn same_inode(fd: &OwnedFd, node: &Node, name: &OsStr) -> io::Result<()> {
    let stat = fstat(fd)?;
    if stat.st_ino != node.ino || stat.st_dev != node.dev || kind_of(&stat) != plain(&node.kind) {
        let what = Path::new(name).display().to_string();
        return Err(io::Error::other(format!("{what} changed while it was read")));
    }
    Ok(())
}

fn plain(kind: &Kind) -> Kind {
    match kind {
        Kind::Symlink(_) => Kind::Symlink(OsString::new()),
        other => other.clone(),
    }
}

// ANCHOR: walk
/// Visit every entry under `root`: parents before children, names in byte
/// order in each directory. `visit(path, node, parent)` gets the path
/// relative to `root` and the parent directory held open (to read a file
/// with [`DirFd::open_file`]); it returns whether to go into a directory.
pub fn walk(
    root: &Path,
    visit: &mut dyn FnMut(&Path, &Node, &DirFd) -> io::Result<bool>,
) -> io::Result<()> {
    let dir = DirFd::open_root(root).map_err(|e| context(root, e))?;
    walk_dir(&dir, &mut PathBuf::new(), visit)
}

fn walk_dir(
    dir: &DirFd,
    path: &mut PathBuf,
    visit: &mut dyn FnMut(&Path, &Node, &DirFd) -> io::Result<bool>,
) -> io::Result<()> {
    for name in dir.names().map_err(|e| context(path, e))? {
        path.push(&name);
        let node = dir.stat(&name).map_err(|e| context(path, e))?;
        if visit(path, &node, dir)? && node.is_dir() {
            let child = dir.open_dir(&name, &node).map_err(|e| context(path, e))?;
            walk_dir(&child, path, visit)?;
        }
        path.pop();
    }
    Ok(())
}
// ANCHOR_END: walk

// ANCHOR: open_beneath
/// Open the regular file `relative` under `root` for reading, refusing any
/// symlink on the way or at the end (`openat2` with `RESOLVE_NO_SYMLINKS`,
/// `RESOLVE_BENEATH`), and check it is the inode `node` describes.
pub fn open_beneath(root: &Path, relative: &Path, node: &Node) -> io::Result<File> {
    let root_fd = DirFd::open_root(root)?;
    let how = OpenHow::new()
        .flags(OFlag::O_RDONLY | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_NO_SYMLINKS | ResolveFlag::RESOLVE_BENEATH);
    let fd = openat2(&root_fd.fd, relative, how).map_err(|e| match e {
        Errno::ELOOP => io::Error::other("a symlink is in the way (it is never followed)"),
        other => io::Error::from(other),
    })?;
    same_inode(&fd, node, relative.as_os_str())?;
    Ok(File::from(fd))
}
// ANCHOR_END: open_beneath

/// `path: error`, keeping the error's kind.
pub fn context(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::os::unix::fs::symlink;

    fn listing(root: &Path) -> Vec<String> {
        let mut seen = Vec::new();
        walk(root, &mut |path, node, _| {
            seen.push(format!("{}{}", path.display(), if node.is_dir() { "/" } else { "" }));
            Ok(true)
        })
        .unwrap();
        seen
    }

    #[test]
    fn parents_come_before_children_in_byte_order() {
        let dir = testkit::temp_dir();
        for path in ["b/y", "a/z", "a-c", "a/b/c"] {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        assert_eq!(listing(dir.path()), ["a/", "a/b/", "a/b/c", "a/z", "a-c", "b/", "b/y"]);
    }

    #[test]
    fn symlinks_are_described_never_followed() {
        let (dir, outside) = (testkit::temp_dir(), testkit::temp_dir());
        std::fs::write(outside.path().join("secret"), "host").unwrap();
        symlink(outside.path(), dir.path().join("etc")).unwrap();
        assert_eq!(listing(dir.path()), ["etc"], "the walk went through a symlink");
        let root = DirFd::open_root(dir.path()).unwrap();
        let node = root.stat(OsStr::new("etc")).unwrap();
        assert_eq!(node.kind, Kind::Symlink(outside.path().as_os_str().to_os_string()));
        assert!(root.open_dir(OsStr::new("etc"), &node).is_err());
        let secret = root.stat(OsStr::new("etc")).unwrap();
        let err = open_beneath(dir.path(), Path::new("etc/secret"), &secret).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
    }

    #[test]
    fn a_file_swapped_after_listing_is_refused() {
        let dir = testkit::temp_dir();
        std::fs::write(dir.path().join("f"), "first").unwrap();
        let root = DirFd::open_root(dir.path()).unwrap();
        let node = root.stat(OsStr::new("f")).unwrap();
        let mut text = String::new();
        root.open_file(OsStr::new("f"), &node).unwrap().read_to_string(&mut text).unwrap();
        assert_eq!(text, "first");
        // The old inode stays alive under another name, so it is not reused.
        std::fs::rename(dir.path().join("f"), dir.path().join("kept")).unwrap();
        std::fs::write(dir.path().join("g"), "other").unwrap();
        std::fs::rename(dir.path().join("g"), dir.path().join("f")).unwrap();
        let err = root.open_file(OsStr::new("f"), &node).unwrap_err();
        assert!(err.to_string().contains("changed while it was read"), "{err}");
        let fresh = root.stat(OsStr::new("f")).unwrap();
        assert!(open_beneath(dir.path(), Path::new("f"), &fresh).is_ok());
    }
}
