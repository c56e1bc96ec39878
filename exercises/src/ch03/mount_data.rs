//! Exercise `mount_data` (easy). Book: ch03-union-fs.md, "overlayfs".
//!
//! `mount -t overlay overlay -o lowerdir=L3:L2:L1,upperdir=U,workdir=W MERGED`
//! - `layers` come bottom to top (the order they were built in), but
//!   `lowerdir` wants the top-most layer FIRST;
//! - in the options `,` separates options and `:` lower directories: put a
//!   `\` before each `,`, `:` and `\` inside a path;
//! - a path that is not UTF-8 is `OverlayError::NotUtf8(path)`;
//! - mount(2) copies at most one page: longer than `MOUNT_DATA_MAX` bytes is
//!   `OverlayError::TooLong(length)`.

use std::path::{Path, PathBuf};

use ch03_union_fs::overlay::{OverlayError, MOUNT_DATA_MAX};

/// The overlay mount options for `layers` (bottom to top), `upper` and `work`.
pub fn mount_data(layers: &[PathBuf], upper: &Path, work: &Path) -> Result<String, OverlayError> {
    todo!("reverse the layers, escape each path, join, check the length")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the layers joined in the order they are given
    // (bottom first), while overlayfs wants the top-most lowerdir first. Checked by pasting it
    // into the reference implementation: it fails `top_most_layer_comes_first` (and
    // `separators_in_paths_are_escaped`, whose two layers also come out in the wrong order).
    //
    //     let lower: Vec<String> = layers.iter().map(|layer| escape(layer)).collect::<Result<_, _>>()?;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch03_union_fs::overlay as solution;

    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};

    use ch03_union_fs::overlay::{OverlayError, MOUNT_DATA_MAX};

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn top_most_layer_comes_first() {
        let data = solution::mount_data(
            &paths(&["/l/base", "/l/mid", "/l/top"]),
            Path::new("/c/upper"),
            Path::new("/c/work"),
        )
        .unwrap();
        assert_eq!(data, "lowerdir=/l/top:/l/mid:/l/base,upperdir=/c/upper,workdir=/c/work");
    }

    #[test]
    fn a_single_layer() {
        let data =
            solution::mount_data(&paths(&["/rootfs"]), Path::new("/u"), Path::new("/w")).unwrap();
        assert_eq!(data, "lowerdir=/rootfs,upperdir=/u,workdir=/w");
    }

    #[test]
    fn separators_in_paths_are_escaped() {
        let data =
            solution::mount_data(&paths(&["/a:b", "/c,d"]), Path::new("/u\\x"), Path::new("/w"))
                .unwrap();
        assert_eq!(data, "lowerdir=/c\\,d:/a\\:b,upperdir=/u\\\\x,workdir=/w");
    }

    #[test]
    fn not_utf8_and_too_long_are_errors() {
        let bad = PathBuf::from(OsStr::from_bytes(b"/l/\xff"));
        assert_eq!(
            solution::mount_data(std::slice::from_ref(&bad), Path::new("/u"), Path::new("/w")),
            Err(OverlayError::NotUtf8(bad))
        );
        let layers: Vec<PathBuf> = (0..100)
            .map(|i| PathBuf::from(format!("/var/lib/mini-docker/layers/sha256-{i:064}")))
            .collect();
        let err = solution::mount_data(&layers, Path::new("/u"), Path::new("/w")).unwrap_err();
        assert!(matches!(err, OverlayError::TooLong(n) if n > MOUNT_DATA_MAX), "{err:?}");
        let fits: Vec<PathBuf> = (0..50).map(|i| PathBuf::from(format!("/l/{i:070}"))).collect();
        assert!(solution::mount_data(&fits, Path::new("/u"), Path::new("/w")).is_ok());
    }
}
