//! `image ...` and `system ...`: Docker's management forms of the image
//! verbs, and `system df|prune|info` — each written once against the API.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use ch09_engine::types::Filters;
use ch09_engine::Api;
use clap::{Args, Subcommand};
use serde_json::Value;

use crate::{images, making};

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ImageCommand {
    /// List images.
    #[command(alias = "list")]
    Ls(images::ImagesArgs),
    /// Download an image from a registry.
    Pull(images::PullArgs),
    /// Remove one or more images.
    #[command(alias = "remove")]
    Rm(images::RmiArgs),
    /// Show images' details as JSON.
    Inspect(images::InspectArgs),
    /// Create a tag TARGET that refers to SOURCE.
    Tag(images::TagArgs),
    /// Remove unused images: the dangling ones, or all unused with -a.
    Prune(PruneArgs),
    /// Show the history of an image.
    History(making::HistoryArgs),
    /// Save one or more images to a tar archive.
    Save(making::SaveArgs),
    /// Load images from a `docker save` tarball or an OCI layout.
    Load(images::LoadArgs),
}

#[derive(Args)]
pub struct PruneArgs {
    /// Remove every image no container uses, not only the dangling ones.
    #[arg(short, long)]
    all: bool,
    /// Do not ask for confirmation (mini-docker never asks).
    #[arg(short, long)]
    force: bool,
}

#[derive(Subcommand)]
#[command(defer = true)]
pub enum SystemCommand {
    /// Show how much disk images, containers and volumes use.
    Df,
    /// Remove stopped containers, unused networks, dangling images (and
    /// unused anonymous volumes with --volumes).
    Prune(SystemPruneArgs),
    /// Show what the engine holds and how it is set up.
    Info,
}

#[derive(Args)]
pub struct SystemPruneArgs {
    /// Remove every unused image, not only the dangling ones.
    #[arg(short, long)]
    all: bool,
    /// Prune anonymous volumes too.
    #[arg(long)]
    volumes: bool,
    /// Do not ask for confirmation (mini-docker never asks).
    #[arg(short, long)]
    force: bool,
}

pub fn image(api: &dyn Api, root: &std::path::Path, command: ImageCommand) -> Result<u8> {
    match command {
        ImageCommand::Ls(args) => images::images(api, args),
        ImageCommand::Pull(args) => images::pull(api, root, &args),
        ImageCommand::Rm(args) => images::rmi(api, args),
        ImageCommand::Inspect(args) => images::inspect(api, args),
        ImageCommand::Tag(args) => images::tag(api, args),
        ImageCommand::Prune(args) => images::prune(api, args.all),
        ImageCommand::History(args) => making::history(api, &args),
        ImageCommand::Save(args) => making::save(api, &args),
        ImageCommand::Load(args) => images::load(api, args),
    }
}

pub fn system(api: &dyn Api, command: SystemCommand) -> Result<u8> {
    match command {
        SystemCommand::Df => df(api),
        SystemCommand::Prune(args) => prune(api, &args),
        SystemCommand::Info => images::info(api),
    }
}

fn api_error(error: ch09_engine::ApiError) -> anyhow::Error {
    anyhow!("{}", error.message)
}

/// `system df`: Docker's four lines, from one `GET /system/df`.
fn df(api: &dyn Api) -> Result<u8> {
    let usage = api.system_df().map_err(api_error)?;
    let list = |key: &str| usage[key].as_array().cloned().unwrap_or_default();
    let number = |v: &Value, key: &str| v[key].as_u64().unwrap_or(0);
    let images = list("Images");
    let active_images: Vec<&Value> =
        images.iter().filter(|i| number(i, "Containers") > 0).collect();
    let image_size = number(&usage, "LayersSize");
    let used: u64 = active_images.iter().map(|i| number(i, "Size")).sum();
    let containers = list("Containers");
    let running = containers.iter().filter(|c| c["State"] == "running").count();
    let rw: u64 = containers.iter().map(|c| number(c, "SizeRw")).sum();
    let volumes = list("Volumes");
    let in_use = |v: &Value| v["UsageData"]["RefCount"].as_u64().unwrap_or(0) > 0;
    let volume_size: u64 =
        volumes.iter().map(|v| v["UsageData"]["Size"].as_u64().unwrap_or(0)).sum();
    let idle: u64 = volumes
        .iter()
        .filter(|v| !in_use(v))
        .map(|v| v["UsageData"]["Size"].as_u64().unwrap_or(0))
        .sum();
    let rows = [
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"].map(String::from),
        line(
            "Images",
            images.len(),
            active_images.len(),
            image_size,
            image_size.saturating_sub(used),
        ),
        line("Containers", containers.len(), running, rw, rw),
        line(
            "Local Volumes",
            volumes.len(),
            volumes.iter().filter(|v| in_use(v)).count(),
            volume_size,
            idle,
        ),
        line("Build Cache", 0, 0, 0, 0),
    ];
    print!("{}", ch10_images::history::tab_aligned(&rows.map(Vec::from)));
    Ok(0)
}

/// One line of `system df`: reclaimable with its share of the size, as Docker prints it.
fn line(kind: &str, total: usize, active: usize, size: u64, reclaimable: u64) -> [String; 5] {
    let share = (reclaimable * 100).checked_div(size).map_or(String::new(), |p| format!(" ({p}%)"));
    [
        kind.to_string(),
        total.to_string(),
        active.to_string(),
        ch07_volumes::prune::human_size(size),
        format!("{}{share}", ch07_volumes::prune::human_size(reclaimable)),
    ]
}

// ANCHOR: prune
/// `system prune`: what `container prune`, `network prune`, `image prune`
/// (and `volume prune`) each remove, and the space it gave back.
fn prune(api: &dyn Api, args: &SystemPruneArgs) -> Result<u8> {
    let mut reclaimed = 0;
    let stopped = Filters::from([("status".to_string(), vec!["exited".into(), "created".into()])]);
    let containers = api.container_list(true, &stopped).map_err(api_error)?;
    let mut deleted = Vec::new();
    for container in &containers {
        let id = container["Id"].as_str().unwrap_or_default();
        api.container_remove(id, false, false).map_err(api_error)?;
        deleted.push(id.to_string());
    }
    section("Deleted Containers:", &deleted);
    let networks = api.network_prune().map_err(api_error)?;
    section("Deleted Networks:", &strings(&networks["NetworksDeleted"]));
    if args.volumes {
        let volumes = api.volume_prune(&Filters::new()).map_err(api_error)?;
        section("Deleted Volumes:", &strings(&volumes["VolumesDeleted"]));
        reclaimed += volumes["SpaceReclaimed"].as_u64().unwrap_or(0);
    }
    let filters = BTreeMap::from([("dangling".to_string(), vec![(!args.all).to_string()])]);
    let images = api.image_prune(&filters).map_err(api_error)?;
    let removed: Vec<String> = images["ImagesDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| match (i["Untagged"].as_str(), i["Deleted"].as_str()) {
            (Some(tag), _) => Some(format!("untagged: {tag}")),
            (_, Some(id)) => Some(format!("deleted: {id}")),
            _ => None,
        })
        .collect();
    section("Deleted Images:", &removed);
    reclaimed += images["SpaceReclaimed"].as_u64().unwrap_or(0);
    println!("Total reclaimed space: {}", ch07_volumes::prune::human_size(reclaimed));
    Ok(0)
}
// ANCHOR_END: prune

fn strings(value: &Value) -> Vec<String> {
    value.as_array().into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect()
}

fn section(title: &str, lines: &[String]) {
    if !lines.is_empty() {
        println!("{title}\n{}\n", lines.join("\n"));
    }
}
