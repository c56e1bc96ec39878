//! What each cgroup feature needs on this host's layout, and whether the
//! host has it: the cgroup lines of `mini-docker doctor`.

use std::path::Path;

use crate::detect::{v2_controllers, Kind, Layout};
use crate::missing::how_to_get;
use crate::view::CgroupNs;

/// One feature, what it needs here, and what to do when that is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// The flag or command: `-m/--memory`, `pause/unpause`.
    pub feature: &'static str,
    /// What it uses on this layout, in words and file names.
    pub needs: String,
    pub ready: bool,
    /// Empty when ready.
    pub fix: String,
}

// ANCHOR: needs
/// Every feature's need on `layout`, in the order `doctor` prints them.
pub fn needs(layout: &Layout) -> Vec<Need> {
    if layout.kind() == Kind::None {
        return Vec::new();
    }
    let v2 = layout.uses_v2();
    let files = |v1: &'static str, v2_files: &'static str| if v2 { v2_files } else { v1 };
    let found = vec![
        controller(layout, "-m/--memory", "memory", files("memory.limit_in_bytes", "memory.max")),
        controller(
            layout,
            "--cpus, --cpu-shares",
            "cpu",
            files("cpu.cfs_quota_us, cpu.shares", "cpu.max, cpu.weight"),
        ),
        controller(layout, "--pids-limit", "pids", "pids.max"),
        freezer(layout),
        view(layout),
        devices(layout),
    ];
    found
}
// ANCHOR_END: needs

/// A flag that needs one controller.
fn controller(layout: &Layout, feature: &'static str, name: &'static str, files: &str) -> Need {
    let (needs, ready) = if layout.uses_v2() {
        let mount = layout.v2.as_ref().map(|m| m.mount_point.as_path()).unwrap_or(Path::new(""));
        let ready = v2_controllers(mount).iter().any(|c| c == name);
        (format!("the {name} controller in cgroup2 ({files})"), ready)
    } else {
        let at = layout.v1_root(name).map(|p| format!(" at {}", p.display())).unwrap_or_default();
        (format!("the v1 {name} hierarchy{at} ({files})"), !at.is_empty())
    };
    let fix = if ready { String::new() } else { how_to_get(layout, name) };
    Need { feature, needs, ready, fix }
}

fn freezer(layout: &Layout) -> Need {
    if !layout.uses_v2() {
        return controller(layout, "pause/unpause", "freezer", "freezer.state");
    }
    let ready = kernel_at_least(5, 2);
    Need {
        feature: "pause/unpause",
        needs: "cgroup.freeze and cgroup.events (Linux 5.2 and later)".into(),
        ready,
        fix: if ready { String::new() } else { "use Linux 5.2 or later".into() },
    }
}

fn view(layout: &Layout) -> Need {
    let needs = match CgroupNs::default_for(layout) {
        CgroupNs::Private => {
            "a private cgroup namespace (Docker's default on v2) and cgroup2 \
                              mounted read-only at /sys/fs/cgroup"
        }
        CgroupNs::Host => {
            "the host's cgroup namespace (Docker's default on v1 and hybrid) and \
                           each hierarchy's container directory bound read-only"
        }
    };
    let ready = Path::new("/proc/self/ns/cgroup").exists() || !layout.uses_v2();
    let fix = if ready { "" } else { "use a kernel with CONFIG_CGROUPS and cgroup namespaces" };
    Need { feature: "/sys/fs/cgroup in a container", needs: needs.into(), ready, fix: fix.into() }
}

/// Device rules: a v1 hierarchy; cgroup v2 has no files for them.
fn devices(layout: &Layout) -> Need {
    if layout.uses_v2() {
        return Need {
            feature: "device rules",
            needs: "cgroup v2 has no devices files: Docker attaches an eBPF program instead".into(),
            ready: false,
            fix: "mini-docker drops CAP_MKNOD there, so no container can make a device node".into(),
        };
    }
    controller(layout, "device rules", "devices", "devices.deny, devices.allow")
}

/// Is the running kernel at least `major.minor`?
fn kernel_at_least(major: u32, minor: u32) -> bool {
    let release = nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned());
    let release = release.unwrap_or_default();
    let mut numbers = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok());
    let (found_major, found_minor): (u32, u32) =
        (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (found_major, found_minor) >= (major, minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::parse_mountinfo;

    #[test]
    fn v1_with_pids_missing_says_how_to_mount_it() {
        let layout = parse_mountinfo(
            "30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
             31 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
        );
        let found = needs(&layout);
        let names: Vec<&str> = found.iter().map(|n| n.feature).collect();
        assert_eq!(
            names,
            [
                "-m/--memory",
                "--cpus, --cpu-shares",
                "--pids-limit",
                "pause/unpause",
                "/sys/fs/cgroup in a container",
                "device rules"
            ]
        );
        assert!(found[0].ready);
        assert_eq!(
            found[1].needs,
            "the v1 cpu hierarchy at /sys/fs/cgroup/cpu,cpuacct (cpu.cfs_quota_us, cpu.shares)"
        );
        assert!(!found[2].ready);
        assert!(
            found[2].fix.starts_with("mount it: mkdir -p /sys/fs/cgroup/pids"),
            "{}",
            found[2].fix
        );
        assert!(!found[3].ready && found[3].needs.contains("freezer.state"));
    }

    #[test]
    fn v2_names_its_files_and_the_missing_device_cgroup() {
        let layout = parse_mountinfo("29 1 0:26 / /nonexistent rw - cgroup2 cgroup2 rw\n");
        let found = needs(&layout);
        assert_eq!(found[0].needs, "the memory controller in cgroup2 (memory.max)");
        assert!(!found[0].ready, "no cgroup.controllers to read here");
        assert!(found[4].needs.starts_with("a private cgroup namespace"));
        assert!(!found[5].ready && found[5].fix.contains("CAP_MKNOD"));
    }

    #[test]
    fn nothing_mounted_nothing_to_say() {
        assert!(needs(&Layout::default()).is_empty());
    }
}
