//! How chapter 7 plugs into chapter 5's engine: mounts are resolved once,
//! at create, and mounted at every start, just before pivot_root.
//!
//! ```text
//! create   resolve -v/--mount/--tmpfs and the image's VOLUMEs (volumes made,
//!          missing -v host dirs made), recorded as the config's "mounts"
//! start    chapter 3's before-pivot step mounts them
//! rm -v    the anonymous volumes go with the container
//! ```

use std::path::Path;

use ch05_run::{ContainerConfig, Creating, Extension, Running, Settings, Starting, State};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::mount::mount_hook;
use crate::resolve::{remove_anonymous_volumes, resolve, undo, ContainerMount};
use crate::spec::MountSpec;

// ANCHOR: settings
/// What the user asked for (`-v`, `--mount`, `--tmpfs`), in the request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MountRequest(pub Vec<MountSpec>);

/// What the container mounts, resolved at create: its config's `"mounts"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Mounts(pub Vec<ContainerMount>);

impl Settings for MountRequest {
    const KEY: &'static str = "mounts";
}

impl Settings for Mounts {
    const KEY: &'static str = crate::in_use::CONTAINER_MOUNTS_FIELD;
}
// ANCHOR_END: settings

/// Chapter 7's extension of the engine.
pub struct Volumes;

// ANCHOR: extension
impl Extension for Volumes {
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        let MountRequest(specs) = creating.request.get()?;
        let resolved = resolve(creating.root, &specs, &creating.image.volumes)?;
        creating.warnings.extend(resolved.notices);
        let (root, made) = (creating.root.to_path_buf(), resolved.made);
        creating.undo.push(Box::new(move || undo(&root, &made)));
        creating.config.extensions.set(&Mounts(resolved.mounts));
        Ok(())
    }

    fn start(&self, starting: &mut Starting) -> anyhow::Result<Box<dyn Running>> {
        let Mounts(mounts) = starting.config.extensions.get()?;
        if !mounts.is_empty() {
            starting.rootfs.before_pivot.push(mount_hook(mounts));
        }
        Ok(Box::new(ch05_run::NothingHeld))
    }

    fn remove(&self, root: &Path, config: &ContainerConfig) -> anyhow::Result<()> {
        let Mounts(mounts) = config.extensions.get()?;
        remove_anonymous_volumes(root, &mounts)?;
        Ok(())
    }
    // ANCHOR_END: extension

    fn inspect(&self, _: &Path, config: &ContainerConfig, _: &State, described: &mut Value) {
        described["Mounts"] = mounts_json(config);
    }

    fn summarize(&self, _: &Path, config: &ContainerConfig, summary: &mut Value) {
        summary["Mounts"] = mounts_json(config);
    }
}

fn mounts_json(config: &ContainerConfig) -> Value {
    let Mounts(mounts) = config.extensions.get().unwrap_or_default();
    json!(mounts.iter().map(ContainerMount::inspect).collect::<Vec<_>>())
}
