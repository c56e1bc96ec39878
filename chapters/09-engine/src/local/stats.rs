//! `docker stats`: one sample of a container's cgroup counters, in the
//! JSON dockerd sends (moby's `StatsJSON`), for cgroup v1 and v2 alike.
//! The counters are chapter 2's; CPU percentages are the client's sums
//! over two samples, so each sample carries the one before it (`precpu`).

use std::collections::BTreeMap;
use std::path::Path;

use ch02_cgroups::cgroup::Version;
use ch02_cgroups::files::read_key;
use ch02_cgroups::Cgroup;
use serde_json::{json, Value};

/// `/proc/stat`'s clock ticks per second (USER_HZ, 100 on Linux).
const TICKS: u64 = 100;
/// moby's zero time, for a `preread` that has no sample before it.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

// ANCHOR: sample
/// One sample: CPU, memory, pids, block I/O of the cgroup; the network of
/// the container's namespace (`/proc/PID/net/dev`).
pub fn sample(cgroup: Option<&Cgroup>, pid: Option<i32>, name: &str, id: &str) -> Value {
    let mut sample = json!({
        "read": ch05_run::state::now(),
        "preread": ZERO_TIME,
        "name": format!("/{name}"),
        "id": id,
        "num_procs": 0,
        "storage_stats": {},
        "pids_stats": {},
        "blkio_stats": { "io_service_bytes_recursive": null },
        "cpu_stats": { "cpu_usage": { "total_usage": 0 }, "throttling_data": {} },
        "memory_stats": {},
        "precpu_stats": { "cpu_usage": { "total_usage": 0 }, "throttling_data": {} },
    });
    let Some(cgroup) = cgroup else { return sample };
    let system = system_cpu_ns();
    let (cpu, memory, blkio) = match cgroup.version {
        Version::V2 => v2(cgroup.dirs.first().map(|d| d.path.as_path())),
        Version::V1 => v1(cgroup),
    };
    sample["cpu_stats"] = cpu;
    sample["cpu_stats"]["system_cpu_usage"] = json!(system.0);
    sample["cpu_stats"]["online_cpus"] = json!(system.1);
    sample["memory_stats"] = memory;
    sample["blkio_stats"] = json!({ "io_service_bytes_recursive": blkio });
    let usage = cgroup.usage();
    sample["pids_stats"] = json!({ "current": usage.pids.unwrap_or(0) });
    if let Some(limit) = cgroup.limits.pids {
        sample["pids_stats"]["limit"] = json!(limit);
    }
    if let Some(pid) = pid {
        sample["networks"] = networks(pid);
    }
    sample
}
// ANCHOR_END: sample

// ANCHOR: v2
/// cgroup v2: `cpu.stat` in µs, `memory.current`/`.max`/`.stat`, `io.stat`.
fn v2(dir: Option<&Path>) -> (Value, Value, Value) {
    let Some(dir) = dir else { return (json!({}), json!({}), Value::Null) };
    let cpu_stat = dir.join("cpu.stat");
    let us = |key: &str| read_key(&cpu_stat, key).unwrap_or(0) * 1000;
    let cpu = json!({
        "cpu_usage": {
            "total_usage": us("usage_usec"),
            "usage_in_usermode": us("user_usec"),
            "usage_in_kernelmode": us("system_usec"),
        },
        "throttling_data": {
            "periods": read_key(&cpu_stat, "nr_periods").unwrap_or(0),
            "throttled_periods": read_key(&cpu_stat, "nr_throttled").unwrap_or(0),
            "throttled_time": us("throttled_usec"),
        },
    });
    let memory = json!({
        "usage": number(&dir.join("memory.current")),
        "limit": limit(&dir.join("memory.max")),
        "stats": key_values(&dir.join("memory.stat")),
    });
    let mut blkio = Vec::new();
    for line in read(&dir.join("io.stat")).lines() {
        let mut words = line.split_whitespace();
        let Some((major, minor)) = words.next().and_then(|d| d.split_once(':')) else { continue };
        for (key, value) in words.filter_map(|w| w.split_once('=')) {
            let op = match key {
                "rbytes" => "read",
                "wbytes" => "write",
                _ => continue,
            };
            blkio.push(
                json!({ "major": num(major), "minor": num(minor), "op": op, "value": num(value) }),
            );
        }
    }
    (cpu, memory, Value::Array(blkio))
}
// ANCHOR_END: v2

/// cgroup v1: `cpuacct` in ns (and ticks), `memory.*_in_bytes`, `blkio`.
fn v1(cgroup: &Cgroup) -> (Value, Value, Value) {
    let file = |controller: &str, name: &str| cgroup.dir_of(controller).map(|d| d.join(name));
    let get =
        |controller: &str, name: &str| file(controller, name).map(|p| number(&p)).unwrap_or(0);
    let stat = file("cpuacct", "cpuacct.stat");
    let ticks = |key: &str| {
        stat.as_ref().and_then(|p| read_key(p, key)).unwrap_or(0) * 1_000_000_000 / TICKS
    };
    let percpu: Vec<u64> = file("cpuacct", "cpuacct.usage_percpu")
        .map(|p| read(&p).split_whitespace().map(num).collect())
        .unwrap_or_default();
    let cpu_stat = file("cpu", "cpu.stat");
    let cpu_key = |key: &str| cpu_stat.as_ref().and_then(|p| read_key(p, key)).unwrap_or(0);
    let cpu = json!({
        "cpu_usage": {
            "total_usage": get("cpuacct", "cpuacct.usage"),
            "percpu_usage": percpu,
            "usage_in_usermode": ticks("user"),
            "usage_in_kernelmode": ticks("system"),
        },
        "throttling_data": {
            "periods": cpu_key("nr_periods"),
            "throttled_periods": cpu_key("nr_throttled"),
            "throttled_time": cpu_key("throttled_time"),
        },
    });
    let memory = json!({
        "usage": get("memory", "memory.usage_in_bytes"),
        "max_usage": get("memory", "memory.max_usage_in_bytes"),
        "failcnt": get("memory", "memory.failcnt"),
        "limit": file("memory", "memory.limit_in_bytes").map(|p| limit(&p)).unwrap_or_else(host_memory),
        "stats": file("memory", "memory.stat").map(|p| key_values(&p)).unwrap_or_default(),
    });
    let mut blkio = Vec::new();
    let service = file("blkio", "blkio.throttle.io_service_bytes_recursive");
    for line in service.map(|p| read(&p)).unwrap_or_default().lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [device, op, value] = words.as_slice() {
            let Some((major, minor)) = device.split_once(':') else { continue };
            blkio.push(json!({ "major": num(major), "minor": num(minor), "op": op.to_lowercase(), "value": num(value) }));
        }
    }
    (cpu, memory, Value::Array(blkio))
}

/// The host's CPU time in ns (all of `/proc/stat`'s first line) and CPUs.
fn system_cpu_ns() -> (u64, usize) {
    let stat = read(Path::new("/proc/stat"));
    let total: u64 = stat.lines().next().map_or(0, |l| l.split_whitespace().skip(1).map(num).sum());
    let cpus = stat.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count();
    (total * (1_000_000_000 / TICKS), cpus.max(1))
}

/// Each interface but `lo`, from inside the container's network namespace.
fn networks(pid: i32) -> Value {
    let dev = read(Path::new(&format!("/proc/{pid}/net/dev")));
    let mut all = serde_json::Map::new();
    for line in dev.lines().skip(2) {
        let Some((name, counters)) = line.split_once(':') else { continue };
        let name = name.trim();
        let c: Vec<u64> = counters.split_whitespace().map(num).collect();
        if name == "lo" || c.len() < 16 {
            continue;
        }
        all.insert(
            name.to_string(),
            json!({
                "rx_bytes": c[0], "rx_packets": c[1], "rx_errors": c[2], "rx_dropped": c[3],
                "tx_bytes": c[8], "tx_packets": c[9], "tx_errors": c[10], "tx_dropped": c[11],
            }),
        );
    }
    Value::Object(all)
}

/// A limit file: `max` (or v1's huge number) is the host's memory.
fn limit(path: &Path) -> u64 {
    let text = read(path);
    match text.trim().parse::<u64>() {
        Ok(bytes) if bytes < host_memory() => bytes,
        _ => host_memory(),
    }
}

fn host_memory() -> u64 {
    let info = read(Path::new("/proc/meminfo"));
    let total = info.lines().find(|l| l.starts_with("MemTotal:"));
    total.and_then(|l| l.split_whitespace().nth(1)).map_or(0, num) * 1024
}

fn key_values(path: &Path) -> BTreeMap<String, u64> {
    let text = read(path);
    let pairs = text.lines().filter_map(|l| l.split_once(' '));
    pairs.map(|(k, v)| (k.to_string(), num(v))).collect()
}

fn number(path: &Path) -> u64 {
    num(&read(path))
}

fn num(text: &str) -> u64 {
    text.trim().parse().unwrap_or(0)
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v2_cgroup_reads_as_dockerds_json() {
        let dir = tempfile::tempdir().unwrap();
        let put = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        put("cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 4\nnr_throttled 1\nthrottled_usec 7\n");
        put("memory.current", "4096\n");
        put("memory.max", "8192\n");
        put("memory.stat", "anon 1024\ninactive_file 512\n");
        put("io.stat", "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n");
        let (cpu, memory, blkio) = v2(Some(dir.path()));
        assert_eq!(cpu["cpu_usage"]["total_usage"], 2_500_000);
        assert_eq!(cpu["throttling_data"]["throttled_time"], 7000);
        assert_eq!((memory["usage"].as_u64(), memory["limit"].as_u64()), (Some(4096), Some(8192)));
        assert_eq!(memory["stats"]["inactive_file"], 512);
        assert_eq!(blkio[1], json!({"major": 8, "minor": 0, "op": "write", "value": 200}));
    }
}
