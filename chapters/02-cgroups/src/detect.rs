//! Which cgroup layout does this host have? Read it from /proc/self/mountinfo.
//!
//! - **v2 (unified)**: one `cgroup2` mount, every controller in one tree.
//! - **v1 (legacy)**: one `cgroup` mount per controller (or group of
//!   controllers, like `cpu,cpuacct`), each its own tree.
//! - **hybrid**: v1 controller mounts *and* a `cgroup2` mount beside them
//!   (usually `/sys/fs/cgroup/unified`) that holds few or no controllers.
//!   We use the v1 trees there: that is where the controllers are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One mounted cgroup hierarchy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Where it is mounted: `/sys/fs/cgroup/memory`.
    pub mount_point: PathBuf,
    /// Which cgroup of the hierarchy appears at the mount point (`/` on a
    /// host; a sub-path inside a container with a cgroup namespace).
    pub root: String,
    /// v1: the controllers attached (`cpu`, `cpuacct`...); empty for v2.
    pub controllers: Vec<String>,
}

// ANCHOR: layout
/// The cgroup layout of a host, as mountinfo shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// v1 controller name → its hierarchy (`cpu` and `cpuacct` may share one).
    pub v1: BTreeMap<String, Mount>,
    /// The cgroup2 mount, if any.
    pub v2: Option<Mount>,
    /// What `/proc/cgroups` says of each controller the kernel has; empty
    /// when unknown. Only used to say how to get a missing controller.
    pub kernel: BTreeMap<String, KernelController>,
}

/// One line of `/proc/cgroups`: where the kernel keeps a controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelController {
    /// The v1 hierarchy that holds it, or 0: free for cgroup2.
    pub hierarchy: u32,
    /// False when the kernel command line said `cgroup_disable=NAME`.
    pub enabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only cgroup2: all controllers in one tree.
    Unified,
    /// Only v1 hierarchies.
    Legacy,
    /// v1 controllers, plus a cgroup2 tree beside them.
    Hybrid,
    /// No cgroup filesystem mounted at all.
    None,
}
// ANCHOR_END: layout

impl Layout {
    pub fn kind(&self) -> Kind {
        match (self.v1.is_empty(), &self.v2) {
            (true, Some(_)) => Kind::Unified,
            (false, Some(_)) => Kind::Hybrid,
            (false, None) => Kind::Legacy,
            (true, None) => Kind::None,
        }
    }

    /// Do we drive the v2 tree? Only on a unified host: on a hybrid host the
    /// controllers live in the v1 trees.
    pub fn uses_v2(&self) -> bool {
        self.kind() == Kind::Unified
    }

    /// The directory of `controller`'s v1 hierarchy root, if mounted.
    pub fn v1_root(&self, controller: &str) -> Option<&Path> {
        self.v1.get(controller).map(|m| m.mount_point.as_path())
    }
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Unified => "v2 (unified)",
            Kind::Legacy => "v1",
            Kind::Hybrid => "hybrid",
            Kind::None => "none",
        }
    }
}

// ANCHOR: parse_mountinfo
/// Parse the text of /proc/self/mountinfo. A line looks like
///
/// ```text
/// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
/// ^id ^parent ^dev ^root ^mount point  ^options  ^sep ^type ^source ^super options
/// ```
///
/// For v1 the controllers are in the super options; named hierarchies
/// without a controller (`name=systemd`) are skipped.
pub fn parse_mountinfo(text: &str) -> Layout {
    let mut layout = Layout::default();
    for line in text.lines() {
        let Some((before, after)) = line.split_once(" - ") else { continue };
        let fields: Vec<&str> = before.split(' ').collect();
        let tail: Vec<&str> = after.split(' ').collect();
        if fields.len() < 5 || tail.len() < 3 {
            continue;
        }
        let mount = |controllers| Mount {
            mount_point: PathBuf::from(unescape(fields[4])),
            root: unescape(fields[3]),
            controllers,
        };
        match tail[0] {
            "cgroup2" => layout.v2 = Some(mount(Vec::new())),
            "cgroup" => {
                let controllers = v1_controllers(tail[2]);
                for controller in &controllers {
                    layout.v1.insert(controller.clone(), mount(controllers.clone()));
                }
            }
            _ => {}
        }
    }
    layout
}
// ANCHOR_END: parse_mountinfo

/// The controllers among a v1 mount's super options (`rw,cpu,cpuacct`).
fn v1_controllers(super_options: &str) -> Vec<String> {
    const NOT_CONTROLLERS: [&str; 6] =
        ["rw", "ro", "noprefix", "clone_children", "xattr", "cpuset_v2_mode"];
    super_options
        .split(',')
        .filter(|o| !NOT_CONTROLLERS.contains(o) && !o.contains('='))
        .map(str::to_string)
        .collect()
}

/// mountinfo escapes space, tab, newline and backslash as `\ooo` octal.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| u8::from_str_radix(d, 8).ok());
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parse `/proc/cgroups`: `#subsys_name hierarchy num_cgroups enabled`.
pub fn parse_proc_cgroups(text: &str) -> BTreeMap<String, KernelController> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [name, hierarchy, _, enabled] = fields[..] else { return None };
            let controller =
                KernelController { hierarchy: hierarchy.parse().ok()?, enabled: enabled == "1" };
            Some((name.to_string(), controller))
        })
        .collect()
}

/// [`detect`], once per process. One `run` asks five times (its cgroup, the
/// container's view of it, the cleanup after the exit), and which
/// hierarchies are mounted where does not change under a running engine;
/// Docker's own check (containerd's `cgroups.Mode()`) is cached the same way.
pub fn detect_once() -> std::io::Result<Layout> {
    static LAYOUT: std::sync::OnceLock<Layout> = std::sync::OnceLock::new();
    if let Some(layout) = LAYOUT.get() {
        return Ok(layout.clone());
    }
    let layout = detect()?;
    Ok(LAYOUT.get_or_init(|| layout).clone())
}

/// The layout of this host.
pub fn detect() -> std::io::Result<Layout> {
    let mut layout = parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo")?);
    layout.kernel =
        parse_proc_cgroups(&std::fs::read_to_string("/proc/cgroups").unwrap_or_default());
    Ok(layout)
}

/// The controllers a cgroup2 directory offers (`cgroup.controllers`).
pub fn v2_controllers(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

// ANCHOR: host_summary
/// One line about this host's cgroups, for `mini-docker doctor`:
/// `hybrid: v1 controllers cpu,memory,pids; v2 at /sys/fs/cgroup/unified`.
pub fn summary(layout: &Layout) -> String {
    let v1: Vec<&str> = layout.v1.keys().map(String::as_str).collect();
    let v2 = layout.v2.as_ref().map(|m| {
        let controllers = v2_controllers(&m.mount_point);
        let shown = if controllers.is_empty() {
            "no controllers".to_string()
        } else {
            controllers.join(",")
        };
        format!("v2 at {} ({shown})", m.mount_point.display())
    });
    match (layout.kind(), v2) {
        (Kind::Unified, Some(v2)) => format!("v2 (unified): {v2}"),
        (Kind::Hybrid, Some(v2)) => {
            format!("hybrid: v1 controllers {}; {v2}; containers use the v1 ones", v1.join(","))
        }
        (Kind::Legacy, _) => format!("v1: controllers {}", v1.join(",")),
        _ => "none: no cgroup filesystem mounted".to_string(),
    }
}
// ANCHOR_END: host_summary

#[cfg(test)]
mod tests {
    use super::*;

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
        let layout = parse_mountinfo(HYBRID);
        assert_eq!(layout.kind(), Kind::Hybrid);
        assert!(!layout.uses_v2());
        assert_eq!(layout.v1.keys().collect::<Vec<_>>(), ["cpu", "cpuacct", "memory", "pids"]);
        assert_eq!(layout.v1_root("cpuacct"), Some(Path::new("/sys/fs/cgroup/cpuacct")));
        assert_eq!(layout.v2.unwrap().mount_point, PathBuf::from("/sys/fs/cgroup/unified"));
    }

    #[test]
    fn unified_host_has_only_cgroup2() {
        let layout = parse_mountinfo(UNIFIED);
        assert_eq!(layout.kind(), Kind::Unified);
        assert!(layout.uses_v2());
        assert!(layout.v1.is_empty());
        assert_eq!(layout.v2.unwrap().mount_point, PathBuf::from("/sys/fs/cgroup"));
    }

    #[test]
    fn legacy_host_with_comounted_cpu_and_cpuacct() {
        let layout = parse_mountinfo(LEGACY);
        assert_eq!(layout.kind(), Kind::Legacy);
        assert_eq!(layout.v1_root("cpu"), Some(Path::new("/sys/fs/cgroup/cpu,cpuacct")));
        assert_eq!(layout.v1_root("cpuacct"), layout.v1_root("cpu"));
        assert_eq!(layout.v1["cpu"].controllers, ["cpu", "cpuacct"]);
        assert_eq!(layout.v1["memory"].root, "/docker/abc");
        assert!(layout.v1_root("pids").is_none());
    }

    #[test]
    fn no_cgroups_at_all() {
        let layout = parse_mountinfo("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n");
        assert_eq!(layout.kind(), Kind::None);
        assert_eq!(summary(&layout), "none: no cgroup filesystem mounted");
    }

    #[test]
    fn escaped_mount_points_are_decoded() {
        let layout =
            parse_mountinfo("30 25 0:27 / /mnt/my\\040cgroups rw - cgroup cgroup rw,pids\n");
        assert_eq!(layout.v1_root("pids"), Some(Path::new("/mnt/my cgroups")));
    }

    #[test]
    fn proc_cgroups_says_which_hierarchy_holds_a_controller() {
        let kernel = parse_proc_cgroups(
            "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t1\t1\npids\t0\t1\t1\nmemory\t0\t1\t0\n",
        );
        assert_eq!(kernel.len(), 3);
        assert_eq!(kernel["cpu"], KernelController { hierarchy: 1, enabled: true });
        assert_eq!(kernel["pids"], KernelController { hierarchy: 0, enabled: true });
        assert!(!kernel["memory"].enabled);
    }

    #[test]
    fn summary_names_the_kind_and_controllers() {
        let text = summary(&parse_mountinfo(LEGACY));
        assert_eq!(text, "v1: controllers cpu,cpuacct,memory");
        assert!(summary(&parse_mountinfo(HYBRID)).starts_with(
            "hybrid: v1 controllers cpu,cpuacct,memory,pids; v2 at /sys/fs/cgroup/unified"
        ));
    }
}
