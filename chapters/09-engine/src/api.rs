//! The one interface every `mini-docker` command is written against, with
//! two implementations: [`crate::local::Local`] runs the engine in this
//! process; `crate::client::Remote` asks a daemon over the Engine API.
//! `mini-dockerd` serves the API by calling `Local` — so a command does the
//! same thing either way, only the transport differs.
//!
//! ```text
//!  mini-docker ps ──▶ Api::container_list ──┬─ Local ─────────────────────▶ the engine (chapters 1–8)
//!                                           └─ Remote ── GET /containers/json ──▶ mini-dockerd ──▶ Local ──▶ …
//! ```

use serde_json::Value;

use crate::error::ApiResult;
use crate::manage::Manage;
use crate::objects::{ImageApi, NetworkApi, SystemApi, VolumeApi};
use crate::types::{ContainerCreateBody, CreateResponse, ExecCreateBody, Filters};

/// Which end of a container `wait` waits for (`condition=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitCondition {
    /// It is not running (now, or once it stops): Docker's default.
    NotRunning,
    /// The next exit from now, even if it is not running yet (`docker run`).
    NextExit,
    /// It has been removed (`docker run --rm`).
    Removed,
}

impl WaitCondition {
    pub fn parse(text: &str) -> Option<WaitCondition> {
        match text {
            "" | "not-running" => Some(WaitCondition::NotRunning),
            "next-exit" => Some(WaitCondition::NextExit),
            "removed" => Some(WaitCondition::Removed),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            WaitCondition::NotRunning => "not-running",
            WaitCondition::NextExit => "next-exit",
            WaitCondition::Removed => "removed",
        }
    }
}

/// `GET /containers/{id}/logs`'s options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogsOptions {
    pub follow: bool,
    /// The last N lines (across both streams); `None` for all.
    pub tail: Option<usize>,
    /// Only entries at or after this time (unix seconds).
    pub since: Option<i64>,
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// What an attached client needs to know of a container: a terminal or
/// two streams, whether its stdin is open, whether it goes at its exit.
/// `docker run` knows it from its own flags and never asks the daemon.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attached {
    pub tty: bool,
    pub stdin: bool,
    pub auto_remove: bool,
}

impl Attached {
    /// As the create body asked for it.
    pub fn of(body: &ContainerCreateBody) -> Attached {
        let auto_remove = body.host_config.auto_remove;
        Attached { tty: body.tty, stdin: body.open_stdin, auto_remove }
    }
}

/// One piece of a container's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Stdout,
    Stderr,
}

// ANCHOR: api
/// What a client can ask of the engine, in the Engine API's terms.
pub trait Api: ImageApi + NetworkApi + VolumeApi + SystemApi + Manage {
    /// `GET /version`.
    fn version(&self) -> ApiResult<Value>;
    /// `GET /info`.
    fn info(&self) -> ApiResult<Value>;

    /// `POST /containers/create?name=`: a 404 means the image is not there.
    fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> ApiResult<CreateResponse>;
    /// `GET /containers/json?all=&filters=`: the summaries, newest first.
    fn container_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>>;
    /// `GET /containers/{id}/json`.
    fn container_inspect(&self, id: &str) -> ApiResult<Value>;
    /// `POST /containers/{id}/start`, detached.
    fn container_start(&self, id: &str) -> ApiResult<()>;
    /// `POST /containers/{id}/stop?t=`.
    fn container_stop(&self, id: &str, timeout: Option<u64>) -> ApiResult<()>;
    /// `POST /containers/{id}/restart?t=`.
    fn container_restart(&self, id: &str, timeout: Option<u64>) -> ApiResult<()>;
    /// `POST /containers/{id}/kill?signal=`.
    fn container_kill(&self, id: &str, signal: &str) -> ApiResult<()>;
    /// `DELETE /containers/{id}?force=&v=`.
    fn container_remove(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()>;
    /// `POST /containers/{id}/wait?condition=`: the exit code.
    fn container_wait(&self, id: &str, condition: WaitCondition) -> ApiResult<i64>;
    // ANCHOR_END: api
    // ANCHOR: api_pause
    /// `POST /containers/{id}/pause`: freeze it (chapter 2's freezer).
    fn container_pause(&self, id: &str) -> ApiResult<()>;
    /// `POST /containers/{id}/unpause`.
    fn container_unpause(&self, id: &str) -> ApiResult<()>;
    // ANCHOR_END: api_pause
    // ANCHOR: api_attached
    /// `GET /containers/{id}/logs`: each piece of output, in order.
    fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        out: &mut dyn FnMut(Output, &[u8]),
    ) -> ApiResult<()>;

    /// `docker run` without `-d`, `docker start -a`: start the container
    /// with this process's terminal attached, until it exits; its exit code.
    fn container_start_attached(&self, id: &str) -> ApiResult<i64>;
    /// [`Api::container_start_attached`] for a container that `run` just
    /// created with `how`: a client need not ask how it was made.
    fn container_run_attached(&self, id: &str, how: Attached) -> ApiResult<i64> {
        let _ = how;
        self.container_start_attached(id)
    }
    /// `docker attach`: this process's terminal on a running container.
    fn container_attach(&self, id: &str) -> ApiResult<i64>;
    /// `docker exec`: run a command in the container, attached; its exit code.
    fn container_exec(&self, id: &str, body: &ExecCreateBody) -> ApiResult<i64>;

    /// `POST /images/create?fromImage=`: pull, reporting progress as the
    /// Engine API's JSON messages.
    fn image_pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        progress: &mut dyn FnMut(&Value),
    ) -> ApiResult<()>;
}
// ANCHOR_END: api_attached
