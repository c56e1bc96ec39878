//! The image config a new image needs (image-spec `config.md`, with the
//! fields Docker adds): read from the parent, changed, written again.
//! Fields this chapter does not know (`Healthcheck`, `OnBuild`, `Shell`, a
//! parent's `variant`) are kept as they were.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

// ANCHOR: run_config
/// `config.config`: how to run a container of the image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    #[serde(rename = "User", default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// `{"80/tcp": {}}`: an object whose keys are the ports.
    #[serde(rename = "ExposedPorts", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Value>,
    #[serde(rename = "Env", default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(rename = "Entrypoint", default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(rename = "Volumes", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Value>,
    #[serde(rename = "WorkingDir", default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(rename = "Labels", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "StopSignal", default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// Everything else (`Healthcheck`, `OnBuild`, `Shell`, `ArgsEscaped`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}
// ANCHOR_END: run_config

impl RunConfig {
    /// The value of `key` in `Env`, if set.
    pub fn env_value(&self, key: &str) -> Option<&str> {
        self.env.iter().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    /// Set `key=value`: a variable already set keeps its place (Docker's
    /// `ReplaceOrAppendEnvValues`), a new one goes at the end.
    pub fn set_env(&mut self, key: &str, value: &str) {
        ch05_run::merge::replace_or_append(&mut self.env, &format!("{key}={value}"));
    }
}

// ANCHOR: history
/// One line of `docker history`: how a layer (or a config change) was made.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when this step added no layer (no DiffID goes with it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}
// ANCHOR_END: history

// ANCHOR: image_config
/// The whole config document. Its sha256 is the image id, so the fields
/// are always written in the same order (alphabetical, as moby's are).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default)]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    #[serde(default)]
    pub config: RunConfig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    #[serde(default)]
    pub os: String,
    pub rootfs: RootFs,
    /// Everything else (`variant`, `os.version`, Docker's `container`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type")]
    pub kind: String,
    pub diff_ids: Vec<String>,
}
// ANCHOR_END: image_config

impl ImageConfig {
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// The exact bytes to store (and hash into the image id).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a config always serializes")
    }

    /// The history entries that have a layer, matched with the DiffIDs
    /// (image-spec: in order, one to one). `None` where history is missing.
    pub fn layer_history(&self) -> Vec<Option<&History>> {
        let with_layers: Vec<&History> = self.history.iter().filter(|h| !h.empty_layer).collect();
        (0..self.rootfs.diff_ids.len()).map(|i| with_layers.get(i).copied()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_and_keys_come_out_in_order() {
        let text = r#"{"os":"linux","architecture":"amd64","variant":"v8",
            "config":{"Cmd":["sh"],"Healthcheck":{"Test":["NONE"]},"Env":["A=1"]},
            "rootfs":{"type":"layers","diff_ids":["sha256:aa"]},
            "history":[{"created_by":"x","empty_layer":true},{"created_by":"y"}]}"#;
        let config = ImageConfig::parse(text.as_bytes()).unwrap();
        assert_eq!(config.config.other["Healthcheck"]["Test"][0], "NONE");
        assert_eq!(config.other["variant"], "v8");
        let again = String::from_utf8(config.to_bytes()).unwrap();
        assert!(
            again.starts_with(
                r#"{"architecture":"amd64","config":{"Env":["A=1"],"Cmd":["sh"],"Healthcheck""#
            ),
            "{again}"
        );
        assert!(again.contains(r#""variant":"v8""#));
        assert_eq!(ImageConfig::parse(again.as_bytes()).unwrap(), config);
        let layered = config.layer_history();
        assert_eq!(layered.len(), 1);
        assert_eq!(layered[0].unwrap().created_by.as_deref(), Some("y"));
    }

    #[test]
    fn env_is_replaced_in_place() {
        let mut run = RunConfig { env: vec!["A=1".into(), "B=2".into()], ..RunConfig::default() };
        run.set_env("A", "3");
        run.set_env("C", "4");
        assert_eq!(run.env, ["A=3", "B=2", "C=4"]);
        assert_eq!(run.env_value("B"), Some("2"));
        assert_eq!(run.env_value("Z"), None);
    }
}
