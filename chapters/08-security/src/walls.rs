//! The child hooks that put the walls up, in the only order that works.
//!
//! ```text
//!  chapter 3: mounts, pivot_root        needs CAP_SYS_ADMIN and mount(2)
//!  chapter 5: stdio / console           needs ioctl on the pty
//!  ── before_user ──────────────────────────────────────────────────────
//!     drop the bounding set             needs CAP_SETPCAP: still root
//!     PR_SET_KEEPCAPS = 1               so setuid() keeps `permitted`
//!  chapter 5: setgroups, setgid, setuid needs CAP_SETUID/SETGID
//!  ── after_user ───────────────────────────────────────────────────────
//!     seccomp filter                    needs CAP_SYS_ADMIN or no_new_privs
//!     capset(effective = permitted = the container's set, inheritable = ∅)
//!     clear ambient, KEEPCAPS = 0
//!     no_new_privs (if asked)
//!     not dumpable                      hides our init from /proc
//!  chapter 1: chdir, execve             must still be allowed by the filter
//! ```

use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::ChildHook;
use ch03_union_fs::mounts::{mount, Mount};
use ch03_union_fs::BeforePivot;
use nix::errno::Errno;
use nix::mount::MsFlags;

use crate::caps::{self, CapSet};
use crate::options::Profile;
use crate::seccomp;

pub const BOOK_ORDER: &str = "ch08-security.md#the-order-of-the-walls";
pub const BOOK_NNP: &str = "ch08-security.md#no_new_privs";
pub const BOOK_CVE_2019_5736: &str = "ch08-security.md#cve-2019-5736-overwriting-the-runtime";

/// The two hooks: one before chapter 5's user switch, one after it.
pub struct WallHooks {
    pub before_user: ChildHook,
    pub after_user: ChildHook,
}

// ANCHOR: hooks
/// The hooks for `profile`; add `before_user` before the user switch and
/// `after_user` after it, as the last hook of all.
pub fn hooks(profile: Profile) -> WallHooks {
    let last = caps::last_cap();
    WallHooks {
        before_user: ChildHook::new("lowering the capability bounding set", move || {
            before_user(profile, last)
        }),
        after_user: ChildHook::new("dropping capabilities and installing seccomp", move || {
            after_user(profile)
        }),
    }
}

fn before_user(profile: Profile, last: u8) -> anyhow::Result<()> {
    caps::drop_bounding(profile.caps, last)?;
    caps::keep_caps_across_setuid(true)?;
    Ok(())
}
// ANCHOR_END: hooks

// ANCHOR: hooks_2
fn after_user(profile: Profile) -> anyhow::Result<()> {
    let (_, permitted) = caps::current_sets()?;
    if profile.seccomp {
        // Installing a filter without no_new_privs needs CAP_SYS_ADMIN in
        // the *effective* set, which a setuid() just emptied: raise it back.
        caps::set_sets(permitted, permitted, CapSet(0))?;
        let filter = seccomp::filter_for(profile.caps);
        seccomp::install(&filter, seccomp::denied_for(profile.caps).len())?;
    }
    let keep = CapSet(profile.caps.0 & permitted.0);
    explain::step(Step {
        what: &format!("keep {} capabilities: {}", keep.caps().len(), short_list(keep)),
        syscall: "capset(effective = permitted = the set, inheritable = 0); prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
        shell: "capsh --caps=\"<the set>=eip\" --",
        book: caps::BOOK_CAPS,
    });
    caps::set_sets(keep, keep, CapSet(0))?;
    caps::clear_ambient()?;
    caps::keep_caps_across_setuid(false)?;
    if profile.no_new_privs {
        set_no_new_privs()?;
    }
    set_not_dumpable()?;
    Ok(())
}
// ANCHOR_END: hooks_2

fn short_list(set: CapSet) -> String {
    let names: Vec<String> =
        set.names().iter().map(|n| n.trim_start_matches("CAP_").to_lowercase()).collect();
    if names.len() > 16 {
        format!("all {}", names.len())
    } else {
        names.join(",")
    }
}

// ANCHOR: no_new_privs
/// From now on no `execve` can grant privileges: setuid bits and file
/// capabilities are ignored, for this process and all its descendants.
pub fn set_no_new_privs() -> Result<(), Errno> {
    explain::step(Step {
        what: "set no_new_privs: setuid binaries and file capabilities no longer raise privileges",
        syscall: "prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)",
        shell: "setpriv --no-new-privs <cmd>",
        book: BOOK_NNP,
    });
    // SAFETY: prctl with integer arguments only.
    Errno::result(unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }).map(drop)
}
// ANCHOR_END: no_new_privs

// ANCHOR: dumpable
/// Not dumpable: `/proc/<pid>/` of this process becomes root-owned and
/// `/proc/<pid>/exe`, `mem`, `fd/` need CAP_SYS_PTRACE. `execve` resets
/// the flag, so only a process that does not exec keeps it: our `--init`,
/// a fork of the host's mini-docker binary (CVE-2019-5736).
pub fn set_not_dumpable() -> Result<(), Errno> {
    explain::step(Step {
        what: "make this process not dumpable: the container cannot open its /proc/<pid>/exe",
        syscall: "prctl(PR_SET_DUMPABLE, 0)",
        shell: "(no shell command; runc does the same for runc init)",
        book: BOOK_CVE_2019_5736,
    });
    // SAFETY: prctl with integer arguments only.
    Errno::result(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) }).map(drop)
}
// ANCHOR_END: dumpable

// ANCHOR: read_only_root
/// `--read-only`: the root mount itself becomes read-only, as the last
/// step before pivot_root (volumes could still make their mount points).
/// Only this one mount: `/proc`, `/dev`, `/dev/shm` and the `/etc` files
/// mounted on it keep their own flags, so the container can still write
/// where it must.
pub fn read_only_root_step() -> BeforePivot {
    BeforePivot::new("making the root read-only", |root| {
        let remount = Mount {
            what: "remount the container's root read-only (--read-only)",
            source: None,
            fstype: None,
            flags: MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            data: None,
            book: "ch08-security.md#a-read-only-root",
        };
        Ok(mount(&remount, root)?)
    })
}
// ANCHOR_END: read_only_root
