//! A fresh `/proc` for a new PID namespace.
//!
//! `/proc` shows the processes of the PID namespace it was mounted *from*.
//! A child in a new PID namespace still sees the host's `/proc` until it
//! mounts its own — so `ps` would list every host process.

use nix::mount::{mount, MsFlags};

use crate::explain::{self, Step};
use crate::spawn::ChildHook;

// ANCHOR: make_private
/// Stop mount events from propagating between our new mount namespace and
/// the host's. On systemd hosts `/` is a shared mount, so without this a
/// mount made in the container would appear on the host too.
pub fn make_mounts_private() -> nix::Result<()> {
    explain::step(Step {
        what: "make every mount private, so nothing we mount propagates to the host",
        syscall: "mount(NULL, \"/\", NULL, MS_REC | MS_PRIVATE, NULL)",
        shell: "mount --make-rprivate /",
        book: "ch01-namespaces.md#mnt-your-own-mount-table",
    });
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
}
// ANCHOR_END: make_private

// ANCHOR: mount_proc
/// Mount a new procfs on `/proc`, with Docker's options.
pub fn mount_proc(target: &str) -> nix::Result<()> {
    explain::step(Step {
        what: &format!("mount a procfs for the new PID namespace on {target}"),
        syscall: &format!(
            "mount(\"proc\", \"{target}\", \"proc\", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)"
        ),
        shell: &format!("mount -t proc -o nosuid,nodev,noexec proc {target}"),
        book: "ch01-namespaces.md#pid-your-own-process-numbers",
    });
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("proc"), target, Some("proc"), flags, None::<&str>)
}
// ANCHOR_END: mount_proc

/// The child hook chapter 1 uses when the container keeps the host's root
/// filesystem: private mounts, then a new `/proc` over the host's.
/// (Chapter 3 replaces this with a whole new root.)
pub fn remount_proc_hook() -> ChildHook {
    ChildHook::new("mounting /proc", || {
        make_mounts_private()?;
        mount_proc("/proc")?;
        Ok(())
    })
}
