//! The mounts themselves, made by the child in the container's mount
//! namespace, after chapter 3 has built the root and before pivot_root:
//! the one moment when the host's directories (the sources) and the
//! container's root (the targets) are both in view.
//!
//! ```text
//! bind / volume:  mount --rbind SOURCE ROOT/TARGET
//!                 mount -o remount,bind,ro ROOT/TARGET      (only for :ro)
//! tmpfs:          mount -t tmpfs -o nosuid,nodev,noexec,size=…,mode=… tmpfs ROOT/TARGET
//! ```
//!
//! Chapter 3 made every mount of this namespace private first, so none of
//! these mounts propagates back to the host, and they all vanish with the
//! container's last process.

use std::path::Path;

use anyhow::Context;
use ch03_union_fs::mounts::{mount, mount_point_dir, mount_point_file, Mount};
use ch03_union_fs::BeforePivot;
use nix::mount::MsFlags;
use nix::sys::statvfs::{statvfs, FsFlags};

use crate::resolve::ContainerMount;
use crate::seed::seed_from_image;
use crate::spec::{MountType, TmpfsOptions};

pub const BOOK_MOUNT: &str = "ch07-volumes.md#mounting-inside-the-container";

// ANCHOR: mount_hook
/// The step chapter 5 adds to chapter 3's root setup.
pub fn mount_hook(mounts: Vec<ContainerMount>) -> BeforePivot {
    BeforePivot::new("mounting the container's volumes", move |root| mount_all(root, &mounts))
}

/// Mount every volume inside `root`, parents before children: `/data`
/// must be mounted before `/data/cache`, or it would cover it.
pub fn mount_all(root: &Path, mounts: &[ContainerMount]) -> anyhow::Result<()> {
    let mut ordered: Vec<&ContainerMount> = mounts.iter().collect();
    ordered.sort_by_key(|m| m.destination.split('/').filter(|p| !p.is_empty()).count());
    for m in ordered {
        mount_one(root, m)
            .with_context(|| format!("{} mount on {}", m.kind.name(), m.destination))?;
    }
    Ok(())
}
// ANCHOR_END: mount_hook

fn mount_one(root: &Path, m: &ContainerMount) -> anyhow::Result<()> {
    match (m.kind, &m.source) {
        (MountType::Tmpfs, _) => {
            mount_tmpfs(root, m, m.tmpfs.as_ref().cloned().unwrap_or_default())
        }
        (_, Some(source)) => {
            if m.kind == MountType::Volume && m.copy_image_data {
                seed_from_image(root, &m.destination, source)?;
            }
            bind(root, m, source)
        }
        (_, None) => anyhow::bail!(
            "no source recorded for this mount: remove the container and create it again"
        ),
    }
}

// ANCHOR: bind
/// Bind `source` on the target, then — for `:ro` — remount that bind
/// read-only. The flags of a bind mount cannot be set by the bind itself:
/// `mount --bind -o ro` would silently give a writable mount on old kernels.
pub fn bind(root: &Path, m: &ContainerMount, source: &Path) -> anyhow::Result<()> {
    let relative = m.destination.trim_start_matches('/');
    // inside_root (through these helpers) refuses symlinks in the image's
    // path: a symlink /data -> /etc would otherwise mount over the host's /etc.
    let target = if source.is_dir() {
        mount_point_dir(root, relative)?
    } else {
        mount_point_file(root, relative)?
    };
    let source_text = source.to_string_lossy();
    let what = match &m.name {
        Some(name) => format!("bind volume {} on {}", short(name), m.destination),
        None => format!("bind the host's {} on {}", source.display(), m.destination),
    };
    let bind = Mount {
        what: &what,
        source: Some(&source_text),
        fstype: None,
        flags: MsFlags::MS_BIND | MsFlags::MS_REC,
        data: None,
        book: BOOK_MOUNT,
    };
    mount(&bind, &target)?;
    if m.read_only {
        let flags =
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags_to_keep(&target);
        let what =
            format!("remount {} read-only: writes fail with EROFS, even for root", m.destination);
        let remount =
            Mount { what: &what, source: None, fstype: None, flags, data: None, book: BOOK_MOUNT };
        mount(&remount, &target)?;
    }
    Ok(())
}
// ANCHOR_END: bind

// ANCHOR: bind_2
/// A remount sets all of a mount's flags anew: keep nosuid, nodev and
/// noexec if the source had them (runc does the same).
fn flags_to_keep(target: &Path) -> MsFlags {
    let Ok(stat) = statvfs(target) else { return MsFlags::empty() };
    let pairs = [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
    ];
    pairs
        .into_iter()
        .filter(|(st, _)| stat.flags().contains(*st))
        .fold(MsFlags::empty(), |all, (_, ms)| all | ms)
}
// ANCHOR_END: bind_2

// ANCHOR: tmpfs
/// A fresh tmpfs: memory, gone when the container's mount namespace is.
fn mount_tmpfs(root: &Path, m: &ContainerMount, options: TmpfsOptions) -> anyhow::Result<()> {
    let target = mount_point_dir(root, m.destination.trim_start_matches('/'))?;
    let mut flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
    if !options.exec {
        flags |= MsFlags::MS_NOEXEC;
    }
    if m.read_only {
        flags |= MsFlags::MS_RDONLY;
    }
    let data = tmpfs_data(&options);
    let what = format!("mount a tmpfs on {}", m.destination);
    let tmpfs = Mount {
        what: &what,
        source: Some("tmpfs"),
        fstype: Some("tmpfs"),
        flags,
        data: (!data.is_empty()).then_some(data.as_str()),
        book: BOOK_MOUNT,
    };
    mount(&tmpfs, &target)?;
    Ok(())
}

/// The tmpfs options the kernel reads: `size=67108864,mode=1770,uid=1000`.
pub fn tmpfs_data(options: &TmpfsOptions) -> String {
    let mut data = Vec::new();
    if let Some(size) = options.size {
        data.push(format!("size={size}"));
    }
    if let Some(mode) = options.mode {
        data.push(format!("mode={mode:o}"));
    }
    data.extend(options.extra.iter().cloned());
    data.join(",")
}
// ANCHOR_END: tmpfs

/// The first 12 characters of a 64-hex anonymous volume's name.
fn short(name: &str) -> &str {
    if name.len() == 64 {
        &name[..12]
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_options_for_the_kernel() {
        let options = TmpfsOptions {
            size: Some(64 << 20),
            mode: Some(0o1770),
            exec: false,
            extra: vec!["uid=1000".into()],
        };
        assert_eq!(tmpfs_data(&options), "size=67108864,mode=1770,uid=1000");
        assert_eq!(tmpfs_data(&TmpfsOptions::default()), "");
    }

    #[test]
    fn symlinked_targets_in_the_image_are_refused() {
        let root = testkit::temp_dir();
        std::os::unix::fs::symlink("/etc", root.path().join("data")).unwrap();
        let m = ContainerMount {
            kind: MountType::Bind,
            name: None,
            source: Some("/tmp".into()),
            destination: "/data/x".into(),
            read_only: false,
            copy_image_data: false,
            anonymous: false,
            tmpfs: None,
        };
        // Fails before any mount(2): the path check comes first.
        let err = mount_all(root.path(), &[m]).unwrap_err();
        assert!(format!("{err:#}").contains("is a symlink in the image"), "{err:#}");
    }
}
