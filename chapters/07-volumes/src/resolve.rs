//! From what the user asked (`MountSpec`s) and what the image declares
//! (`VOLUME` entries) to what the container will mount: volumes created,
//! missing host directories made, paths fixed. This runs once, at
//! `create`; the result is stored in the container's config and used at
//! every start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::in_use::containers_using;
use crate::spec::{anonymous_volume, clean, MountSpec, MountType, SpecError, TmpfsOptions};
use crate::store::{VolumeError, VolumeStore};

// ANCHOR: container_mount
/// One mount of a container, resolved: stored in its `config.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMount {
    #[serde(rename = "type")]
    pub kind: MountType,
    /// The volume's name (volumes only).
    pub name: Option<String>,
    /// On the host: the bound directory or file, or the volume's `_data`.
    pub source: Option<PathBuf>,
    /// Inside the container.
    pub destination: String,
    pub read_only: bool,
    /// Copy the image's files at `destination` into the volume while it is empty.
    pub copy_image_data: bool,
    /// Made for this container alone (`VOLUME`, `-v /path`): `rm -v` removes it.
    pub anonymous: bool,
    pub tmpfs: Option<TmpfsOptions>,
}
// ANCHOR_END: container_mount

impl ContainerMount {
    /// `docker inspect`'s entry in `Mounts`.
    pub fn inspect(&self) -> Value {
        let mut entry = Map::new();
        entry.insert("Type".into(), json!(self.kind.name()));
        if let Some(name) = &self.name {
            entry.insert("Name".into(), json!(name));
        }
        entry.insert(
            "Source".into(),
            json!(self.source.as_ref().map(|s| s.display().to_string()).unwrap_or_default()),
        );
        entry.insert("Destination".into(), json!(self.destination));
        if self.kind == MountType::Volume {
            entry.insert("Driver".into(), json!("local"));
        }
        entry.insert("Mode".into(), json!(if self.read_only { "ro" } else { "" }));
        entry.insert("RW".into(), json!(!self.read_only));
        entry.insert(
            "Propagation".into(),
            json!(if self.kind == MountType::Bind { "rprivate" } else { "" }),
        );
        Value::Object(entry)
    }
}

/// What resolving made on the host, so that a failed `create` can undo it.
#[derive(Debug, Clone, Default)]
pub struct Made {
    pub volumes: Vec<String>,
    pub host_dirs: Vec<PathBuf>,
}

/// The mounts, what was made for them, and what to tell the user.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub mounts: Vec<ContainerMount>,
    pub made: Made,
    /// One line each, for stderr: "created the missing host directory …".
    pub notices: Vec<String>,
}

// ANCHOR: resolve
/// Resolve the user's mounts plus an anonymous volume for each of the
/// image's `VOLUME` paths that no user mount covers. On failure nothing
/// made here is left behind.
pub fn resolve(
    state_root: &Path,
    specs: &[MountSpec],
    image_volumes: &[String],
) -> Result<Resolved, VolumeError> {
    let mut specs = specs.to_vec();
    for path in image_volumes {
        let target = clean(path);
        if !specs.iter().any(|s| s.target == target) {
            specs.push(anonymous_volume(&target)?);
        }
    }
    check_duplicates(&specs)?;
    let store = VolumeStore::new(state_root);
    let _lock = store.lock()?;
    let mut resolved = Resolved::default();
    for spec in &specs {
        match resolve_one(&store, spec, &mut resolved) {
            Ok(mount) => resolved.mounts.push(mount),
            Err(error) => {
                undo(state_root, &resolved.made);
                return Err(error);
            }
        }
    }
    Ok(resolved)
}
// ANCHOR_END: resolve

fn check_duplicates(specs: &[MountSpec]) -> Result<(), SpecError> {
    for (i, spec) in specs.iter().enumerate() {
        if specs[..i].iter().any(|earlier| earlier.target == spec.target) {
            return Err(SpecError::MountConfig {
                kind: spec.kind.name().into(),
                message: format!("Duplicate mount point: {}", spec.target),
            });
        }
    }
    Ok(())
}

fn resolve_one(
    store: &VolumeStore,
    spec: &MountSpec,
    resolved: &mut Resolved,
) -> Result<ContainerMount, VolumeError> {
    let mut mount = ContainerMount {
        kind: spec.kind,
        name: None,
        source: None,
        destination: spec.target.clone(),
        read_only: spec.read_only,
        copy_image_data: false,
        anonymous: false,
        tmpfs: None,
    };
    match spec.kind {
        MountType::Bind => {
            let source = PathBuf::from(spec.source.as_deref().unwrap_or_default());
            if source.symlink_metadata().is_err() {
                make_missing_host_dir(spec, &source, resolved)?;
            }
            mount.source = Some(source);
        }
        MountType::Volume => {
            let labels: BTreeMap<String, String> = spec.labels.iter().cloned().collect();
            let anonymous = spec.source.is_none();
            let (volume, new) = store.create(spec.source.as_deref(), labels, anonymous)?;
            if new {
                resolved.made.volumes.push(volume.name.clone());
            }
            mount.source = Some(store.data_dir(&volume.name));
            mount.copy_image_data = !spec.no_copy;
            mount.anonymous = volume.anonymous;
            mount.name = Some(volume.name);
        }
        MountType::Tmpfs => mount.tmpfs = Some(spec.tmpfs.clone()),
    }
    Ok(mount)
}

// ANCHOR: missing_host_dir
/// `-v /no/such/dir:/data`: Docker creates the host directory (an old
/// behaviour it keeps for `-v`; `--mount` refuses instead). We do the same
/// and say so, since a typo in the path silently becomes a new directory.
fn make_missing_host_dir(
    spec: &MountSpec,
    source: &Path,
    resolved: &mut Resolved,
) -> Result<(), VolumeError> {
    if !spec.create_missing_source {
        return Err(SpecError::MountConfig {
            kind: "bind".into(),
            message: format!("bind source path does not exist: {}", source.display()),
        }
        .into());
    }
    let mut missing: Vec<PathBuf> = source
        .ancestors()
        .take_while(|p| p.symlink_metadata().is_err())
        .map(Path::to_path_buf)
        .collect();
    std::fs::create_dir_all(source)
        .map_err(|error| VolumeError::Io { path: source.to_path_buf(), error })?;
    missing.reverse(); // outermost first, as they were made
    resolved.made.host_dirs.extend(missing);
    resolved.notices.push(format!(
        "the host path {} did not exist: created it as an empty directory (as Docker does for -v)",
        source.display()
    ));
    Ok(())
}
// ANCHOR_END: missing_host_dir

/// Remove what [`resolve`] made: new volumes and the host directories it
/// created (only while they are still empty).
pub fn undo(state_root: &Path, made: &Made) {
    let store = VolumeStore::new(state_root);
    for name in &made.volumes {
        let _ = store.remove(name, Vec::new());
    }
    for dir in made.host_dirs.iter().rev() {
        let _ = std::fs::remove_dir(dir);
    }
}

// ANCHOR: remove_anonymous
/// `rm -v` and `run --rm`: remove the container's anonymous volumes, once
/// its config is gone. A volume some other container still names stays.
/// Returns the names removed.
pub fn remove_anonymous_volumes(
    state_root: &Path,
    mounts: &[ContainerMount],
) -> Result<Vec<String>, VolumeError> {
    let store = VolumeStore::new(state_root);
    let _lock = store.lock()?;
    let mut removed = Vec::new();
    for name in mounts.iter().filter(|m| m.anonymous).filter_map(|m| m.name.as_deref()) {
        if store.exists(name) && containers_using(state_root, name).is_empty() {
            store.remove(name, Vec::new())?;
            removed.push(name.to_string());
        }
    }
    Ok(removed)
}
// ANCHOR_END: remove_anonymous

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse_mount_flag, parse_volume_flag};

    #[test]
    fn named_anonymous_bind_and_image_volumes() {
        let root = testkit::temp_dir();
        let host = testkit::temp_dir();
        let specs = [
            parse_volume_flag("data:/data:ro").unwrap(),
            parse_volume_flag(&format!("{}:/host", host.path().display())).unwrap(),
            parse_volume_flag("/anon").unwrap(),
            parse_mount_flag("type=tmpfs,dst=/t,tmpfs-size=1m").unwrap(),
        ];
        let resolved =
            resolve(root.path(), &specs, &["/image-vol/".into(), "/data".into()]).unwrap();
        let kinds: Vec<(MountType, &str, bool)> =
            resolved.mounts.iter().map(|m| (m.kind, m.destination.as_str(), m.anonymous)).collect();
        assert_eq!(
            kinds,
            [
                (MountType::Volume, "/data", false),
                (MountType::Bind, "/host", false),
                (MountType::Volume, "/anon", true),
                (MountType::Tmpfs, "/t", false),
                (MountType::Volume, "/image-vol", true),
            ],
            "the image's /data is covered by the user's mount"
        );
        assert_eq!(resolved.mounts[0].source, Some(VolumeStore::new(root.path()).data_dir("data")));
        assert!(resolved.mounts[0].copy_image_data);
        assert_eq!(resolved.made.volumes.len(), 3);
        assert!(resolved.notices.is_empty());
        assert_eq!(resolved.mounts[1].inspect()["Propagation"], "rprivate");
        assert_eq!(resolved.mounts[0].inspect()["RW"], false);
    }

    #[test]
    fn a_missing_host_dir_is_made_and_reported_and_undone() {
        let root = testkit::temp_dir();
        let host = testkit::temp_dir();
        let missing = host.path().join("a/b");
        let spec = parse_volume_flag(&format!("{}:/x", missing.display())).unwrap();
        let resolved = resolve(root.path(), &[spec], &[]).unwrap();
        assert!(missing.is_dir());
        assert_eq!(resolved.notices.len(), 1);
        assert!(resolved.notices[0].contains("created it"), "{}", resolved.notices[0]);
        undo(root.path(), &resolved.made);
        assert!(!host.path().join("a").exists());

        let long_form =
            parse_mount_flag(&format!("type=bind,src={},dst=/x", missing.display())).unwrap();
        let err = resolve(root.path(), &[long_form], &[]).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(&format!("bind source path does not exist: {}", missing.display())),
            "{err}"
        );
    }

    #[test]
    fn a_failure_leaves_nothing_made() {
        let root = testkit::temp_dir();
        let specs = [
            parse_volume_flag("fresh:/a").unwrap(),
            parse_mount_flag("type=bind,src=/no/such/mdtest/dir,dst=/b").unwrap(),
        ];
        assert!(resolve(root.path(), &specs, &[]).is_err());
        assert!(
            VolumeStore::new(root.path()).list().unwrap().is_empty(),
            "the volume made for /a must be removed again"
        );
        let dup = [parse_volume_flag("x1:/a").unwrap(), parse_volume_flag("x2:/a/").unwrap()];
        assert!(resolve(root.path(), &dup, &[])
            .unwrap_err()
            .to_string()
            .contains("Duplicate mount point: /a"));
    }

    #[test]
    fn rm_v_removes_only_unused_anonymous_volumes() {
        let root = testkit::temp_dir();
        let specs = [parse_volume_flag("named:/n").unwrap(), parse_volume_flag("/anon").unwrap()];
        let resolved = resolve(root.path(), &specs, &[]).unwrap();
        let removed = remove_anonymous_volumes(root.path(), &resolved.mounts).unwrap();
        assert_eq!(removed, [resolved.mounts[1].name.clone().unwrap()]);
        let left: Vec<String> =
            VolumeStore::new(root.path()).list().unwrap().into_iter().map(|v| v.name).collect();
        assert_eq!(left, ["named"]);
    }
}
