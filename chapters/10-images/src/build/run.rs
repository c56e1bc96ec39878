//! RUN: a container of the step's parent image runs the command — on the
//! default network, with the image's environment (plus the build args in
//! scope), its user and its working directory — and what it changed
//! becomes the step's layer, as `commit` makes one. The container goes
//! whatever happens: a build leaves no container behind.

use ch04_image_pull::digest::short;
use ch04_image_pull::store::Store;
use ch09_engine::api::{LogsOptions, Output};
use ch09_engine::types::ContainerCreateBody;
use ch09_engine::Local;

use super::{BuildError, Progress};
use crate::commit::container_fs;
use crate::image::{store_layer, StoredLayer};
use crate::tarball::TimePolicy;

/// What to run, in which image.
pub struct RunRequest {
    pub image: String,
    pub argv: Vec<String>,
    /// The build args in scope, `K=V`.
    pub env: Vec<String>,
}

// ANCHOR: run_step
/// Run `request` and store what it changed (`None`: nothing). The caller
/// records the image; a failure removes the container all the same.
pub fn run_step(
    local: &Local,
    store: &Store,
    added: &mut ch04_image_pull::store::Added,
    request: &RunRequest,
    times: TimePolicy,
    progress: &mut dyn Progress,
) -> Result<Option<StoredLayer>, BuildError> {
    let body = ContainerCreateBody {
        image: request.image.clone(),
        cmd: Some(request.argv.clone()),
        entrypoint: Some(Vec::new()), // the command is all that runs
        env: Some(request.env.clone()),
        ..ContainerCreateBody::default()
    };
    intermediate(local, &body, progress, |id, progress| {
        run_and_commit(local, store, added, id, request, times, progress)
    })
}
// ANCHOR_END: run_step

// ANCHOR: intermediate
/// The classic builder's intermediate container: created from the step's
/// parent (` ---> Running in <id>`), used by `work` — started for a RUN,
/// never started for ENV, CMD, LABEL… whose `#(nop)` Cmd only says what
/// the step was — then removed, whatever happened (` ---> Removed
/// intermediate container <id>` once it went well).
pub fn intermediate<T>(
    local: &Local,
    body: &ContainerCreateBody,
    progress: &mut dyn Progress,
    work: impl FnOnce(&str, &mut dyn Progress) -> Result<T, BuildError>,
) -> Result<T, BuildError> {
    let id = create_intermediate(local, body, progress)?;
    let result = work(&id, progress);
    remove_intermediate(local, &id, result, progress)
}

pub fn create_intermediate(
    local: &Local,
    body: &ContainerCreateBody,
    progress: &mut dyn Progress,
) -> Result<String, BuildError> {
    let id = local.create(None, body).map_err(api)?.id;
    progress.stream(&format!(" ---> Running in {}\n", short(&id)));
    Ok(id)
}

pub fn remove_intermediate<T>(
    local: &Local,
    id: &str,
    result: Result<T, BuildError>,
    progress: &mut dyn Progress,
) -> Result<T, BuildError> {
    let removed = local.remove(id, true, true).map_err(api);
    let value = result?;
    removed?;
    progress.stream(&format!(" ---> Removed intermediate container {}\n", short(id)));
    Ok(value)
}
// ANCHOR_END: intermediate

/// The container of a step that runs nothing: the parent image, the
/// step's `#(nop)` command.
pub fn nop_container(image: &str, cmd: &[String]) -> ContainerCreateBody {
    ContainerCreateBody {
        image: image.to_string(),
        cmd: Some(cmd.to_vec()),
        entrypoint: Some(Vec::new()),
        ..ContainerCreateBody::default()
    }
}

fn run_and_commit(
    local: &Local,
    store: &Store,
    added: &mut ch04_image_pull::store::Added,
    id: &str,
    request: &RunRequest,
    times: TimePolicy,
    progress: &mut dyn Progress,
) -> Result<Option<StoredLayer>, BuildError> {
    local.start(id, ch05_run::StartOptions::default()).map_err(api)?;
    let options =
        LogsOptions { follow: true, stdout: true, stderr: true, ..LogsOptions::default() };
    local
        .logs(id, &options, &mut |stream, bytes| progress.output(stream == Output::Stderr, bytes))
        .map_err(api)?;
    let code = local.wait(id, ch09_engine::api::WaitCondition::NotRunning).map_err(api)?;
    if code != 0 {
        return Err(BuildError {
            message: format!(
                "The command '{}' returned a non-zero code: {code}",
                request.argv.join(" ")
            ),
            code: code as i32,
        });
    }
    let container = local.engine.config(id)?;
    let fs = container_fs(&local.engine, &container)?;
    Ok(store_layer(store, added, |out| Ok(fs.write_layer(out, times)?.1.entries))?)
}

fn api(error: ch09_engine::error::ApiError) -> BuildError {
    BuildError::new(error.message)
}
