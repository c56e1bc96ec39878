//! `docker builder prune` (and the last part of `docker system prune`):
//! `POST /build/prune`. The classic builder keeps no cache of its own —
//! its cache *is* the images its steps made, each a child of the step
//! before ([`super::cache`]). Pruning it removes those step images that
//! no tag and no container still stands on: a rebuild of a tagged image
//! keeps its cache, a chain left by a build whose tag moved on goes.
//!
//! ```text
//! busybox ─ ENV ─ COPY(old) ─ RUN(old)        ← pruned: nothing tagged above
//!             └── COPY(new) ─ RUN(new) = app:1 ← kept: app:1's ancestors
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};

use ch04_image_pull::store::{ImageRecord, Store};

use super::cache::CONTAINER_CONFIG;

/// What a prune removed: `{"CachesDeleted": ids, "SpaceReclaimed": bytes}`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub deleted: Vec<String>,
    /// The bytes of the layers no remaining image uses.
    pub reclaimed: u64,
}

// ANCHOR: prune
/// Remove the step images that nothing needs; `in_use`: the images of
/// containers (which keep their ancestors too).
pub fn prune(store: &Store, in_use: &HashSet<String>) -> anyhow::Result<Pruned> {
    let lock = store.lock()?;
    let images: BTreeMap<String, ImageRecord> =
        store.images()?.into_iter().map(|i| (i.id.clone(), i)).collect();
    let tagged: HashSet<String> = store.tags()?.into_values().collect();
    let roots = tagged.iter().chain(in_use);
    let kept = with_ancestors(&images, roots);
    let mut pruned = Pruned::default();
    for (id, image) in &images {
        if !kept.contains(id) && made_by_a_step(store, image) {
            store.remove_image(&lock, id)?;
            pruned.deleted.push(id.clone());
        }
    }
    let remaining: HashSet<&str> = images
        .values()
        .filter(|i| !pruned.deleted.contains(&i.id))
        .flat_map(|i| i.layers.iter().map(|l| l.diff_id.as_str()))
        .collect();
    let freed: HashMap<&str, u64> = pruned
        .deleted
        .iter()
        .flat_map(|id| images[id].layers.iter())
        .filter(|l| !remaining.contains(l.diff_id.as_str()))
        .map(|l| (l.diff_id.as_str(), l.size))
        .collect();
    pruned.reclaimed = freed.values().sum();
    Ok(pruned)
}
// ANCHOR_END: prune

/// `roots` and every image they were made from, through the parent links.
fn with_ancestors<'a>(
    images: &BTreeMap<String, ImageRecord>,
    roots: impl Iterator<Item = &'a String>,
) -> HashSet<String> {
    let mut kept = HashSet::new();
    for root in roots {
        let mut next = Some(root.clone());
        while let Some(id) = next.filter(|id| kept.insert(id.clone())) {
            next = images.get(&id).and_then(|i| i.parent.clone());
        }
    }
    kept
}

/// A step of a build: made here (it has a parent), with the probe config
/// the builder records (`container_config`). A pulled, loaded or
/// committed image is never the builder's cache.
fn made_by_a_step(store: &Store, image: &ImageRecord) -> bool {
    if image.parent.is_none() || !image.repo_digests.is_empty() {
        return false;
    }
    let config = store.read_blob(&image.id).ok();
    let config = config.and_then(|c| serde_json::from_slice::<serde_json::Value>(&c).ok());
    config.is_some_and(|c| c.get(CONTAINER_CONFIG).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{History, ImageConfig, RootFs};
    use crate::image::{or_roll_back, record_image, store_layer, Parent};

    /// An image on `parent` (a step when `step`), with a layer of one file if `file`.
    fn image(store: &Store, parent: Option<&str>, step: bool, file: Option<&str>) -> String {
        let parent = parent.map(|p| Parent::load(store, p).unwrap());
        let mut config = parent.as_ref().map(|p| p.config.clone()).unwrap_or(ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            rootfs: RootFs { kind: "layers".into(), diff_ids: vec![] },
            ..ImageConfig::default()
        });
        config.other.remove(CONTAINER_CONFIG);
        if step {
            config.other.insert(CONTAINER_CONFIG.into(), serde_json::json!({ "Cmd": [file] }));
        }
        let history = History { created_by: file.map(str::to_string), ..History::default() };
        or_roll_back(store, |added| {
            let layer = match file {
                Some(name) => store_layer(store, added, |out| {
                    let mut tar = tar::Builder::new(out);
                    let mut header = tar::Header::new_gnu();
                    header.set_size(4);
                    header.set_mode(0o644);
                    header.set_cksum();
                    tar.append_data(&mut header, name, &b"data"[..])?;
                    tar.finish()?;
                    Ok(1)
                })?,
                None => None,
            };
            record_image(store, added, parent.as_ref(), config, history, layer, None)
        })
        .unwrap()
        .id
    }

    #[test]
    fn steps_no_tag_or_container_stands_on_go_and_their_layers_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let base = image(&store, None, false, Some("base"));
        let env = image(&store, Some(&base), true, None);
        let kept = image(&store, Some(&env), true, Some("new"));
        let old = image(&store, Some(&env), true, Some("old"));
        let old_top = image(&store, Some(&old), true, None);
        let used = image(&store, Some(&env), true, Some("used"));
        let committed = image(&store, Some(&base), false, Some("committed"));
        store.set_tag(&store.lock().unwrap(), "r.test/app:1", &kept).unwrap();
        let in_use: HashSet<String> = [used.clone()].into();
        let old_layer = store.image(&old).unwrap().layers.last().cloned().unwrap();
        let pruned = prune(&store, &in_use).unwrap();
        let mut expected = vec![old.clone(), old_top.clone()];
        expected.sort();
        assert_eq!(pruned.deleted, expected);
        assert!(!store.has_layer(&old_layer.diff_id), "the old step's layer went with it");
        assert_eq!(pruned.reclaimed, old_layer.size, "only what no other image uses");
        for id in [&base, &env, &kept, &used, &committed] {
            assert!(store.image(id).is_ok(), "{id} was kept");
        }
        assert_eq!(prune(&store, &in_use).unwrap(), Pruned::default(), "nothing twice");
    }
}
