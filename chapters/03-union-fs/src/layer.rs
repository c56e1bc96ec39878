//! The layer directory format, shared with chapter 4 (which unpacks image
//! layers into such directories).
//!
//! A layer is a plain directory tree in overlayfs's own whiteout format, so
//! overlayfs can use it as a lower directory as-is:
//! - a path deleted by this layer is a character device 0:0 with its name;
//! - a directory whose lower contents are hidden ("opaque") carries the
//!   extended attribute `trusted.overlay.opaque` = `y`.

use std::fs::Metadata;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::xattr;

// ANCHOR: whiteout
/// The extended attribute that marks a directory opaque.
pub const OPAQUE_XATTR: &str = "trusted.overlay.opaque";
/// Its value when set.
pub const OPAQUE_XATTR_VALUE: &[u8] = b"y";
/// Extended attributes overlayfs keeps for itself under this prefix: they
/// describe one overlay mount and mean nothing once a layer is flattened.
pub const OVERLAY_XATTR_PREFIX: &str = "trusted.overlay.";

/// Is this entry a whiteout, overlayfs's mark for "deleted in this layer"?
/// (`metadata` from `symlink_metadata`: a whiteout is never followed.)
pub fn is_whiteout(metadata: &Metadata) -> bool {
    metadata.file_type().is_char_device() && metadata.rdev() == 0
}

/// Does this directory hide everything the layers below put in it?
pub fn is_opaque_dir(path: &Path) -> bool {
    matches!(xattr::get(path, OPAQUE_XATTR), Ok(Some(value)) if value == OPAQUE_XATTR_VALUE)
}
// ANCHOR_END: whiteout

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayerError {
    #[error("no layers given: use --rootfs DIR or --layer DIR")]
    NoLayers,
    #[error("layer {}: no such directory (give an unpacked root filesystem directory)", .0.display())]
    Missing(PathBuf),
    #[error("layer {}: not a directory (a layer is an unpacked directory tree, not an archive or file)", .0.display())]
    NotADirectory(PathBuf),
    #[error("layer {}: {}", .0.display(), .1)]
    Unreadable(PathBuf, String),
}

/// Check every layer is an existing directory, and return their absolute
/// paths (overlayfs resolves relative paths from wherever mount(2) runs).
pub fn check_layers(layers: &[PathBuf]) -> Result<Vec<PathBuf>, LayerError> {
    if layers.is_empty() {
        return Err(LayerError::NoLayers);
    }
    layers.iter().map(|layer| check_layer(layer)).collect()
}

fn check_layer(layer: &Path) -> Result<PathBuf, LayerError> {
    match std::fs::metadata(layer) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(LayerError::Missing(layer.to_path_buf()))
        }
        Err(e) => Err(LayerError::Unreadable(layer.to_path_buf(), e.to_string())),
        Ok(m) if !m.is_dir() => Err(LayerError::NotADirectory(layer.to_path_buf())),
        Ok(_) => layer
            .canonicalize()
            .map_err(|e| LayerError::Unreadable(layer.to_path_buf(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_not_a_whiteout() {
        let dir = testkit::temp_dir();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(!is_whiteout(&std::fs::symlink_metadata(&file).unwrap()));
        assert!(!is_whiteout(&std::fs::symlink_metadata(dir.path()).unwrap()));
    }

    #[test]
    fn dev_null_is_a_char_device_but_not_a_whiteout() {
        // 1:3, not 0:0
        assert!(!is_whiteout(&std::fs::symlink_metadata("/dev/null").unwrap()));
    }

    #[test]
    fn layers_are_checked_in_order() {
        let dir = testkit::temp_dir();
        let file = dir.path().join("file");
        std::fs::write(&file, "").unwrap();
        let missing = dir.path().join("missing");
        assert_eq!(check_layers(&[]), Err(LayerError::NoLayers));
        assert_eq!(
            check_layers(&[dir.path().into(), missing.clone()]),
            Err(LayerError::Missing(missing))
        );
        assert_eq!(check_layers(std::slice::from_ref(&file)), Err(LayerError::NotADirectory(file)));
        assert_eq!(
            check_layers(&[dir.path().into()]).unwrap(),
            [dir.path().canonicalize().unwrap()]
        );
    }

    #[test]
    fn messages_are_one_line() {
        let message = LayerError::NotADirectory("/x/layer.tar".into()).to_string();
        assert!(!message.contains('\n'));
        assert!(message.starts_with("layer /x/layer.tar: not a directory"));
    }
}
