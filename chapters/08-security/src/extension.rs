//! How chapter 8 plugs into chapter 5's engine: the walls go up around the
//! container's process at start, and around every exec'd process.
//!
//! ```text
//! create   check the flags; --userns-remap: a vfs copy owned by the range,
//!          the paths to it and to the volumes made walkable
//! start    parent: uid/gid maps, device rules;  child: become the namespace's
//!          root (first), bounding set (before the user switch), seccomp and
//!          capabilities (last);  chapter 3: masks, a read-only root
//! exec     the same walls
//! ```

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use ch01_namespaces::ParentHook;
use ch03_union_fs::etc_files::EtcFiles;
use ch05_run::{ContainerConfig, Creating, Execing, Extension, Running, Settings, Starting, State};
use ch06_networking::{NetworkMode, NetworkSettings};
use ch07_volumes::Mounts;
use serde_json::Value;

use crate::options::{Profile, SecurityOptions};
use crate::{caps, devices, userns, walls};

impl Settings for SecurityOptions {
    const KEY: &'static str = "security";
}

/// Chapter 8's extension of the engine.
pub struct Security;

// ANCHOR: create
impl Extension for Security {
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        let options: SecurityOptions = creating.request.get()?;
        options.check()?;
        if let Some(remap) = options.userns_remap.clone() {
            let network: NetworkSettings = creating.config.extensions.get()?;
            if network.mode == NetworkMode::Host {
                anyhow::bail!("--network host cannot be combined with --userns-remap: the host's network namespace is not owned by the container's user namespace; use --userns=host for this container");
            }
            creating.config.driver = "vfs".to_string();
            let root = creating.root.to_path_buf();
            creating.prepare_rootfs =
                Some(Box::new(move |config: &ContainerConfig, dir: &Path| {
                    prepare_remapped(&root, config, dir, &remap)
                }));
        }
        creating.config.extensions.set(&options);
        Ok(())
    }
    // ANCHOR_END: create

    // ANCHOR: start
    fn start(&self, starting: &mut Starting) -> anyhow::Result<Box<dyn Running>> {
        let options: SecurityOptions = starting.config.extensions.get()?;
        let device_cgroup = starting.cgroup.dir_of("devices").is_some();
        let profile = options.profile(caps::last_cap(), device_cgroup)?;
        if let Some(remap) = &options.userns_remap {
            starting.spawn.namespaces.user = true;
            starting.spawn.parent_hook(userns::map_range_hook(remap));
            starting.steps.first.push(ch01_namespaces::userns::become_root_hook());
            starting.spawn.parent_hook(give_etc_files(starting.dir, remap));
        }
        if profile.device_rules {
            starting.spawn.parent_hook(devices::device_rules_hook(starting.cgroup));
        }
        starting.rootfs.skip_masks = !profile.masks;
        if let Some(view) = starting.rootfs.cgroup_view.as_mut().filter(|_| options.privileged) {
            view.make_writable(); // Docker's `--privileged`: the cgroup view too
        }
        if profile.read_only_root {
            starting.rootfs.before_pivot.push(walls::read_only_root_step());
        }
        put_up_walls(profile, starting.steps);
        Ok(Box::new(ch05_run::NothingHeld))
    }

    fn exec(&self, execing: &mut Execing) -> anyhow::Result<()> {
        let options: SecurityOptions = execing.config.extensions.get()?;
        let device_cgroup = devices::host_has_device_cgroup();
        put_up_walls(options.profile(caps::last_cap(), device_cgroup)?, execing.steps);
        Ok(())
    }
    // ANCHOR_END: start

    fn inspect(&self, _: &Path, config: &ContainerConfig, _: &State, described: &mut Value) {
        let Ok(options) = config.extensions.get::<SecurityOptions>() else { return };
        if let (Some(host), Value::Object(fields)) =
            (described["HostConfig"].as_object_mut(), options.inspect_json())
        {
            host.extend(fields);
        }
    }
}

// ANCHOR: walls
/// The two wall hooks, around chapter 5's user switch.
fn put_up_walls(profile: Profile, steps: &mut ch05_run::ChildSteps) {
    let walls = walls::hooks(profile);
    steps.before_user.push(walls.before_user);
    steps.last.push(walls.after_user);
}
// ANCHOR_END: walls

// ANCHOR: prepare_remapped
/// The root of a remapped container, and every path its root must walk to
/// mount it and its volumes made walkable: root inside is an ordinary uid
/// outside. A new, empty volume is given to the container's root.
fn prepare_remapped(
    state_root: &Path,
    config: &ContainerConfig,
    dir: &Path,
    remap: &userns::Remap,
) -> anyhow::Result<()> {
    userns::make_reachable(&dir.join("rootfs"), state_root, remap)?;
    userns::prepare_root(&config.layers, dir, remap)?;
    let Mounts(mounts) = config.extensions.get()?;
    for mount in &mounts {
        let Some(source) = mount.source.as_deref() else { continue };
        userns::make_reachable(source, state_root, remap)?;
        let new_volume = mount.name.is_some() && ch07_volumes::seed::is_empty_dir(source);
        if new_volume && std::fs::metadata(source).is_ok_and(|m| m.uid() == 0) {
            userns::give_to_container_root(source, remap)?;
        }
    }
    Ok(())
}
// ANCHOR_END: prepare_remapped

/// The engine's `/etc` files belong to the container's root, so that it
/// can write its own `/etc/hosts`, as it could without remapping.
fn give_etc_files(dir: &Path, remap: &userns::Remap) -> ParentHook {
    let files: Vec<PathBuf> =
        EtcFiles::in_dir(dir).mounts().iter().map(|(file, _)| file.to_path_buf()).collect();
    let remap = remap.clone();
    ParentHook::new("giving the /etc files to the container's root", move |_| {
        for file in &files {
            userns::give_to_container_root(file, &remap)?;
        }
        Ok(())
    })
}
