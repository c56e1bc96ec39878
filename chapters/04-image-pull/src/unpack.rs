//! Safe layer unpacking: every tar entry is created by us, relative to a
//! directory file descriptor resolved *inside* the layer root.
//!
//! `tar::Archive::unpack` is not used: it resolves paths with the host's
//! view of the filesystem, so a layer's absolute symlink (`/var/run -> /run`)
//! would point at the host. Here `openat2(RESOLVE_IN_ROOT)` makes the layer
//! directory the root for every lookup: `..` and absolute symlinks are
//! clamped inside it, and the last component is always created with `*at`
//! calls that never follow a symlink.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use nix::errno::Errno;
use nix::fcntl::{openat, openat2, AtFlags, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{
    fchmod, fchmodat, fstatat, mkdirat, mknodat, utimensat, FchmodatFlags, Mode, SFlag,
    UtimensatFlags,
};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchown, fchownat, linkat, symlinkat, unlinkat, Gid, Uid, UnlinkatFlags};
use tar::EntryType;

const BOOK: &str = "ch04-image-pull.md#whiteouts";

/// The name of an opaque-directory marker inside a layer tar.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The prefix of a whiteout file inside a layer tar.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The xattr overlayfs reads to hide everything below a directory.
pub const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("layer entry {path:?} points outside the layer (too many '..'); refusing this layer")]
    Escape { path: String },
    #[error("layer hardlink {path:?} -> {target:?} points outside the layer; refusing this layer")]
    HardlinkEscape { path: String, target: String },
    #[error("layer hardlink {path:?} -> {target:?}: the target is not in this layer")]
    HardlinkMissing { path: String, target: String },
    #[error("layer entry {path:?} is an invalid whiteout ('.wh.' needs a name)")]
    BadWhiteout { path: String },
    #[error("layer entry {path:?} has an unsupported type ({kind})")]
    Unsupported { path: String, kind: String },
    #[error("layer entry {path:?}: a parent is not a directory inside the layer")]
    NotADirectory { path: String },
    #[error("unpacking {path:?}: {op}: {error}")]
    Io { path: String, op: &'static str, error: io::Error },
    #[error("reading the layer tar: {0}")]
    Tar(io::Error),
}

fn io_err<'a>(path: &'a str, op: &'static str) -> impl FnOnce(Errno) -> UnpackError + 'a {
    move |errno| UnpackError::Io { path: path.to_string(), op, error: io::Error::from(errno) }
}

/// What the tar said about one entry: its owner, mode, time and xattrs.
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: i64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// Counts for the caller's progress display.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnpackStats {
    pub entries: u64,
    pub whiteouts: u64,
}

// ANCHOR: unpack
/// Unpack the tar stream `reader` into the existing empty directory `root`,
/// converting whiteouts to overlayfs form.
pub fn unpack(reader: impl Read, root: &Path) -> Result<UnpackStats, UnpackError> {
    let root_fd = open_layer_root(root)?;
    let privileged = nix::unistd::geteuid().is_root();
    let mut stats = UnpackStats::default();
    let mut directory_times = Vec::new();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(UnpackError::Tar)? {
        let mut entry = entry.map_err(UnpackError::Tar)?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let components = clean_path(&raw_path)?;
        // An entry that resolves to the root itself (`.`, `/`, `./`) is
        // ignored: the root must never be replaced, chmod-ed or re-linked.
        let Some((name, parent)) = components.split_last() else { continue };
        if parent.iter().chain([name]).any(|c| is_aufs_metadata(c)) {
            continue;
        }
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            continue;
        }
        let meta = read_meta(&mut entry).map_err(UnpackError::Tar)?;
        if let Some(whiteout) = whiteout_of(name, &raw_path)? {
            create_whiteout(&root_fd, parent, whiteout, &meta, &raw_path, privileged)?;
            stats.whiteouts += 1;
            continue;
        }
        let parent_fd = open_dir_in_root(&root_fd, parent, &raw_path)?;
        let at = At { root: &root_fd, parent: &parent_fd, name, raw: &raw_path, privileged };
        if make_entry(&at, &mut entry, kind, &meta)? {
            directory_times.push((components.clone(), meta.mtime));
        }
        stats.entries += 1;
    }
    restore_directory_times(&root_fd, &directory_times);
    Ok(stats)
}
// ANCHOR_END: unpack

/// The layer's root, the directory every path of the layer is resolved in.
fn open_layer_root(root: &Path) -> Result<OwnedFd, UnpackError> {
    let flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC;
    nix::fcntl::open(root, flags, Mode::empty())
        .map_err(io_err(&root.display().to_string(), "open layer root"))
}

/// Where one entry goes: the layer root, the directory it goes in, its name.
struct At<'a> {
    root: &'a OwnedFd,
    parent: &'a OwnedFd,
    name: &'a OsStr,
    raw: &'a str,
    privileged: bool,
}

// ANCHOR: make_entry
/// Make one entry of the layer by its kind; true for a directory, whose
/// time is set at the end.
fn make_entry<R: Read>(
    at: &At<'_>,
    entry: &mut tar::Entry<'_, R>,
    kind: EntryType,
    meta: &Meta,
) -> Result<bool, UnpackError> {
    let (parent, name, raw, privileged) = (at.parent, at.name, at.raw, at.privileged);
    let merge = clear_the_way(parent, name, kind == EntryType::Directory, raw)?;
    let link_name = |entry: &tar::Entry<'_, R>| {
        entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default()
    };
    match kind {
        EntryType::Regular | EntryType::Continuous => {
            write_file(parent, name, entry, meta, raw, privileged)?
        }
        EntryType::Directory => make_directory(parent, name, merge, meta, raw, privileged)?,
        EntryType::Symlink => make_symlink(parent, name, &link_name(entry), meta, raw, privileged)?,
        EntryType::Link => {
            let target = String::from_utf8_lossy(&link_name(entry)).into_owned();
            make_hardlink(at.root, parent, name, &target, raw)?;
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let header = entry.header();
            let major = header.device_major().ok().flatten().unwrap_or(0);
            let minor = header.device_minor().ok().flatten().unwrap_or(0);
            let dev = nix::sys::stat::makedev(major as u64, minor as u64);
            make_node(parent, name, kind, dev, meta, raw, privileged)?;
        }
        other => {
            return Err(UnpackError::Unsupported { path: raw.into(), kind: format!("{other:?}") })
        }
    }
    Ok(kind == EntryType::Directory)
}
// ANCHOR_END: make_entry

/// Directory times last: creating entries inside a directory changes its
/// mtime.
fn restore_directory_times(root_fd: &OwnedFd, directory_times: &[(Vec<OsString>, i64)]) {
    for (components, mtime) in directory_times.iter().rev() {
        let (name, parent) = components.split_last().expect("directory entries are never the root");
        if let Ok(parent_fd) = open_existing_dir_in_root(root_fd, parent) {
            let _ = set_mtime(&parent_fd, name, *mtime);
        }
    }
}

// ANCHOR: clean_path
/// Split a tar name into clean components: a leading `/` is dropped (the
/// name is relative to the layer root), `.` and empty parts vanish, `..`
/// removes the previous part — and one `..` too many is an escape.
pub fn clean_path(raw: &str) -> Result<Vec<OsString>, UnpackError> {
    let mut components: Vec<OsString> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if components.pop().is_none() {
                    return Err(UnpackError::Escape { path: raw.to_string() });
                }
            }
            part => components.push(OsString::from(part)),
        }
    }
    Ok(components)
}
// ANCHOR_END: clean_path

// ANCHOR: open_dir_in_root
/// Open (creating as needed) the directory `components` inside the layer
/// root. Each lookup uses `RESOLVE_IN_ROOT`: symlinks met on the way are
/// followed, but `/` and `..` in them mean the layer root, never the host's.
fn open_dir_in_root(
    root: &OwnedFd,
    components: &[OsString],
    raw: &str,
) -> Result<OwnedFd, UnpackError> {
    let mut dir = open_in_root(root, Path::new("."), OFlag::O_PATH)
        .map_err(io_err(raw, "open layer root"))?;
    let mut prefix = PathBuf::new();
    for component in components {
        prefix.push(component);
        dir = match open_in_root(root, &prefix, OFlag::O_PATH) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) => {
                // Missing parent (tars need not list every directory): make it.
                mkdirat(&dir, component.as_os_str(), Mode::from_bits_truncate(0o755)).map_err(
                    |e| match e {
                        Errno::EEXIST => UnpackError::NotADirectory { path: raw.to_string() },
                        e => io_err(raw, "mkdirat parent")(e),
                    },
                )?;
                open_in_root(root, &prefix, OFlag::O_PATH).map_err(io_err(raw, "open parent"))?
            }
            Err(Errno::ENOTDIR | Errno::ELOOP) => {
                return Err(UnpackError::NotADirectory { path: raw.to_string() })
            }
            Err(e) => return Err(io_err(raw, "open parent")(e)),
        };
    }
    Ok(dir)
}
// ANCHOR_END: open_dir_in_root

// ANCHOR: open_dir_in_root_2
fn open_existing_dir_in_root(root: &OwnedFd, components: &[OsString]) -> nix::Result<OwnedFd> {
    let path: PathBuf =
        if components.is_empty() { PathBuf::from(".") } else { components.iter().collect() };
    open_in_root(root, &path, OFlag::O_PATH)
}

fn open_in_root(root: &OwnedFd, path: &Path, flags: OFlag) -> nix::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    openat2(root, path, how)
}
// ANCHOR_END: open_dir_in_root_2

/// If something is already at `name`, remove it (inside the root, without
/// following it) — unless a directory meets a directory: then they merge.
/// Returns true for a merge.
fn clear_the_way(
    parent: &OwnedFd,
    name: &OsStr,
    entry_is_dir: bool,
    raw: &str,
) -> Result<bool, UnpackError> {
    let existing = match fstatat(parent, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(stat) => stat,
        Err(Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(io_err(raw, "fstatat")(e)),
    };
    let existing_is_dir =
        SFlag::from_bits_truncate(existing.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR;
    if existing_is_dir && entry_is_dir {
        return Ok(true);
    }
    remove_at(parent, name).map_err(io_err(raw, "remove existing entry"))?;
    Ok(false)
}

/// `rm -rf` of `name` inside `parent`, never following symlinks.
fn remove_at(parent: &OwnedFd, name: &OsStr) -> nix::Result<()> {
    match unlinkat(parent, name, UnlinkatFlags::NoRemoveDir) {
        Err(Errno::EISDIR) => {}
        other => return other,
    }
    let dir_fd = openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut dir = nix::dir::Dir::from_fd(dir_fd)?;
    let children: Vec<OsString> = dir
        .iter()
        .filter_map(Result::ok)
        .map(|e| OsStr::from_bytes(e.file_name().to_bytes()).to_os_string())
        .filter(|n| n != "." && n != "..")
        .collect();
    let dir_fd: OwnedFd = openat(
        parent,
        name,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    for child in children {
        remove_at(&dir_fd, &child)?;
    }
    unlinkat(parent, name, UnlinkatFlags::RemoveDir)
}

// ANCHOR: whiteouts
enum Whiteout<'a> {
    /// `.wh.name`: hide `name` of the lower layers.
    Remove(&'a OsStr),
    /// `.wh..wh..opq`: hide every lower-layer child of this directory.
    Opaque,
}

fn whiteout_of<'a>(name: &'a OsStr, raw: &str) -> Result<Option<Whiteout<'a>>, UnpackError> {
    let bytes = name.as_bytes();
    if bytes == OPAQUE_MARKER.as_bytes() {
        return Ok(Some(Whiteout::Opaque));
    }
    let Some(hidden) = bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) else { return Ok(None) };
    if hidden.is_empty() || hidden == b"." || hidden == b".." {
        return Err(UnpackError::BadWhiteout { path: raw.to_string() });
    }
    Ok(Some(Whiteout::Remove(OsStr::from_bytes(hidden))))
}

/// AUFS bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) is not content: skip it.
fn is_aufs_metadata(component: &OsStr) -> bool {
    component.as_bytes().starts_with(b".wh..wh.")
        && component.as_bytes() != OPAQUE_MARKER.as_bytes()
}
// ANCHOR_END: whiteouts

// ANCHOR: whiteouts_2
/// Overlayfs's form of a whiteout: a 0:0 character device named like the
/// hidden file; of an opaque marker: `trusted.overlay.opaque=y` on the
/// directory. The `.wh.` files themselves are never written.
fn create_whiteout(
    root: &OwnedFd,
    parent: &[OsString],
    whiteout: Whiteout<'_>,
    meta: &Meta,
    raw: &str,
    privileged: bool,
) -> Result<(), UnpackError> {
    let parent_fd = open_dir_in_root(root, parent, raw)?;
    match whiteout {
        Whiteout::Remove(hidden) => {
            clear_the_way(&parent_fd, hidden, false, raw)?;
            explain::step(Step {
                what: &format!("whiteout {raw}: a 0:0 character device hides the lower file"),
                syscall: "mknodat(dirfd, name, S_IFCHR|0000, makedev(0, 0))",
                shell: &format!("mknod {} c 0 0", display_in_layer(parent, hidden)),
                book: BOOK,
            });
            let dev = nix::sys::stat::makedev(0, 0);
            mknodat(&parent_fd, hidden, SFlag::S_IFCHR, Mode::empty(), dev)
                .map_err(io_err(raw, "mknod whiteout (needs root: CAP_MKNOD)"))?;
            if privileged {
                chown_at(&parent_fd, hidden, meta).map_err(io_err(raw, "chown whiteout"))?;
            }
            Ok(())
        }
        Whiteout::Opaque => mark_opaque(&parent_fd, parent, raw),
    }
}
// ANCHOR_END: whiteouts_2

// ANCHOR: mark_opaque
/// An opaque directory: the xattr overlayfs reads, set through our own
/// directory fd in /proc (the kernel follows that magic link to the very
/// directory we resolved, not to whatever a path names now).
fn mark_opaque(parent_fd: &OwnedFd, parent: &[OsString], raw: &str) -> Result<(), UnpackError> {
    explain::step(Step {
        what: &format!("opaque directory {raw}: hide every lower-layer entry below it"),
        syscall: "setxattr(dir, \"trusted.overlay.opaque\", \"y\", 1, 0)",
        shell: &format!("setfattr -n trusted.overlay.opaque -v y {}", display_dir(parent)),
        book: BOOK,
    });
    set_xattr(&proc_fd_path(parent_fd, None), OVERLAY_OPAQUE_XATTR, b"y", true)
        .map_err(io_err(raw, "set trusted.overlay.opaque (needs root: CAP_SYS_ADMIN)"))
}
// ANCHOR_END: mark_opaque

fn display_in_layer(parent: &[OsString], name: &OsStr) -> String {
    let mut path: PathBuf = ["LAYER"].iter().collect();
    path.extend(parent);
    path.push(name);
    path.display().to_string()
}

fn display_dir(parent: &[OsString]) -> String {
    let mut path = PathBuf::from("LAYER");
    path.extend(parent);
    path.display().to_string()
}

// ANCHOR: create_entries
fn write_file(
    parent: &OwnedFd,
    name: &OsStr,
    entry: &mut impl Read,
    meta: &Meta,
    raw: &str,
    privileged: bool,
) -> Result<(), UnpackError> {
    // O_EXCL|O_NOFOLLOW: we create a new file, never open what is there.
    let flags =
        OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_WRONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    let fd = openat(parent, name, flags, Mode::from_bits_truncate(0o600))
        .map_err(io_err(raw, "create file"))?;
    let mut file = File::from(fd);
    io::copy(entry, &mut file).map_err(|e| UnpackError::Io {
        path: raw.to_string(),
        op: "write file",
        error: e,
    })?;
    if privileged {
        fchown(&file, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)))
            .map_err(io_err(raw, "fchown"))?;
    }
    // After chown, which clears setuid/setgid bits.
    fchmod(&file, Mode::from_bits_truncate(meta.mode)).map_err(io_err(raw, "fchmod"))?;
    set_xattrs(parent, name, meta, raw)?;
    set_mtime(parent, name, meta.mtime).map_err(io_err(raw, "utimensat"))
}
// ANCHOR_END: create_entries

// ANCHOR: create_entries_2
fn make_directory(
    parent: &OwnedFd,
    name: &OsStr,
    merge: bool,
    meta: &Meta,
    raw: &str,
    privileged: bool,
) -> Result<(), UnpackError> {
    if !merge {
        mkdirat(parent, name, Mode::from_bits_truncate(0o700)).map_err(io_err(raw, "mkdirat"))?;
    }
    // O_NOFOLLOW: if this is not the directory we just checked, fail.
    let dir = openat(
        parent,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(io_err(raw, "open directory"))?;
    if privileged {
        fchown(&dir, Some(Uid::from_raw(meta.uid)), Some(Gid::from_raw(meta.gid)))
            .map_err(io_err(raw, "fchown"))?;
    }
    fchmod(&dir, Mode::from_bits_truncate(meta.mode)).map_err(io_err(raw, "fchmod"))?;
    set_xattrs(parent, name, meta, raw)
}
// ANCHOR_END: create_entries_2

// ANCHOR: create_entries_2_2
/// The target is stored verbatim and never followed here: it only means
/// something once the layer is a container's root.
fn make_symlink(
    parent: &OwnedFd,
    name: &OsStr,
    target: &[u8],
    meta: &Meta,
    raw: &str,
    privileged: bool,
) -> Result<(), UnpackError> {
    symlinkat(OsStr::from_bytes(target), parent, name).map_err(io_err(raw, "symlinkat"))?;
    if privileged {
        chown_at(parent, name, meta).map_err(io_err(raw, "lchown"))?;
    }
    set_mtime(parent, name, meta.mtime).map_err(io_err(raw, "utimensat"))
}

/// A hardlink's target is a path in this layer: resolve its parent in the
/// root too, and link to the entry itself (even a symlink), not through it.
fn make_hardlink(
    root: &OwnedFd,
    parent: &OwnedFd,
    name: &OsStr,
    target: &str,
    raw: &str,
) -> Result<(), UnpackError> {
    let escape =
        || UnpackError::HardlinkEscape { path: raw.to_string(), target: target.to_string() };
    let components = clean_path(target).map_err(|_| escape())?;
    let (target_name, target_parent) = components.split_last().ok_or_else(escape)?;
    let missing =
        || UnpackError::HardlinkMissing { path: raw.to_string(), target: target.to_string() };
    let target_parent_fd = open_existing_dir_in_root(root, target_parent).map_err(|_| missing())?;
    linkat(&target_parent_fd, target_name.as_os_str(), parent, name, AtFlags::empty()).map_err(
        |e| match e {
            Errno::ENOENT => missing(),
            e => io_err(raw, "linkat")(e),
        },
    )
}
// ANCHOR_END: create_entries_2_2

// ANCHOR: create_entries_2_2_2
fn make_node(
    parent: &OwnedFd,
    name: &OsStr,
    kind: EntryType,
    dev: u64,
    meta: &Meta,
    raw: &str,
    privileged: bool,
) -> Result<(), UnpackError> {
    let sflag = match kind {
        EntryType::Char => SFlag::S_IFCHR,
        EntryType::Block => SFlag::S_IFBLK,
        _ => SFlag::S_IFIFO,
    };
    mknodat(parent, name, sflag, Mode::from_bits_truncate(meta.mode & 0o777), dev)
        .map_err(io_err(raw, "mknodat"))?;
    if privileged {
        chown_at(parent, name, meta).map_err(io_err(raw, "lchown"))?;
    }
    // The node was just created by us under this name: it is not a symlink.
    fchmodat(parent, name, Mode::from_bits_truncate(meta.mode), FchmodatFlags::FollowSymlink)
        .map_err(io_err(raw, "fchmodat"))?;
    set_xattrs(parent, name, meta, raw)?;
    set_mtime(parent, name, meta.mtime).map_err(io_err(raw, "utimensat"))
}
// ANCHOR_END: create_entries_2_2_2

fn chown_at(parent: &OwnedFd, name: &OsStr, meta: &Meta) -> nix::Result<()> {
    fchownat(
        parent,
        name,
        Some(Uid::from_raw(meta.uid)),
        Some(Gid::from_raw(meta.gid)),
        AtFlags::AT_SYMLINK_NOFOLLOW,
    )
}

fn set_mtime(parent: &OwnedFd, name: &OsStr, mtime: i64) -> nix::Result<()> {
    let time = TimeSpec::new(mtime, 0);
    utimensat(parent, name, &time, &time, UtimensatFlags::NoFollowSymlink)
}

/// PAX `SCHILY.xattr.*` records become extended attributes (`lsetxattr`:
/// the last component is never followed).
fn set_xattrs(parent: &OwnedFd, name: &OsStr, meta: &Meta, raw: &str) -> Result<(), UnpackError> {
    for (key, value) in &meta.xattrs {
        match set_xattr(&proc_fd_path(parent, Some(name)), key, value, false) {
            Ok(()) | Err(Errno::EOPNOTSUPP) => {}
            Err(e) => return Err(io_err(raw, "lsetxattr")(e)),
        }
    }
    Ok(())
}

/// `/proc/self/fd/<dirfd>[/name]`: a path that starts at a directory we hold.
fn proc_fd_path(dir: &OwnedFd, name: Option<&OsStr>) -> PathBuf {
    let mut path = PathBuf::from(format!("/proc/self/fd/{}", dir.as_fd().as_raw_fd()));
    if let Some(name) = name {
        path.push(name);
    }
    path
}

fn set_xattr(path: &Path, key: &str, value: &[u8], follow: bool) -> nix::Result<()> {
    let path = CString::new(path.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
    let key = CString::new(key).map_err(|_| Errno::EINVAL)?;
    let call = if follow { libc::setxattr } else { libc::lsetxattr };
    // SAFETY: both strings are NUL-terminated and the value slice is valid.
    let rc = unsafe { call(path.as_ptr(), key.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    Errno::result(rc).map(drop)
}

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<Meta> {
    let header = entry.header();
    let mut meta = Meta {
        uid: header.uid().unwrap_or(0) as u32,
        gid: header.gid().unwrap_or(0) as u32,
        mode: header.mode().unwrap_or(0o644) & 0o7777,
        mtime: header.mtime().unwrap_or(0) as i64,
        xattrs: Vec::new(),
    };
    if let Some(extensions) = entry.pax_extensions()? {
        for extension in extensions {
            let extension = extension?;
            let Ok(key) = extension.key() else { continue };
            let value = extension.value_bytes();
            let number = || {
                std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.split('.').next()?.parse::<i64>().ok())
            };
            match key {
                "uid" => meta.uid = number().unwrap_or(meta.uid as i64) as u32,
                "gid" => meta.gid = number().unwrap_or(meta.gid as i64) as u32,
                "mtime" => meta.mtime = number().unwrap_or(meta.mtime),
                k => {
                    if let Some(xattr) = k.strip_prefix("SCHILY.xattr.") {
                        meta.xattrs.push((xattr.to_string(), value.to_vec()));
                    }
                }
            }
        }
    }
    Ok(meta)
}

#[cfg(test)]
mod tests;
