//! `docker build` with the classic builder: a Dockerfile, step by step,
//! each step a new image whose parent is the step before.
//!
//! ```text
//!  Dockerfile ─parse─▶ lines ─▶ stages (FROM … up to --target)
//!                                 │ each line:
//!                                 ▼
//!        probe = parent id + the config after the step (its Cmd says what the step is)
//!          │ an image made here, child of the parent, with that config? ─▶ "Using cache"
//!          ▼ no: run it — RUN: a container of the parent, its diff committed
//!                         COPY/ADD: a layer written from the sources
//!                         the rest: the config changed, no layer
//! ```
//!
//! [`parser`] reads the file, [`dockerignore`] and [`context`] say which
//! files a COPY may take, [`cache`] finds a step made before, [`step`]
//! runs one instruction, [`copy`] writes COPY's layer and [`run`] RUN's.

pub mod cache;
pub mod context;
pub mod copy;
pub mod dockerignore;
pub mod parser;
pub mod pattern;
pub mod prune;
pub mod run;
pub mod stages;
pub mod step;

use std::path::PathBuf;

use ch04_image_pull::Reference;

use crate::tarball::TimePolicy;

pub use stages::build;

// ANCHOR: options
/// `build [-t TAG]... [-f FILE] [--build-arg K=V]... [--target STAGE]
/// [--no-cache] [-q] CONTEXT`.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile's text (read by the caller: `-f`, or the context's).
    pub dockerfile: String,
    pub tags: Vec<Reference>,
    /// `--build-arg K=V`; `K` alone takes the value from the environment.
    pub build_args: Vec<(String, Option<String>)>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub times: TimePolicy,
}
// ANCHOR_END: options

/// Where the builder's output goes: a terminal, or the JSON stream of
/// `POST /build`.
pub trait Progress {
    /// A line (or part of one) of the builder's own output.
    fn stream(&mut self, text: &str);
    /// What a RUN's command wrote.
    fn output(&mut self, stderr: bool, bytes: &[u8]);
    /// The image a stage ended with (`{"aux":{"ID":…}}`).
    fn aux(&mut self, _id: &str) {}
}

/// A failed build: what to say, and the exit code (a RUN's own code).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BuildError {
    pub message: String,
    pub code: i32,
}

impl BuildError {
    pub fn new(message: impl Into<String>) -> BuildError {
        BuildError { message: message.into(), code: 1 }
    }
}

impl From<anyhow::Error> for BuildError {
    fn from(error: anyhow::Error) -> BuildError {
        match error.downcast::<BuildError>() {
            Ok(build) => build,
            Err(other) => BuildError::new(format!("{other:#}")),
        }
    }
}

/// The Dockerfile of a context: `Dockerfile`, or `dockerfile` when that is
/// the only one (as the daemon looks).
pub fn default_dockerfile(context: &std::path::Path) -> PathBuf {
    let upper = context.join("Dockerfile");
    let lower = context.join("dockerfile");
    if !upper.exists() && lower.exists() {
        lower
    } else {
        upper
    }
}
