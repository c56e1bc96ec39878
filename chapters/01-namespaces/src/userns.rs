//! User namespaces: root inside, an ordinary user outside.
//!
//! A new user namespace starts with no id mapping at all: its processes run
//! as the overflow id 65534 ("nobody") and can do nothing useful. The
//! *parent* must write the child's `uid_map` and `gid_map` — which is why
//! this is a parent hook, run while the child waits.

use std::fs;

use anyhow::Context;
use nix::unistd::{getegid, geteuid, Pid};

use crate::explain::{self, Step};
use crate::spawn::{ChildHook, ParentHook};

// ANCHOR: id_map
/// One line of `/proc/PID/uid_map`: `inside outside count`.
pub fn id_map_line(inside: u32, outside: u32, count: u32) -> String {
    format!("{inside} {outside} {count}\n")
}

/// Map root in the child's user namespace to our own uid and gid, as
/// `unshare --map-root-user` does. `setgroups` must be denied first: an
/// unprivileged process may not write `gid_map` while it could still call
/// setgroups(2) to drop a group that was denying it access.
pub fn map_root_to_self(child: Pid) -> anyhow::Result<()> {
    let proc_dir = format!("/proc/{child}");
    let (uid, gid) = (geteuid().as_raw(), getegid().as_raw());
    write_step(&format!("{proc_dir}/setgroups"), "deny")?;
    write_step(&format!("{proc_dir}/uid_map"), &id_map_line(0, uid, 1))?;
    write_step(&format!("{proc_dir}/gid_map"), &id_map_line(0, gid, 1))?;
    Ok(())
}
// ANCHOR_END: id_map

fn write_step(path: &str, content: &str) -> anyhow::Result<()> {
    explain::step(Step {
        what: &format!("write the user namespace's {}", path.rsplit('/').next().unwrap_or(path)),
        syscall: &format!("write(open(\"{path}\"), {:?})", content),
        shell: &format!("echo '{}' > {path}", content.trim_end()),
        book: "ch01-namespaces.md#user-root-inside-nobody-outside",
    });
    fs::write(path, content).with_context(|| format!("writing {path}"))
}

/// The parent hook that maps the child's root to us.
pub fn map_root_hook() -> ParentHook {
    ParentHook::new("mapping the user namespace's ids", map_root_to_self)
}

// ANCHOR: become_root
/// The child hook that becomes root *of the user namespace* it is in. A
/// process that entered a namespace whose map does not contain its uid —
/// the host's root, in a namespace that maps a range of ordinary ids —
/// shows as 65534 there, and an exec would drop every capability. After
/// setuid(0) its uid is the one the map gives 0: root inside.
pub fn become_root_hook() -> ChildHook {
    ChildHook::new("becoming root of the user namespace", || {
        explain::step(Step {
            what: "take the namespace's uid and gid 0 (the range's first ids on the host)",
            syscall: "setgroups(0, NULL); setresgid(0, 0, 0); setresuid(0, 0, 0)",
            shell: "unshare --map-user=0 (done by the runtime, as runc does)",
            book: "ch01-namespaces.md#user-root-inside-nobody-outside",
        });
        let (root_gid, root_uid) = (nix::unistd::Gid::from_raw(0), nix::unistd::Uid::from_raw(0));
        nix::unistd::setgroups(&[])?;
        nix::unistd::setresgid(root_gid, root_gid, root_gid)?;
        nix::unistd::setresuid(root_uid, root_uid, root_uid)?;
        Ok(())
    })
}
// ANCHOR_END: become_root

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_line_format() {
        assert_eq!(id_map_line(0, 1000, 1), "0 1000 1\n");
        assert_eq!(id_map_line(0, 100000, 65536), "0 100000 65536\n");
    }
}
