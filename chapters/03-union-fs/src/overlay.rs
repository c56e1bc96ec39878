//! The overlayfs driver's one piece of logic: the mount options string.
//!
//! ```text
//! mount -t overlay overlay -o lowerdir=L3:L2:L1,upperdir=U,workdir=W MERGED
//! ```

use std::path::{Path, PathBuf};

use thiserror::Error;

/// The legacy mount(2) call copies at most one page of option data; the
/// kernel cuts the rest off silently, so we check before we call.
pub const MOUNT_DATA_MAX: usize = 4096 - 1;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum OverlayError {
    #[error("path {} is not valid UTF-8, which overlay mount options need", .0.display())]
    NotUtf8(PathBuf),
    #[error("the overlay mount options are {0} bytes, more than the kernel's {MOUNT_DATA_MAX}: use fewer layers, shorter layer paths, or --driver vfs")]
    TooLong(usize),
}

// ANCHOR: mount_data
/// The overlay mount options for `layers`, given bottom to top (the order
/// they were built in). overlayfs wants `lowerdir` the other way round:
/// the top-most layer FIRST, the base image last.
pub fn mount_data(layers: &[PathBuf], upper: &Path, work: &Path) -> Result<String, OverlayError> {
    let lower: Vec<String> =
        layers.iter().rev().map(|layer| escape(layer)).collect::<Result<_, _>>()?;
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        escape(upper)?,
        escape(work)?
    );
    if data.len() > MOUNT_DATA_MAX {
        return Err(OverlayError::TooLong(data.len()));
    }
    Ok(data)
}
// ANCHOR_END: mount_data

/// In overlay options `,` separates options and `:` separates lower
/// directories; a backslash makes either (and itself) part of a path.
fn escape(path: &Path) -> Result<String, OverlayError> {
    let text = path.to_str().ok_or_else(|| OverlayError::NotUtf8(path.to_path_buf()))?;
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | ',' | ':') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    Ok(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(names: &[&str]) -> Vec<PathBuf> {
        names.iter().map(PathBuf::from).collect()
    }

    #[test]
    fn top_most_layer_comes_first() {
        let data = mount_data(
            &paths(&["/l/base", "/l/mid", "/l/top"]),
            Path::new("/c/upper"),
            Path::new("/c/work"),
        )
        .unwrap();
        assert_eq!(data, "lowerdir=/l/top:/l/mid:/l/base,upperdir=/c/upper,workdir=/c/work");
    }

    #[test]
    fn a_single_layer() {
        let data = mount_data(&paths(&["/rootfs"]), Path::new("/u"), Path::new("/w")).unwrap();
        assert_eq!(data, "lowerdir=/rootfs,upperdir=/u,workdir=/w");
    }

    #[test]
    fn separators_in_paths_are_escaped() {
        let data =
            mount_data(&paths(&["/a:b", "/c,d"]), Path::new("/u\\x"), Path::new("/w")).unwrap();
        assert_eq!(data, "lowerdir=/c\\,d:/a\\:b,upperdir=/u\\\\x,workdir=/w");
    }

    #[test]
    fn too_many_layers_do_not_fit_in_a_page() {
        let layers: Vec<PathBuf> = (0..100)
            .map(|i| PathBuf::from(format!("/var/lib/mini-docker/layers/sha256-{i:064}")))
            .collect();
        let err = mount_data(&layers, Path::new("/u"), Path::new("/w")).unwrap_err();
        assert!(matches!(err, OverlayError::TooLong(n) if n > MOUNT_DATA_MAX));
    }
}
