//! `run` and `create`'s flags, turned into the Engine API's create body —
//! what the docker CLI's `opts.go` does — so that the same body goes to
//! the engine in this process or to a daemon.

use std::collections::BTreeMap;

use anyhow::{anyhow, bail, Result};
use ch02_cgroups::limits::{parse_size, parse_swap};
use ch05_run::cli::{ContainerFlags, ImageAndCommand};
use ch07_volumes::{MountSpec, MountType};
use ch09_engine::types::{
    ContainerCreateBody, HealthConfig, HostConfig, MountBody, PortBinding, RestartPolicy,
};
use clap::Args;
use serde_json::json;

/// The flags of chapter 9's daemon settings: restart, health, labels, stop.
#[derive(Args, Debug, Clone, Default)]
pub struct DaemonFlags {
    /// Restart policy: no, always, unless-stopped, on-failure[:N].
    #[arg(long, default_value = "no")]
    pub restart: String,
    /// Set metadata on the container (KEY=VALUE).
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    /// Command to run to check health.
    #[arg(long = "health-cmd")]
    pub health_cmd: Option<String>,
    /// Time between running the check (e.g. 30s).
    #[arg(long = "health-interval")]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run.
    #[arg(long = "health-timeout")]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long = "health-retries")]
    pub health_retries: Option<i64>,
    /// Start period for the container to initialize before counting retries.
    #[arg(long = "health-start-period")]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period (API 1.44).
    #[arg(long = "health-start-interval")]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long = "no-healthcheck")]
    pub no_healthcheck: bool,
    /// Signal to stop the container.
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container.
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
}

/// Everything that goes into the body besides chapter 5's flags.
pub struct Extra<'a> {
    pub walls: &'a ch08_security::WallFlags,
    pub read_only: bool,
    pub userns_host: bool,
    pub mounts: &'a ch07_volumes::MountFlags,
    /// `--network`, once or more.
    pub network: &'a [String],
    pub network_alias: &'a [String],
    pub publish: &'a [String],
    pub daemon: &'a DaemonFlags,
}

// ANCHOR: create_body
/// The create body for these flags.
pub fn create_body(
    flags: &ContainerFlags,
    target: &ImageAndCommand,
    extra: &Extra,
) -> Result<ContainerCreateBody> {
    let entrypoint =
        flags.entrypoint.as_ref().map(|e| if e.is_empty() { vec![] } else { vec![e.clone()] });
    let command = target.command().to_vec();
    Ok(ContainerCreateBody {
        hostname: flags.hostname.clone().unwrap_or_default(),
        user: flags.user.clone().unwrap_or_default(),
        attach_stdin: flags.interactive,
        tty: flags.tty,
        open_stdin: flags.interactive,
        stdin_once: flags.interactive,
        env: Some(ch05_run::env::collect(&flags.env_file, &flags.env)?),
        cmd: (!command.is_empty()).then_some(command),
        entrypoint,
        image: target.image().to_string(),
        working_dir: flags.workdir.clone().unwrap_or_default(),
        labels: Some(labels(&extra.daemon.labels)?),
        exposed_ports: None,
        healthcheck: health(extra.daemon)?,
        stop_signal: extra.daemon.stop_signal.clone(),
        stop_timeout: extra.daemon.stop_timeout,
        host_config: host_config(flags, extra)?,
        networking_config: networking_config(extra)?,
    })
}
// ANCHOR_END: create_body

/// `NetworkingConfig`, as the `docker` CLI sends it for API 1.44: one
/// endpoint per `--network`, the aliases on the first. Several networks
/// must all be user-defined, as the `docker` CLI checks.
fn networking_config(extra: &Extra) -> Result<Option<serde_json::Value>> {
    let builtin = |n: &String| ["bridge", "default", "host", "none"].contains(&n.as_str());
    if extra.network.len() > 1 && extra.network.iter().any(builtin) {
        bail!("conflicting options: cannot attach both user-defined and non-user-defined network-modes");
    }
    if extra.network.len() < 2 && extra.network_alias.is_empty() {
        return Ok(None);
    }
    let endpoints: serde_json::Map<String, serde_json::Value> = extra
        .network
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let aliases = Some(extra.network_alias).filter(|a| i == 0 && !a.is_empty());
            (name.clone(), serde_json::json!({ "Aliases": aliases }))
        })
        .collect();
    Ok(Some(serde_json::json!({ "EndpointsConfig": endpoints })))
}

fn host_config(flags: &ContainerFlags, extra: &Extra) -> Result<HostConfig> {
    let limits = &flags.limits;
    extra.mounts.specs()?; // a bad -v, --mount or --tmpfs fails here, before any request
    let mounts = extra.mounts.mounts.iter().map(|m| ch07_volumes::parse_mount_flag(m));
    Ok(HostConfig {
        binds: Some(extra.mounts.volumes.clone()),
        mounts: Some(mounts.map(|spec| spec.map(|s| mount_body(&s))).collect::<Result<_, _>>()?),
        tmpfs: Some(tmpfs(&extra.mounts.tmpfs)),
        network_mode: extra.network.first().map_or("bridge", String::as_str).to_string(),
        port_bindings: Some(port_bindings(extra.publish)?),
        restart_policy: restart_policy(&extra.daemon.restart)?,
        auto_remove: flags.rm,
        init: flags.init.then_some(true),
        memory: limits
            .memory
            .as_deref()
            .map(|m| parse_size(m, "--memory"))
            .transpose()?
            .unwrap_or(0) as i64,
        memory_swap: limits
            .memory_swap
            .as_deref()
            .map(parse_swap)
            .transpose()?
            .map_or(0, swap_bytes),
        nano_cpus: limits.cpus.as_deref().map(nano_cpus).transpose()?.unwrap_or(0),
        cpu_shares: limits.cpu_shares.unwrap_or(0),
        pids_limit: limits.pids_limit,
        cgroup_parent: flags.cgroup_parent.clone().unwrap_or_default(),
        cgroupns_mode: flags.cgroupns.clone().unwrap_or_default(),
        cap_add: Some(extra.walls.cap_add.clone()),
        cap_drop: Some(extra.walls.cap_drop.clone()),
        privileged: extra.walls.privileged,
        security_opt: Some(extra.walls.security_opt.clone()),
        readonly_rootfs: extra.read_only,
        userns_mode: if extra.userns_host { "host".into() } else { String::new() },
        ..HostConfig::default()
    })
}

fn swap_bytes(swap: ch02_cgroups::Swap) -> i64 {
    match swap {
        ch02_cgroups::Swap::Unlimited => -1,
        ch02_cgroups::Swap::Total(bytes) => bytes as i64,
    }
}

/// `--cpus 1.5` → 1500000000, Docker's `NanoCpus`.
pub(crate) fn nano_cpus(text: &str) -> Result<i64> {
    let cpus: f64 = text.parse().map_err(|_| {
        anyhow!("invalid argument {text:?} for \"--cpus\" flag: use a number, e.g. 0.5")
    })?;
    if cpus.is_nan() || cpus <= 0.0 {
        bail!("invalid argument {text:?} for \"--cpus\" flag: give more than 0");
    }
    Ok((cpus * 1e9).round() as i64)
}

/// `-p 127.0.0.1:8080:80/tcp` → `{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`.
fn port_bindings(publish: &[String]) -> Result<BTreeMap<String, Option<Vec<PortBinding>>>> {
    let mut bindings: BTreeMap<String, Option<Vec<PortBinding>>> = BTreeMap::new();
    for spec in publish {
        let port: ch06_networking::PortMapping = spec.parse()?;
        let key = format!("{}/{}", port.container_port, port.proto.name());
        let host_port =
            if port.host_port == 0 { String::new() } else { port.host_port.to_string() };
        let binding = PortBinding { host_ip: port.host_ip.to_string(), host_port };
        bindings
            .entry(key)
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(binding);
    }
    Ok(bindings)
}

/// `--restart on-failure:3` → `{"Name": "on-failure", "MaximumRetryCount": 3}`.
pub fn restart_policy(text: &str) -> Result<RestartPolicy> {
    let (name, count) = text.split_once(':').unwrap_or((text, ""));
    let maximum_retry_count = match count {
        "" => 0,
        n => n
            .parse()
            .map_err(|_| anyhow!("invalid restart policy {text:?}: the count must be a number"))?,
    };
    let policy = RestartPolicy { name: name.to_string(), maximum_retry_count };
    ch09_engine::settings::check_restart_policy(&policy, false)?;
    Ok(policy)
}

fn labels(raw: &[String]) -> Result<BTreeMap<String, String>> {
    raw.iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            if k.is_empty() {
                bail!("invalid label {l:?}: the key is empty");
            }
            Ok((k.to_string(), v.to_string()))
        })
        .collect()
}

/// `--health-*`: durations in nanoseconds, the command as `CMD-SHELL`.
fn health(flags: &DaemonFlags) -> Result<Option<HealthConfig>> {
    if flags.no_healthcheck {
        return Ok(Some(HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..HealthConfig::default()
        }));
    }
    let Some(cmd) = &flags.health_cmd else { return Ok(None) };
    let nanos = |flag: &str, value: &Option<String>| -> Result<i64> {
        let Some(text) = value else { return Ok(0) };
        let d =
            humantime::parse_duration(text).map_err(|e| anyhow!("invalid {flag} {text:?}: {e}"))?;
        Ok(d.as_nanos() as i64)
    };
    Ok(Some(HealthConfig {
        test: Some(vec!["CMD-SHELL".into(), cmd.clone()]),
        interval: nanos("--health-interval", &flags.health_interval)?,
        timeout: nanos("--health-timeout", &flags.health_timeout)?,
        retries: flags.health_retries.unwrap_or(0),
        start_period: nanos("--health-start-period", &flags.health_start_period)?,
        start_interval: nanos("--health-start-interval", &flags.health_start_interval)?,
    }))
}

fn tmpfs(flags: &[String]) -> BTreeMap<String, String> {
    flags
        .iter()
        .map(|t| {
            let (path, options) = t.split_once(':').unwrap_or((t, ""));
            (path.to_string(), options.to_string())
        })
        .collect()
}

/// A parsed `--mount` as the API's structure.
fn mount_body(spec: &MountSpec) -> MountBody {
    let volume_options = (spec.kind == MountType::Volume).then(|| {
        let labels: BTreeMap<&str, &str> =
            spec.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        json!({ "NoCopy": spec.no_copy, "Labels": labels })
    });
    let tmpfs_options = (spec.kind == MountType::Tmpfs)
        .then(|| json!({ "SizeBytes": spec.tmpfs.size, "Mode": spec.tmpfs.mode }));
    MountBody {
        kind: spec.kind.name().to_string(),
        source: spec.source.clone().unwrap_or_default(),
        target: spec.target.clone(),
        read_only: spec.read_only,
        volume_options,
        tmpfs_options,
    }
}
