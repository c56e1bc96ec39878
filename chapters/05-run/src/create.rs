//! `create`: decide a container's id, name and process, give it a
//! writable root, and write it down. Nothing runs yet.

use std::path::Path;

use anyhow::bail;
use ch02_cgroups::Limits;
use ch03_union_fs::Driver;

use crate::container::{ContainerConfig, LimitSettings, UserIds};
use crate::extension::Creating;
use crate::ids::{new_id, random_name, short_id, validate_name};
use crate::image::ImageInfo;
use crate::lifecycle::Engine;
use crate::merge::{merge, UserOverrides};
use crate::settings::Extensions;
use crate::state::{now, State};
use crate::user::resolve_user;

/// What `create` (and `run`) are asked for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The image as the user named it, and what chapter 4's store says of it.
    pub image: String,
    pub image_info: ImageInfo,
    pub overrides: UserOverrides,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    /// The terminal's size at the start (rows, columns), if known.
    pub console_size: Option<[u16; 2]>,
    pub interactive: bool,
    pub auto_remove: bool,
    pub init: bool,
    pub limits: Limits,
    pub cgroup_parent: String,
    pub driver: Driver,
    /// What the later chapters are asked for, each under its own key.
    pub extensions: Extensions,
}

/// A new container, and what its creation has to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub id: String,
    pub warnings: Vec<String>,
}

impl Engine {
    // ANCHOR: create
    /// Create a container: its config, its extensions' settings, its root.
    /// On any failure nothing of it is left, and the extensions undo theirs.
    pub fn create(&self, request: &CreateRequest) -> anyhow::Result<Created> {
        let _all = self.store.lock_all()?;
        let id = new_id();
        let mut config = self.new_config(&id, request)?;
        let dir = self.store.container_dir(&id);
        let mut creating = Creating {
            root: &self.root,
            dir: &dir,
            image: &request.image_info,
            request: &request.extensions,
            config: &mut config,
            prepare_rootfs: None,
            undo: Vec::new(),
            warnings: Vec::new(),
        };
        let checked = self.extensions().iter().try_for_each(|e| e.create(&mut creating));
        let Creating { prepare_rootfs, undo, warnings, .. } = creating;
        let made = checked
            .and_then(|()| Ok(std::fs::create_dir_all(&dir)?))
            .and_then(|()| match prepare_rootfs {
                Some(prepare) => prepare(&config, &dir),
                None => Ok(prepare_rootfs_of(request.driver, &config, &dir).map(drop)?),
            })
            .and_then(|()| Ok(self.store.write(&id, "state.json", &State::created())?))
            .and_then(|()| Ok(self.store.write(&id, "config.json", &config)?));
        if let Err(error) = made {
            let _ = ch03_union_fs::cleanup::remove_container_dir(&dir);
            undo.into_iter().rev().for_each(|undo| undo());
            return Err(error);
        }
        Ok(Created { id, warnings })
    }
    // ANCHOR_END: create

    // ANCHOR: new_config
    /// Chapter 5's part of the config: the merged process, the resolved
    /// user, the name, the limits.
    fn new_config(&self, id: &str, request: &CreateRequest) -> anyhow::Result<ContainerConfig> {
        let name = self.pick_name(request.name.as_deref())?;
        let hostname = request.hostname.clone().unwrap_or_else(|| short_id(id).to_string());
        let image = &request.image_info;
        let merged = merge(&image.defaults, &request.overrides, &hostname, request.tty)?;
        let read = |file| crate::layers::read_through_layers(&image.layers, file);
        let (passwd, group) = (read("etc/passwd"), read("etc/group"));
        let user =
            resolve_user(&merged.user, &passwd.unwrap_or_default(), &group.unwrap_or_default())?;
        let mut env = merged.env;
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", if user.home.is_empty() { "/" } else { &user.home }));
        }
        Ok(ContainerConfig {
            id: id.to_string(),
            name,
            created: now(),
            image: request.image.clone(),
            image_id: image.id.clone(),
            layers: image.layers.clone(),
            argv: merged.argv,
            env,
            working_dir: merged.working_dir,
            user: UserIds::from(&user),
            hostname,
            tty: request.tty,
            console_size: request.console_size,
            interactive: request.interactive,
            auto_remove: request.auto_remove,
            init: request.init,
            limits: LimitSettings::from_limits(&request.limits),
            cgroup_parent: request.cgroup_parent.clone(),
            driver: request.driver.name().to_string(),
            extensions: Extensions::default(),
        })
    }
    // ANCHOR_END: new_config

    fn pick_name(&self, wanted: Option<&str>) -> anyhow::Result<String> {
        let names: Vec<(String, String)> = self
            .store
            .ids()?
            .into_iter()
            .filter_map(|id| self.config(&id).ok().map(|c| (c.name, id)))
            .collect();
        let Some(name) = wanted else {
            return Ok(random_name(|n| names.iter().any(|(taken, _)| taken == n)));
        };
        let name = name.trim_start_matches('/');
        validate_name(name)?;
        if let Some((_, id)) = names.iter().find(|(taken, _)| taken == name) {
            bail!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". \
                 You have to remove (or rename) that container to be able to reuse that name."
            );
        }
        Ok(name.to_string())
    }
}

/// Chapter 3's root, made with the driver the config names (an extension
/// may have changed it, for example to `vfs`).
fn prepare_rootfs_of(
    requested: Driver,
    config: &ContainerConfig,
    dir: &Path,
) -> anyhow::Result<ch03_union_fs::Rootfs> {
    let driver: Driver = config.driver.parse().unwrap_or(requested);
    Ok(ch03_union_fs::prepare(driver, &config.layers, dir)?)
}
