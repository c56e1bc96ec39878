//! The engine's objects besides containers — images, networks, volumes —
//! and the disk they take: the rest of the one interface every CLI command
//! is written against. [`crate::Api`] includes these traits, so a command
//! holding a `&dyn Api` asks for any object the same way, in this process
//! or over the socket.
//!
//! ```text
//!  mini-docker network ls ──▶ NetworkApi::network_list ──┬─ Local ──▶ chapter 6
//!                                                        └─ Remote ── GET /networks ──▶ mini-dockerd ──▶ Local
//! ```
//!
//! Answers are the Engine API's JSON, as moby writes it, so that the
//! `docker` CLI and docker-py read ours; the CLI's own formatting reads the
//! same JSON in both modes.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::error::ApiResult;
use crate::types::Filters;

// ANCHOR: image_api
/// `/images/...`: the local image store (chapter 4, and chapter 10's history and save).
pub trait ImageApi {
    /// `GET /images/json?all=&filters=`: one summary per image, all its tags in `RepoTags`.
    fn image_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>>;
    /// `GET /images/{name}/json`.
    fn image_inspect(&self, name: &str) -> ApiResult<Value>;
    /// `POST /images/{name}/tag?repo=&tag=`.
    fn image_tag(&self, name: &str, repo: &str, tag: &str) -> ApiResult<()>;
    /// `DELETE /images/{name}?force=`: `[{"Untagged": …}, {"Deleted": …}]`.
    fn image_remove(&self, name: &str, force: bool) -> ApiResult<Vec<Value>>;
    /// `GET /images/{name}/history`: newest first.
    fn image_history(&self, name: &str) -> ApiResult<Vec<Value>>;
    /// `GET /images/get?names=`: a `docker save` tarball, written to `out`.
    fn image_save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()>;
    /// `POST /images/load`: a tarball; each `{"stream": "Loaded image: …\n"}`.
    fn image_load(&self, archive: &Path, out: &mut dyn FnMut(&Value)) -> ApiResult<()>;
    /// `POST /images/prune?filters=`: `{"ImagesDeleted": […], "SpaceReclaimed": N}`.
    fn image_prune(&self, filters: &Filters) -> ApiResult<Value>;
}
// ANCHOR_END: image_api

// ANCHOR: network_api
/// `/networks/...`: chapter 6's bridges.
pub trait NetworkApi {
    /// `GET /networks`: ours, then the built-in `host` and `none`.
    fn network_list(&self) -> ApiResult<Vec<Value>>;
    /// `POST /networks/create`: the body as the CLI sends it; `{"Id": …, "Warning": ""}`.
    fn network_create(&self, body: &Value) -> ApiResult<Value>;
    /// `GET /networks/{name}`.
    fn network_inspect(&self, name: &str) -> ApiResult<Value>;
    /// `DELETE /networks/{name}`.
    fn network_remove(&self, name: &str) -> ApiResult<()>;
    /// `POST /networks/prune`: `{"NetworksDeleted": [names]}`.
    fn network_prune(&self) -> ApiResult<Value>;
    /// `POST /networks/{name}/connect`: `{"Container": …, "EndpointConfig": {…}}`.
    fn network_connect(&self, name: &str, body: &Value) -> ApiResult<()>;
    /// `POST /networks/{name}/disconnect`: `{"Container": …, "Force": false}`.
    fn network_disconnect(&self, name: &str, body: &Value) -> ApiResult<()>;
}
// ANCHOR_END: network_api

// ANCHOR: volume_api
/// `/volumes/...`: chapter 7's named directories.
pub trait VolumeApi {
    /// `GET /volumes`: `{"Volumes": […], "Warnings": null}`.
    fn volume_list(&self) -> ApiResult<Value>;
    /// `POST /volumes/create`: `{"Name": …, "Driver": "local", "Labels": {…}}`.
    fn volume_create(&self, body: &Value) -> ApiResult<Value>;
    /// `GET /volumes/{name}`.
    fn volume_inspect(&self, name: &str) -> ApiResult<Value>;
    /// `DELETE /volumes/{name}?force=`.
    fn volume_remove(&self, name: &str, force: bool) -> ApiResult<()>;
    /// `POST /volumes/prune?filters=`: only anonymous volumes unless `all=true`.
    fn volume_prune(&self, filters: &Filters) -> ApiResult<Value>;
}
// ANCHOR_END: volume_api

/// `/system/df`.
pub trait SystemApi {
    /// `GET /system/df`: images, containers and volumes, with their sizes.
    fn system_df(&self) -> ApiResult<Value>;
}

/// `docker save` and `docker history` are chapter 10's: the engine of
/// chapter 9 asks them through this seam, which the composition point fills.
pub trait ImageArchive: Send + Sync {
    /// The history of the image `id`, as `GET /images/{name}/history` answers it.
    fn history(&self, root: &Path, id: &str) -> anyhow::Result<Vec<Value>>;
    /// The images `names` as one `docker save` tarball.
    fn save(&self, root: &Path, names: &[String], out: &mut dyn Write) -> anyhow::Result<()>;
}

/// The `filters` value asking `key` to be `true` (`dangling`, `all`).
pub fn wants(filters: &Filters, key: &str) -> Option<bool> {
    let values = filters.get(key)?;
    Some(values.iter().any(|v| matches!(v.as_str(), "true" | "1")))
}
