//! Read a file of the image before any container exists: look it up
//! through the layer directories, top layer first, as overlayfs would.

use std::path::{Path, PathBuf};

use ch03_union_fs::layer::{is_opaque_dir, is_whiteout};

// ANCHOR: read_through_layers
/// The content of `relative` (e.g. `etc/passwd`) as the container would see
/// it: the top-most layer that has it wins; a whiteout above it, or an
/// opaque directory on its way, hides it.
pub fn read_through_layers(layers: &[PathBuf], relative: &str) -> Option<String> {
    let relative = Path::new(relative);
    for layer in layers.iter().rev() {
        let path = layer.join(relative);
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            if is_whiteout(&meta) {
                return None;
            }
            return std::fs::read_to_string(&path).ok();
        }
        if hidden_below(layer, relative) {
            return None;
        }
    }
    None
}
// ANCHOR_END: read_through_layers

/// Does this layer hide everything below it at `relative`'s parents
/// (a whiteout of a parent, or an opaque parent directory)?
fn hidden_below(layer: &Path, relative: &Path) -> bool {
    relative.ancestors().skip(1).filter(|a| !a.as_os_str().is_empty()).any(|parent| {
        let dir = layer.join(parent);
        std::fs::symlink_metadata(&dir).map(|m| is_whiteout(&m)).unwrap_or(false)
            || is_opaque_dir(&dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_layer_wins_and_missing_is_none() {
        let (lower, upper) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        std::fs::create_dir_all(lower.path().join("etc")).unwrap();
        std::fs::create_dir_all(upper.path().join("etc")).unwrap();
        std::fs::write(lower.path().join("etc/passwd"), "lower").unwrap();
        std::fs::write(lower.path().join("etc/group"), "group").unwrap();
        std::fs::write(upper.path().join("etc/passwd"), "upper").unwrap();
        let layers = vec![lower.path().to_path_buf(), upper.path().to_path_buf()];
        assert_eq!(read_through_layers(&layers, "etc/passwd").as_deref(), Some("upper"));
        assert_eq!(read_through_layers(&layers, "etc/group").as_deref(), Some("group"));
        assert_eq!(read_through_layers(&layers, "etc/shadow"), None);
    }
}
