//! The verbs that look after containers once they run — `events`, `top`,
//! `stats`, `rename`, `update`, `cp`, `container prune` — part of the one
//! interface: [`crate::Api`] includes [`Manage`], as it includes the image,
//! network and volume traits, so a command holding a `&dyn Api` reaches
//! them too, through the same two implementations ([`crate::Local`] in
//! this process and `crate::Remote` over the API).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ApiResult;
use crate::types::{Filters, RestartPolicy};

/// `GET /events`'s window: unix seconds, both ends optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsOptions {
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub filters: Filters,
}

/// `POST /containers/{id}/update`: what `docker update` may change on a
/// running container. Zero (or `None`) leaves a limit as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateBody {
    pub memory: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub cpu_shares: i64,
    pub pids_limit: Option<i64>,
    pub restart_policy: Option<RestartPolicy>,
}

/// A file's stat in a container, as `X-Docker-Container-Path-Stat` carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    /// Go's `os.FileMode`: permission bits, plus 1<<31 for a directory and
    /// 1<<27 for a symbolic link.
    pub mode: u32,
    pub mtime: String,
    pub link_target: String,
}

// ANCHOR: manage
/// What a client can ask about running containers.
pub trait Manage {
    /// `GET /events?since=&until=&filters=`: each event, until `until`.
    fn events(&self, options: &EventsOptions, out: &mut dyn FnMut(&Value)) -> ApiResult<()>;
    /// `GET /containers/{id}/top?ps_args=`: `{"Titles": […], "Processes": [[…]]}`.
    fn container_top(&self, id: &str, ps_args: &str) -> ApiResult<Value>;
    /// `GET /containers/{id}/stats?stream=`: each sample, while `out` says go on.
    fn container_stats(
        &self,
        id: &str,
        stream: bool,
        out: &mut dyn FnMut(&Value) -> bool,
    ) -> ApiResult<()>;
    /// `POST /containers/{id}/rename?name=`.
    fn container_rename(&self, id: &str, name: &str) -> ApiResult<()>;
    /// `POST /containers/{id}/update`: the warnings.
    fn container_update(&self, id: &str, body: &UpdateBody) -> ApiResult<Vec<String>>;
    /// `POST /containers/prune?filters=`: `{"ContainersDeleted", "SpaceReclaimed"}`.
    fn container_prune(&self, filters: &Filters) -> ApiResult<Value>;
    /// `HEAD /containers/{id}/archive?path=`: the path's stat.
    fn archive_stat(&self, id: &str, path: &str) -> ApiResult<PathStat>;
    /// `GET /containers/{id}/archive?path=`: the path's stat and a tar of it.
    fn archive_get(&self, id: &str, path: &str) -> ApiResult<(PathStat, Vec<u8>)>;
    /// `PUT /containers/{id}/archive?path=`: unpack `tar` into the directory `path`.
    fn archive_put(&self, id: &str, path: &str, tar: &[u8]) -> ApiResult<()>;
}
// ANCHOR_END: manage
