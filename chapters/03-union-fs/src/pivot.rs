//! Entering the new root the way runc does: `pivot_root`, then detach the
//! old root so that nothing of the host stays reachable.
//!
//! Why not `chroot`? chroot only changes where path lookups start for one
//! process; the host's whole mount tree is still there, and a root process
//! can walk out of it (see the book's chroot escape). `pivot_root` swaps
//! the root *mount* of the mount namespace, and once the old root is
//! unmounted there is no host tree left to walk back to.

use std::path::Path;

use ch01_namespaces::explain::{self, Step};
use nix::fcntl::{open, OFlag};
use nix::mount::{umount2, MntFlags, MsFlags};
use nix::sys::stat::Mode;
use nix::unistd::{chdir, fchdir, pivot_root};

pub const BOOK_PIVOT: &str = "ch03-union-fs.md#pivot_root-not-chroot";

// ANCHOR: pivot
/// Make `new_root` (a mount point) the root of this mount namespace and
/// drop the old root. runc's `pivotRoot`, step for step.
pub fn pivot_into(new_root: &Path) -> nix::Result<()> {
    let old_root =
        open("/", OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    let new_root_fd =
        open(new_root, OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())?;
    fchdir(&new_root_fd)?;
    explain::step(Step {
        what: &format!(
            "make {} the root; the old root is stacked under it at the same place",
            new_root.display()
        ),
        syscall: "pivot_root(\".\", \".\")",
        shell: &format!("cd {} && pivot_root . .", new_root.display()),
        book: BOOK_PIVOT,
    });
    // With both arguments ".", no directory for the old root is needed:
    // it ends up mounted beneath the new one, on "/" as well.
    pivot_root(".", ".")?;
    fchdir(&old_root)?;
    make_rslave_here()?;
    explain::step(Step {
        what: "detach the old root: the host's files are gone from this mount namespace",
        syscall: "umount2(\".\", MNT_DETACH)",
        shell: "umount -l .",
        book: BOOK_PIVOT,
    });
    umount2(".", MntFlags::MNT_DETACH)?;
    chdir("/")
}
// ANCHOR_END: pivot

// ANCHOR: make_rslave_here
/// Make the mount at the current directory (the old root, after the
/// pivot) and every mount below it a slave: events still come from the
/// host, none goes back, so the unmount that follows stays in here.
fn make_rslave_here() -> nix::Result<()> {
    explain::step(Step {
        what: "make the old root a slave, so unmounting it cannot reach the host",
        syscall: "mount(NULL, \".\", NULL, MS_SLAVE | MS_REC, NULL)",
        shell: "mount --make-rslave .",
        book: BOOK_PIVOT,
    });
    let flags = MsFlags::MS_SLAVE | MsFlags::MS_REC;
    nix::mount::mount(None::<&str>, ".", None::<&str>, flags, None::<&str>)
}
// ANCHOR_END: make_rslave_here
