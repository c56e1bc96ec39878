//! Exercise `copy_tree` (medium, root). Book: ch07-volumes.md, "Seeding a volume from the image".
//!
//! The first time an empty volume is mounted where the image has files,
//! Docker copies those files into it, as `cp -a` would. Copy everything in
//! `from` into `to` (an existing, empty directory), recursively:
//! - a directory: create it, copy its contents;
//! - a regular file: its content;
//! - a symlink: a new symlink with the same target, NEVER followed (the
//!   image's `/data/x -> /etc/shadow` must not copy the host's file);
//! - a character or block device or a FIFO: `mknod` with the same type and
//!   device number (`meta.rdev()`);
//! - a socket: skip it (it belongs to a process that is not here);
//! - then, for each, the same owner (`fchownat` with `AT_SYMLINK_NOFOLLOW`:
//!   a symlink's own owner) and the same permission bits (`mode & 0o7777`;
//!   a symlink has none of its own). Owner FIRST: chown clears set-uid.
//!
//! Errors: `SeedError::Copy { path, error }` with the path that failed.
//! (The tests chown to other users and make a device node: root.)

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ch07_volumes::seed::SeedError;
use nix::fcntl::AtFlags;
use nix::sys::stat::{mknod, Mode, SFlag};
use nix::unistd::{fchownat, Gid, Uid};

/// `cp -a from/. to/` without following any symlink.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), SeedError> {
    todo!("read_dir, one case per file type, then owner and mode")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the file type read with `metadata()`, which
    // follows symlinks: a link is copied as the file or directory it points to. Checked by pasting
    // it into the reference implementation: it fails `symlinks_are_never_followed` and
    // `everything_is_copied_with_owner_mode_and_type`.
    //
    //     let meta = source.metadata().map_err(copy_error(&source))?;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch07_volumes::seed as solution;

    use std::fs;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
    use std::path::{Path, PathBuf};

    use nix::sys::stat::{makedev, mknod, Mode, SFlag};
    use nix::unistd::{fchownat, mkfifo, Gid, Uid};

    fn set(path: &Path, mode: u32, uid: u32, gid: u32) {
        let owner = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
        fchownat(
            nix::fcntl::AT_FDCWD,
            path,
            owner.0,
            owner.1,
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .unwrap();
        if !path.symlink_metadata().unwrap().file_type().is_symlink() {
            fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        }
    }

    /// What `cp -a` must keep of one entry, as text.
    fn describe(path: &Path) -> String {
        let meta = path.symlink_metadata().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let kind = meta.file_type();
        let what = if kind.is_symlink() {
            format!("symlink to {}", fs::read_link(path).unwrap().display())
        } else if kind.is_dir() {
            "directory".to_string()
        } else if kind.is_file() {
            format!("file {:?}", fs::read_to_string(path).unwrap())
        } else if kind.is_char_device() {
            format!("char device {:#x}", meta.rdev())
        } else if kind.is_fifo() {
            "fifo".to_string()
        } else {
            format!("other {:?}", kind)
        };
        let mode = if kind.is_symlink() {
            String::new()
        } else {
            format!(" mode {:o}", meta.mode() & 0o7777)
        };
        format!("{what}{mode} owner {}:{}", meta.uid(), meta.gid())
    }

    /// Every path under `dir`, relative, sorted.
    fn walk(dir: &Path, prefix: &Path, into: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let relative = prefix.join(entry.file_name());
            into.push(relative.clone());
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), &relative, into);
            }
        }
    }

    fn listing(dir: &Path) -> Vec<(PathBuf, String)> {
        let mut paths = Vec::new();
        walk(dir, Path::new(""), &mut paths);
        paths.sort();
        paths.into_iter().map(|p| (p.clone(), describe(&dir.join(&p)))).collect()
    }

    /// An image directory with one of everything.
    fn image_dir(src: &Path) {
        fs::create_dir_all(src.join("conf/deep/er")).unwrap();
        fs::write(src.join("conf/app.conf"), "port=80\n").unwrap();
        set(&src.join("conf/app.conf"), 0o640, 0, 33);
        fs::write(src.join("conf/deep/er/note"), "deep").unwrap();
        set(&src.join("conf/deep/er/note"), 0o600, 1000, 1000);
        set(&src.join("conf"), 0o2750, 1234, 5678);
        fs::write(src.join("tool"), "#!/bin/sh\n").unwrap();
        set(&src.join("tool"), 0o4755, 1000, 1000);
        std::os::unix::fs::symlink("/etc/shadow", src.join("secret")).unwrap();
        set(&src.join("secret"), 0, 42, 43);
        std::os::unix::fs::symlink("conf", src.join("conf-link")).unwrap();
        std::os::unix::fs::symlink("no/such/file", src.join("dangling")).unwrap();
        mkfifo(&src.join("pipe"), Mode::from_bits_truncate(0o600)).unwrap();
        set(&src.join("pipe"), 0o620, 7, 8);
        mknod(&src.join("null"), SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(1, 3))
            .unwrap();
        set(&src.join("null"), 0o666, 0, 0);
    }

    #[test]
    fn everything_is_copied_with_owner_mode_and_type() {
        crate::needs_root();
        let (src, dst) = (testkit::temp_dir(), testkit::temp_dir());
        image_dir(src.path());
        solution::copy_tree(src.path(), dst.path())
            .unwrap_or_else(|e| panic!("copy_tree failed: {e}"));
        let (want, got) = (listing(src.path()), listing(dst.path()));
        for ((path, a), (_, b)) in want.iter().zip(&got) {
            assert_eq!(a, b, "{} differs", path.display());
        }
        assert_eq!(
            want.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            got.iter().map(|(p, _)| p).collect::<Vec<_>>()
        );
    }

    #[test]
    fn symlinks_are_never_followed() {
        crate::needs_root();
        let (src, dst) = (testkit::temp_dir(), testkit::temp_dir());
        image_dir(src.path());
        solution::copy_tree(src.path(), dst.path())
            .unwrap_or_else(|e| panic!("copy_tree failed: {e}"));
        for link in ["secret", "conf-link", "dangling"] {
            let meta = dst
                .path()
                .join(link)
                .symlink_metadata()
                .unwrap_or_else(|e| panic!("{link} was not copied: {e}"));
            assert!(meta.file_type().is_symlink(), "{link} should be a symlink");
        }
        assert_eq!(fs::read_link(dst.path().join("secret")).unwrap(), Path::new("/etc/shadow"));
        assert!(!dst.path().join("conf-link").symlink_metadata().unwrap().is_dir());
    }

    #[test]
    fn sockets_are_skipped() {
        crate::needs_root();
        let (src, dst) = (testkit::temp_dir(), testkit::temp_dir());
        fs::write(src.path().join("file"), "x").unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(src.path().join("sock")).unwrap();
        solution::copy_tree(src.path(), dst.path())
            .unwrap_or_else(|e| panic!("copy_tree failed: {e}"));
        assert!(dst.path().join("sock").symlink_metadata().is_err(), "a socket is not copied");
        assert_eq!(fs::read_to_string(dst.path().join("file")).unwrap(), "x");
    }

    #[test]
    fn failures_are_errors() {
        crate::needs_root();
        let (src, dst) = (testkit::temp_dir(), testkit::temp_dir());
        assert!(
            solution::copy_tree(&src.path().join("missing"), dst.path()).is_err(),
            "a missing source is an error"
        );
        fs::create_dir(src.path().join("dir")).unwrap();
        fs::write(dst.path().join("dir"), "in the way").unwrap();
        let error = solution::copy_tree(src.path(), dst.path())
            .expect_err("a file in the way of a directory is an error");
        assert!(error.to_string().contains("dir"), "the error names the path: {error}");
    }
}
