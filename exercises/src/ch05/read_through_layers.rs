//! Exercise `read_through_layers` (hard, root). Book: ch03-union-fs.md, "Our layer format".
//!
//! Before any container exists, `run -u www` must read `/etc/passwd` from
//! the image: look the file up through the layer directories the way
//! overlayfs would, top layer first (`layers` are given bottom to top):
//! - the top-most layer that has the path wins (its content is the answer;
//!   an unreadable entry, such as a directory, gives `None`);
//! - a whiteout at the path (`ch03_union_fs::layer::is_whiteout`) hides it;
//! - so does, in a layer that does not have the path, a whiteout of one of
//!   its parent directories, or an opaque parent directory
//!   (`layer::is_opaque_dir`): nothing below that layer can show through.
//!
//! (The tests make whiteouts with mknod(2) and trusted.* xattrs: root.)

use std::path::{Path, PathBuf};

use ch03_union_fs::layer::{is_opaque_dir, is_whiteout};

/// The content of `relative` (e.g. `etc/passwd`) as the container would see it.
pub fn read_through_layers(layers: &[PathBuf], relative: &str) -> Option<String> {
    todo!("walk the layers from the top; stop at the first that has it or hides it")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: only the path itself looked at in each layer: a
    // whiteout or an opaque directory higher up on one of its parents is missed, and a deleted
    // directory's files show through. Checked by pasting it into the reference implementation: it
    // fails `a_whiteout_or_opaque_parent_hides_everything_inside`.
    //
    //     for layer in layers.iter().rev() {
    //         let path = layer.join(relative);
    //         if let Ok(meta) = std::fs::symlink_metadata(&path) {
    //             return if is_whiteout(&meta) { None } else { std::fs::read_to_string(&path).ok() };
    //         }
    //     }
    //     None

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::layers as solution;

    use std::path::PathBuf;

    use testkit::busybox::{make_opaque_dir, make_whiteout, write_layer_file};

    fn layers(n: usize) -> (Vec<tempfile::TempDir>, Vec<PathBuf>) {
        let dirs: Vec<_> = (0..n).map(|_| testkit::temp_dir()).collect();
        let paths = dirs.iter().map(|d| d.path().to_path_buf()).collect();
        (dirs, paths)
    }

    #[test]
    fn top_layer_wins_and_missing_is_none() {
        crate::needs_root();
        let (_dirs, l) = layers(2);
        write_layer_file(&l[0], "etc/passwd", "lower");
        write_layer_file(&l[0], "etc/group", "group");
        write_layer_file(&l[1], "etc/passwd", "upper");
        assert_eq!(solution::read_through_layers(&l, "etc/passwd").as_deref(), Some("upper"));
        assert_eq!(solution::read_through_layers(&l, "etc/group").as_deref(), Some("group"));
        assert_eq!(solution::read_through_layers(&l, "etc/shadow"), None);
    }

    #[test]
    fn a_whiteout_hides_the_file_below() {
        crate::needs_root();
        let (_dirs, l) = layers(3);
        write_layer_file(&l[0], "etc/passwd", "base");
        write_layer_file(&l[0], "etc/group", "base group");
        make_whiteout(&l[1], "etc/passwd");
        write_layer_file(&l[2], "etc/motd", "hi");
        assert_eq!(solution::read_through_layers(&l, "etc/passwd"), None);
        assert_eq!(solution::read_through_layers(&l, "etc/group").as_deref(), Some("base group"));
        write_layer_file(&l[2], "etc/passwd", "recreated");
        assert_eq!(solution::read_through_layers(&l, "etc/passwd").as_deref(), Some("recreated"));
    }

    #[test]
    fn a_whiteout_or_opaque_parent_hides_everything_inside() {
        crate::needs_root();
        let (_dirs, l) = layers(2);
        write_layer_file(&l[0], "etc/passwd", "base");
        write_layer_file(&l[0], "opt/app/config", "old");
        write_layer_file(&l[0], "opt/keep", "kept");
        make_whiteout(&l[1], "etc");
        make_opaque_dir(&l[1], "opt");
        assert_eq!(solution::read_through_layers(&l, "etc/passwd"), None);
        assert_eq!(solution::read_through_layers(&l, "opt/app/config"), None);
        assert_eq!(solution::read_through_layers(&l, "opt/keep"), None);
    }
}
