//! From an image in chapter 4's store to what a container needs: its
//! runtime defaults and its layer directories, bottom to top.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ch04_image_pull::store::Store as ImageStore;
use serde_json::Value;

use crate::merge::ImageDefaults;

/// An image, ready to make containers from.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    /// The image id: the digest of its config (`sha256:…`).
    pub id: String,
    pub defaults: ImageDefaults,
    pub layers: Vec<PathBuf>,
    /// `VOLUME` paths: each gets an anonymous volume (chapter 7).
    pub volumes: Vec<String>,
}

// ANCHOR: local_image
/// Look `name` up in the local store (a tag, or an image id or prefix).
/// `Ok(None)` means "not here": `run` then pulls it, as Docker does.
pub fn local_image(root: &Path, name: &str) -> anyhow::Result<Option<ImageInfo>> {
    let store = ImageStore::open(root)?;
    let Some((id, _tag)) = store.resolve(name)? else { return Ok(None) };
    let record = store.image(&id)?;
    let config: Value = serde_json::from_slice(&store.read_blob(&id)?)
        .with_context(|| format!("the config of image {id} is not JSON"))?;
    let layers = record.layers.iter().map(|layer| store.layer_path(&layer.diff_id)).collect();
    Ok(Some(ImageInfo {
        id,
        defaults: defaults_from_config(&config),
        layers,
        volumes: volumes_from_config(&config),
    }))
}
// ANCHOR_END: local_image

/// The runtime part of an OCI image config (`config.config`).
pub fn defaults_from_config(config: &Value) -> ImageDefaults {
    let runtime = &config["config"];
    let strings = |key: &str| {
        runtime[key]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect::<Vec<_>>())
    };
    let text = |key: &str| runtime[key].as_str().filter(|s| !s.is_empty()).map(str::to_string);
    ImageDefaults {
        entrypoint: strings("Entrypoint"),
        cmd: strings("Cmd"),
        env: strings("Env").unwrap_or_default(),
        working_dir: text("WorkingDir"),
        user: text("User"),
    }
}

/// `config.config.Volumes`: an object whose keys are the paths (`{"/data": {}}`).
pub fn volumes_from_config(config: &Value) -> Vec<String> {
    config["config"]["Volumes"]
        .as_object()
        .map(|paths| paths.keys().cloned().collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_defaults_from_an_oci_config() {
        let config = serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"], "Entrypoint": null, "WorkingDir": "", "User": "www"},
            "rootfs": {"type": "layers", "diff_ids": []}
        });
        let d = defaults_from_config(&config);
        assert_eq!(d.cmd, Some(vec!["sh".to_string()]));
        assert_eq!(d.entrypoint, None);
        assert_eq!(d.env, ["PATH=/bin"]);
        assert_eq!(d.working_dir, None);
        assert_eq!(d.user.as_deref(), Some("www"));
        assert_eq!(defaults_from_config(&serde_json::json!({})), ImageDefaults::default());
        let with_volumes =
            serde_json::json!({"config": {"Volumes": {"/data": {}, "/var/log": {}}}});
        assert_eq!(volumes_from_config(&with_volumes), ["/data", "/var/log"]);
        assert!(volumes_from_config(&config).is_empty());
    }
}
