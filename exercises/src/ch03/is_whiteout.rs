//! Exercise `is_whiteout` (medium, root). Book: ch03-union-fs.md, "Our layer format".
//!
//! In overlayfs's layer format, a path deleted by a layer is a *character
//! device* with device number 0:0, carrying the deleted name. Any other
//! character device (`/dev/null` is 1:3), file, directory or symlink is not.
//! `metadata` comes from `symlink_metadata`: a whiteout is never followed.
//! (The tests make real device nodes with mknod(2), which needs root.)

use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

/// Is this entry a whiteout, overlayfs's mark for "deleted in this layer"?
pub fn is_whiteout(metadata: &Metadata) -> bool {
    todo!("look at the file type and at rdev")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: any character device, without looking at `rdev`
    // (a real `/dev/null` is not a whiteout). Checked by pasting it into the stub: it fails
    // `other_devices_files_and_links_are_not`.
    //
    //     metadata.file_type().is_char_device()

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch03_union_fs::layer as solution;

    use std::fs::symlink_metadata;

    use nix::sys::stat::{makedev, mknod, Mode, SFlag};

    #[test]
    fn a_0_0_character_device_is_a_whiteout() {
        crate::needs_root();
        let dir = testkit::temp_dir();
        let gone = dir.path().join("gone");
        mknod(&gone, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).unwrap();
        assert!(solution::is_whiteout(&symlink_metadata(&gone).unwrap()));
    }

    #[test]
    fn other_devices_files_and_links_are_not() {
        crate::needs_root();
        let dir = testkit::temp_dir();
        let null_like = dir.path().join("null");
        mknod(&null_like, SFlag::S_IFCHR, Mode::from_bits_truncate(0o666), makedev(1, 3)).unwrap();
        let block = dir.path().join("block");
        mknod(&block, SFlag::S_IFBLK, Mode::from_bits_truncate(0o600), makedev(0, 0)).unwrap();
        let fifo = dir.path().join("fifo");
        mknod(&fifo, SFlag::S_IFIFO, Mode::from_bits_truncate(0o600), 0).unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let whiteout = dir.path().join("whiteout");
        mknod(&whiteout, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0)).unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&whiteout, &link).unwrap();
        for path in [&null_like, &block, &fifo, &file, &link, &dir.path().to_path_buf()] {
            assert!(
                !solution::is_whiteout(&symlink_metadata(path).unwrap()),
                "{} is not a whiteout",
                path.display()
            );
        }
    }
}
