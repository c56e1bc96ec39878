//! Storage drivers: how a list of read-only layers becomes one writable
//! root for one container.
//!
//! ```text
//! overlay:  container_dir/upper   the container's writes (and whiteouts)
//!           container_dir/work    overlayfs's scratch space
//!           container_dir/merged  where the union is mounted (in the child)
//! vfs:      container_dir/rootfs  a full copy of all layers, written in place
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

use crate::layer::{check_layers, LayerError};
use crate::overlay::{self, OverlayError};
use crate::vfs::{self, Owners, SameOwners, VfsError};

// ANCHOR: driver
/// The two ways to build a container's root from layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A kernel union mount: layers shared, writes copied up on demand.
    Overlay,
    /// A plain copy of every layer, like Docker's `vfs` driver.
    Vfs,
}

/// A container's root, prepared on the host, ready to be mounted by the child.
#[derive(Debug, Clone)]
pub struct Rootfs {
    pub container_dir: PathBuf,
    pub union: Union,
}

#[derive(Debug, Clone)]
pub enum Union {
    /// Mount an overlay with `mount_data` on `merged`.
    Overlay { mount_data: String, upper: PathBuf, work: PathBuf, merged: PathBuf },
    /// Bind-mount `dir` onto itself (pivot_root needs a mount point).
    Vfs { dir: PathBuf },
}
// ANCHOR_END: driver

impl Rootfs {
    /// The directory that becomes the container's `/`.
    pub fn root(&self) -> &Path {
        match &self.union {
            Union::Overlay { merged, .. } => merged,
            Union::Vfs { dir } => dir,
        }
    }

    /// Where the container's writes land on the host.
    pub fn writable_dir(&self) -> &Path {
        match &self.union {
            Union::Overlay { upper, .. } => upper,
            Union::Vfs { dir } => dir,
        }
    }

    pub fn driver(&self) -> Driver {
        match self.union {
            Union::Overlay { .. } => Driver::Overlay,
            Union::Vfs { .. } => Driver::Vfs,
        }
    }
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay => "overlay",
            Driver::Vfs => "vfs",
        }
    }

    /// overlay where the kernel has it, vfs everywhere else.
    pub fn for_this_host() -> Driver {
        if overlay_available() {
            Driver::Overlay
        } else {
            Driver::Vfs
        }
    }
}

/// Does the running kernel know the overlay filesystem?
pub fn overlay_available() -> bool {
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    filesystems.lines().any(|line| line.split_whitespace().last() == Some("overlay"))
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Driver {
    type Err = String;
    fn from_str(s: &str) -> Result<Driver, String> {
        match s {
            "overlay" | "overlay2" | "overlayfs" => Ok(Driver::Overlay),
            "vfs" => Ok(Driver::Vfs),
            other => Err(format!("unknown storage driver {other:?}: use overlay or vfs")),
        }
    }
}

#[derive(Debug, Error)]
pub enum PrepareError {
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Overlay(#[from] OverlayError),
    #[error(transparent)]
    Vfs(#[from] VfsError),
    #[error("the kernel has no overlay filesystem (try `modprobe overlay`), or use --driver vfs")]
    OverlayUnavailable,
    #[error("creating {}: {error}", .path.display())]
    Create { path: PathBuf, error: std::io::Error },
}

// ANCHOR: prepare
/// Prepare the root of the container whose directory is `container_dir`
/// from `layers` (bottom to top). The layers are only read; on failure,
/// whatever this made in `container_dir` is removed again.
pub fn prepare(
    driver: Driver,
    layers: &[PathBuf],
    container_dir: &Path,
) -> Result<Rootfs, PrepareError> {
    let layers = check_layers(layers)?;
    let made = match driver {
        Driver::Overlay => prepare_overlay(&layers, container_dir),
        Driver::Vfs => prepare_vfs(&layers, container_dir, &SameOwners),
    };
    finish(made, container_dir)
}

/// A vfs root whose files' owners `owners` chooses (chapter 8 gives a
/// user namespace's range its own copy this way). The layers stay as they are.
pub fn prepare_vfs_owned_by(
    layers: &[PathBuf],
    container_dir: &Path,
    owners: &dyn Owners,
) -> Result<Rootfs, PrepareError> {
    let layers = check_layers(layers)?;
    finish(prepare_vfs(&layers, container_dir, owners), container_dir)
}

/// On failure, remove whatever was made in `container_dir`.
fn finish(made: Result<Union, PrepareError>, container_dir: &Path) -> Result<Rootfs, PrepareError> {
    if made.is_err() {
        for name in ["upper", "work", "merged", "rootfs"] {
            let _ = std::fs::remove_dir_all(container_dir.join(name));
        }
    }
    made.map(|union| Rootfs { container_dir: container_dir.to_path_buf(), union })
}
// ANCHOR_END: prepare

// ANCHOR: reopen
// ANCHOR: prepare_2
/// The root that [`prepare`] made earlier in `container_dir`: the same
/// layers and the same writable directory, so whatever was written there
/// is still there. Nothing is copied again. A root is prepared once and
/// opened every time it is used — Docker's storage drivers have the same
/// pair of calls, `Create` and `Get`.
pub fn reopen(
    driver: Driver,
    layers: &[PathBuf],
    container_dir: &Path,
) -> Result<Rootfs, PrepareError> {
    let layers = check_layers(layers)?;
    let union = match driver {
        Driver::Overlay => {
            let [upper, work, merged] =
                ["upper", "work", "merged"].map(|name| container_dir.join(name));
            let mount_data = overlay::mount_data(&layers, &upper, &work)?;
            Union::Overlay { mount_data, upper, work, merged }
        }
        Driver::Vfs => Union::Vfs { dir: container_dir.join("rootfs") },
    };
    let missing = [union_root(&union)].into_iter().find(|dir| !dir.is_dir());
    if let Some(dir) = missing {
        let error = std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "the container's root was never prepared",
        );
        return Err(PrepareError::Create { path: dir.to_path_buf(), error });
    }
    Ok(Rootfs { container_dir: container_dir.to_path_buf(), union })
}
// ANCHOR_END: reopen
// ANCHOR_END: prepare_2

// ANCHOR: prepare_2_2
fn union_root(union: &Union) -> &Path {
    match union {
        Union::Overlay { merged, .. } => merged,
        Union::Vfs { dir } => dir,
    }
}

fn prepare_overlay(layers: &[PathBuf], container_dir: &Path) -> Result<Union, PrepareError> {
    if !overlay_available() {
        return Err(PrepareError::OverlayUnavailable);
    }
    let [upper, work, merged] = ["upper", "work", "merged"].map(|name| container_dir.join(name));
    let mount_data = overlay::mount_data(layers, &upper, &work)?;
    for dir in [&upper, &work, &merged] {
        create_dir(dir)?;
    }
    Ok(Union::Overlay { mount_data, upper, work, merged })
}

fn prepare_vfs(
    layers: &[PathBuf],
    container_dir: &Path,
    owners: &dyn Owners,
) -> Result<Union, PrepareError> {
    let dir = container_dir.join("rootfs");
    create_dir(&dir)?;
    vfs::flatten_owned_by(layers, &dir, owners)?;
    Ok(Union::Vfs { dir })
}
// ANCHOR_END: prepare_2_2

fn create_dir(path: &Path) -> Result<(), PrepareError> {
    std::fs::create_dir(path)
        .map_err(|error| PrepareError::Create { path: path.to_path_buf(), error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopen_finds_what_prepare_made_and_keeps_the_writes() {
        let (layer, container) = (testkit::temp_dir(), testkit::temp_dir());
        std::fs::write(layer.path().join("hello"), "hi").unwrap();
        let first = prepare(Driver::Vfs, &[layer.path().into()], container.path()).unwrap();
        std::fs::write(first.root().join("written"), "by the container").unwrap();
        let again = reopen(Driver::Vfs, &[layer.path().into()], container.path()).unwrap();
        assert_eq!(again.root(), first.root());
        assert!(again.root().join("written").exists(), "reopen must not copy the layers again");
        let never = testkit::temp_dir();
        assert!(reopen(Driver::Overlay, &[layer.path().into()], never.path()).is_err());
    }

    #[test]
    fn driver_names_round_trip() {
        for driver in [Driver::Overlay, Driver::Vfs] {
            assert_eq!(driver.name().parse::<Driver>().unwrap(), driver);
        }
        assert_eq!("overlay2".parse::<Driver>().unwrap(), Driver::Overlay);
        assert!("aufs".parse::<Driver>().unwrap_err().contains("use overlay or vfs"));
    }

    #[test]
    fn overlay_prepares_three_directories_and_mount_data() {
        if !overlay_available() {
            return;
        }
        let (layer, container) = (testkit::temp_dir(), testkit::temp_dir());
        let rootfs = prepare(Driver::Overlay, &[layer.path().into()], container.path()).unwrap();
        assert_eq!(rootfs.root(), container.path().join("merged"));
        assert_eq!(rootfs.writable_dir(), container.path().join("upper"));
        let Union::Overlay { mount_data, .. } = &rootfs.union else { panic!("not overlay") };
        assert!(mount_data
            .starts_with(&format!("lowerdir={}", layer.path().canonicalize().unwrap().display())));
        assert!(container.path().join("work").is_dir());
    }

    #[test]
    fn vfs_copies_and_a_bad_layer_leaves_nothing() {
        let (layer, container) = (testkit::temp_dir(), testkit::temp_dir());
        std::fs::write(layer.path().join("hello"), "hi").unwrap();
        let rootfs = prepare(Driver::Vfs, &[layer.path().into()], container.path()).unwrap();
        assert_eq!(std::fs::read_to_string(rootfs.root().join("hello")).unwrap(), "hi");

        let other = testkit::temp_dir();
        let err =
            prepare(Driver::Vfs, &[layer.path().into(), layer.path().join("hello")], other.path())
                .unwrap_err();
        assert!(matches!(err, PrepareError::Layer(LayerError::NotADirectory(_))));
        assert_eq!(std::fs::read_dir(other.path()).unwrap().count(), 0);
    }
}
