//! The child hook: build the container's filesystem view inside its new
//! mount namespace, then pivot into it. runc's `prepareRoot` and
//! `pivotRoot`, in order:
//!
//! ```text
//! make / private (recursive)        nothing we mount leaks to the host
//! mount the union on merged/        (or bind the vfs copy onto itself)
//! mount proc, sys (ro), dev + nodes, pts, shm, mqueue   inside merged/
//! mount the container's view of its cgroup on sys/fs/cgroup (chapter 2)
//! bind /etc/hostname, hosts, resolv.conf from the container dir
//! mask and freeze the sensitive /proc and /sys paths
//! run the "before pivot" steps       (chapter 7 mounts volumes here)
//! pivot_root into merged/, detach the old root
//! ```

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use ch01_namespaces::proc_mount::{make_mounts_private, mount_proc};
use ch01_namespaces::ChildHook;
use ch02_cgroups::View;
use nix::mount::MsFlags;

use crate::devices;
use crate::driver::{Rootfs, Union};
use crate::etc_files::EtcFiles;
use crate::masks;
use crate::mounts::{
    inside_root, mount, mount_point_dir, mount_point_file, Mount, MountError, BOOK_MOUNTS,
};
use crate::pivot::pivot_into;

pub const BOOK_UNION: &str = "ch03-union-fs.md#mounting-the-union";

/// What the child needs to set up its root.
#[derive(Debug, Clone)]
pub struct RootfsSetup {
    pub rootfs: Rootfs,
    /// The engine's `/etc` files to bind over the image's; `None` keeps the image's.
    pub etc: Option<EtcFiles>,
    /// Work to do inside the new root once it is complete, just before
    /// pivot_root (chapter 7 mounts the container's volumes here).
    pub before_pivot: Vec<BeforePivot>,
    /// No masked or read-only `/proc` and `/sys` paths (chapter 8's `--privileged`).
    pub skip_masks: bool,
    /// What the container sees at `/sys/fs/cgroup` (chapter 2's [`View`]);
    /// `None` leaves sysfs's empty directory there.
    pub cgroup_view: Option<View>,
}

impl RootfsSetup {
    /// A setup with nothing to do before the pivot.
    pub fn new(rootfs: Rootfs, etc: Option<EtcFiles>) -> RootfsSetup {
        RootfsSetup { rootfs, etc, before_pivot: Vec::new(), skip_masks: false, cgroup_view: None }
    }
}

// ANCHOR: before_pivot
/// A step a later chapter adds to the root's setup. It runs in the child,
/// in the container's mount namespace, with the union, /proc, /sys and /dev
/// mounted under `root` and the host's files still reachable: the only
/// moment when both the host's directories and the container's are in view.
#[derive(Clone)]
pub struct BeforePivot {
    pub name: String,
    pub run: Arc<BeforePivotFn>,
}

/// What a [`BeforePivot`] step does, given the new root's directory.
pub type BeforePivotFn = dyn Fn(&Path) -> anyhow::Result<()> + Send + Sync;
// ANCHOR_END: before_pivot

impl BeforePivot {
    pub fn new(
        name: impl Into<String>,
        run: impl Fn(&Path) -> anyhow::Result<()> + Send + Sync + 'static,
    ) -> BeforePivot {
        BeforePivot { name: name.into(), run: Arc::new(run) }
    }
}

impl fmt::Debug for BeforePivot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BeforePivot").field("name", &self.name).finish_non_exhaustive()
    }
}

// ANCHOR: rootfs_hook
/// The hook to add to a chapter 1 `Spawn`.
pub fn rootfs_hook(setup: RootfsSetup) -> ChildHook {
    ChildHook::new("setting up the root filesystem", move || setup_rootfs(&setup))
}
// ANCHOR_END: rootfs_hook

// ANCHOR: setup_rootfs
/// Everything between "released by the parent" and exec, for the filesystem.
pub fn setup_rootfs(setup: &RootfsSetup) -> anyhow::Result<()> {
    make_mounts_private().context("making mounts private")?;
    mount_union(&setup.rootfs.union)?;
    let root = setup.rootfs.root();
    let proc = mount_point_dir(root, "proc")?;
    mount_proc(&proc.to_string_lossy())
        .with_context(|| format!("mounting proc on {}", proc.display()))?;
    mount_sys(root)?;
    if let Some(view) = &setup.cgroup_view {
        view.mount_at(&inside_root(root, "sys/fs/cgroup")?)?;
    }
    devices::setup_dev(root)?;
    if let Some(etc) = &setup.etc {
        bind_etc_files(root, etc)?;
    }
    if !setup.skip_masks {
        masks::apply(root)?;
    }
    for step in &setup.before_pivot {
        (step.run)(root).with_context(|| step.name.clone())?;
    }
    pivot_into(root).with_context(|| format!("pivot_root into {}", root.display()))?;
    Ok(())
}
// ANCHOR_END: setup_rootfs

// ANCHOR: mount_union
/// The container's writable root, mounted on the directory that becomes `/`.
pub fn mount_union(union: &Union) -> Result<(), MountError> {
    match union {
        Union::Overlay { mount_data, merged, .. } => mount(
            &Mount {
                what: "mount the layers as one overlay: reads fall through to the layers, writes go to upper/",
                source: Some("overlay"),
                fstype: Some("overlay"),
                flags: MsFlags::empty(),
                data: Some(mount_data),
                book: BOOK_UNION,
            },
            merged,
        ),
        Union::Vfs { dir } => {
            let source = dir.to_string_lossy();
            let bind = Mount {
                what: "bind the vfs copy onto itself: pivot_root needs the new root to be a mount point",
                source: Some(&source),
                fstype: None,
                flags: MsFlags::MS_BIND | MsFlags::MS_REC,
                data: None,
                book: BOOK_UNION,
            };
            mount(&bind, dir)
        }
    }
}
// ANCHOR_END: mount_union

fn mount_sys(root: &Path) -> Result<(), MountError> {
    let sys = mount_point_dir(root, "sys")?;
    let m = Mount {
        what: "mount sysfs read-only on /sys (it shows the container's network namespace)",
        source: Some("sysfs"),
        fstype: Some("sysfs"),
        flags: MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV,
        data: None,
        book: BOOK_MOUNTS,
    };
    mount(&m, &sys)
}

// ANCHOR: bind_etc_files
/// Bind the engine's files over the image's `/etc/hostname`, `/etc/hosts`
/// and `/etc/resolv.conf`: the image cannot know the container's name or
/// the host's DNS servers.
fn bind_etc_files(root: &Path, etc: &EtcFiles) -> Result<(), MountError> {
    for (file, inside) in etc.mounts() {
        let target = mount_point_file(root, inside)?;
        let source = file.to_string_lossy();
        let bind = Mount {
            what: &format!("bind the container's /{inside} from its directory on the host"),
            source: Some(&source),
            fstype: None,
            flags: MsFlags::MS_BIND,
            data: None,
            book: BOOK_MOUNTS,
        };
        mount(&bind, &target)?;
    }
    Ok(())
}
// ANCHOR_END: bind_etc_files
