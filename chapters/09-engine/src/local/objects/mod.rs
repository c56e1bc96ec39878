//! The [`objects`](crate::objects) interfaces in this process: images,
//! networks, volumes and their disk usage, over chapters 4, 6, 7 and 10.

mod df;
pub mod image_filters;
pub mod images;
mod networks;
mod volumes;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use super::Local;
use crate::error::{ApiError, ApiResult};
use crate::objects::{ImageApi, ImageArchive, NetworkApi, SystemApi, VolumeApi};
use crate::types::Filters;

/// Where the engine finds chapter 10's [`ImageArchive`]: set once, by the
/// composition point.
#[derive(Clone, Default)]
pub struct ArchiveSeam(Arc<OnceLock<Arc<dyn ImageArchive>>>);

impl ArchiveSeam {
    pub fn set(&self, archive: Arc<dyn ImageArchive>) {
        let _ = self.0.set(archive);
    }

    pub fn get(&self) -> Option<&dyn ImageArchive> {
        self.0.get().map(|a| a.as_ref())
    }
}

impl std::fmt::Debug for ArchiveSeam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "ArchiveSeam(set)" } else { "ArchiveSeam(unset)" })
    }
}

impl Local {
    /// This engine, with chapter 10's history and save.
    pub fn with_archive(self, archive: Arc<dyn ImageArchive>) -> Local {
        self.archive.set(archive);
        self
    }
}

/// The chapters' errors, classified as [`ApiError::from`] does.
macro_rules! classified {
    ($($error:ty),*) => {$(
        impl From<$error> for ApiError {
            fn from(error: $error) -> ApiError {
                ApiError::from(anyhow::Error::from(error))
            }
        }
    )*};
}
classified!(
    ch04_image_pull::store::StoreError,
    ch06_networking::NetError,
    ch07_volumes::VolumeError
);

/// `all=false`, as dockerd: no intermediate image of a build (untagged,
/// and the parent of another image: the classic builder's cache).
fn without_intermediates(images: Vec<Value>) -> Vec<Value> {
    let parents: std::collections::HashSet<String> =
        images.iter().filter_map(|i| i["ParentId"].as_str().map(str::to_string)).collect();
    let untagged = |i: &Value| i["RepoTags"].as_array().is_none_or(|t| t.is_empty());
    let id = |i: &Value| i["Id"].as_str().unwrap_or_default().to_string();
    images.into_iter().filter(|i| !(untagged(i) && parents.contains(&id(i)))).collect()
}

// ANCHOR: local_impls
impl ImageApi for Local {
    fn image_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>> {
        let images = self.images(filters)?;
        Ok(if all { images } else { without_intermediates(images) })
    }
    fn image_inspect(&self, name: &str) -> ApiResult<Value> {
        self.image(name)
    }
    fn image_tag(&self, name: &str, repo: &str, tag: &str) -> ApiResult<()> {
        self.tag(name, repo, tag)
    }
    fn image_remove(&self, name: &str, force: bool) -> ApiResult<Vec<Value>> {
        self.remove_image(name, force)
    }
    fn image_history(&self, name: &str) -> ApiResult<Vec<Value>> {
        self.history(name)
    }
    fn image_save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()> {
        self.save(names, out)
    }
    fn image_load(&self, archive: &Path, out: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        self.load_images(archive, out)
    }
    fn image_prune(&self, filters: &Filters) -> ApiResult<Value> {
        self.prune_images(filters)
    }
}
// ANCHOR_END: local_impls

impl NetworkApi for Local {
    fn network_list(&self) -> ApiResult<Vec<Value>> {
        self.networks()
    }
    fn network_create(&self, body: &Value) -> ApiResult<Value> {
        self.create_network(body)
    }
    fn network_inspect(&self, name: &str) -> ApiResult<Value> {
        self.network(name)
    }
    fn network_remove(&self, name: &str) -> ApiResult<()> {
        self.remove_network(name)
    }
    fn network_prune(&self) -> ApiResult<Value> {
        self.prune_networks()
    }
    fn network_connect(&self, name: &str, body: &Value) -> ApiResult<()> {
        self.connect_network(name, body).map(drop)
    }
    fn network_disconnect(&self, name: &str, body: &Value) -> ApiResult<()> {
        self.disconnect_network(name, body).map(drop)
    }
}

impl VolumeApi for Local {
    fn volume_list(&self) -> ApiResult<Value> {
        self.volumes()
    }
    fn volume_create(&self, body: &Value) -> ApiResult<Value> {
        self.create_volume(body)
    }
    fn volume_inspect(&self, name: &str) -> ApiResult<Value> {
        self.volume(name)
    }
    fn volume_remove(&self, name: &str, force: bool) -> ApiResult<()> {
        self.remove_volume(name, force)
    }
    fn volume_prune(&self, filters: &Filters) -> ApiResult<Value> {
        self.prune_volumes(filters)
    }
}

impl SystemApi for Local {
    fn system_df(&self) -> ApiResult<Value> {
        self.disk_usage()
    }
}
