//! Writing a layer tar that comes out byte for byte the same each time the
//! same files are written: the caller gives entries in a fixed order
//! (parents first, names in byte order), and each header holds only what
//! a layer means — no user or group names, no access or change times,
//! mtimes in whole seconds (optionally clamped to `SOURCE_DATE_EPOCH`), the
//! one xattr Docker keeps. Names too long for the classic header, long
//! link targets, big ids and xattrs go into a PAX record before the entry.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use crate::walk::{Kind, Node, CAPABILITY_XATTR};

/// The name of an opaque-directory marker inside a layer tar.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// The prefix that makes a tar entry a whiteout.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The largest number the classic header's 8-byte octal fields hold.
const OCTAL_8_MAX: u64 = 0o7777777;
/// The largest size the classic header's 12-byte octal field holds.
const OCTAL_12_MAX: u64 = 0o77777777777;

/// How times are written.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimePolicy {
    /// `SOURCE_DATE_EPOCH`: no mtime later than this (BuildKit's
    /// `rewrite-timestamp`); `None` keeps every mtime, as Docker does.
    pub clamp: Option<i64>,
}

impl TimePolicy {
    /// The policy the environment asks for: `SOURCE_DATE_EPOCH=<seconds>`.
    pub fn from_env() -> TimePolicy {
        let clamp = std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.trim().parse().ok());
        TimePolicy { clamp }
    }

    fn mtime(&self, seconds: i64) -> u64 {
        let seconds = self.clamp.map_or(seconds, |limit| seconds.min(limit));
        seconds.max(0) as u64
    }
}

/// A layer tar being written to `W`.
pub struct LayerWriter<W: Write> {
    builder: tar::Builder<W>,
    times: TimePolicy,
    /// `(dev, ino)` of files with several names → the first name written.
    first_names: HashMap<(u64, u64), PathBuf>,
    entries: u64,
}

impl<W: Write> LayerWriter<W> {
    pub fn new(out: W, times: TimePolicy) -> LayerWriter<W> {
        LayerWriter {
            builder: tar::Builder::new(out),
            times,
            first_names: HashMap::new(),
            entries: 0,
        }
    }

    /// How many entries were written (0: the empty layer).
    pub fn entries(&self) -> u64 {
        self.entries
    }

    // ANCHOR: add
    /// Add the entry `path` (relative to the root) described by `node`;
    /// `content` must give exactly `node.size` bytes for a regular file. A
    /// second name of a file already written becomes a hard link to it.
    /// Sockets are skipped: they belong to a running program, not a layer.
    pub fn add(
        &mut self,
        path: &Path,
        node: &Node,
        content: Option<&mut dyn Read>,
    ) -> io::Result<()> {
        if node.kind == Kind::Socket {
            return Ok(());
        }
        let (mut header, mut pax) = self.header(path, node)?;
        if node.kind == Kind::File && node.nlink > 1 {
            if let Some(first) = self.first_names.get(&(node.dev, node.ino)) {
                header.set_entry_type(EntryType::Link);
                header.set_size(0);
                set_link(&mut header, &mut pax, first.as_os_str().as_bytes())?;
                return self.append(header, &pax, &mut io::empty());
            }
            self.first_names.insert((node.dev, node.ino), path.to_path_buf());
        }
        match (&node.kind, content) {
            (Kind::File, Some(content)) => {
                let mut exact = ExactReader { inner: content, left: node.size, path };
                self.append(header, &pax, &mut exact)
            }
            (Kind::File, None) => Err(io::Error::other(format!("{}: no content", path.display()))),
            _ => self.append(header, &pax, &mut io::empty()),
        }
    }
    // ANCHOR_END: add

    // ANCHOR: whiteouts
    /// The tar form of an overlayfs mark met at `path` (see
    /// [`whiteout_entry`]), owned like the mark; false if it is none.
    pub fn add_whiteout_of(&mut self, path: &Path, node: &Node) -> io::Result<bool> {
        let Some((name, mode)) = whiteout_entry(path, node) else { return Ok(false) };
        self.add_marker(&name, node, mode)?;
        Ok(true)
    }

    /// `.wh.<name>` beside where `deleted` was, owned like `owner` (the
    /// parent directory: a vfs copy has no whiteout device to copy it from).
    pub fn add_whiteout(&mut self, deleted: &Path, owner: &Node) -> io::Result<()> {
        let whiteout = Node { kind: Kind::CharDevice, rdev: 0, ..owner.clone() };
        match whiteout_entry(deleted, &whiteout) {
            Some((name, mode)) => self.add_marker(&name, owner, mode),
            None => Err(io::Error::other("a whiteout of the root")),
        }
    }

    fn add_marker(&mut self, path: &Path, owner: &Node, mode: u32) -> io::Result<()> {
        let node =
            Node { kind: Kind::File, mode, size: 0, nlink: 1, capability: None, ..owner.clone() };
        let (header, pax) = self.header(path, &node)?;
        self.append(header, &pax, &mut io::empty())
    }
    // ANCHOR_END: whiteouts

    /// The end-of-archive blocks; returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.builder.into_inner()
    }

    fn append(&mut self, header: Header, pax: &Pax, data: &mut dyn Read) -> io::Result<()> {
        if !pax.is_empty() {
            let records = pax.iter().map(|(k, v)| (k.as_str(), v.as_slice()));
            self.builder.append_pax_extensions(records)?;
        }
        let mut header = header;
        header.set_cksum();
        self.builder.append(&header, data)?;
        self.entries += 1;
        Ok(())
    }

    // ANCHOR: header
    /// A ustar header with only what a layer means, and the PAX records for
    /// whatever does not fit in it.
    fn header(&self, path: &Path, node: &Node) -> io::Result<(Header, Pax)> {
        let mut header = Header::new_ustar();
        let mut pax = Pax::new();
        let mut name = path.as_os_str().as_bytes().to_vec();
        if node.is_dir() {
            name.push(b'/');
        }
        set_name(&mut header, &mut pax, &name)?;
        header.set_mode(node.mode);
        header.set_mtime(self.times.mtime(node.mtime));
        for (key, id) in [("uid", node.uid as u64), ("gid", node.gid as u64)] {
            if id > OCTAL_8_MAX {
                pax.push((key.into(), id.to_string().into_bytes()));
            }
        }
        header.set_uid((node.uid as u64).min(OCTAL_8_MAX));
        header.set_gid((node.gid as u64).min(OCTAL_8_MAX));
        set_kind(&mut header, &mut pax, node)?;
        if let Some(capability) = &node.capability {
            pax.push((format!("SCHILY.xattr.{CAPABILITY_XATTR}"), capability.clone()));
        }
        Ok((header, pax))
    }
    // ANCHOR_END: header
}

/// Type, size, link target and device numbers, as the kind of entry says.
fn set_kind(header: &mut Header, pax: &mut Pax, node: &Node) -> io::Result<()> {
    let (kind, size) = match &node.kind {
        Kind::File => (EntryType::Regular, node.size),
        Kind::Dir => (EntryType::Directory, 0),
        Kind::Symlink(target) => {
            set_link(header, pax, target.as_bytes())?;
            (EntryType::Symlink, 0)
        }
        Kind::CharDevice => (EntryType::Char, 0),
        Kind::BlockDevice => (EntryType::Block, 0),
        Kind::Fifo | Kind::Socket => (EntryType::Fifo, 0),
    };
    header.set_entry_type(kind);
    if size > OCTAL_12_MAX {
        pax.push(("size".into(), size.to_string().into_bytes()));
    }
    header.set_size(size);
    if matches!(node.kind, Kind::CharDevice | Kind::BlockDevice) {
        header.set_device_major(nix::sys::stat::major(node.rdev) as u32)?;
        header.set_device_minor(nix::sys::stat::minor(node.rdev) as u32)?;
    }
    Ok(())
}

/// PAX records for one entry, in the order they are written.
type Pax = Vec<(String, Vec<u8>)>;

/// The ustar name field holds 100 bytes; a longer name goes into a PAX
/// `path` record (the field keeps a cut-off copy for old readers).
fn set_name(header: &mut Header, pax: &mut Pax, name: &[u8]) -> io::Result<()> {
    let field = &mut header.as_ustar_mut().ok_or_else(|| io::Error::other("not ustar"))?.name;
    if name.len() > field.len() {
        pax.push(("path".into(), name.to_vec()));
    }
    let kept = name.len().min(field.len());
    field.fill(0);
    field[..kept].copy_from_slice(&name[..kept]);
    Ok(())
}

/// The same for a symlink's target or a hard link's first name (`linkpath`).
fn set_link(header: &mut Header, pax: &mut Pax, target: &[u8]) -> io::Result<()> {
    let field = &mut header.as_ustar_mut().ok_or_else(|| io::Error::other("not ustar"))?.linkname;
    if target.len() > field.len() {
        pax.push(("linkpath".into(), target.to_vec()));
    }
    let kept = target.len().min(field.len());
    field.fill(0);
    field[..kept].copy_from_slice(&target[..kept]);
    Ok(())
}

// ANCHOR: whiteout_entry
/// The entry a layer tar gets for an overlayfs mark at `path` in an upper
/// directory, with its mode: a whiteout (a character device 0:0) becomes
/// an empty file `.wh.<name>` beside it, mode 0600; an opaque directory is
/// followed by `<dir>/.wh..wh..opq`, with the directory's permission bits.
/// Anything else (and the root) needs no mark: `None`.
pub fn whiteout_entry(path: &Path, node: &Node) -> Option<(PathBuf, u32)> {
    let name = path.file_name()?;
    if node.is_whiteout() {
        let mut marker = std::ffi::OsString::from(WHITEOUT_PREFIX);
        marker.push(name);
        return Some((path.with_file_name(marker), 0o600));
    }
    (node.is_dir() && node.opaque).then(|| (path.join(OPAQUE_MARKER), node.mode & 0o777))
}
// ANCHOR_END: whiteout_entry

/// Exactly `left` bytes: a file that shrank while it was read is an error
/// (a tar entry's size is written before its bytes), one that grew is cut.
struct ExactReader<'a> {
    inner: &'a mut dyn Read,
    left: u64,
    path: &'a Path,
}

impl Read for ExactReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            let what = format!("{} shrank while it was read", self.path.display());
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, what));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// The 1024 zero bytes of a tar with no entry: its sha256 is the DiffID
/// Docker gives an empty layer.
pub const EMPTY_LAYER_DIFF_ID: &str =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

#[cfg(test)]
mod tests {
    use super::*;
    use ch04_image_pull::digest::sha256_of;

    fn file(size: u64, mtime: i64) -> Node {
        Node {
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime,
            mtime_nsec: 123,
            rdev: 0,
            dev: 1,
            ino: 7,
            nlink: 1,
            capability: None,
            opaque: false,
            refers_below: false,
        }
    }

    fn write(entries: &[(&str, Node, &[u8])], times: TimePolicy) -> Vec<u8> {
        let mut writer = LayerWriter::new(Vec::new(), times);
        for (path, node, data) in entries {
            let mut data: &[u8] = data;
            let content: Option<&mut dyn Read> = (node.kind == Kind::File).then_some(&mut data);
            writer.add(Path::new(path), node, content).unwrap();
        }
        writer.finish().unwrap()
    }

    fn names(tar: &[u8]) -> Vec<(String, u64, String)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let link = e.link_name().unwrap().map(|l| l.display().to_string());
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mtime().unwrap(),
                    link.unwrap_or_default(),
                )
            })
            .collect()
    }

    #[test]
    fn the_empty_layer_has_dockers_diff_id() {
        assert_eq!(sha256_of(&write(&[], TimePolicy::default())), EMPTY_LAYER_DIFF_ID);
    }

    #[test]
    fn same_entries_same_bytes_whole_seconds_and_no_names() {
        let dir = Node { kind: Kind::Dir, mode: 0o755, ..file(0, 50) };
        let entries = [("etc", dir, &b""[..]), ("etc/motd", file(2, 100), &b"hi"[..])];
        let one = write(&entries, TimePolicy::default());
        assert_eq!(one, write(&entries, TimePolicy::default()));
        let mut archive = tar::Archive::new(&one[..]);
        for entry in archive.entries().unwrap() {
            let header = entry.unwrap().header().clone();
            assert_eq!(header.username_bytes(), Some(&b""[..]));
            assert_eq!(header.groupname_bytes(), Some(&b""[..]));
        }
        assert_eq!(
            names(&one),
            [("etc/".into(), 50, String::new()), ("etc/motd".into(), 100, String::new())]
        );
        let clamped = write(&entries, TimePolicy { clamp: Some(60) });
        assert_eq!(names(&clamped)[1].1, 60, "SOURCE_DATE_EPOCH clamps later mtimes");
        assert_eq!(names(&clamped)[0].1, 50, "and keeps earlier ones");
    }

    #[test]
    fn long_names_and_targets_use_pax_and_hard_links_point_at_the_first_name() {
        let long = format!("{}/file", "d".repeat(150));
        let target = "t".repeat(120);
        let link = Node { kind: Kind::Symlink(target.clone().into()), ..file(0, 1) };
        let shared = Node { nlink: 2, ino: 9, ..file(1, 1) };
        let tar = write(
            &[
                (&long, file(1, 1), b"x"),
                ("l", link, b""),
                ("a", shared.clone(), b"y"),
                ("b", shared, b"y"),
            ],
            TimePolicy::default(),
        );
        let read = names(&tar);
        assert_eq!(read[0].0, long);
        assert_eq!(read[1], ("l".into(), 1, target));
        assert_eq!(read[3], ("b".into(), 1, "a".into()));
    }

    #[test]
    fn whiteouts_and_opaque_markers() {
        let dir = Node { kind: Kind::Dir, mode: 0o750, uid: 5, ..file(0, 9) };
        let mut writer = LayerWriter::new(Vec::new(), TimePolicy::default());
        writer.add(Path::new("data"), &dir, None).unwrap();
        let opaque = Node { opaque: true, ..dir.clone() };
        assert!(writer.add_whiteout_of(Path::new("data"), &opaque).unwrap());
        assert!(!writer.add_whiteout_of(Path::new("data"), &dir).unwrap(), "not a mark");
        writer.add_whiteout(Path::new("etc/motd"), &file(0, 9)).unwrap();
        assert!(writer.add_whiteout(Path::new(""), &file(0, 9)).is_err(), "never the root");
        let tar = writer.finish().unwrap();
        let mut archive = tar::Archive::new(&tar[..]);
        let headers: Vec<(String, u32, u64)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.path().unwrap().display().to_string(),
                    e.header().mode().unwrap(),
                    e.header().uid().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            headers,
            [
                ("data/".into(), 0o750, 5),
                ("data/.wh..wh..opq".into(), 0o750, 5),
                ("etc/.wh.motd".into(), 0o600, 0)
            ]
        );
    }

    #[test]
    fn a_file_that_shrank_is_an_error() {
        let mut writer = LayerWriter::new(Vec::new(), TimePolicy::default());
        let mut short: &[u8] = b"ab";
        let err = writer.add(Path::new("f"), &file(5, 1), Some(&mut short)).unwrap_err();
        assert!(err.to_string().contains("shrank"), "{err}");
    }
}
