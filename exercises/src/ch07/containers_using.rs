//! Exercise `containers_using` (medium). Book: ch07-volumes.md, "Removing volumes".
//!
//! `volume rm busy` must refuse while a container still uses the volume
//! (a stopped one too: its next `start` needs it). The containers live in
//! `<state_root>/containers/<id>/config.json`; a config's `"mounts"` field
//! (`in_use::CONTAINER_MOUNTS_FIELD`) is a list of mounts, and a mount uses
//! the volume when its `"type"` is `"volume"` and its `"name"` is `name`:
//!
//! ```text
//! {"mounts": [{"type": "volume", "name": "data", "destination": "/data", ...}], ...}
//! ```
//!
//! Return the ids (the directory names) of those containers, sorted.
//! A missing `containers` directory, a container without a config, a
//! config that is not JSON or has no `mounts`: none of these use it.

use std::path::Path;

use ch07_volumes::in_use::CONTAINER_MOUNTS_FIELD;
use serde_json::Value;

/// The ids of the containers that refer to volume `name`, sorted.
pub fn containers_using(state_root: &Path, name: &str) -> Vec<String> {
    todo!("read_dir the containers, parse each config.json, look at its mounts")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: any mount with that name counted, bind mounts
    // included: a bind of a host directory that happens to be called like the volume keeps it in
    // use. Checked by pasting it into the reference implementation: it fails
    // `only_volume_mounts_count_and_names_match_whole`.
    //
    //     mounts.iter().any(|m| m["name"] == name)

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch07_volumes::in_use as solution;

    use std::path::Path;

    use serde_json::json;

    fn container(root: &Path, id: &str, config: &str) {
        let dir = root.join("containers").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), config).unwrap();
    }

    #[test]
    fn finds_every_container_that_mounts_the_volume_sorted() {
        let root = testkit::temp_dir();
        let r = root.path();
        container(
            r,
            "c3",
            &json!({"mounts": [{"type": "volume", "name": "data", "destination": "/data"}]})
                .to_string(),
        );
        container(r, "a1", &json!({"mounts": [{"type": "bind", "name": null}, {"type": "volume", "name": "data"}]}).to_string());
        container(r, "b2", &json!({"mounts": [{"type": "volume", "name": "other"}]}).to_string());
        container(r, "d4", &json!({"image": "busybox", "mounts": [{"type": "volume", "name": "data"}, {"type": "volume", "name": "other"}]}).to_string());
        assert_eq!(solution::containers_using(r, "data"), ["a1", "c3", "d4"]);
        assert_eq!(solution::containers_using(r, "other"), ["b2", "d4"]);
        assert!(solution::containers_using(r, "nothing").is_empty());
    }

    #[test]
    fn only_volume_mounts_count_and_names_match_whole() {
        let root = testkit::temp_dir();
        let r = root.path();
        container(r, "bind", &json!({"mounts": [{"type": "bind", "name": "data"}]}).to_string());
        container(r, "tmpfs", &json!({"mounts": [{"type": "tmpfs", "name": "data"}]}).to_string());
        container(
            r,
            "longer",
            &json!({"mounts": [{"type": "volume", "name": "data2"}]}).to_string(),
        );
        container(
            r,
            "elsewhere",
            &json!({"volumes": [{"type": "volume", "name": "data"}]}).to_string(),
        );
        assert!(
            solution::containers_using(r, "data").is_empty(),
            "{:?}",
            solution::containers_using(r, "data")
        );
        assert_eq!(solution::containers_using(r, "data2"), ["longer"]);
    }

    #[test]
    fn damaged_or_missing_configs_are_skipped() {
        let root = testkit::temp_dir();
        let r = root.path();
        assert!(solution::containers_using(r, "data").is_empty(), "no containers directory at all");
        container(r, "good", &json!({"mounts": [{"type": "volume", "name": "data"}]}).to_string());
        container(r, "broken", "{\"mounts\": [{\"type\": \"volume\", \"name\": \"data\"");
        container(r, "no-mounts", "{\"name\": \"made before chapter 7\"}");
        container(r, "mounts-not-a-list", "{\"mounts\": \"data\"}");
        std::fs::create_dir_all(r.join("containers/no-config")).unwrap();
        assert_eq!(solution::containers_using(r, "data"), ["good"]);
    }
}
