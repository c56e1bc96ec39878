//! The device cgroup: which device nodes the container may open.
//!
//! CAP_MKNOD is in Docker's default set, so root in a container can make a
//! node for the host's disk (`mknod /disk b 254 0`). What stops it from
//! reading the disk through it is this list: everything is denied, then a
//! handful of harmless character devices are allowed back.

use std::path::Path;

use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::ParentHook;
use ch02_cgroups::Cgroup;

pub const BOOK_DEVICES: &str = "ch08-security.md#the-device-cgroup";

// ANCHOR: rules
/// Docker's rules (moby `oci/defaults.go`, runc's `AllowedDevices`):
/// `type major:minor access`, with r = read, w = write, m = mknod.
pub const ALLOWED: [&str; 11] = [
    "c *:* m", // make any node: harmless while it cannot be opened
    "b *:* m",
    "c 1:3 rwm",   // null
    "c 1:5 rwm",   // zero
    "c 1:7 rwm",   // full
    "c 1:8 rwm",   // random
    "c 1:9 rwm",   // urandom
    "c 5:0 rwm",   // tty
    "c 5:1 rwm",   // console
    "c 5:2 rwm",   // ptmx
    "c 136:* rwm", // the pseudo-terminals of /dev/pts
];
// ANCHOR_END: rules

/// Whether this host has a v1 devices controller (hybrid or legacy).
pub fn host_has_device_cgroup() -> bool {
    ch02_cgroups::detect_once().map(|layout| layout.v1_root("devices").is_some()).unwrap_or(false)
}

// ANCHOR: apply
/// Deny every device, then allow [`ALLOWED`], in the cgroup's v1 devices
/// directory. Written before the child is released, like the limits.
pub fn apply_rules(dir: &Path) -> anyhow::Result<()> {
    write(dir, "devices.deny", "a")?;
    for rule in ALLOWED {
        write(dir, "devices.allow", rule)?;
    }
    Ok(())
}

fn write(dir: &Path, file: &str, value: &str) -> anyhow::Result<()> {
    let path = dir.join(file);
    explain::step(Step {
        what: &format!(
            "device cgroup: {} {value}",
            if file.ends_with("deny") { "deny" } else { "allow" }
        ),
        syscall: &format!("write(\"{}\", \"{value}\")", path.display()),
        shell: &format!("echo '{value}' > {}", path.display()),
        book: BOOK_DEVICES,
    });
    std::fs::write(&path, value)
        .map_err(|e| anyhow::anyhow!("writing {value:?} to {}: {e}", path.display()))
}
// ANCHOR_END: apply

/// The parent hook: the rules go in while the child waits on the sync pipe.
/// A cgroup without a devices directory (cgroup v2) gets nothing here:
/// [`crate::options::SecurityOptions::profile`] drops CAP_MKNOD instead.
pub fn device_rules_hook(cgroup: &Cgroup) -> ParentHook {
    let dir = cgroup.dir_of("devices").map(Path::to_path_buf);
    ParentHook::new("writing the device cgroup rules", move |_child| match &dir {
        Some(dir) => apply_rules(dir),
        None => Ok(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_block_device_is_readable() {
        assert!(ALLOWED.iter().all(|r| !r.starts_with('b') || r.ends_with(" m")));
        assert!(ALLOWED.iter().all(|r| r.split(' ').count() == 3));
    }
}
