//! Reading a ServiceSpec (kept as the client's JSON, so that `inspect`
//! shows back exactly what was sent): replicas, ports, the update and
//! restart settings, with swarmkit's defaults (`api/defaults/service.go`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::from_nanos;

/// A published port: `-p PUBLISHED:TARGET[/PROTO]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Port {
    pub protocol: String,
    pub target: u16,
    pub published: u16,
}

/// The replica count (`Mode.Replicated.Replicas`; null is 1, as dockerd makes it).
pub fn replicas(spec: &Value) -> u64 {
    spec["Mode"]["Replicated"]["Replicas"].as_u64().unwrap_or(1)
}

/// What dockerd stores: a replicated mode always has its count (null is 1).
pub fn normalize(spec: &mut Value) {
    if spec["Mode"]["Replicated"]["Replicas"].as_u64().is_none() && check_mode(spec) {
        spec["Mode"] = serde_json::json!({"Replicated": {"Replicas": replicas(spec)}});
    }
}

fn check_mode(spec: &Value) -> bool {
    spec["Mode"].as_object().is_none_or(|m| m.keys().all(|k| k == "Replicated"))
}

/// Refuse what this chapter does not do, in one line each.
pub fn check(spec: &Value) -> Result<(), String> {
    let name = spec["Name"].as_str().unwrap_or_default();
    if !name.is_empty() && !valid_name(name) {
        return Err(format!("rpc error: code = InvalidArgument desc = name must be valid as a DNS name component: {name:?}"));
    }
    let image = spec["TaskTemplate"]["ContainerSpec"]["Image"].as_str().unwrap_or_default();
    if image.is_empty() {
        return Err("rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided".into());
    }
    let mode = spec["Mode"].as_object();
    if mode.is_some_and(|m| m.keys().any(|k| k != "Replicated")) {
        return Err("mini-docker runs replicated services only (not global or job modes)".into());
    }
    for port in spec["EndpointSpec"]["Ports"].as_array().into_iter().flatten() {
        if port["PublishMode"].as_str().is_some_and(|m| m == "host") {
            return Err(
                "mini-docker publishes ports through the routing mesh only (mode=ingress)".into()
            );
        }
        if port["Protocol"].as_str().is_some_and(|p| p != "tcp") {
            return Err("mini-docker's routing mesh balances TCP only".into());
        }
    }
    Ok(())
}

/// DNS-label-like: letters, digits and dashes, at most 63.
fn valid_name(name: &str) -> bool {
    name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The ports asked for (a published port 0 is chosen later).
pub fn ports(spec: &Value) -> Vec<Port> {
    let asked = spec["EndpointSpec"]["Ports"].as_array().cloned().unwrap_or_default();
    asked
        .iter()
        .filter_map(|p| {
            Some(Port {
                protocol: p["Protocol"].as_str().unwrap_or("tcp").to_string(),
                target: p["TargetPort"].as_u64()? as u16,
                published: p["PublishedPort"].as_u64().unwrap_or(0) as u16,
            })
        })
        .collect()
}

// ANCHOR: update_config
/// How a rolling update goes (`--update-parallelism`, `--update-delay`,
/// `--update-order`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateConfig {
    /// Slots updated at once; 0 means all.
    pub parallelism: u64,
    pub delay: Duration,
    pub start_first: bool,
    /// `pause` (the default) or `continue` when an updated task fails.
    pub pause_on_failure: bool,
}

pub fn update_config(spec: &Value) -> UpdateConfig {
    let config = &spec["UpdateConfig"];
    UpdateConfig {
        parallelism: config["Parallelism"].as_u64().unwrap_or(1),
        delay: from_nanos(config["Delay"].as_i64().unwrap_or(0)),
        start_first: config["Order"].as_str() == Some("start-first"),
        pause_on_failure: config["FailureAction"].as_str().unwrap_or("pause") == "pause",
    }
}
// ANCHOR_END: update_config

/// When a task that stopped is replaced (`--restart-condition`,
/// `--restart-delay`): condition any, delay 5 s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestartPolicy {
    pub condition: String,
    pub delay: Duration,
}

pub fn restart_policy(template: &Value) -> RestartPolicy {
    let policy = &template["RestartPolicy"];
    RestartPolicy {
        condition: policy["Condition"].as_str().unwrap_or("any").to_string(),
        delay: policy["Delay"].as_i64().map(from_nanos).unwrap_or(Duration::from_secs(5)),
    }
}

impl RestartPolicy {
    /// Should a task that ended with `exit_code` (None: it never ran, or
    /// its node went down) be replaced?
    pub fn restarts(&self, exit_code: Option<i64>) -> bool {
        match self.condition.as_str() {
            "none" => false,
            "on-failure" => exit_code != Some(0),
            _ => true,
        }
    }
}

/// `--stop-grace-period` (default 10 s).
pub fn stop_grace(template: &Value) -> Duration {
    template["ContainerSpec"]["StopGracePeriod"]
        .as_i64()
        .map(from_nanos)
        .unwrap_or(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_are_swarmkits() {
        let spec = json!({"Name": "web", "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}});
        assert_eq!(replicas(&spec), 1);
        let update = update_config(&spec);
        assert_eq!(
            (update.parallelism, update.delay, update.start_first),
            (1, Duration::ZERO, false)
        );
        assert!(update.pause_on_failure);
        let restart = restart_policy(&spec["TaskTemplate"]);
        assert_eq!(restart.delay, Duration::from_secs(5));
        assert!(restart.restarts(Some(0)) && restart.restarts(None));
        assert_eq!(stop_grace(&spec["TaskTemplate"]), Duration::from_secs(10));
        assert!(check(&spec).is_ok());
        let mut spec = spec;
        normalize(&mut spec);
        assert_eq!(spec["Mode"], serde_json::json!({"Replicated": {"Replicas": 1}}));
    }

    #[test]
    fn what_the_cli_sends_is_read() {
        let spec = json!({
            "Name": "web",
            "Mode": {"Replicated": {"Replicas": 3}},
            "TaskTemplate": {"ContainerSpec": {"Image": "busybox", "StopGracePeriod": 1_000_000_000u64},
                             "RestartPolicy": {"Condition": "on-failure", "Delay": 0}},
            "UpdateConfig": {"Parallelism": 2, "Delay": 2_000_000_000u64, "Order": "start-first",
                             "FailureAction": "continue"},
            "EndpointSpec": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080}]},
        });
        assert_eq!(replicas(&spec), 3);
        assert_eq!(
            ports(&spec),
            vec![Port { protocol: "tcp".into(), target: 80, published: 8080 }]
        );
        let update = update_config(&spec);
        assert_eq!((update.parallelism, update.delay), (2, Duration::from_secs(2)));
        assert!(update.start_first && !update.pause_on_failure);
        let restart = restart_policy(&spec["TaskTemplate"]);
        assert!(!restart.restarts(Some(0)) && restart.restarts(Some(137)));
        assert_eq!(stop_grace(&spec["TaskTemplate"]), Duration::from_secs(1));
    }

    #[test]
    fn bad_specs_are_one_line() {
        let global =
            json!({"TaskTemplate": {"ContainerSpec": {"Image": "b"}}, "Mode": {"Global": {}}});
        assert!(check(&global).unwrap_err().contains("replicated services only"));
        let no_image = json!({"Name": "web"});
        assert!(check(&no_image).unwrap_err().contains("image reference"));
        let bad = json!({"Name": "no_way", "TaskTemplate": {"ContainerSpec": {"Image": "b"}}});
        assert!(check(&bad).unwrap_err().contains("DNS name"));
    }
}
