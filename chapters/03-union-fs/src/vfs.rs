//! The vfs driver: no union at all. Every layer is copied, bottom to top,
//! into one directory per container — what Docker's `vfs` storage driver
//! does. Slow and big, but it works on any filesystem and any kernel.
//!
//! Copying a layer applies its whiteouts: a character device 0:0 deletes
//! that path from what the layers below left, and an opaque directory
//! empties its lower contents before this layer's are copied in.

use std::collections::HashMap;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::sys::stat::{mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use thiserror::Error;

use crate::layer::{is_opaque_dir, is_whiteout, OVERLAY_XATTR_PREFIX};
use crate::xattr;

#[derive(Debug, Error)]
#[error("copying layer {} (vfs driver): {}: {error}", .layer.display(), .path.display())]
pub struct VfsError {
    pub layer: PathBuf,
    pub path: PathBuf,
    /// Shown in the message, so not a `source()` too (said once).
    pub error: io::Error,
}

// ANCHOR: flatten
/// Copy `layers` (bottom to top) into the empty directory `dest`.
pub fn flatten(layers: &[PathBuf], dest: &Path) -> Result<(), VfsError> {
    flatten_owned_by(layers, dest, &SameOwners)
}

/// The same copy, with each file's owner chosen by `owners` (chapter 8
/// moves every owner into a user namespace's range this way).
pub fn flatten_owned_by(
    layers: &[PathBuf],
    dest: &Path,
    owners: &dyn Owners,
) -> Result<(), VfsError> {
    for layer in layers {
        let mut copier = LayerCopier { layer, owners, hardlinks: HashMap::new() };
        copier.apply_dir(layer, dest)?;
    }
    Ok(())
}
// ANCHOR_END: flatten

// ANCHOR: owners
/// Who owns a file of the copy, given its owner in the layers. An error
/// refuses the whole copy (an owner that has no place on the host).
pub trait Owners {
    fn host_ids(&self, uid: u32, gid: u32) -> io::Result<(u32, u32)>;
}

/// The plain copy: owners stay as they are in the layers.
pub struct SameOwners;

impl Owners for SameOwners {
    fn host_ids(&self, uid: u32, gid: u32) -> io::Result<(u32, u32)> {
        Ok((uid, gid))
    }
}
// ANCHOR_END: owners

/// Copies one layer; remembers the files with several names, so that the
/// copy has hard links where the layer has them.
struct LayerCopier<'a> {
    layer: &'a Path,
    owners: &'a dyn Owners,
    hardlinks: HashMap<(u64, u64), PathBuf>,
}

impl LayerCopier<'_> {
    fn fail(&self, path: &Path) -> impl FnOnce(io::Error) -> VfsError {
        let (layer, path) = (self.layer.to_path_buf(), path.to_path_buf());
        move |error| VfsError { layer, path, error }
    }

    // ANCHOR: apply_dir
    /// Lay directory `src` of this layer over directory `dest`.
    fn apply_dir(&mut self, src: &Path, dest: &Path) -> Result<(), VfsError> {
        if is_opaque_dir(src) {
            empty_dir(dest).map_err(self.fail(src))?;
        }
        let mut entries: Vec<_> = fs::read_dir(src)
            .and_then(|d| d.collect::<io::Result<Vec<_>>>())
            .map_err(self.fail(src))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let (from, to) = (entry.path(), dest.join(entry.file_name()));
            let meta = fs::symlink_metadata(&from).map_err(self.fail(&from))?;
            if is_whiteout(&meta) {
                remove_any(&to).map_err(self.fail(&from))?;
            } else if meta.is_dir() {
                if !is_real_dir(&to) {
                    remove_any(&to).map_err(self.fail(&from))?;
                    fs::create_dir(&to).map_err(self.fail(&to))?;
                }
                self.apply_dir(&from, &to)?;
            } else {
                remove_any(&to).map_err(self.fail(&from))?;
                self.copy_entry(&from, &to, &meta).map_err(self.fail(&from))?;
            }
        }
        // Last, so copying the children does not change the directory's mtime again.
        let meta = fs::symlink_metadata(src).map_err(self.fail(src))?;
        copy_metadata(src, dest, &meta, self.owners).map_err(self.fail(dest))
    }
    // ANCHOR_END: apply_dir

    /// Copy one non-directory entry: file, symlink, device node or fifo.
    fn copy_entry(&mut self, from: &Path, to: &Path, meta: &Metadata) -> io::Result<()> {
        let kind = meta.file_type();
        if meta.nlink() > 1 && !kind.is_dir() {
            if let Some(first) = self.hardlinks.get(&(meta.dev(), meta.ino())) {
                return fs::hard_link(first, to);
            }
            self.hardlinks.insert((meta.dev(), meta.ino()), to.to_path_buf());
        }
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(from)?, to)?;
        } else if kind.is_file() {
            fs::copy(from, to)?;
        } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            let sflag = if kind.is_char_device() {
                SFlag::S_IFCHR
            } else if kind.is_block_device() {
                SFlag::S_IFBLK
            } else {
                SFlag::S_IFIFO
            };
            mknod(to, sflag, Mode::from_bits_truncate(meta.mode() & 0o7777), meta.rdev())?;
        } else {
            // A socket belongs to a running program; image layers have none.
            return Ok(());
        }
        copy_metadata(from, to, meta, self.owners)
    }
}

/// A directory, and not a symlink to one.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).map(|m| m.is_dir()).unwrap_or(false)
}

/// Remove whatever is at `path`, if anything: file, symlink or whole tree.
fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
    }
}

/// Remove everything inside directory `dir`, keeping `dir` itself.
fn empty_dir(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        remove_any(&entry?.path())?;
    }
    Ok(())
}

// ANCHOR: copy_metadata
/// Give `to` the owner (as `owners` says), mode, extended attributes and times of
/// `from`. The order matters: chown clears the set-uid bits and file
/// capabilities, so the mode and the xattrs come after it.
fn copy_metadata(from: &Path, to: &Path, meta: &Metadata, owners: &dyn Owners) -> io::Result<()> {
    let (uid, gid) = owners.host_ids(meta.uid(), meta.gid())?;
    std::os::unix::fs::lchown(to, Some(uid), Some(gid))?;
    if !meta.file_type().is_symlink() {
        fs::set_permissions(to, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    }
    copy_xattrs(from, to, meta)?;
    let atime = TimeSpec::new(meta.atime(), meta.atime_nsec());
    let mtime = TimeSpec::new(meta.mtime(), meta.mtime_nsec());
    utimensat(nix::fcntl::AT_FDCWD, to, &atime, &mtime, UtimensatFlags::NoFollowSymlink)?;
    Ok(())
}
// ANCHOR_END: copy_metadata

fn copy_xattrs(from: &Path, to: &Path, meta: &Metadata) -> io::Result<()> {
    for name in xattr::list(from)? {
        if name.to_string_lossy().starts_with(OVERLAY_XATTR_PREFIX) {
            continue;
        }
        let Some(value) = xattr::get_os(from, &name)? else { continue };
        match xattr::set(to, &name, &value) {
            // The kernel refuses user.* attributes on symlinks.
            Err(e) if meta.file_type().is_symlink() && e.raw_os_error() == Some(libc::EPERM) => {}
            other => other?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = testkit::temp_dir();
        for (path, content) in files {
            let path = dir.path().join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, content).unwrap();
        }
        dir
    }

    fn read(dir: &Path, path: &str) -> Option<String> {
        fs::read_to_string(dir.join(path)).ok()
    }

    #[test]
    fn upper_layers_win_and_directories_merge() {
        let lower = tree(&[("etc/motd", "lower"), ("etc/keep", "kept"), ("bin/a", "a")]);
        let upper = tree(&[("etc/motd", "upper"), ("bin/b", "b")]);
        let dest = testkit::temp_dir();
        flatten(&[lower.path().into(), upper.path().into()], dest.path()).unwrap();
        assert_eq!(read(dest.path(), "etc/motd").as_deref(), Some("upper"));
        assert_eq!(read(dest.path(), "etc/keep").as_deref(), Some("kept"));
        assert_eq!(read(dest.path(), "bin/a").as_deref(), Some("a"));
        assert_eq!(read(dest.path(), "bin/b").as_deref(), Some("b"));
    }

    #[test]
    fn modes_and_symlinks_are_kept() {
        let lower = tree(&[("bin/tool", "#!/bin/sh\n")]);
        fs::set_permissions(lower.path().join("bin/tool"), fs::Permissions::from_mode(0o4755))
            .unwrap();
        std::os::unix::fs::symlink("tool", lower.path().join("bin/alias")).unwrap();
        let dest = testkit::temp_dir();
        flatten(&[lower.path().into()], dest.path()).unwrap();
        let mode = fs::metadata(dest.path().join("bin/tool")).unwrap().mode() & 0o7777;
        // Without root the chown to ourselves keeps set-uid; with root too.
        assert_eq!(mode, 0o4755);
        assert_eq!(fs::read_link(dest.path().join("bin/alias")).unwrap(), Path::new("tool"));
    }

    #[test]
    fn a_file_replaces_a_lower_directory_and_back() {
        let lower = tree(&[("x/inner", "1"), ("y", "file")]);
        let upper = tree(&[("x", "now a file"), ("y/inner", "now a dir")]);
        let dest = testkit::temp_dir();
        flatten(&[lower.path().into(), upper.path().into()], dest.path()).unwrap();
        assert_eq!(read(dest.path(), "x").as_deref(), Some("now a file"));
        assert_eq!(read(dest.path(), "y/inner").as_deref(), Some("now a dir"));
    }

    #[test]
    fn hard_links_stay_hard_links() {
        let lower = tree(&[("a", "same")]);
        fs::hard_link(lower.path().join("a"), lower.path().join("b")).unwrap();
        let dest = testkit::temp_dir();
        flatten(&[lower.path().into()], dest.path()).unwrap();
        let (a, b) = (
            fs::metadata(dest.path().join("a")).unwrap(),
            fs::metadata(dest.path().join("b")).unwrap(),
        );
        assert_eq!(a.ino(), b.ino());
    }

    /// Every owner plus 100000, and no owner past 65535: a range's shape.
    struct PlusRange;
    impl Owners for PlusRange {
        fn host_ids(&self, uid: u32, gid: u32) -> io::Result<(u32, u32)> {
            match (uid, gid) {
                (0..=65535, 0..=65535) => Ok((100000 + uid, 100000 + gid)),
                _ => Err(io::Error::other(format!("uid {uid} is past the range"))),
            }
        }
    }

    #[test]
    fn a_copy_owned_by_a_range_keeps_setuid_bits_as_root() {
        if !testkit::require_root("a_copy_owned_by_a_range_keeps_setuid_bits_as_root") {
            return;
        }
        let lower = tree(&[("bin/su", "#!/bin/sh\n"), ("home/user/notes", "mine")]);
        fs::set_permissions(lower.path().join("bin/su"), fs::Permissions::from_mode(0o4755))
            .unwrap();
        std::os::unix::fs::lchown(lower.path().join("home/user"), Some(1000), Some(1000)).unwrap();
        let dest = testkit::temp_dir();
        flatten_owned_by(&[lower.path().into()], dest.path(), &PlusRange).unwrap();
        let owner = |p: &str| {
            fs::symlink_metadata(dest.path().join(p)).map(|m| (m.uid(), m.gid())).unwrap()
        };
        assert_eq!(owner("bin/su"), (100000, 100000));
        assert_eq!(owner("home/user"), (101000, 101000));
        assert_eq!(
            owner("."),
            (100000, 100000),
            "the root of the copy belongs to the range's root too"
        );
        let mode = fs::metadata(dest.path().join("bin/su")).unwrap().mode() & 0o7777;
        assert_eq!(mode, 0o4755, "chown cleared the set-uid bit and it was not restored");

        std::os::unix::fs::lchown(lower.path().join("home/user"), Some(70000), None).unwrap();
        let again = testkit::temp_dir();
        let err = flatten_owned_by(&[lower.path().into()], again.path(), &PlusRange)
            .unwrap_err()
            .to_string();
        assert!(err.contains("uid 70000"), "{err}");
    }

    // Whiteouts need mknod and trusted.* xattrs, so root: they are
    // exercised by the end-to-end tests, which run as root.
    #[test]
    fn whiteouts_and_opaque_dirs_as_root() {
        if !testkit::require_root("whiteouts_and_opaque_dirs_as_root") {
            return;
        }
        let lower =
            tree(&[("etc/gone", "x"), ("etc/stays", "y"), ("opt/old/a", "1"), ("opt/old/b", "2")]);
        let upper = tree(&[("opt/old/new", "3")]);
        fs::create_dir_all(upper.path().join("etc")).unwrap();
        mknod(&upper.path().join("etc/gone"), SFlag::S_IFCHR, Mode::empty(), 0).unwrap();
        xattr::set(&upper.path().join("opt/old"), std::ffi::OsStr::new(crate::OPAQUE_XATTR), b"y")
            .unwrap();
        let dest = testkit::temp_dir();
        flatten(&[lower.path().into(), upper.path().into()], dest.path()).unwrap();
        assert!(!dest.path().join("etc/gone").exists(), "whiteout not applied");
        assert!(fs::symlink_metadata(dest.path().join("etc/gone")).is_err(), "whiteout copied");
        assert_eq!(read(dest.path(), "etc/stays").as_deref(), Some("y"));
        assert_eq!(read(dest.path(), "opt/old/new").as_deref(), Some("3"));
        assert!(!dest.path().join("opt/old/a").exists(), "opaque dir kept lower contents");
        assert_eq!(xattr::get(&dest.path().join("opt/old"), crate::OPAQUE_XATTR).unwrap(), None);
    }
}
