//! Masked and read-only paths: the parts of `/proc` and `/sys` that show
//! the host (its keys, its kernel memory, its firmware) or let a process
//! reconfigure it (`/proc/sys`, `/proc/sysrq-trigger`), hidden or frozen
//! the way Docker does.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use nix::mount::MsFlags;
use nix::sys::stat::{major, minor};

use crate::mounts::{inside_root, mount, Mount, MountError};

pub const BOOK_MASKS: &str = "ch03-union-fs.md#masked-and-read-only-paths";

// ANCHOR: paths
/// Hidden: files get `/dev/null` on top, directories an empty read-only tmpfs.
pub const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Visible but read-only.
pub const READONLY_PATHS: [&str; 5] =
    ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];
// ANCHOR_END: paths

/// Mask and freeze everything above, inside `root` (with `/proc`, `/sys`
/// and `/dev` already mounted there). Paths this kernel lacks are skipped.
pub fn apply(root: &Path) -> Result<(), MountError> {
    let mut masked: Vec<String> = MASKED_PATHS.iter().map(|p| p.to_string()).collect();
    masked.extend(thermal_throttle_dirs(root));
    for path in &masked {
        mask(root, path)?;
    }
    for path in READONLY_PATHS {
        make_readonly(root, path)?;
    }
    Ok(())
}

/// `/sys/devices/system/cpu/cpu<N>/thermal_throttle`, for each CPU that has one.
fn thermal_throttle_dirs(root: &Path) -> Vec<String> {
    let Ok(cpus) = std::fs::read_dir(root.join("sys/devices/system/cpu")) else {
        return Vec::new();
    };
    let mut dirs: Vec<String> = cpus
        .flatten()
        .filter(|cpu| cpu.path().join("thermal_throttle").is_dir())
        .map(|cpu| {
            format!(
                "/sys/devices/system/cpu/{}/thermal_throttle",
                cpu.file_name().to_string_lossy()
            )
        })
        .collect();
    dirs.sort();
    dirs
}

// ANCHOR: mask
fn mask(root: &Path, path: &str) -> Result<(), MountError> {
    let target = inside_root(root, path)?;
    let Ok(meta) = target.symlink_metadata() else { return Ok(()) };
    if meta.is_dir() {
        let m = Mount {
            what: &format!("mask the directory {path} with an empty read-only tmpfs"),
            source: Some("tmpfs"),
            fstype: Some("tmpfs"),
            flags: MsFlags::MS_RDONLY,
            data: None,
            book: BOOK_MASKS,
        };
        return mount(&m, &target);
    }
    let null = container_dev_null(root)?;
    let source = null.to_string_lossy();
    let m = Mount {
        what: &format!("mask the file {path} with the container's /dev/null"),
        source: Some(&source),
        fstype: None,
        flags: MsFlags::MS_BIND,
        data: None,
        book: BOOK_MASKS,
    };
    mount(&m, &target)
}
// ANCHOR_END: mask

// ANCHOR: mask_2
/// The container's `/dev/null`, checked: it must really be the character
/// device 1:3. (CVE-2025-31133: runc bind-mounted whatever `/dev/null`
/// was — a symlink planted by the container redirected the mask.)
fn container_dev_null(root: &Path) -> Result<PathBuf, MountError> {
    let null = inside_root(root, "dev/null")?;
    let genuine = null
        .symlink_metadata()
        .map(|m| m.file_type().is_char_device() && major(m.rdev()) == 1 && minor(m.rdev()) == 3)
        .unwrap_or(false);
    if !genuine {
        return Err(MountError::NotDevNull(null));
    }
    Ok(null)
}
// ANCHOR_END: mask_2

// ANCHOR: readonly
/// A bind mount of a path onto itself, then a remount of that bind mount
/// read-only: flags of a bind mount can only change by remounting it.
fn make_readonly(root: &Path, path: &str) -> Result<(), MountError> {
    let target = inside_root(root, path)?;
    if target.symlink_metadata().is_err() {
        return Ok(());
    }
    let source = target.to_string_lossy();
    let bind = Mount {
        what: &format!("bind {path} onto itself, so it becomes a mount of its own"),
        source: Some(&source),
        fstype: None,
        flags: MsFlags::MS_BIND | MsFlags::MS_REC,
        data: None,
        book: BOOK_MASKS,
    };
    mount(&bind, &target)?;
    let remount = Mount {
        what: &format!("remount {path} read-only"),
        source: None,
        fstype: None,
        // Keep /proc's nosuid, nodev, noexec: a remount sets all flags anew.
        flags: MsFlags::MS_BIND
            | MsFlags::MS_REMOUNT
            | MsFlags::MS_RDONLY
            | MsFlags::MS_NOSUID
            | MsFlags::MS_NODEV
            | MsFlags::MS_NOEXEC,
        data: None,
        book: BOOK_MASKS,
    };
    mount(&remount, &target)
}
// ANCHOR_END: readonly
