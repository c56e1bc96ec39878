//! `docker commit`: a container's changes become a new image — its layer,
//! a config made of the parent's, the container's own settings and the
//! `-c` changes, and one more line of history.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use ch03_union_fs::Driver;
use ch04_image_pull::store::{ImageRecord, Store};
use ch04_image_pull::Reference;
use ch05_run::{ContainerConfig, Engine};

use crate::change::apply_changes;
use crate::config::{History, RunConfig};
use crate::image::{or_roll_back, record_image, store_layer, Parent};
use crate::layer::ContainerFs;
use crate::tarball::TimePolicy;

/// `commit [-a AUTHOR] [-m MESSAGE] [-c CHANGE]... [--pause] CONTAINER [REPO[:TAG]]`
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub tag: Option<Reference>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub changes: Vec<String>,
    /// The client's container config (`POST /commit`'s body), merged over
    /// the container's; `None`: the container's, as the docker CLI asks.
    pub config: Option<RunConfig>,
    /// Freeze a running container while its layer is read (Docker's default).
    pub pause: bool,
    pub times: TimePolicy,
}

// ANCHOR: freezer
/// `--pause`: stop every process of the container while its layer is
/// read, so that the layer is one moment of its files and not several.
/// Chapter 2's freezer (`cgroup.freeze`, `freezer.state`) is what does it.
pub trait Freezer {
    fn freeze(&self, container: &ContainerConfig) -> anyhow::Result<()>;
    fn thaw(&self, container: &ContainerConfig) -> anyhow::Result<()>;
}

/// The seam left open until chapter 2 offers freeze and thaw: refuse,
/// and say how to commit without pausing.
pub struct NoFreezer;

impl Freezer for NoFreezer {
    fn freeze(&self, container: &ContainerConfig) -> anyhow::Result<()> {
        bail!(
            "cannot pause container {}: this build has no cgroup freezer yet; \
             commit it with --pause=false (its files may change while they are read), or stop it first",
            container.name
        )
    }
    fn thaw(&self, _: &ContainerConfig) -> anyhow::Result<()> {
        Ok(())
    }
}
// ANCHOR_END: freezer

// ANCHOR: commit
/// Make an image of container `name`; returns its record (the id is the
/// config's digest). On any failure nothing new is left in the store.
pub fn commit(
    engine: &Engine,
    store: &Store,
    name: &str,
    options: &CommitOptions,
    freezer: &dyn Freezer,
) -> anyhow::Result<ImageRecord> {
    let id = engine.find(name)?;
    let container = engine.config(&id)?;
    let parent = Parent::load(store, &container.image_id)?;
    let mut image = parent.config.clone();
    let settings = container_settings(&parent.config.config, &container);
    // Docker's `created_by`: the container's command, before any change.
    let created_by = settings.cmd.clone().unwrap_or_default().join(" ");
    let mut config = options.config.clone().unwrap_or_else(|| settings.clone());
    apply_changes(&options.changes, &mut config)?;
    crate::merge::merge(&mut config, &settings);
    image.config = config;
    // ANCHOR_END: commit
    // ANCHOR: commit_2
    let created = timestamp(options.times);
    image.created = Some(created.clone());
    image.author = options.author.clone();
    for stale in ["container", "container_config", "docker_version"] {
        image.other.remove(stale); // they describe how the parent was made
    }
    let history = History {
        created: Some(created),
        author: options.author.clone(),
        created_by: Some(created_by),
        comment: options.message.clone(),
        empty_layer: false,
    };
    let fs = container_fs(engine, &container)?;
    let pause = options.pause && engine.state(&id)?.is_running();
    let tag = options.tag.as_ref().map(Reference::to_string);
    or_roll_back(store, |added| {
        let layer = while_paused(freezer, &container, pause, || {
            store_layer(store, added, |out| Ok(fs.write_layer(out, options.times)?.1.entries))
        })?;
        record_image(store, added, Some(&parent), image, history, layer, tag.as_deref())
    })
}
// ANCHOR_END: commit_2

/// Run `work` with the container frozen (when `pause`), thawing it after
/// whatever `work` returned.
fn while_paused<T>(
    freezer: &dyn Freezer,
    container: &ContainerConfig,
    pause: bool,
    work: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    if !pause {
        return work();
    }
    freezer.freeze(container)?;
    let result = work();
    let thawed = freezer.thaw(container);
    let value = result?;
    thawed.with_context(|| format!("thawing container {} after the commit", container.name))?;
    Ok(value)
}

/// A container's files: its image's layers and what chapter 3 made for it.
pub fn container_fs(engine: &Engine, container: &ContainerConfig) -> anyhow::Result<ContainerFs> {
    let driver: Driver = container.driver.parse().map_err(anyhow::Error::msg)?;
    let dir = engine.store.container_dir(&container.id);
    let rootfs = ch03_union_fs::reopen(driver, &container.layers, &dir)
        .with_context(|| format!("the files of container {}", container.name))?;
    Ok(ContainerFs::new(container.layers.clone(), rootfs))
}

// ANCHOR: container_settings
/// The container's own settings as the new image's `config`: Docker merges
/// the container's config (command, environment, directory, user) over the
/// image's. Chapter 5 keeps the finished process, so this reads it back:
/// the engine's own additions (a default `PATH`, `HOSTNAME`, `TERM`, `HOME`)
/// are left out where the image did not have them.
pub fn container_settings(image: &RunConfig, container: &ContainerConfig) -> RunConfig {
    let mut settings = image.clone();
    let home = home_of(image, container);
    let engine_added = |kv: &str| {
        let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
        let added = match key {
            "PATH" => value == ch01_namespaces::exec::DEFAULT_PATH,
            "HOSTNAME" => value == container.hostname,
            "TERM" => container.tty && value == "xterm",
            "HOME" => value == home,
            _ => false,
        };
        added && image.env_value(key).is_none()
    };
    settings.env = container.env.iter().filter(|kv| !engine_added(kv)).cloned().collect();
    let entrypoint = image.entrypoint.clone().unwrap_or_default();
    if !entrypoint.is_empty() && container.argv.starts_with(&entrypoint) {
        settings.cmd = Some(container.argv[entrypoint.len()..].to_vec());
    } else if !entrypoint.is_empty() {
        // `run --entrypoint X`: X is the entrypoint, the rest its Cmd.
        settings.entrypoint = Some(container.argv[..1].to_vec());
        settings.cmd = Some(container.argv[1..].to_vec());
    } else {
        settings.cmd = Some(container.argv.clone());
    }
    if !(container.working_dir == "/" && image.working_dir.is_empty()) {
        settings.working_dir = container.working_dir.clone();
    }
    settings.user = user_of(image, container);
    settings
}
// ANCHOR_END: container_settings

/// The `HOME` chapter 5 gives a container of this image when none is set.
fn home_of(image: &RunConfig, container: &ContainerConfig) -> String {
    let (passwd, group) = account_files(container);
    let spec = if image.user.is_empty() { "0:0" } else { &image.user };
    ch05_run::user::resolve_user(spec, &passwd, &group)
        .map(|u| if u.home.is_empty() { "/".to_string() } else { u.home })
        .unwrap_or_else(|_| "/".to_string())
}

/// The image's user string when it still names the container's ids, else
/// the ids (chapter 5 keeps only numbers).
fn user_of(image: &RunConfig, container: &ContainerConfig) -> String {
    let ids = &container.user;
    let (passwd, group) = account_files(container);
    let spec = if image.user.is_empty() { "0:0" } else { &image.user };
    let same = ch05_run::user::resolve_user(spec, &passwd, &group)
        .is_ok_and(|u| u.uid == ids.uid && u.gid == ids.gid);
    if same {
        image.user.clone()
    } else if ids.is_root() {
        String::new()
    } else {
        format!("{}:{}", ids.uid, ids.gid)
    }
}

/// The image's `/etc/passwd` and `/etc/group`, read through its layers.
fn account_files(container: &ContainerConfig) -> (String, String) {
    let read = |file| ch05_run::layers::read_through_layers(&container.layers, file);
    (read("etc/passwd").unwrap_or_default(), read("etc/group").unwrap_or_default())
}

/// `created`: `SOURCE_DATE_EPOCH` when set (a reproducible build), else now.
pub fn timestamp(times: TimePolicy) -> String {
    match times.clamp {
        Some(seconds) => {
            let at = UNIX_EPOCH + Duration::from_secs(seconds.max(0) as u64);
            humantime::format_rfc3339_seconds(at).to_string()
        }
        None => humantime::format_rfc3339_nanos(SystemTime::now()).to_string(),
    }
}
