//! From a container to a layer: what the container changed, as a tar that
//! an unpacker lays over the image's layers to get the container's files.
//!
//! ```text
//! overlay:  upper/ IS the diff            vfs:  rootfs/ is a full copy
//!   file, dir, symlink → the same entry      compare it with the image's
//!   char device 0:0    → .wh.<name>          layers (tree against tree):
//!   opaque directory   → dir/ then            added, changed → the entry
//!                        dir/.wh..wh..opq     deleted        → .wh.<name>
//! ```
//!
//! Whiteouts go both ways: chapter 4 turned `.wh.` entries into overlayfs's
//! devices and xattrs when it unpacked a layer; this turns them back.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ch03_union_fs::{Rootfs, Union};

use crate::changes::{self, Change, ChangeKind};
use crate::tarball::{whiteout_entry, LayerWriter, TimePolicy};
use crate::tree::{self, Tree};
use crate::walk::{DirFd, Kind, Node};

// ANCHOR: mount_points
/// What the engine itself puts in every container's root (chapter 3): the
/// mount points of `/proc`, `/sys`, `/dev` and of the three `/etc` files.
/// Docker keeps these in an "init" layer under the container's own, so
/// they never show up in `diff`, `commit` or a build.
pub const ENGINE_MOUNT_POINTS: [&str; 6] =
    ["dev", "proc", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf"];
// ANCHOR_END: mount_points

/// A container's files as chapter 3 laid them out: the image's layers
/// (bottom first) and the container's own writable part.
#[derive(Debug, Clone)]
pub struct ContainerFs {
    pub layers: Vec<PathBuf>,
    pub union: Union,
}

/// What [`ContainerFs::write_layer`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Tar entries (0: the container changed nothing).
    pub entries: u64,
}

impl ContainerFs {
    pub fn new(layers: Vec<PathBuf>, rootfs: Rootfs) -> ContainerFs {
        ContainerFs { layers, union: rootfs.union }
    }

    /// The image's files: its layers, read as overlayfs reads them.
    pub fn image_tree(&self) -> io::Result<Tree> {
        Tree::of_layers(&self.layers)
    }

    /// The container's files as the container sees them (without the
    /// volumes and the mounts the engine adds while it runs).
    pub fn container_tree(&self) -> io::Result<Tree> {
        match &self.union {
            Union::Overlay { upper, .. } => {
                let mut stack = self.layers.clone();
                stack.push(upper.clone());
                Tree::of_layers(&stack)
            }
            Union::Vfs { dir } => Tree::of_dir(dir),
        }
    }

    // ANCHOR: changes
    /// `docker diff`: the image's tree against the container's, for either
    /// driver, without the engine's mount points.
    pub fn changes(&self) -> io::Result<Vec<Change>> {
        let image = self.image_tree()?;
        let mut container = self.container_tree()?;
        drop_engine_mount_points(&mut container, &image);
        Ok(changes::changes(&image, &container))
    }
    // ANCHOR_END: changes

    // ANCHOR: write_layer
    /// Write what the container changed as a layer tar to `out`.
    pub fn write_layer<W: Write>(&self, out: W, times: TimePolicy) -> io::Result<(W, Written)> {
        let mut writer = LayerWriter::new(out, times);
        narrate_diff(&self.union);
        match &self.union {
            Union::Overlay { upper, .. } => {
                let mut diff = Tree::of_dir(upper)?;
                drop_upper_mount_points(&mut diff, &self.layers)?;
                write_upper(&diff, &mut writer)?;
            }
            Union::Vfs { .. } => {
                let image = self.image_tree()?;
                let mut container = self.container_tree()?;
                drop_engine_mount_points(&mut container, &image);
                let changes = changes::changes(&image, &container);
                write_changes(&container, &changes, &mut writer)?;
            }
        }
        let entries = writer.entries();
        Ok((writer.finish()?, Written { entries }))
    }
    // ANCHOR_END: write_layer

    // ANCHOR: export
    /// `docker export`: every file the container sees, as one flat tar
    /// (no whiteouts: nothing is below it).
    pub fn export<W: Write>(&self, out: W) -> io::Result<W> {
        let tree = self.container_tree()?;
        let mut writer = LayerWriter::new(out, TimePolicy::default());
        for (path, entry) in tree.iter() {
            add_from(&tree, &mut writer, path, entry)?;
        }
        writer.finish()
    }
    // ANCHOR_END: export
}

// ANCHOR: write_upper
/// overlay: the upper directory is the diff. Whiteout devices become
/// `.wh.` entries and an opaque directory is followed by its marker.
fn write_upper<W: Write>(upper: &Tree, writer: &mut LayerWriter<W>) -> io::Result<()> {
    for (path, entry) in upper.iter() {
        let node = &entry.node;
        if !node.is_whiteout() {
            add_from(upper, writer, path, entry)?;
        }
        if writer.add_whiteout_of(path, node)? {
            narrate_marker(path, node);
        }
    }
    Ok(())
}
// ANCHOR_END: write_upper

// ANCHOR: write_changes
/// vfs: each added or changed path is written from the container's tree;
/// each deleted one becomes a whiteout owned like its parent directory.
fn write_changes<W: Write>(
    container: &Tree,
    changes: &[Change],
    writer: &mut LayerWriter<W>,
) -> io::Result<()> {
    for change in changes {
        let path = change.path.as_path();
        if change.kind == ChangeKind::Deleted {
            narrate_deleted(path);
            let parent = path.parent().and_then(|p| container.get(p)).map(|e| e.node.clone());
            writer.add_whiteout(path, &parent.unwrap_or_else(root_owned))?;
        } else if let Some(entry) = container.get(path) {
            add_from(container, writer, path, entry)?;
        }
    }
    Ok(())
}
// ANCHOR_END: write_changes

const BOOK: &str = "ch10-images.md#a-layer-is-a-diff";

/// `--explain`: where the diff comes from.
fn narrate_diff(union: &Union) {
    let (what, shell) = match union {
        Union::Overlay { upper, .. } => (
            "the layer is the overlay's upper directory, read without following a symlink"
                .to_string(),
            format!(
                "tar -C {} --numeric-owner -cf LAYER.tar .   # then whiteouts to .wh.",
                upper.display()
            ),
        ),
        Union::Vfs { dir } => (
            "the layer is the difference between the vfs copy and the image's layers".to_string(),
            format!("diff -r --no-dereference IMAGE-LAYERS {}", dir.display()),
        ),
    };
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: &what,
        syscall: "openat(dirfd, name, O_NOFOLLOW) + fstatat(AT_SYMLINK_NOFOLLOW) + getdents64 per directory",
        shell: &shell,
        book: BOOK,
    });
}

/// `--explain`: a whiteout going back into tar form.
fn narrate_marker(path: &Path, node: &Node) {
    let was = if node.is_whiteout() { "a 0:0 character device" } else { "an opaque directory" };
    let entry = whiteout_entry(path, node).map(|(name, _)| name.display().to_string());
    narrate_entry(path, was, &entry.unwrap_or_default());
}

fn narrate_deleted(path: &Path) {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let entry = path.with_file_name(format!(".wh.{name}"));
    narrate_entry(path, "deleted from the copy", &entry.display().to_string());
}

fn narrate_entry(path: &Path, was: &str, entry: &str) {
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: &format!("whiteout /{}: {was} becomes the tar entry {entry}", path.display()),
        syscall: "write(tar, header{name, type '0', size 0})",
        shell: &format!("touch LAYER/{entry}"),
        book: BOOK,
    });
}

fn add_from<W: Write>(
    tree: &Tree,
    writer: &mut LayerWriter<W>,
    path: &Path,
    entry: &tree::Entry,
) -> io::Result<()> {
    if entry.node.kind == Kind::File {
        let mut file = tree.open(path, entry)?;
        writer.add(path, &entry.node, Some(&mut file as &mut dyn Read))
    } else {
        writer.add(path, &entry.node, None)
    }
}

/// The owner of a whiteout at the root: root, at the epoch.
fn root_owned() -> Node {
    dir_node((0, 0), 0)
}

/// A plain directory (0755) owned by `uid:gid`, modified at `mtime`.
pub(crate) fn dir_node((uid, gid): (u32, u32), mtime: i64) -> Node {
    Node {
        kind: Kind::Dir,
        mode: 0o755,
        uid,
        gid,
        size: 0,
        mtime,
        mtime_nsec: 0,
        rdev: 0,
        dev: 0,
        ino: 0,
        nlink: 1,
        capability: None,
        opaque: false,
        refers_below: false,
    }
}

// ANCHOR: drop_mount_points
/// The engine's mount points are not the container's changes: where the
/// image lacks one, it goes, and so does a directory (`etc`) that the
/// image lacks too and that held nothing else.
fn drop_engine_mount_points(container: &mut Tree, image: &Tree) {
    for point in ENGINE_MOUNT_POINTS.map(Path::new) {
        if !image.contains(point) {
            container.remove_subtree(point);
        }
        for dir in point.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
            let empty = container.children(dir).next().is_none();
            if !image.contains(dir) && empty {
                container.remove_subtree(dir);
            }
        }
    }
}

/// overlay: a mount point in `upper/` is always the engine's (the
/// container cannot write under a mount). A directory copied up only to
/// hold one goes too, unless it is opaque or its owner or mode changed.
fn drop_upper_mount_points(upper: &mut Tree, layers: &[PathBuf]) -> io::Result<()> {
    for point in ENGINE_MOUNT_POINTS.map(Path::new) {
        upper.remove_subtree(point);
        for dir in point.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
            let Some(entry) = upper.get(dir) else { continue };
            let below = lookup(layers, dir)?;
            let unchanged = below.is_none_or(|b| b.is_dir() && !changes::differs(&b, &entry.node));
            if upper.children(dir).next().is_none() && !entry.node.opaque && unchanged {
                upper.remove_subtree(dir);
            }
        }
    }
    Ok(())
}
// ANCHOR_END: drop_mount_points

/// What the layers (bottom first) show at `path`, without reading whole
/// trees: the top-most layer that has it wins; a whiteout, or a file or an
/// opaque directory on the way, hides what the layers below have.
pub fn lookup(layers: &[PathBuf], path: &Path) -> io::Result<Option<Node>> {
    let components: Vec<_> = path.iter().collect();
    'layers: for layer in layers.iter().rev() {
        let mut dir = DirFd::open_root(layer)?;
        let mut hides_below = false;
        for (i, name) in components.iter().enumerate() {
            let node = match dir.stat(name) {
                Ok(node) => node,
                Err(e) if e.kind() == io::ErrorKind::NotFound && !hides_below => continue 'layers,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(e),
            };
            if node.is_whiteout() {
                return Ok(None);
            }
            if i + 1 == components.len() {
                return Ok(Some(node));
            }
            if !node.is_dir() {
                return Ok(None);
            }
            hides_below |= node.opaque;
            dir = dir.open_dir(name, &node)?;
        }
    }
    Ok(None)
}
