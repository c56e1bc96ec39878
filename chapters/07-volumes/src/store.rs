//! Named volumes on disk, laid out as Docker's `local` driver does:
//!
//! ```text
//! <root>/volumes/
//!     .lock                    flock: held while volumes are made or removed
//!     <name>/
//!         volume.json          when it was made, its labels, anonymous or not
//!         _data/               what the container sees at its mount point
//! ```
//!
//! A volume is just a directory that belongs to no container: `rm` of the
//! container leaves it alone, so the next container finds the data again.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use thiserror::Error;

use crate::spec::{validate_volume_name, SpecError};

/// Docker (23 and later) marks anonymous volumes with this label, and
/// `volume prune` without `--all` removes only those.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

#[derive(Debug, Error)]
pub enum VolumeError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("remove {name}: volume is in use - [{}]", .users.join(", "))]
    InUse { name: String, users: Vec<String> },
    #[error("{}: {error}", .path.display())]
    Io { path: PathBuf, error: std::io::Error },
    #[error("{} is damaged: {error}", .path.display())]
    Json { path: PathBuf, error: serde_json::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VolumeError + '_ {
    move |error| VolumeError::Io { path: path.to_path_buf(), error }
}

// ANCHOR: volume
/// `volume.json`: what we know about a volume besides its files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Volume {
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Made for one container's `VOLUME` or `-v /path`, with a random name.
    #[serde(default)]
    pub anonymous: bool,
}
// ANCHOR_END: volume

/// The volumes part of the state root.
#[derive(Debug, Clone)]
pub struct VolumeStore {
    dir: PathBuf,
}

/// The store-wide lock, released when dropped.
pub struct VolumeLock(#[allow(dead_code)] Flock<File>);

impl VolumeStore {
    pub fn new(state_root: &Path) -> VolumeStore {
        VolumeStore { dir: state_root.join("volumes") }
    }

    /// `<root>/volumes/<name>/_data`: the volume's mount point on the host.
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("_data")
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("volume.json")
    }

    /// Hold the lock while deciding whether a volume exists and acting on it.
    pub fn lock(&self) -> Result<VolumeLock, VolumeError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io(&path))?;
        Flock::lock(file, FlockArg::LockExclusive)
            .map(VolumeLock)
            .map_err(|(_, errno)| VolumeError::Io { path, error: errno.into() })
    }

    pub fn get(&self, name: &str) -> Result<Volume, VolumeError> {
        let path = self.record_path(name);
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VolumeError::NotFound(name.to_string()))
            }
            Err(e) => return Err(io(&path)(e)),
        };
        serde_json::from_slice(&text).map_err(|error| VolumeError::Json { path, error })
    }

    pub fn exists(&self, name: &str) -> bool {
        self.record_path(name).is_file()
    }

    // ANCHOR: create
    /// Create volume `name` (a random 64-hex name when `None`), or return
    /// the existing one, as `docker volume create` does. The caller holds
    /// [`VolumeStore::lock`]. The bool says whether it was made now.
    pub fn create(
        &self,
        name: Option<&str>,
        labels: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<(Volume, bool), VolumeError> {
        let name = match name {
            Some(name) => {
                validate_volume_name(name)?;
                name.to_string()
            }
            None => random_name(),
        };
        if self.exists(&name) {
            return Ok((self.get(&name)?, false));
        }
        let mut labels = labels;
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
        }
        let volume = Volume { name: name.clone(), created_at: now(), labels, anonymous };
        let made = fs::create_dir_all(self.data_dir(&name))
            .map_err(io(&self.data_dir(&name)))
            .and_then(|()| write_json_atomically(&self.record_path(&name), &volume));
        if let Err(error) = made {
            let _ = fs::remove_dir_all(self.dir.join(&name));
            return Err(error);
        }
        Ok((volume, true))
    }
    // ANCHOR_END: create

    /// Every volume, sorted by name.
    pub fn list(&self) -> Result<Vec<Volume>, VolumeError> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Ok(Vec::new()) };
        let mut names: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().join("volume.json").is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names.iter().map(|name| self.get(name)).collect()
    }

    // ANCHOR: remove
    /// Delete the volume and its data. `users` are the containers that
    /// still refer to it: then nothing is deleted. The caller holds the lock.
    pub fn remove(&self, name: &str, users: Vec<String>) -> Result<(), VolumeError> {
        self.get(name)?;
        if !users.is_empty() {
            return Err(VolumeError::InUse { name: name.to_string(), users });
        }
        // The record goes first: a volume without it is no longer listed,
        // even if deleting the data is interrupted halfway.
        let record = self.record_path(name);
        fs::remove_file(&record).map_err(io(&record))?;
        let dir = self.dir.join(name);
        fs::remove_dir_all(&dir).map_err(io(&dir))
    }
    // ANCHOR_END: remove

    /// `docker volume inspect`'s object for one volume.
    pub fn inspect(&self, volume: &Volume) -> Value {
        json!({
            "CreatedAt": volume.created_at,
            "Driver": "local",
            "Labels": volume.labels,
            "Mountpoint": self.data_dir(&volume.name),
            "Name": volume.name,
            "Options": null,
            "Scope": "local",
        })
    }

    /// Bytes used by a volume's files (for `prune`'s "reclaimed space").
    pub fn size(&self, name: &str) -> u64 {
        disk_usage(&self.data_dir(name))
    }
}

fn disk_usage(path: &Path) -> u64 {
    let Ok(meta) = path.symlink_metadata() else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    fs::read_dir(path).into_iter().flatten().flatten().map(|e| disk_usage(&e.path())).sum()
}

/// 64 hex digits, like the name Docker gives an anonymous volume.
pub fn random_name() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    let read = File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom (a strange chroot): time and pid still make a fresh name.
        let seed = format!("{:?}{}", std::time::SystemTime::now(), std::process::id());
        bytes.iter_mut().zip(seed.bytes().cycle()).for_each(|(b, s)| *b ^= s);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

/// Write to a temporary name, then rename: a reader never sees half a record.
fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), VolumeError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let json = serde_json::to_vec_pretty(value).expect("a volume record always serializes");
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(&json).and_then(|_| file.sync_all()).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_is_idempotent_and_remove_respects_users() {
        let root = testkit::temp_dir();
        let store = VolumeStore::new(root.path());
        let _lock = store.lock().unwrap();
        let (made, new) = store.create(Some("data"), BTreeMap::new(), false).unwrap();
        assert!(new && store.data_dir("data").is_dir());
        std::fs::write(store.data_dir("data").join("f"), "kept").unwrap();
        let (again, new) = store.create(Some("data"), BTreeMap::new(), false).unwrap();
        assert!(!new);
        assert_eq!(again, made);
        assert!(store.data_dir("data").join("f").exists(), "creating again must not wipe the data");
        let err = store.remove("data", vec!["abc".into()]).unwrap_err();
        assert_eq!(err.to_string(), "remove data: volume is in use - [abc]");
        assert!(store.data_dir("data").join("f").exists());
        store.remove("data", Vec::new()).unwrap();
        assert!(!root.path().join("volumes/data").exists());
        assert_eq!(
            store.remove("data", Vec::new()).unwrap_err().to_string(),
            "get data: no such volume"
        );
    }

    #[test]
    fn anonymous_volumes_get_a_random_name_and_the_label() {
        let root = testkit::temp_dir();
        let store = VolumeStore::new(root.path());
        let (volume, _) = store.create(None, BTreeMap::new(), true).unwrap();
        assert_eq!(volume.name.len(), 64);
        assert!(volume.name.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(volume.labels.contains_key(ANONYMOUS_LABEL));
        assert_eq!(store.list().unwrap(), std::slice::from_ref(&volume));
        let inspect = store.inspect(&volume);
        assert_eq!(inspect["Driver"], "local");
        assert_eq!(inspect["Mountpoint"], store.data_dir(&volume.name).display().to_string());
    }

    #[test]
    fn bad_names_make_nothing() {
        let root = testkit::temp_dir();
        let store = VolumeStore::new(root.path());
        assert!(matches!(
            store.create(Some("../x"), BTreeMap::new(), false),
            Err(VolumeError::Spec(_))
        ));
        assert!(store.list().unwrap().is_empty());
    }
}
