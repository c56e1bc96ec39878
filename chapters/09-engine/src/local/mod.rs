//! The [`Api`](crate::Api) in this process: chapter 5's engine, composed
//! with its extensions by the caller, plus chapter 4's image store. This is
//! what `mini-docker` runs without a daemon, and what `mini-dockerd` calls
//! for every request — moby's `daemon` package, in miniature.

pub mod archive;
pub(crate) mod containers;
mod exec;
mod filters;
mod images;
pub mod in_root;
mod manage;
mod narration;
pub mod objects;
pub mod pause;
pub mod progress;
pub mod spawner;
pub mod stats;
pub mod stopped_root;
pub mod translate;

use std::path::{Path, PathBuf};

use ch03_union_fs::Driver;
use ch04_image_pull::registry::RegistryOptions;
use ch05_run::Engine;
use ch08_security::userns::Remap;

pub use filters::matches;
use serde_json::Value;

use crate::api::{Api, LogsOptions, Output, WaitCondition};
use crate::error::ApiResult;
use crate::types::{ContainerCreateBody, CreateResponse, ExecCreateBody, Filters};

// ANCHOR: settings
/// What an engine is set up with: dockerd's flags, or `mini-docker`'s
/// own when it runs without one.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cgroup_parent: String,
    pub driver: Driver,
    /// `--userns-remap`: every container's root is this range (unless
    /// `--userns=host`).
    pub userns_remap: Option<Remap>,
    pub insecure_registries: Vec<String>,
    pub registry_mirror: Option<String>,
    /// Start containers by running this program (`mini-docker` itself)
    /// instead of forking this process: a daemon has threads, and a
    /// process with threads must not fork a supervisor or clone a container.
    pub start_helper: Option<PathBuf>,
    /// Or, faster, ask this copy of the daemon made before its threads.
    pub spawner: Option<std::sync::Arc<spawner::Spawner>>,
}
// ANCHOR_END: settings

impl Settings {
    /// The defaults: our own cgroup parent, overlay where the kernel has it.
    pub fn defaults() -> Settings {
        Settings {
            cgroup_parent: ch02_cgroups::DEFAULT_PARENT.to_string(),
            driver: Driver::for_this_host(),
            userns_remap: None,
            insecure_registries: Vec::new(),
            registry_mirror: None,
            start_helper: None,
            spawner: None,
        }
    }

    pub fn registry_options(&self, root: &Path) -> RegistryOptions {
        RegistryOptions {
            insecure: self.insecure_registries.clone(),
            mirror: self.registry_mirror.clone(),
            credential_files: ch04_image_pull::auth::credential_files(root),
            credentials: None,
        }
    }
}

/// The engine in this process.
#[derive(Debug, Clone)]
pub struct Local {
    pub engine: Engine,
    pub settings: Settings,
    /// Chapter 10's history and save (see [`objects::ArchiveSeam`]).
    pub archive: objects::ArchiveSeam,
}

impl Local {
    pub fn new(engine: Engine, settings: Settings) -> Local {
        Local { engine, settings, archive: objects::ArchiveSeam::default() }
    }

    pub fn root(&self) -> &Path {
        &self.engine.root
    }
}

// ANCHOR: api_impl
/// The interface, in this process: most calls are one call of the engine.
impl Api for Local {
    fn version(&self) -> ApiResult<Value> {
        Ok(crate::system::version())
    }

    fn info(&self) -> ApiResult<Value> {
        Ok(crate::system::info(self))
    }

    fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> ApiResult<CreateResponse> {
        self.create(name, body)
    }

    fn container_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>> {
        self.list(all, filters)
    }

    fn container_inspect(&self, id: &str) -> ApiResult<Value> {
        self.inspect(id)
    }

    fn container_start(&self, id: &str) -> ApiResult<()> {
        self.start(id, ch05_run::StartOptions::default()).map(drop)
    }

    fn container_stop(&self, id: &str, timeout: Option<u64>) -> ApiResult<()> {
        self.stop(id, timeout).map(drop)
    }

    fn container_restart(&self, id: &str, timeout: Option<u64>) -> ApiResult<()> {
        self.restart(id, timeout)
    }

    fn container_kill(&self, id: &str, signal: &str) -> ApiResult<()> {
        self.kill(id, signal)
    }

    fn container_remove(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()> {
        self.remove(id, force, volumes)
    }

    fn container_wait(&self, id: &str, condition: WaitCondition) -> ApiResult<i64> {
        self.wait(id, condition)
    }

    fn container_pause(&self, id: &str) -> ApiResult<()> {
        self.pause(id).map(drop)
    }

    fn container_unpause(&self, id: &str) -> ApiResult<()> {
        self.unpause(id).map(drop)
    }

    fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        out: &mut dyn FnMut(Output, &[u8]),
    ) -> ApiResult<()> {
        self.logs(id, options, out)
    }

    /// Without a daemon this process is the supervisor, attached to the terminal.
    fn container_start_attached(&self, id: &str) -> ApiResult<i64> {
        let id = self.find(id)?;
        self.refuse_if_paused(&id, pause::START_PAUSED)?;
        Ok(self.engine.start_attached(&id)? as i64)
    }

    fn container_attach(&self, id: &str) -> ApiResult<i64> {
        self.attach_terminal(id)
    }

    fn container_exec(&self, id: &str, body: &ExecCreateBody) -> ApiResult<i64> {
        self.exec_attached(id, body)
    }

    fn image_pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        progress: &mut dyn FnMut(&Value),
    ) -> ApiResult<()> {
        self.pull_as(reference, platform, None, progress)
    }
}
// ANCHOR_END: api_impl
