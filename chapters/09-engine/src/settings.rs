//! What the daemon keeps about a container besides what chapters 5–8 keep:
//! the restart policy, the health check, labels — settings that need a
//! long-lived process to act on, recorded through chapter 5's seam like
//! every other chapter's.

use std::collections::BTreeMap;
use std::path::Path;

use ch05_run::{ContainerConfig, Creating, Extension, Settings, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

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
        let settings: EngineSettings = creating.request.get()?;
        check_restart_policy(&settings.restart_policy, creating.config.auto_remove)?;
        creating.config.extensions.set(&settings);
        Ok(())
    }

    fn inspect(&self, _: &Path, config: &ContainerConfig, _: &State, described: &mut Value) {
        let settings: EngineSettings = config.extensions.get().unwrap_or_default();
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

    fn summarize(&self, _: &Path, config: &ContainerConfig, summary: &mut Value) {
        let settings: EngineSettings = config.extensions.get().unwrap_or_default();
        summary["Labels"] = json!(settings.labels);
    }
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
