//! From the Engine API's create body to chapter 5's request, with each
//! later chapter's settings under its own key: the one place where the
//! API's names meet the chapters' types.

use ch02_cgroups::limits::{check_shares, pids_limit};
use ch02_cgroups::{Limits, Swap};
use ch05_run::image::ImageInfo;
use ch05_run::merge::UserOverrides;
use ch05_run::CreateRequest;
use ch06_networking::{NetError, NetworkMode, NetworkSettings, PortMapping};
use ch07_volumes::{
    parse_mount_flag, parse_tmpfs_flag, parse_volume_flag, MountRequest, MountSpec,
};
use ch08_security::SecurityOptions;

use super::Settings;
use crate::error::{ApiError, ApiResult};
use crate::settings::EngineSettings;
use crate::types::{ContainerCreateBody, HostConfig, MountBody};
use serde_json::Value;

// ANCHOR: request
/// The request for `body`, whose image is `image`.
pub fn request(
    settings: &Settings,
    name: Option<&str>,
    body: &ContainerCreateBody,
    image: ImageInfo,
) -> ApiResult<CreateRequest> {
    let host = &body.host_config;
    let mut request = CreateRequest {
        image: body.image.clone(),
        image_info: image,
        overrides: overrides(body),
        name: name.filter(|n| !n.is_empty()).map(str::to_string),
        hostname: non_empty(&body.hostname),
        tty: body.tty,
        console_size: console_size(host),
        interactive: body.open_stdin,
        auto_remove: host.auto_remove,
        init: host.init.unwrap_or(false),
        limits: limits(host)?,
        cgroup_parent: non_empty(&host.cgroup_parent).unwrap_or(settings.cgroup_parent.clone()),
        driver: settings.driver,
        extensions: Default::default(),
    };
    let mut networking = network(host)?;
    endpoints(&mut networking, body.networking_config.as_ref())?;
    request.extensions.set(&networking);
    request.extensions.set(&MountRequest(mounts(host)?));
    request.extensions.set(&security(settings, host));
    request.extensions.set(&engine(body));
    let mode = host.cgroupns_mode.clone();
    request.extensions.set(&ch05_run::cgroup_view::CgroupnsMode { mode });
    Ok(request)
}
// ANCHOR_END: request

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_string())
}

// ANCHOR: overrides
/// Entrypoint and Cmd: chapter 5 takes an entrypoint of one word and puts
/// the rest of it before the command, which comes to the same argv.
fn overrides(body: &ContainerCreateBody) -> UserOverrides {
    let (entrypoint, mut cmd) = match &body.entrypoint {
        None => (None, Vec::new()),
        Some(words) if words.is_empty() => (Some(String::new()), Vec::new()),
        Some(words) => (Some(words[0].clone()), words[1..].to_vec()),
    };
    cmd.extend(body.cmd.clone().unwrap_or_default());
    UserOverrides {
        entrypoint,
        cmd,
        env: body.env.clone().unwrap_or_default(),
        workdir: non_empty(&body.working_dir),
        user: non_empty(&body.user),
    }
}
// ANCHOR_END: overrides

/// Memory in bytes, CPUs in billionths (`NanoCpus`), as Docker's fields are.
fn limits(host: &HostConfig) -> ApiResult<Limits> {
    let quota = if host.nano_cpus > 0 {
        Some(host.nano_cpus as u64 * 100_000 / 1_000_000_000)
    } else if host.cpu_quota > 0 {
        let period = if host.cpu_period > 0 { host.cpu_period } else { 100_000 };
        Some(host.cpu_quota as u64 * 100_000 / period as u64)
    } else {
        None
    };
    let shares = (host.cpu_shares != 0).then_some(host.cpu_shares);
    let limits = Limits {
        memory: (host.memory > 0).then_some(host.memory as u64),
        memory_swap: match host.memory_swap {
            0 => None,
            -1 => Some(Swap::Unlimited),
            n => Some(Swap::Total(n as u64)),
        },
        cpu_quota_us: quota,
        cpu_shares: shares.map(check_shares).transpose().map_err(bad)?.flatten(),
        pids: host.pids_limit.and_then(pids_limit),
    };
    limits.check().map_err(bad)?;
    Ok(limits)
}

fn bad(error: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// `NetworkMode` (`default` is the bridge) and `PortBindings`.
fn network(host: &HostConfig) -> ApiResult<NetworkSettings> {
    let mode: NetworkMode = match host.network_mode.as_str() {
        "" | "default" => NetworkMode::default(),
        other => other.parse().map_err(bad)?,
    };
    let mut ports = Vec::new();
    for (key, bindings) in host.port_bindings.iter().flatten() {
        for binding in bindings.iter().flatten() {
            let ip = if binding.host_ip.is_empty() { "0.0.0.0" } else { &binding.host_ip };
            let spec = format!("{ip}:{}:{key}", binding.host_port);
            ports.push(spec.parse::<PortMapping>().map_err(bad)?);
        }
    }
    Ok(NetworkSettings { mode, ports, ..NetworkSettings::default() })
}

// ANCHOR: endpoints
/// `NetworkingConfig.EndpointsConfig`: one entry per `--network` (API 1.44
/// allows several: `docker run --network a --network b`), each with its
/// `--network-alias`es. The one `NetworkMode` names is the first network;
/// the others are joined after it, as `network connect` would.
/// `ConsoleSize` `[rows, cols]`: `[0, 0]` (not a terminal, or no `-t`) is none.
fn console_size(host: &HostConfig) -> Option<[u16; 2]> {
    host.console_size.filter(|[rows, cols]| *rows > 0 && *cols > 0)
}

fn endpoints(settings: &mut NetworkSettings, networking: Option<&Value>) -> ApiResult<()> {
    let first = settings.networks().into_iter().next();
    let all = networking.and_then(|n| n["EndpointsConfig"].as_object());
    for (name, endpoint) in all.into_iter().flatten() {
        let name = if name == "default" { "bridge" } else { name.as_str() };
        let aliases: Vec<String> = endpoint["Aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        match (&settings.mode, first.as_deref() == Some(name)) {
            (_, true) => {}
            (NetworkMode::Host, _) if name == "host" => {}
            (NetworkMode::None, _) if name == "none" => {}
            (NetworkMode::Host, _) => return Err(NetError::HostNetwork.into()),
            (NetworkMode::None, _) => return Err(NetError::NoneNetwork.into()),
            (NetworkMode::Bridge(_), false) => settings.connected.push(name.to_string()),
        }
        if !aliases.is_empty() {
            if name == "bridge" {
                return Err(NetError::AliasOnDefault.into());
            }
            settings.aliases.insert(name.to_string(), aliases);
        }
    }
    Ok(())
}
// ANCHOR_END: endpoints

/// `Binds` (the `-v` strings), `Mounts` (`--mount`) and `Tmpfs`.
fn mounts(host: &HostConfig) -> ApiResult<Vec<MountSpec>> {
    let mut specs = Vec::new();
    for bind in host.binds.iter().flatten() {
        specs.push(parse_volume_flag(bind).map_err(bad)?);
    }
    for mount in host.mounts.iter().flatten() {
        specs.push(parse_mount_flag(&mount_flag(mount)).map_err(bad)?);
    }
    for (path, options) in host.tmpfs.iter().flatten() {
        let flag = if options.is_empty() { path.clone() } else { format!("{path}:{options}") };
        specs.push(parse_tmpfs_flag(&flag).map_err(bad)?);
    }
    Ok(specs)
}

/// A `Mounts` entry written back as the `--mount` flag it came from.
fn mount_flag(mount: &MountBody) -> String {
    let mut flag = format!("type={},target={}", mount.kind, mount.target);
    if !mount.source.is_empty() {
        flag.push_str(&format!(",source={}", mount.source));
    }
    if mount.read_only {
        flag.push_str(",readonly");
    }
    if let Some(volume) = &mount.volume_options {
        if volume["NoCopy"] == true {
            flag.push_str(",volume-nocopy");
        }
        for (key, value) in volume["Labels"].as_object().into_iter().flatten() {
            flag.push_str(&format!(",volume-label={key}={}", value.as_str().unwrap_or_default()));
        }
    }
    if let Some(tmpfs) = &mount.tmpfs_options {
        if let Some(size) = tmpfs["SizeBytes"].as_u64() {
            flag.push_str(&format!(",tmpfs-size={size}"));
        }
        if let Some(mode) = tmpfs["Mode"].as_u64() {
            flag.push_str(&format!(",tmpfs-mode={mode:o}"));
        }
    }
    flag
}

/// The walls; `UsernsMode: host` opts out of the daemon's remapping.
fn security(settings: &Settings, host: &HostConfig) -> SecurityOptions {
    SecurityOptions {
        cap_add: host.cap_add.clone().unwrap_or_default(),
        cap_drop: host.cap_drop.clone().unwrap_or_default(),
        privileged: host.privileged,
        security_opt: host.security_opt.clone().unwrap_or_default(),
        read_only: host.readonly_rootfs,
        userns_remap: settings.userns_remap.clone().filter(|_| host.userns_mode != "host"),
    }
}

fn engine(body: &ContainerCreateBody) -> EngineSettings {
    EngineSettings {
        restart_policy: body.host_config.restart_policy.clone(),
        healthcheck: body.healthcheck.clone(),
        labels: body.labels.clone().unwrap_or_default(),
        stop_signal: body.stop_signal.clone(),
        stop_timeout: body.stop_timeout,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> ContainerCreateBody {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_console_size_of_zeros_is_none() {
        let sized = body(r#"{"Image":"b","Tty":true,"HostConfig":{"ConsoleSize":[40,100]}}"#);
        assert_eq!(console_size(&sized.host_config), Some([40, 100]));
        let zeros = body(r#"{"Image":"b","HostConfig":{"ConsoleSize":[0,0]}}"#);
        assert_eq!(console_size(&zeros.host_config), None);
        assert_eq!(console_size(&body(r#"{"Image":"b"}"#).host_config), None);
    }

    #[test]
    fn entrypoint_words_and_cmd_make_one_argv() {
        let o = overrides(&body(r#"{"Entrypoint":["sh","-c"],"Cmd":["echo hi"]}"#));
        assert_eq!(
            (o.entrypoint.as_deref(), o.cmd.as_slice()),
            (Some("sh"), &["-c".to_string(), "echo hi".to_string()][..])
        );
        let cleared = overrides(&body(r#"{"Entrypoint":[],"Cmd":["ls"]}"#));
        assert_eq!(cleared.entrypoint.as_deref(), Some(""));
        assert_eq!(overrides(&body(r#"{"Cmd":["true"]}"#)).entrypoint, None);
    }

    #[test]
    fn resources_in_dockers_units() {
        let host: HostConfig =
            serde_json::from_str(r#"{"Memory":67108864,"NanoCpus":500000000,"PidsLimit":-1}"#)
                .unwrap();
        let limits = limits(&host).unwrap();
        assert_eq!(limits.memory, Some(64 << 20));
        assert_eq!(limits.cpu_quota_us, Some(50_000));
        assert_eq!(limits.pids, None);
        let tiny: HostConfig = serde_json::from_str(r#"{"Memory":1024}"#).unwrap();
        assert_eq!(limits_error(&tiny), 400);
    }

    fn limits_error(host: &HostConfig) -> u16 {
        limits(host).unwrap_err().status
    }

    #[test]
    fn ports_and_mounts_from_the_cli_body() {
        let host: HostConfig = serde_json::from_str(
            r#"{"NetworkMode":"default","PortBindings":{"80/tcp":[{"HostIp":"127.0.0.1","HostPort":"18080"}],"81/udp":[{"HostIp":"","HostPort":""}]},
                "Binds":["data:/data"],"Mounts":[{"Type":"volume","Source":"mv","Target":"/mv"}],"Tmpfs":{"/scratch":""}}"#,
        )
        .unwrap();
        let net = network(&host).unwrap();
        assert_eq!(net.mode, NetworkMode::default());
        let ports: Vec<String> = net.ports.iter().map(|p| p.to_string()).collect();
        assert_eq!(ports, ["127.0.0.1:18080->80/tcp", "0.0.0.0:0->81/udp"]);
        let targets: Vec<String> = mounts(&host).unwrap().into_iter().map(|m| m.target).collect();
        assert_eq!(targets, ["/data", "/mv", "/scratch"]);
        let bad: HostConfig = serde_json::from_str(r#"{"NetworkMode":"container:x"}"#).unwrap();
        assert_eq!(network(&bad).unwrap_err().status, 400);
    }

    #[test]
    fn each_endpoint_beyond_the_mode_is_connected_with_its_aliases() {
        let host: HostConfig = serde_json::from_str(r#"{"NetworkMode":"front"}"#).unwrap();
        let mut settings = network(&host).unwrap();
        let two = serde_json::json!({"EndpointsConfig": {
            "front": {"Aliases": ["web"]}, "back": {"Aliases": null}}});
        endpoints(&mut settings, Some(&two)).unwrap();
        assert_eq!(settings.networks(), ["front", "back"]);
        assert_eq!(
            settings.aliases.get("front").map(Vec::as_slice),
            Some(&["web".to_string()][..])
        );
        let default: HostConfig = serde_json::from_str(r#"{"NetworkMode":"default"}"#).unwrap();
        let mut settings = network(&default).unwrap();
        let one = serde_json::json!({"EndpointsConfig": {"default": {}}});
        endpoints(&mut settings, Some(&one)).unwrap();
        assert_eq!(settings.networks(), ["bridge"]);
        let aliased = serde_json::json!({"EndpointsConfig": {"default": {"Aliases": ["x"]}}});
        assert!(endpoints(&mut settings, Some(&aliased)).is_err());
        let none: HostConfig = serde_json::from_str(r#"{"NetworkMode":"none"}"#).unwrap();
        let mut settings = network(&none).unwrap();
        let more = serde_json::json!({"EndpointsConfig": {"none": {}, "back": {}}});
        assert!(endpoints(&mut settings, Some(&more)).is_err());
    }
}
