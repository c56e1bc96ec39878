//! `GET /system/df`: what the images, containers and volumes take on disk.

use std::collections::{BTreeMap, HashSet};

use ch04_image_pull::store::Store;
use ch07_volumes::{containers_using, VolumeStore};
use serde_json::{json, Value};

use super::super::Local;
use crate::error::{ApiError, ApiResult};
use crate::types::Filters;

impl Local {
    // ANCHOR: df
    /// Images with how many containers use each, every container, and
    /// every volume with its size and users: `docker system df` adds them up.
    pub fn disk_usage(&self) -> ApiResult<Value> {
        let containers = self.list(true, &Filters::new())?;
        let mut users: BTreeMap<String, i64> = BTreeMap::new();
        for container in &containers {
            let image = container["ImageID"].as_str().unwrap_or_default().to_string();
            *users.entry(image).or_default() += 1;
        }
        let mut images = self.images(&Filters::new())?;
        for image in &mut images {
            let id = image["Id"].as_str().unwrap_or_default().to_string();
            image["Containers"] = json!(users.get(&id).copied().unwrap_or(0));
            image["SharedSize"] = json!(0);
        }
        let store = VolumeStore::new(self.root());
        let volumes: Vec<Value> = store
            .list()?
            .iter()
            .map(|v| {
                let mut volume = store.inspect(v);
                let refs = containers_using(self.root(), &v.name).len();
                volume["UsageData"] = json!({ "Size": store.size(&v.name), "RefCount": refs });
                volume
            })
            .collect();
        Ok(json!({
            "LayersSize": self.layers_size()?,
            "Images": images,
            "Containers": containers,
            "Volumes": volumes,
            "BuildCache": [],
            "BuilderSize": 0,
        }))
    }
    // ANCHOR_END: df

    /// Every layer once, however many images share it.
    fn layers_size(&self) -> ApiResult<u64> {
        let store = Store::open(self.root()).map_err(|e| ApiError::new(500, e.to_string()))?;
        let mut seen = HashSet::new();
        let mut total = 0;
        for image in store.images()? {
            for layer in image.layers {
                if seen.insert(layer.diff_id) {
                    total += layer.size;
                }
            }
        }
        Ok(total)
    }
}
