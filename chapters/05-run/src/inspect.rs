//! `inspect CONTAINER`: the container as JSON, with `docker inspect`'s
//! field names, so what a learner reads here reads the same there.

use serde_json::{json, Value};

use crate::container::ContainerConfig;
use crate::lifecycle::Engine;
use crate::state::{State, Status};
use crate::summary::state_name;

/// One container's `inspect` object.
pub fn describe(engine: &Engine, config: &ContainerConfig, state: &State) -> Value {
    let dir = engine.store.container_dir(&config.id);
    let running = state.status == Status::Running;
    let pid = state.pid.filter(|_| running);
    let mut described = json!({
        "Id": config.id,
        "Created": config.created,
        "Path": config.argv.first(),
        "Args": config.argv.get(1..).unwrap_or_default(),
        "State": {
            "Status": state_name(state),
            "Running": running,
            "Paused": state.is_paused(),
            "Pid": pid.unwrap_or(0),
            "ExitCode": state.exit_code.unwrap_or(0),
            "OOMKilled": state.oom_killed,
            "Error": state.error.clone().unwrap_or_default(),
            "StartedAt": state.started_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
            "FinishedAt": state.finished_at.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into()),
        },
        "Image": config.image_id,
        "Name": format!("/{}", config.name),
        "LogPath": dir.join("container.log"),
        "Driver": config.driver,
        "Config": {
            "Hostname": config.hostname,
            "User": format!("{}:{}", config.user.uid, config.user.gid),
            "Tty": config.tty,
            "OpenStdin": config.interactive,
            "Env": config.env,
            "Cmd": config.argv,
            "Image": config.image,
            "WorkingDir": config.working_dir,
        },
        "HostConfig": {
            "AutoRemove": config.auto_remove,
            "Init": config.init,
            "CgroupParent": config.cgroup_parent,
            "Memory": config.limits.memory.unwrap_or(0),
            "MemorySwap": config.limits.memory_swap.unwrap_or(0),
            "CpuPeriod": if config.limits.cpu_quota_us.is_some() { 100_000 } else { 0 },
            "CpuQuota": config.limits.cpu_quota_us.unwrap_or(0),
            "CpuShares": config.limits.cpu_shares.unwrap_or(0),
            "PidsLimit": config.limits.pids,
            // Until chapter 6: a network namespace of its own with only `lo`.
            "NetworkMode": "none",
        },
        "NetworkSettings": { "Networks": {} },
        "GraphDriver": {
            "Name": config.driver,
            "Data": {
                "LowerDir": config.layers.iter().rev().map(|l| l.display().to_string()).collect::<Vec<_>>().join(":"),
                "UpperDir": if config.driver == "vfs" { dir.join("rootfs") } else { dir.join("upper") },
                "WorkDir": dir.join("work"),
                "MergedDir": dir.join("merged"),
            },
        },
        "Mounts": [],
        "CgroupPaths": pid.map(cgroup_paths).unwrap_or_default(),
        "Namespaces": pid.map(namespaces).unwrap_or(Value::Null),
    });
    for extension in engine.extensions() {
        extension.inspect(&engine.root, config, state, &mut described);
    }
    described
}

/// The cgroup directories the container's PID 1 is in, on the host.
fn cgroup_paths(pid: i32) -> Vec<String> {
    let membership = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    crate::exec::cgroup_dirs(&membership).into_iter().map(|p| p.display().to_string()).collect()
}

/// `{"pid": "pid:[4026532...]", ...}` from `/proc/<pid>/ns/`.
fn namespaces(pid: i32) -> Value {
    let kinds = ["cgroup", "ipc", "mnt", "net", "pid", "user", "uts"];
    let entries = kinds.iter().filter_map(|kind| {
        let link = std::fs::read_link(format!("/proc/{pid}/ns/{kind}")).ok()?;
        Some((kind.to_string(), Value::String(link.display().to_string())))
    });
    Value::Object(entries.collect())
}
