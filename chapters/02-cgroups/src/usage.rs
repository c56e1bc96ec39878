//! What the container used, read from its cgroup's own counters.

use std::path::{Path, PathBuf};

use crate::files::{read_key, read_number};
use crate::limits::human_bytes;

// ANCHOR: usage
/// The counters of one cgroup. `None` when this kernel lacks the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    pub memory_bytes: Option<u64>,
    /// The most memory ever charged at once (v1 `max_usage_in_bytes`, v2 `memory.peak`).
    pub memory_peak_bytes: Option<u64>,
    /// CPU time of all tasks, user and system, in microseconds.
    pub cpu_usec: Option<u64>,
    /// Periods in which the quota ran out and the tasks had to wait.
    pub cpu_throttled_periods: Option<u64>,
    pub pids: Option<u64>,
    pub pids_peak: Option<u64>,
    /// How many forks or clones `pids.max` refused.
    pub pids_refused: Option<u64>,
    /// How many tasks the OOM killer killed in this cgroup.
    pub oom_kills: Option<u64>,
}
// ANCHOR_END: usage

// ANCHOR: read_usage
/// cgroup v1: each counter in its controller's hierarchy. `dir` gives the
/// container's directory for a controller. CPU time is in `cpuacct`, in ns.
pub fn read_v1(dir: impl Fn(&str) -> Option<PathBuf>) -> Usage {
    let file = |controller: &str, name: &str| dir(controller).map(|d| d.join(name));
    let number =
        |controller: &str, name: &str| file(controller, name).and_then(|p| read_number(&p));
    let key = |controller: &str, name: &str, key: &str| {
        file(controller, name).and_then(|p| read_key(&p, key))
    };
    Usage {
        memory_bytes: number("memory", "memory.usage_in_bytes"),
        memory_peak_bytes: number("memory", "memory.max_usage_in_bytes"),
        cpu_usec: number("cpuacct", "cpuacct.usage").map(|ns| ns / 1000),
        cpu_throttled_periods: key("cpu", "cpu.stat", "nr_throttled"),
        pids: number("pids", "pids.current"),
        pids_peak: number("pids", "pids.peak"),
        pids_refused: key("pids", "pids.events", "max"),
        oom_kills: key("memory", "memory.oom_control", "oom_kill"),
    }
}

/// cgroup v2: every counter in the one directory, CPU time in `cpu.stat`.
pub fn read_v2(dir: &Path) -> Usage {
    Usage {
        memory_bytes: read_number(&dir.join("memory.current")),
        memory_peak_bytes: read_number(&dir.join("memory.peak")),
        cpu_usec: read_key(&dir.join("cpu.stat"), "usage_usec"),
        cpu_throttled_periods: read_key(&dir.join("cpu.stat"), "nr_throttled"),
        pids: read_number(&dir.join("pids.current")),
        pids_peak: read_number(&dir.join("pids.peak")),
        pids_refused: read_key(&dir.join("pids.events"), "max"),
        oom_kills: read_key(&dir.join("memory.events"), "oom_kill"),
    }
}
// ANCHOR_END: read_usage

impl Usage {
    /// One line, `key=value` pairs, for `--stats`; unknown counters are left out.
    pub fn render(&self) -> String {
        let mut parts = Vec::new();
        if let Some(peak) = self.memory_peak_bytes {
            parts.push(format!("memory_peak={} memory_peak_bytes={peak}", human_bytes(peak)));
        }
        let counters = [
            ("cpu_usec", self.cpu_usec),
            ("cpu_throttled_periods", self.cpu_throttled_periods),
            ("pids_peak", self.pids_peak),
            ("pids_refused", self.pids_refused),
            ("oom_kills", self.oom_kills),
        ];
        parts.extend(
            counters.iter().filter_map(|(name, value)| value.map(|v| format!("{name}={v}"))),
        );
        parts.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v2_counters_from_a_directory() {
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        put("memory.peak", "1048576\n");
        put(
            "cpu.stat",
            "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 3\nnr_throttled 2\n",
        );
        put("pids.events", "max 7\n");
        put("memory.events", "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n");
        let usage = read_v2(dir.path());
        assert_eq!(usage.memory_peak_bytes, Some(1 << 20));
        assert_eq!(usage.cpu_usec, Some(2500));
        assert_eq!(usage.cpu_throttled_periods, Some(2));
        assert_eq!(usage.pids_refused, Some(7));
        assert_eq!(usage.oom_kills, Some(1));
        assert_eq!(usage.pids_peak, None);
        assert_eq!(
            usage.render(),
            "memory_peak=1MiB memory_peak_bytes=1048576 cpu_usec=2500 cpu_throttled_periods=2 pids_refused=7 oom_kills=1"
        );
    }

    #[test]
    fn v1_cpu_time_is_nanoseconds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cpuacct.usage"), "1500000\n").unwrap();
        std::fs::write(
            dir.path().join("memory.oom_control"),
            "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n",
        )
        .unwrap();
        let usage = read_v1(|_| Some(dir.path().to_path_buf()));
        assert_eq!(usage.cpu_usec, Some(1500));
        assert_eq!(usage.oom_kills, Some(2));
    }
}
