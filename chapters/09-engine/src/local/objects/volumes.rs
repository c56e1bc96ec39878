//! Chapter 7's volumes as the Engine API shows them.

use std::collections::BTreeMap;

use ch07_volumes::prune::prune;
use ch07_volumes::{containers_using, VolumeError, VolumeStore};
use serde_json::{json, Value};

use super::super::Local;
use crate::error::{ApiError, ApiResult};
use crate::types::Filters;

impl Local {
    /// `GET /volumes`.
    pub fn volumes(&self) -> ApiResult<Value> {
        let store = VolumeStore::new(self.root());
        let volumes: Vec<Value> = store.list()?.iter().map(|v| store.inspect(v)).collect();
        Ok(json!({ "Volumes": volumes, "Warnings": null }))
    }

    /// `GET /volumes/{name}`.
    pub fn volume(&self, name: &str) -> ApiResult<Value> {
        let store = VolumeStore::new(self.root());
        Ok(store.inspect(&store.get(name)?))
    }

    // ANCHOR: volume_create
    /// `POST /volumes/create`: a name that exists already is that volume, as in moby.
    pub fn create_volume(&self, body: &Value) -> ApiResult<Value> {
        let driver = body["Driver"].as_str().filter(|d| !d.is_empty()).unwrap_or("local");
        if driver != "local" {
            return Err(ApiError::not_found(format!(
                "volume driver {driver:?} is not supported: only \"local\" is"
            )));
        }
        let labels: BTreeMap<String, String> = match &body["Labels"] {
            Value::Null => BTreeMap::new(),
            labels => serde_json::from_value(labels.clone())
                .map_err(|e| ApiError::bad_request(format!("invalid Labels: {e}")))?,
        };
        let name = body["Name"].as_str().filter(|n| !n.is_empty());
        let store = VolumeStore::new(self.root());
        let _lock = store.lock()?;
        let (volume, _) = store.create(name, labels, false)?;
        Ok(store.inspect(&volume))
    }
    // ANCHOR_END: volume_create

    /// `DELETE /volumes/{name}?force=`: a volume in use is a 409; with
    /// `force`, a missing one is no error.
    pub fn remove_volume(&self, name: &str, force: bool) -> ApiResult<()> {
        let store = VolumeStore::new(self.root());
        let _lock = store.lock()?;
        match store.remove(name, containers_using(self.root(), name)) {
            Err(VolumeError::NotFound(_)) if force => Ok(()),
            other => Ok(other?),
        }
    }

    /// `POST /volumes/prune`: anonymous volumes no container uses; every
    /// unused one with `filters={"all":["true"]}` (API 1.42 and later).
    pub fn prune_volumes(&self, filters: &Filters) -> ApiResult<Value> {
        let all = crate::objects::wants(filters, "all").unwrap_or(false);
        let pruned = prune(self.root(), all)?;
        Ok(json!({ "VolumesDeleted": pruned.names, "SpaceReclaimed": pruned.bytes }))
    }
}
