//! Which containers use a volume: the ones whose `config.json` names it.
//!
//! Chapter 5 keeps each container's config in
//! `<root>/containers/<id>/config.json`, with its mounts (this chapter's
//! [`ContainerMount`](crate::resolve::ContainerMount)) in the field
//! [`CONTAINER_MOUNTS_FIELD`]. A stopped container counts as a user too,
//! as in Docker: its next `start` needs the volume.

use std::path::Path;

use serde_json::Value;

/// The field of a container's config that lists its mounts.
pub const CONTAINER_MOUNTS_FIELD: &str = "mounts";

// ANCHOR: containers_using
/// The ids of the containers that refer to volume `name`, sorted.
pub fn containers_using(state_root: &Path, name: &str) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_root.join("containers")) else { return Vec::new() };
    let mut users: Vec<String> = entries
        .flatten()
        .filter(|entry| {
            let Ok(text) = std::fs::read(entry.path().join("config.json")) else { return false };
            let Ok(config) = serde_json::from_slice::<Value>(&text) else { return false };
            mounts_name(&config, name)
        })
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    users.sort();
    users
}
// ANCHOR_END: containers_using

fn mounts_name(config: &Value, name: &str) -> bool {
    let Some(mounts) = config[CONTAINER_MOUNTS_FIELD].as_array() else { return false };
    mounts.iter().any(|m| m["type"] == "volume" && m["name"] == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_containers_that_name_the_volume() {
        let root = testkit::temp_dir();
        let write = |id: &str, config: serde_json::Value| {
            let dir = root.path().join("containers").join(id);
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        };
        write("bbb", serde_json::json!({"mounts": [{"type": "volume", "name": "data"}]}));
        write(
            "aaa",
            serde_json::json!({"mounts": [{"type": "bind", "name": null}, {"type": "volume", "name": "data"}]}),
        );
        write("ccc", serde_json::json!({"mounts": [{"type": "volume", "name": "other"}]}));
        write("ddd", serde_json::json!({"name": "before chapter 7: no mounts field"}));
        assert_eq!(containers_using(root.path(), "data"), ["aaa", "bbb"]);
        assert!(containers_using(root.path(), "nothing").is_empty());
        assert!(containers_using(&root.path().join("missing"), "data").is_empty());
    }
}
