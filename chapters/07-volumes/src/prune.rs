//! `volume prune` and `volume ls`'s table: the volumes as a whole.

use std::path::Path;

use crate::in_use::containers_using;
use crate::store::{Volume, VolumeError, VolumeStore};

/// What `prune` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub names: Vec<String>,
    pub bytes: u64,
}

// ANCHOR: prune
/// Remove every volume no container refers to: only the anonymous ones,
/// or all of them with `all` (Docker 23 changed `prune` this way, so that
/// it no longer deletes named data by surprise).
pub fn prune(state_root: &Path, all: bool) -> Result<Pruned, VolumeError> {
    let store = VolumeStore::new(state_root);
    let _lock = store.lock()?;
    let mut pruned = Pruned::default();
    for volume in store.list()? {
        if (all || volume.anonymous) && containers_using(state_root, &volume.name).is_empty() {
            let bytes = store.size(&volume.name);
            store.remove(&volume.name, Vec::new())?;
            pruned.bytes += bytes;
            pruned.names.push(volume.name);
        }
    }
    Ok(pruned)
}
// ANCHOR_END: prune

/// `volume ls`: `DRIVER    VOLUME NAME`, one line per volume.
pub fn table(volumes: &[Volume]) -> String {
    let mut out = String::from("DRIVER    VOLUME NAME\n");
    for volume in volumes {
        out.push_str(&format!("local     {}\n", volume.name));
    }
    out
}

/// `1.5kB`, `12MB`: go-units' `HumanSize`, as `prune` prints it.
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit < units.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    // Go's %.4g: four significant digits, trailing zeros dropped.
    let integer_digits = if size < 10.0 {
        1
    } else if size < 100.0 {
        2
    } else {
        3
    };
    let text = format!("{size:.prec$}", prec = 4 - integer_digits);
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn prune_keeps_named_and_used_volumes() {
        let root = testkit::temp_dir();
        let store = VolumeStore::new(root.path());
        let (anon, _) = store.create(None, BTreeMap::new(), true).unwrap();
        store.create(Some("named"), BTreeMap::new(), false).unwrap();
        store.create(Some("used"), BTreeMap::new(), false).unwrap();
        std::fs::write(store.data_dir(&anon.name).join("f"), "12345").unwrap();
        let dir = root.path().join("containers/c1");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("config.json"), r#"{"mounts":[{"type":"volume","name":"used"}]}"#)
            .unwrap();

        let pruned = prune(root.path(), false).unwrap();
        assert_eq!(pruned, Pruned { names: vec![anon.name], bytes: 5 });
        let pruned = prune(root.path(), true).unwrap();
        assert_eq!(pruned.names, ["named"]);
        assert_eq!(store.list().unwrap().len(), 1);
    }

    #[test]
    fn sizes_and_table() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(5), "5B");
        assert_eq!(human_size(1500), "1.5kB");
        assert_eq!(human_size(12_000_000), "12MB");
        assert_eq!(human_size(1_234_567), "1.235MB");
        let v = Volume {
            name: "data".into(),
            created_at: String::new(),
            labels: BTreeMap::new(),
            anonymous: false,
        };
        assert_eq!(table(&[v]), "DRIVER    VOLUME NAME\nlocal     data\n");
    }
}
