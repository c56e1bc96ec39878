//! `/dev`: a fresh tmpfs with only the device nodes a container may use,
//! never the host's `/dev` (which would hand it the host's disks).

use std::path::Path;

use ch01_namespaces::explain::{self, Step};
use nix::mount::MsFlags;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};

use crate::mounts::{self, mount, mount_point_dir, Mount, MountError};

pub const BOOK_DEV: &str = "ch03-union-fs.md#dev-device-nodes";

// ANCHOR: devices
/// The device nodes runc creates (name, major, minor), all mode 0666.
pub const DEVICES: [(&str, u64, u64); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The symlinks runc adds (name, target).
pub const DEV_SYMLINKS: [(&str, &str); 6] = [
    ("ptmx", "pts/ptmx"),
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("core", "/proc/kcore"),
];
// ANCHOR_END: devices

/// Mount and fill `/dev` inside `root`: tmpfs, device nodes, symlinks,
/// a private devpts, `/dev/shm` and `/dev/mqueue`.
pub fn setup_dev(root: &Path) -> Result<(), MountError> {
    let dev = mount_point_dir(root, "dev")?;
    mount(
        &Mount {
            what: "mount a small tmpfs on /dev: the container gets its own, not the host's",
            source: Some("tmpfs"),
            fstype: Some("tmpfs"),
            flags: MsFlags::MS_NOSUID | MsFlags::MS_STRICTATIME,
            data: Some("mode=755,size=65536k"),
            book: BOOK_DEV,
        },
        &dev,
    )?;
    for (name, major, minor) in DEVICES {
        make_device(&dev, name, major, minor)?;
    }
    for (name, target) in DEV_SYMLINKS {
        let link = dev.join(name);
        std::os::unix::fs::symlink(target, &link)
            .map_err(|error| MountError::Create { path: link, error })?;
    }
    mount_dev_filesystems(root)
}

// ANCHOR: make_device
fn make_device(dev: &Path, name: &str, major: u64, minor: u64) -> Result<(), MountError> {
    let path = dev.join(name);
    explain::step(Step {
        what: &format!("create the device node /dev/{name} ({major}:{minor})"),
        syscall: &format!("mknod({:?}, S_IFCHR | 0666, makedev({major}, {minor}))", path),
        shell: &format!("mknod -m 666 {} c {major} {minor}", path.display()),
        book: BOOK_DEV,
    });
    let mode = Mode::from_bits_truncate(0o666);
    match mknod(&path, SFlag::S_IFCHR, mode, makedev(major, minor)) {
        // In a user namespace mknod is refused even to its root: only the
        // host's root may bring a device into being.
        Err(nix::Error::EPERM) => return bind_host_device(&path, name),
        other => {
            other.map_err(|errno| MountError::Create { path: path.clone(), error: errno.into() })?
        }
    }
    // mknod applies our umask (usually 022): set the mode we meant.
    nix::sys::stat::fchmodat(
        nix::fcntl::AT_FDCWD,
        &path,
        mode,
        nix::sys::stat::FchmodatFlags::FollowSymlink,
    )
    .map_err(|errno| MountError::Create { path, error: errno.into() })
}
// ANCHOR_END: make_device

// ANCHOR: make_device_2
/// What runc does in a user namespace: an empty file, with the host's
/// device node bind-mounted on it (the host's `/dev` is still in view).
fn bind_host_device(path: &Path, name: &str) -> Result<(), MountError> {
    std::fs::File::create(path)
        .map_err(|error| MountError::Create { path: path.to_path_buf(), error })?;
    let host_device = format!("/dev/{name}");
    let bind = Mount {
        what: "bind the host's device node (mknod is refused in a user namespace)",
        source: Some(&host_device),
        fstype: None,
        flags: MsFlags::MS_BIND,
        data: None,
        book: BOOK_DEV,
    };
    mount(&bind, path)
}
// ANCHOR_END: make_device_2

fn mount_dev_filesystems(root: &Path) -> Result<(), MountError> {
    let nosuid_noexec_nodev = MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_NODEV;
    let filesystems = [
        (
            "dev/pts",
            Mount {
                what: "mount a new devpts instance: the container's terminals, not the host's",
                source: Some("devpts"),
                fstype: Some("devpts"),
                flags: MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC,
                data: Some("newinstance,ptmxmode=0666,mode=0620,gid=5"),
                book: BOOK_DEV,
            },
        ),
        (
            "dev/shm",
            Mount {
                what: "mount a tmpfs on /dev/shm for POSIX shared memory",
                source: Some("shm"),
                fstype: Some("tmpfs"),
                flags: nosuid_noexec_nodev,
                data: Some("mode=1777,size=65536k"),
                book: BOOK_DEV,
            },
        ),
        (
            "dev/mqueue",
            Mount {
                what: "mount the message queues of the container's IPC namespace",
                source: Some("mqueue"),
                fstype: Some("mqueue"),
                flags: nosuid_noexec_nodev,
                data: None,
                book: BOOK_DEV,
            },
        ),
    ];
    for (path, m) in &filesystems {
        mount(m, &mounts::mount_point_dir(root, path)?)?;
    }
    Ok(())
}
