//! Exercise `parse_mountinfo` (medium). Book: ch02-cgroups.md, "Finding the hierarchies".
//!
//! A mountinfo line:
//! ```text
//! 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
//! ^id ^parent ^dev ^root ^mount point  ^options  ^sep ^type ^source ^super options
//! ```
//! (the optional fields before ` - ` vary in number). A `cgroup2` line is
//! the v2 tree; each `cgroup` line is a v1 hierarchy whose controllers are
//! the super options that are not flags (`rw`, `ro`, `noprefix`,
//! `clone_children`, `xattr`, `cpuset_v2_mode`) or `key=value` (such as
//! `name=systemd`). Mount points escape a space as `\040` (octal).
//! Start from `Layout::default()`: its `kernel` field (what `/proc/cgroups`
//! says) is filled by `detect`, not from mountinfo.

use ch02_cgroups::detect::{Layout, Mount};

/// Parse the text of /proc/self/mountinfo into the host's cgroup layout.
pub fn parse_mountinfo(text: &str) -> Layout {
    todo!("split each line at \" - \", then look at the filesystem type")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the mount point taken as it is written, without
    // undoing the kernel's octal escapes: a space in a path stays `\040`. Checked by pasting it
    // into the reference implementation: it fails `no_cgroups_and_escaped_mount_points`.
    //
    //     mount_point: PathBuf::from(fields[4]),

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch02_cgroups::detect as solution;

    use std::path::{Path, PathBuf};

    use ch02_cgroups::Kind;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
";

    const UNIFIED: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
29 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
";

    const LEGACY: &str = "\
25 22 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 /docker/abc /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
";

    #[test]
    fn hybrid_host_has_v1_controllers_and_a_v2_tree() {
        let layout = solution::parse_mountinfo(HYBRID);
        assert_eq!(layout.kind(), Kind::Hybrid);
        assert_eq!(
            layout.v1.keys().collect::<Vec<_>>(),
            ["cpu", "cpuacct", "memory", "pids"],
            "name=systemd is not a controller"
        );
        assert_eq!(layout.v1_root("cpuacct"), Some(Path::new("/sys/fs/cgroup/cpuacct")));
        assert_eq!(layout.v2.unwrap().mount_point, PathBuf::from("/sys/fs/cgroup/unified"));
    }

    #[test]
    fn unified_host_has_only_cgroup2() {
        let layout = solution::parse_mountinfo(UNIFIED);
        assert_eq!(layout.kind(), Kind::Unified);
        assert!(layout.v1.is_empty());
        let v2 = layout.v2.unwrap();
        assert_eq!(v2.mount_point, PathBuf::from("/sys/fs/cgroup"));
        assert_eq!(v2.root, "/");
        assert!(v2.controllers.is_empty());
    }

    #[test]
    fn legacy_host_with_comounted_cpu_and_cpuacct() {
        let layout = solution::parse_mountinfo(LEGACY);
        assert_eq!(layout.kind(), Kind::Legacy);
        assert_eq!(layout.v1_root("cpu"), Some(Path::new("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(layout.v1_root("cpuacct"), layout.v1_root("cpu"));
        assert_eq!(layout.v1["cpu"].controllers, ["cpu", "cpuacct"]);
        assert_eq!(layout.v1["memory"].root, "/docker/abc");
        assert!(layout.v1_root("pids").is_none());
    }

    #[test]
    fn no_cgroups_and_escaped_mount_points() {
        assert_eq!(
            solution::parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n").kind(),
            Kind::None
        );
        let layout = solution::parse_mountinfo(
            "30 25 0:27 / /mnt/my\\040cgroups rw - cgroup cgroup rw,pids\n",
        );
        assert_eq!(layout.v1_root("pids"), Some(Path::new("/mnt/my cgroups")));
    }
}
