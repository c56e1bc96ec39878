//! A controller that a flag needs is missing: say how to get it.
//!
//! `/proc/cgroups` tells why it is missing. The kernel may lack it, its
//! command line may disable it (`cgroup_disable=pids`), a v1 hierarchy may
//! hold it (a controller lives in one hierarchy at a time, so cgroup2 then
//! cannot offer it), or it may simply not be mounted.

use std::path::{Path, PathBuf};

use crate::detect::Layout;

// ANCHOR: how_to_get
/// The end of the "controller missing" error: what to do on this host.
pub fn how_to_get(layout: &Layout, controller: &str) -> String {
    let v2 = layout.uses_v2();
    match layout.kernel.get(controller) {
        None if !layout.kernel.is_empty() => format!(
            "this kernel has no {controller} controller: use one built with {}",
            kernel_option(controller)
        ),
        Some(known) if !known.enabled => format!(
            "the kernel command line disables it (cgroup_disable={controller}): boot without that"
        ),
        Some(known) if v2 && known.hierarchy != 0 => format!(
            "a cgroup v1 hierarchy holds it (hierarchy {} in /proc/cgroups): unmount that \
             hierarchy, or boot with cgroup_no_v1={controller}",
            known.hierarchy
        ),
        _ if v2 => format!(
            "the cgroup mounted at {} does not get it from its parent: add +{controller} to \
             the parent's cgroup.subtree_control",
            layout.v2.as_ref().map(|m| m.mount_point.display().to_string()).unwrap_or_default()
        ),
        _ => {
            let dir = v1_base(layout).join(controller);
            let dir = dir.display();
            format!("mount it: mkdir -p {dir} && mount -t cgroup -o {controller} cgroup {dir}")
        }
    }
}
// ANCHOR_END: how_to_get

/// Where this host mounts its v1 hierarchies: `/sys/fs/cgroup` usually.
fn v1_base(layout: &Layout) -> PathBuf {
    let mounted = layout.v1.values().find_map(|m| m.mount_point.parent());
    mounted.unwrap_or(Path::new("/sys/fs/cgroup")).to_path_buf()
}

/// The kernel's build option for a controller.
fn kernel_option(controller: &str) -> &'static str {
    match controller {
        "memory" => "CONFIG_MEMCG",
        "cpu" => "CONFIG_CGROUP_SCHED and CONFIG_CFS_BANDWIDTH",
        "cpuacct" => "CONFIG_CGROUP_CPUACCT",
        "pids" => "CONFIG_CGROUP_PIDS",
        "freezer" => "CONFIG_CGROUP_FREEZER",
        "devices" => "CONFIG_CGROUP_DEVICE",
        _ => "CONFIG_CGROUPS",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::{parse_mountinfo, parse_proc_cgroups};

    const V1: &str = "30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
    const V2: &str = "29 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

    fn layout(mountinfo: &str, proc_cgroups: &str) -> Layout {
        let mut layout = parse_mountinfo(mountinfo);
        layout.kernel = parse_proc_cgroups(proc_cgroups);
        layout
    }

    #[test]
    fn v1_controller_not_mounted_gets_the_mount_command() {
        let fix = how_to_get(&layout(V1, "memory 2 1 1\npids 0 1 1\n"), "pids");
        assert_eq!(
            fix,
            "mount it: mkdir -p /sys/fs/cgroup/pids && mount -t cgroup -o pids cgroup /sys/fs/cgroup/pids"
        );
        // Without /proc/cgroups to go by, the same advice.
        assert_eq!(how_to_get(&layout(V1, ""), "pids"), fix);
    }

    #[test]
    fn v2_controller_held_by_a_v1_hierarchy() {
        let fix = how_to_get(&layout(V2, "memory 0 1 1\npids 9 2 1\n"), "pids");
        assert_eq!(
            fix,
            "a cgroup v1 hierarchy holds it (hierarchy 9 in /proc/cgroups): unmount that hierarchy, or boot with cgroup_no_v1=pids"
        );
    }

    #[test]
    fn v2_controller_not_delegated_by_the_parent() {
        let fix = how_to_get(&layout(V2, "pids 0 1 1\n"), "pids");
        assert!(fix.starts_with("the cgroup mounted at /sys/fs/cgroup does not get it"), "{fix}");
    }

    #[test]
    fn kernel_without_it_or_with_it_disabled() {
        let fix = how_to_get(&layout(V2, "memory 0 1 1\n"), "pids");
        assert_eq!(
            fix,
            "this kernel has no pids controller: use one built with CONFIG_CGROUP_PIDS"
        );
        let fix = how_to_get(&layout(V1, "memory 2 1 0\n"), "memory");
        assert!(fix.contains("cgroup_disable=memory"), "{fix}");
    }
}
