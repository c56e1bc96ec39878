//! Making images (chapter 10): `diff`, `commit`, `export`, `history`,
//! `push`, `save` — the chapter's own command line, on the composed engine.

use std::path::Path;

use std::time::SystemTime;

use anyhow::{anyhow, Result};
use ch09_engine::Api;
pub use ch10_images::cli::{
    BuildArgs, BuilderPruneArgs, CommitArgs, DiffArgs, ExportArgs, HistoryArgs, PushArgs, SaveArgs,
};
use ch10_images::history::TableOptions;

use mini_docker::compose;

/// The daemon named by `-H` or `DOCKER_HOST`, if any.
#[cfg(feature = "api")]
fn remote(host: Option<&str>) -> Result<Option<ch09_engine::Remote>> {
    let host = host.map(str::to_string).or_else(|| std::env::var("DOCKER_HOST").ok());
    match host.filter(|h| !h.is_empty()) {
        Some(host) => Ok(Some(ch09_engine::Remote::new(ch09_engine::server::Host::parse(&host)?)?)),
        None => Ok(None),
    }
}

#[cfg(not(feature = "api"))]
fn remote(host: Option<&str>) -> Result<Option<std::convert::Infallible>> {
    let host = host.map(str::to_string).or_else(|| std::env::var("DOCKER_HOST").ok());
    match host.filter(|h| !h.is_empty()) {
        Some(_) => {
            anyhow::bail!("this mini-docker was built without the API client (feature \"api\")")
        }
        None => Ok(None),
    }
}

/// `diff`: through the daemon's `GET /containers/{id}/changes` when one is
/// named, else in this process.
pub fn diff(root: &Path, host: Option<&str>, args: &DiffArgs) -> Result<u8> {
    #[cfg(feature = "api")]
    if let Some(remote) = remote(host)? {
        return ch10_images::api::diff_remote(&remote, args);
    }
    #[cfg(not(feature = "api"))]
    remote(host)?;
    ch10_images::cli::diff(&compose::engine(root), args)
}

/// `--pause` goes through chapter 10's freezer seam, to chapter 2's freezer.
pub fn commit(root: &Path, host: Option<&str>, args: &CommitArgs) -> Result<u8> {
    #[cfg(feature = "api")]
    if let Some(remote) = remote(host)? {
        return ch10_images::api::commit_remote(&remote, args);
    }
    #[cfg(not(feature = "api"))]
    remote(host)?;
    let engine = compose::engine(root);
    ch10_images::cli::commit(&engine, args, &compose::Freezer::new(engine.clone()))
}

pub fn export(root: &Path, host: Option<&str>, args: &ExportArgs) -> Result<u8> {
    #[cfg(feature = "api")]
    if let Some(remote) = remote(host)? {
        return ch10_images::api::export_remote(&remote, args);
    }
    #[cfg(not(feature = "api"))]
    remote(host)?;
    ch10_images::cli::export(&compose::engine(root), args)
}

// ANCHOR: history
/// `history IMAGE`: `GET /images/{name}/history`, as chapter 10's table.
pub fn history(api: &dyn Api, args: &HistoryArgs) -> Result<u8> {
    let items = api.image_history(&args.image).map_err(|e| anyhow!("{}", e.message))?;
    let rows: Vec<_> = items.iter().map(mini_docker::archive::history_row).collect();
    let options = TableOptions { no_trunc: args.no_trunc, human: args.human, quiet: args.quiet };
    print!("{}", ch10_images::history::table(&rows, SystemTime::now(), options));
    Ok(0)
}
// ANCHOR_END: history

// ANCHOR: push
/// `push`: through the daemon's `POST /images/{name}/push` when one is
/// named (with this client's credentials for the registry), else in this
/// process; the same command reads the messages of either.
pub fn push(root: &Path, host: Option<&str>, args: &PushArgs) -> Result<u8> {
    #[cfg(feature = "api")]
    if let Some(remote) = remote(host)? {
        if !args.insecure.is_empty() {
            anyhow::bail!("--insecure-registry is a daemon setting: start mini-dockerd with --insecure-registry");
        }
        if args.chunk_size != ch10_images::push::DEFAULT_CHUNK_SIZE {
            anyhow::bail!("--chunk-size is a daemon setting: start mini-dockerd with MINI_DOCKER_PUSH_CHUNK_SIZE");
        }
        let credential_files = ch04_image_pull::auth::credential_files(root);
        let target = ch10_images::api::DaemonPush { remote: &remote, credential_files };
        return ch10_images::cli::push(&target, args);
    }
    #[cfg(not(feature = "api"))]
    remote(host)?;
    ch10_images::cli::push(&ch10_images::cli::in_process(root, args), args)
}
// ANCHOR_END: push

/// `save IMAGE...`: `GET /images/get?names=…`, to a file or stdout.
pub fn save(api: &dyn Api, args: &SaveArgs) -> Result<u8> {
    ch10_images::cli::to_file_or_stdout(args.output.as_deref(), |out| {
        api.image_save(&args.images, out).map_err(|e| anyhow!("{}", e.message))
    })?;
    Ok(0)
}

// ANCHOR: build
/// `build`: the classic builder — through the daemon's `POST /build`
/// when one is named, else in this process, on the composed engine.
/// RUN steps are containers of that engine (default network, the
/// cgroup parent of `MINI_DOCKER_CGROUP_PARENT` as `run` has it). A failed
/// RUN makes the command exit with the RUN's own code, as `docker build`.
pub fn build(root: &Path, host: Option<&str>, args: &BuildArgs) -> Result<u8> {
    let host = host.map(str::to_string).or_else(|| std::env::var("DOCKER_HOST").ok());
    if let Some(host) = host.filter(|h| !h.is_empty()) {
        return coded(remote_build(&host, args));
    }
    let mut settings = ch09_engine::local::Settings::defaults();
    if let Ok(parent) = std::env::var("MINI_DOCKER_CGROUP_PARENT") {
        settings.cgroup_parent = parent;
    }
    if let Ok(driver) = std::env::var("MINI_DOCKER_STORAGE_DRIVER") {
        settings.driver = driver.parse().map_err(anyhow::Error::msg)?;
    }
    let local = compose::local(root, settings);
    coded(ch10_images::cli::build(&local, args))
}
// ANCHOR_END: build

/// Through a daemon: `POST /build` with the context as a tar.
#[cfg(feature = "api")]
fn remote_build(host: &str, args: &BuildArgs) -> Result<u8> {
    let remote = ch09_engine::Remote::new(ch09_engine::server::Host::parse(host)?)?;
    ch10_images::api::build_remote(&remote, args)
}

#[cfg(not(feature = "api"))]
fn remote_build(_: &str, _: &BuildArgs) -> Result<u8> {
    anyhow::bail!("this mini-docker was built without the API client (feature \"api\")")
}

/// A failed build exits with its own code (a RUN's), as `docker build`.
fn coded(result: Result<u8>) -> Result<u8> {
    result.map_err(|error| match error.downcast::<ch10_images::build::BuildError>() {
        Ok(failed) => anyhow::Error::new(crate::Coded { code: failed.code, error: failed.into() }),
        Err(other) => other,
    })
}

/// `builder …`: the build cache.
#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum BuilderCommand {
    /// Remove build cache: the steps' images that no tag or container needs.
    Prune(BuilderPruneArgs),
}

/// `builder prune`: through the daemon's `POST /build/prune` when one is
/// named, else in this process.
pub fn builder(root: &Path, host: Option<&str>, command: BuilderCommand) -> Result<u8> {
    let BuilderCommand::Prune(_) = command;
    #[cfg(feature = "api")]
    if let Some(remote) = remote(host)? {
        return ch10_images::cli::builder_prune(|| ch10_images::api::build_prune_remote(&remote));
    }
    #[cfg(not(feature = "api"))]
    remote(host)?;
    ch10_images::cli::builder_prune(|| ch10_images::cli::prune_here(root))
}
