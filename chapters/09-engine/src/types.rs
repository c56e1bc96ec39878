//! The Docker Engine API's request bodies, with its field names, as the
//! `docker` CLI and docker-py send them. Responses are JSON built by the
//! chapters (`inspect`, the container list), so they are plain values.
//!
//! Every field is optional on the wire: docker-py sends five of the fifty
//! fields the CLI sends, and unknown fields are ignored, as dockerd does.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

// ANCHOR: create_body
/// `POST /containers/create`: the container's `Config`, with `HostConfig`
/// and `NetworkingConfig` beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerCreateBody {
    pub hostname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    #[serde(deserialize_with = "string_or_list")]
    pub entrypoint: Option<Vec<String>>,
    pub image: String,
    pub working_dir: String,
    pub labels: Option<BTreeMap<String, String>>,
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub healthcheck: Option<HealthConfig>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
    pub host_config: HostConfig,
    pub networking_config: Option<Value>,
}
// ANCHOR_END: create_body

// ANCHOR: host_config
/// The host's side of a container: resources, mounts, network, walls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    pub mounts: Option<Vec<MountBody>>,
    pub tmpfs: Option<BTreeMap<String, String>>,
    pub network_mode: String,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub restart_policy: RestartPolicy,
    pub auto_remove: bool,
    pub init: Option<bool>,
    pub memory: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub cpu_shares: i64,
    pub pids_limit: Option<i64>,
    pub cgroup_parent: String,
    pub cgroupns_mode: String,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub privileged: bool,
    pub security_opt: Option<Vec<String>>,
    pub readonly_rootfs: bool,
    pub userns_mode: String,
    pub console_size: Option<[u16; 2]>,
}
// ANCHOR_END: host_config

/// `-p 127.0.0.1:8080:80`: `{"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// `--restart no|always|unless-stopped|on-failure[:N]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

/// `--mount type=…,source=…,target=…`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MountBody {
    #[serde(rename = "Type")]
    pub kind: String,
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub volume_options: Option<Value>,
    pub tmpfs_options: Option<Value>,
}

/// The image's HEALTHCHECK or `--health-*`: durations in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    pub test: Option<Vec<String>>,
    // docker-py sends `null` for the durations it was not given.
    #[serde(deserialize_with = "null_is_zero")]
    pub interval: i64,
    #[serde(deserialize_with = "null_is_zero")]
    pub timeout: i64,
    #[serde(deserialize_with = "null_is_zero")]
    pub retries: i64,
    #[serde(deserialize_with = "null_is_zero")]
    pub start_period: i64,
    /// API 1.44: how often to probe during the start period (`--health-start-interval`).
    #[serde(deserialize_with = "null_is_zero")]
    pub start_interval: i64,
}

fn null_is_zero<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(Option::<i64>::deserialize(d)?.unwrap_or(0))
}

/// `POST /containers/create`'s answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResponse {
    pub id: String,
    pub warnings: Vec<String>,
}

/// `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecCreateBody {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub env: Option<Vec<String>>,
    pub working_dir: String,
    pub user: String,
    pub privileged: bool,
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
}

/// `filters={"name":{"web":true},"status":{"running":true}}`: for each key,
/// the values asked for.
pub type Filters = BTreeMap<String, Vec<String>>;

/// Parse a `filters` query value. Docker accepts the map form and the
/// older list form (`{"name":["web"]}`).
pub fn parse_filters(text: &str) -> Result<Filters, String> {
    if text.is_empty() {
        return Ok(Filters::new());
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("invalid filters {text:?}: {e}"))?;
    let Value::Object(keys) = value else { return Err(format!("invalid filters {text:?}")) };
    let mut filters = Filters::new();
    for (key, values) in keys {
        let list = match values {
            Value::Object(map) => {
                map.into_iter().filter(|(_, on)| *on == true).map(|(v, _)| v).collect()
            }
            Value::Array(list) => {
                list.into_iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            other => return Err(format!("invalid filter {key:?}: {other}")),
        };
        filters.insert(key, list);
    }
    Ok(filters)
}

/// The inverse, for a client: `{"name":{"web":true}}`.
pub fn filters_json(filters: &Filters) -> String {
    let map: serde_json::Map<String, Value> = filters
        .iter()
        .map(|(key, values)| {
            let set = values.iter().map(|v| (v.clone(), Value::Bool(true))).collect();
            (key.clone(), Value::Object(set))
        })
        .collect();
    Value::Object(map).to_string()
}

/// Docker's `strslice`: `"echo hi"` or `["echo", "hi"]` (a string is one
/// element, not split).
fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrSlice {
        One(String),
        Many(Vec<String>),
    }
    Ok(Option::<StrSlice>::deserialize(d)?.map(|s| match s {
        StrSlice::One(one) => vec![one],
        StrSlice::Many(many) => many,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_pys_minimal_body_is_enough() {
        let body: ContainerCreateBody = serde_json::from_str(
            r#"{"Tty":false,"OpenStdin":false,"Cmd":["echo","hi"],"Image":"busybox","NetworkDisabled":false,"HostConfig":{"NetworkMode":"default"}}"#,
        )
        .unwrap();
        assert_eq!(body.cmd, Some(vec!["echo".into(), "hi".into()]));
        assert_eq!(body.host_config.network_mode, "default");
        assert_eq!(body.entrypoint, None);
    }

    #[test]
    fn a_string_command_is_one_element_and_wrong_types_are_errors() {
        let body: ContainerCreateBody =
            serde_json::from_str(r#"{"Image":"x","Entrypoint":"sh","Cmd":null}"#).unwrap();
        assert_eq!(body.entrypoint, Some(vec!["sh".into()]));
        assert_eq!(body.cmd, None);
        let wrong = serde_json::from_str::<ContainerCreateBody>(r#"{"Image":"x","Tty":"yes"}"#);
        assert!(wrong.unwrap_err().to_string().contains("expected a boolean"));
    }

    #[test]
    fn filters_in_both_forms() {
        let f = parse_filters(r#"{"name":{"web":true},"status":["running"]}"#).unwrap();
        assert_eq!(f["name"], ["web"]);
        assert_eq!(f["status"], ["running"]);
        assert_eq!(parse_filters("").unwrap(), Filters::new());
        assert!(parse_filters("[1]").is_err());
        assert_eq!(parse_filters(&filters_json(&f)).unwrap(), f);
    }
}
