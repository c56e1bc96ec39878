//! Exercise `whiteout_entry` (medium). Book: ch10-images.md, "A layer is a diff".
//!
//! overlayfs marks deletions in a container's upper directory its own way;
//! a layer tar marks them another. Turn one into the other:
//! - a whiteout (`node.is_whiteout()`: a character device 0:0) at `a/b`
//!   becomes an empty file `a/.wh.b`, mode 0600;
//! - an opaque directory (`node.is_dir() && node.opaque`) at `a/d` gets a
//!   marker `a/d/.wh..wh..opq` after its own entry, with the directory's
//!   permission bits (`node.mode & 0o777`);
//! - anything else, and the root (a path with no file name), needs none.
//!
//! The prefixes are `ch10_images::tarball::{WHITEOUT_PREFIX, OPAQUE_MARKER}`.

use std::path::{Path, PathBuf};

use ch10_images::tarball::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use ch10_images::walk::Node;

/// The tar entry (name, mode) for the overlayfs mark at `path`, if it is one.
pub fn whiteout_entry(path: &Path, node: &Node) -> Option<(PathBuf, u32)> {
    todo!("a 0:0 device gives .wh.<name> beside it; an opaque directory its marker inside")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the opaque marker written with the whiteout's
    // mode 0600 instead of its directory's permissions. Checked by pasting it into the reference
    // implementation: it fails `an_opaque_directory_gets_its_marker_with_its_mode`.
    //
    //     (node.is_dir() && node.opaque).then(|| (path.join(OPAQUE_MARKER), 0o600))

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::tarball as solution;

    use std::path::{Path, PathBuf};

    use ch10_images::walk::{Kind, Node};

    fn node(kind: Kind, mode: u32) -> Node {
        Node {
            kind,
            mode,
            uid: 0,
            gid: 0,
            size: 0,
            mtime: 0,
            mtime_nsec: 0,
            rdev: 0,
            dev: 1,
            ino: 2,
            nlink: 1,
            capability: None,
            opaque: false,
            refers_below: false,
        }
    }

    #[test]
    fn a_whiteout_device_becomes_a_wh_file_beside_it() {
        let whiteout = node(Kind::CharDevice, 0);
        let entry = solution::whiteout_entry(Path::new("etc/motd"), &whiteout);
        assert_eq!(entry, Some((PathBuf::from("etc/.wh.motd"), 0o600)));
        let top = solution::whiteout_entry(Path::new("home"), &whiteout);
        assert_eq!(top, Some((PathBuf::from(".wh.home"), 0o600)));
    }

    #[test]
    fn an_opaque_directory_gets_its_marker_with_its_mode() {
        let dir = Node { opaque: true, ..node(Kind::Dir, 0o2750) };
        let entry = solution::whiteout_entry(Path::new("srv/site"), &dir);
        assert_eq!(entry, Some((PathBuf::from("srv/site/.wh..wh..opq"), 0o750)));
    }

    #[test]
    fn other_entries_and_the_root_need_no_mark() {
        let device = Node { rdev: nix::sys::stat::makedev(1, 3), ..node(Kind::CharDevice, 0o666) };
        assert_eq!(
            solution::whiteout_entry(Path::new("dev/null"), &device),
            None,
            "1:3 is /dev/null"
        );
        assert_eq!(solution::whiteout_entry(Path::new("srv"), &node(Kind::Dir, 0o755)), None);
        assert_eq!(solution::whiteout_entry(Path::new("a"), &node(Kind::File, 0o644)), None);
        assert_eq!(solution::whiteout_entry(Path::new(""), &node(Kind::CharDevice, 0)), None);
    }
}
