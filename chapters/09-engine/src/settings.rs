//! What the daemon keeps about a container besides what chapters 5–8 keep:
//! the restart policy, the health check, labels — settings that need a
//! long-lived process to act on, recorded through chapter 5's seam like
//! every other chapter's.

use std::collections::BTreeMap;
use std::path::Path;

use ch05_run::{ContainerConfig, Creating, Extension, Settings, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::lifecycle;
use crate::types::{HealthConfig, RestartPolicy};

// ANCHOR: settings
/// A container's daemon settings, under `"engine"` in its `config.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineSettings {
    pub restart_policy: RestartPolicy,
    pub healthcheck: Option<HealthConfig>,
    pub labels: BTreeMap<String, String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<i64>,
}

impl Settings for EngineSettings {
    const KEY: &'static str = "engine";
}
// ANCHOR_END: settings

/// Chapter 9's extension of the engine: it records the settings; the
/// daemon acts on them (restart policies, health checks).
pub struct Engine;

impl Extension for Engine {
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        let mut settings: EngineSettings = creating.request.get()?;
        check_restart_policy(&settings.restart_policy, creating.config.auto_remove)?;
        let image = image_healthcheck(creating.root, &creating.image.id);
        settings.healthcheck =
            crate::lifecycle::merge_health(settings.healthcheck.as_ref(), image.as_ref());
        creating.config.extensions.set(&settings);
        Ok(())
    }

    fn inspect(&self, root: &Path, config: &ContainerConfig, state: &State, described: &mut Value) {
        let settings: EngineSettings = config.extensions.get().unwrap_or_default();
        let dir = ch05_run::store::Store::new(root).container_dir(&config.id);
        describe_record(&lifecycle::read(&dir), state, described);
        let policy = &settings.restart_policy;
        let name = if policy.name.is_empty() { "no" } else { policy.name.as_str() };
        described["HostConfig"]["RestartPolicy"] =
            json!({ "Name": name, "MaximumRetryCount": policy.maximum_retry_count });
        described["Config"]["Labels"] = json!(settings.labels);
        described["Config"]["StopSignal"] = json!(settings.stop_signal);
        if let Some(health) = &settings.healthcheck {
            described["Config"]["Healthcheck"] = serde_json::to_value(health).unwrap_or_default();
        }
    }

    fn summarize(&self, root: &Path, config: &ContainerConfig, summary: &mut Value) {
        let settings: EngineSettings = config.extensions.get().unwrap_or_default();
        summary["Labels"] = json!(settings.labels);
        let store = ch05_run::store::Store::new(root);
        let record = lifecycle::read(&store.container_dir(&config.id));
        let running = summary["State"] == "running";
        match (&record.health, running) {
            (Some(health), true) => {
                let status = summary["Status"].as_str().unwrap_or_default();
                summary["Status"] = json!(format!("{status}{}", lifecycle::status_suffix(health)));
            }
            _ if record.restarting && !running => {
                let state: Option<State> = store.read(&config.id, "state.json").ok();
                let state = state.unwrap_or_else(State::created);
                let ago = state.status_line(std::time::SystemTime::now());
                let ago = ago.split_once(") ").map_or("", |(_, rest)| rest);
                let code = state.exit_code.unwrap_or(0);
                summary["State"] = json!("restarting");
                summary["Status"] = json!(format!("Restarting ({code}) {ago}"));
            }
            _ => {}
        }
    }
}

// ANCHOR: describe_record
/// `inspect`'s `RestartCount`, `State.Restarting` and `State.Health`.
fn describe_record(record: &lifecycle::Record, state: &State, described: &mut Value) {
    described["RestartCount"] = json!(record.restart_count);
    let restarting = record.restarting && !state.is_running();
    described["State"]["Restarting"] = json!(restarting);
    if restarting {
        described["State"]["Status"] = json!("restarting");
    }
    if let Some(health) = record.health.as_ref().filter(|_| state.is_running()) {
        described["State"]["Health"] = serde_json::to_value(health).unwrap_or_default();
    }
}
// ANCHOR_END: describe_record

/// The image's `HEALTHCHECK` (`config.Healthcheck` of its config blob).
fn image_healthcheck(root: &Path, image_id: &str) -> Option<HealthConfig> {
    let store = ch04_image_pull::store::Store::open(root).ok()?;
    let config: Value = serde_json::from_slice(&store.read_blob(image_id).ok()?).ok()?;
    serde_json::from_value(config["config"]["Healthcheck"].clone()).ok()
}

/// Docker's rules for `--restart`: a known name, a count only with
/// `on-failure`, and none with `--rm`.
pub fn check_restart_policy(policy: &RestartPolicy, auto_remove: bool) -> anyhow::Result<()> {
    match policy.name.as_str() {
        "" | "no" => return Ok(()),
        "always" | "unless-stopped" if policy.maximum_retry_count != 0 => {
            anyhow::bail!(
                "maximum retry count cannot be used with restart policy '{}'",
                policy.name
            )
        }
        "always" | "unless-stopped" | "on-failure" => {}
        other => anyhow::bail!("invalid restart policy '{other}'"),
    }
    if policy.maximum_retry_count < 0 {
        anyhow::bail!("invalid value for maximum retry count: {}", policy.maximum_retry_count);
    }
    if auto_remove {
        anyhow::bail!("can't create 'AutoRemove' container with restart policy");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, count: i64) -> RestartPolicy {
        RestartPolicy { name: name.into(), maximum_retry_count: count }
    }

    #[test]
    fn restart_policies_as_docker_checks_them() {
        assert!(check_restart_policy(&policy("", 0), true).is_ok());
        assert!(check_restart_policy(&policy("on-failure", 3), false).is_ok());
        let err = check_restart_policy(&policy("always", 2), false).unwrap_err().to_string();
        assert_eq!(err, "maximum retry count cannot be used with restart policy 'always'");
        let err = check_restart_policy(&policy("sometimes", 0), false).unwrap_err().to_string();
        assert_eq!(err, "invalid restart policy 'sometimes'");
        assert!(check_restart_policy(&policy("always", 0), true).is_err());
    }
}
