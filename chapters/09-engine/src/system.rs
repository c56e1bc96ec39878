//! `GET /version` and `GET /info`: who the engine is, and what it has.

use serde_json::{json, Value};

use crate::local::Local;

/// The API version this engine speaks; clients negotiate down to it.
pub const API_VERSION: &str = "1.47";
/// The oldest version prefix accepted (`/v1.24/...`), as moby 28.
pub const MIN_API_VERSION: &str = "1.24";
/// What `Server:` and `docker version` say we are.
pub const ENGINE_VERSION: &str = concat!("mini-docker-", env!("CARGO_PKG_VERSION"));

fn uname() -> nix::sys::utsname::UtsName {
    nix::sys::utsname::uname().expect("uname(2) does not fail")
}

/// Go's name for this machine's architecture, which clients expect.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

// ANCHOR: version
pub fn version() -> Value {
    let kernel = uname().release().to_string_lossy().into_owned();
    json!({
        "Platform": { "Name": "mini-docker" },
        "Components": [{
            "Name": "Engine",
            "Version": ENGINE_VERSION,
            "Details": { "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
                         "Os": "linux", "Arch": architecture(), "KernelVersion": kernel },
        }],
        "Version": ENGINE_VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "(rust)",
        "Os": "linux",
        "Arch": architecture(),
        "KernelVersion": kernel,
        "BuildTime": "",
    })
}
// ANCHOR_END: version

/// `docker info`: counts of what the engine holds, and how it is set up.
pub fn info(local: &Local) -> Value {
    let all = local.engine.list().unwrap_or_default();
    // As dockerd counts them: a paused container is not also a running one.
    let paused = all.iter().filter(|(_, s)| s.is_paused()).count();
    let running = all.iter().filter(|(_, s)| s.is_running()).count() - paused;
    let images = ch04_image_pull::store::Store::open(local.root())
        .and_then(|s| s.images())
        .map(|i| i.len())
        .unwrap_or(0);
    let layout = ch02_cgroups::detect().ok();
    let cgroup_version = match layout.as_ref().map(|l| l.uses_v2()) {
        Some(true) => "2",
        _ => "1",
    };
    let uts = uname();
    json!({
        "ID": "mini-docker",
        "Containers": all.len(),
        "ContainersRunning": running,
        "ContainersPaused": paused,
        "ContainersStopped": all.len() - running - paused,
        "Images": images,
        "Driver": local.settings.driver.name(),
        "DriverStatus": [],
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": cgroup_version,
        "KernelVersion": uts.release().to_string_lossy(),
        "OperatingSystem": "mini-docker",
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "NCPU": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "MemTotal": mem_total(),
        "DockerRootDir": local.root(),
        "Name": uts.nodename().to_string_lossy(),
        "ServerVersion": ENGINE_VERSION,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": {
            "InsecureRegistryCIDRs": ["127.0.0.0/8", "::1/128"],
            "IndexConfigs": {},
            "Mirrors": local.settings.registry_mirror.iter().collect::<Vec<_>>(),
        },
        "SecurityOptions": security_options(local),
        "UsernsRemap": local.settings.userns_remap.as_ref().map(|r| r.inspect_json()),
        "Runtimes": { "mini-docker": { "path": "mini-docker" } },
        "DefaultRuntime": "mini-docker",
        "LiveRestoreEnabled": true,
        "Swarm": { "LocalNodeState": "inactive", "NodeID": "", "NodeAddr": "",
                   "ControlAvailable": false, "Error": "", "RemoteManagers": null },
        "Plugins": { "Volume": ["local"], "Network": ["bridge", "host", "null"],
                     "Log": ["json-file"] },
        "Warnings": [],
    })
}

fn mem_total() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib = meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"));
    kib.and_then(|k| k.trim().trim_end_matches("kB").trim().parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// `docker info`'s security options: `name=userns` when every container is remapped.
fn security_options(local: &Local) -> Vec<&'static str> {
    let mut options = vec!["name=seccomp,profile=builtin"];
    if local.settings.userns_remap.is_some() {
        options.push("name=userns");
    }
    options
}
