//! Where containers live on disk, and how commands share them safely.
//!
//! ```text
//! <root>/containers/
//!     .lock                 flock: held while names are checked and taken
//!     <id>/
//!         config.json       what to run (written once, at create)
//!         state.json        created / running / exited, pids, exit code
//!         lock              flock: held while state.json is read-modified-written
//!         container.log     the output, one JSON object per line
//!         rootfs/           the writable layer (chapter 3)
//! ```
//!
//! Every write goes to a temporary file that is renamed over the old one:
//! `rename(2)` is atomic, so a reader sees the old file or the new one,
//! never half of each — even if the writer is killed midway.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("multiple containers found with provided prefix: {0}")]
    Ambiguous(String),
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is damaged: {source}")]
    Json { path: String, source: serde_json::Error },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.display().to_string(), source }
}

/// The containers part of the state root.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// An exclusive lock, released when dropped (or when the holder dies).
pub struct Lock(#[allow(dead_code)] Flock<File>);

impl Store {
    pub fn new(state_root: &Path) -> Store {
        Store { dir: state_root.join("containers") }
    }

    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    // ANCHOR: lock
    /// Hold the store-wide lock (creating or removing a container, taking a name).
    pub fn lock_all(&self) -> Result<Lock, StoreError> {
        fs::create_dir_all(&self.dir).map_err(io(&self.dir))?;
        lock_file(&self.dir.join(".lock"))
    }

    /// Hold one container's lock (changing its state): a `flock` on its
    /// directory itself, so no lock file has to be made for it.
    pub fn lock(&self, id: &str) -> Result<Lock, StoreError> {
        let dir = self.container_dir(id);
        let opened = File::open(&dir).map_err(io(&dir))?;
        flock(opened, &dir)
    }
    // ANCHOR_END: lock

    /// Every container id, oldest directory first.
    pub fn ids(&self) -> Result<Vec<String>, StoreError> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Ok(Vec::new()) };
        let mut dirs: Vec<(std::time::SystemTime, String)> = entries
            .flatten()
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter(|e| e.path().join("config.json").exists())
            .map(|e| {
                (
                    e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH),
                    e.file_name().to_string_lossy().into_owned(),
                )
            })
            .collect();
        dirs.sort();
        Ok(dirs.into_iter().map(|(_, id)| id).collect())
    }

    // ANCHOR: retire
    /// Take a container out of the store at once, before its files are
    /// deleted one by one: renamed to `.removing-<id>`, it is gone for every
    /// reader (who would otherwise recreate its `lock` in a directory being
    /// emptied). Returns where it went, if it was there.
    pub fn retire(&self, id: &str) -> Result<Option<PathBuf>, StoreError> {
        let (from, to) = (self.container_dir(id), self.dir.join(format!(".removing-{id}")));
        match fs::rename(&from, &to) {
            Ok(()) => Ok(Some(to)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&from)(e)),
        }
    }

    /// Before a container goes, what its last exit was, kept a minute
    /// beside the store: a `wait` that comes to read it after the
    /// removal (`--rm` is quick) still learns the code.
    pub fn keep_exit_code(&self, id: &str, code: i32) {
        let _ = write_json_atomically(&self.dir.join(format!(".exit-{id}")), &code);
        let Ok(entries) = fs::read_dir(&self.dir) else { return };
        for entry in
            entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".exit-"))
        {
            let old =
                entry.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok());
            if old.is_some_and(|age| age > std::time::Duration::from_secs(60)) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }

    /// The exit code kept for a removed container, if it went recently.
    pub fn kept_exit_code(&self, id: &str) -> Option<i32> {
        read_json(&self.dir.join(format!(".exit-{id}"))).ok()
    }

    /// Is `id` still being deleted (retired, its files not all gone)?
    pub fn is_retiring(&self, id: &str) -> bool {
        self.dir.join(format!(".removing-{id}")).exists()
    }

    /// Containers retired but not deleted (their remover died): to delete.
    pub fn retired(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Vec::new() };
        let retired =
            entries.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(".removing-"));
        retired.map(|e| e.path()).collect()
    }
    // ANCHOR_END: retire

    // ANCHOR: find
    /// Find a container as Docker does: a full id, a name, or an id prefix
    /// that matches exactly one container. `name_of` reads a container's name.
    pub fn find(
        &self,
        wanted: &str,
        name_of: impl Fn(&str) -> Option<String>,
    ) -> Result<String, StoreError> {
        let ids = self.ids()?;
        if ids.iter().any(|id| id == wanted) {
            return Ok(wanted.to_string());
        }
        if let Some(id) =
            ids.iter().find(|id| name_of(id).as_deref() == Some(wanted.trim_start_matches('/')))
        {
            return Ok(id.clone());
        }
        let matches: Vec<&String> =
            ids.iter().filter(|id| !wanted.is_empty() && id.starts_with(wanted)).collect();
        match matches.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(StoreError::NotFound(wanted.to_string())),
            _ => Err(StoreError::Ambiguous(wanted.to_string())),
        }
    }
    // ANCHOR_END: find

    pub fn read<T: DeserializeOwned>(&self, id: &str, file: &str) -> Result<T, StoreError> {
        read_json(&self.container_dir(id).join(file))
    }

    pub fn write<T: Serialize>(&self, id: &str, file: &str, value: &T) -> Result<(), StoreError> {
        write_json_atomically(&self.container_dir(id).join(file), value)
    }
}

fn lock_file(path: &Path) -> Result<Lock, StoreError> {
    let file =
        OpenOptions::new().create(true).truncate(false).write(true).open(path).map_err(io(path))?;
    flock(file, path)
}

fn flock(file: File, path: &Path) -> Result<Lock, StoreError> {
    Flock::lock(file, FlockArg::LockExclusive).map(Lock).map_err(|(_, errno)| StoreError::Io {
        path: path.display().to_string(),
        source: errno.into(),
    })
}

pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, StoreError> {
    let text = fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&text)
        .map_err(|source| StoreError::Json { path: path.display().to_string(), source })
}

// ANCHOR: write_atomically
/// Write `value` as JSON to `path` so that no reader ever sees a partial file.
///
/// No `fsync`: the rename alone guarantees that a reader — or the next
/// command after a killed one — sees the old file or the new one. What
/// fsync would add is durability across a power cut, and a container's
/// runtime state means nothing after a reboot anyway (containerd keeps it
/// on a tmpfs). Image blobs, which must survive, are fsync'ed (chapter 4).
/// On a disk where fsync costs milliseconds, this halves `run`'s time.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let json = serde_json::to_vec_pretty(value).expect("our state types always serialize");
    let mut file = File::create(&tmp).map_err(io(&tmp))?;
    file.write_all(&json).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}
// ANCHOR_END: write_atomically

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(ids: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        for id in ids {
            fs::create_dir_all(store.container_dir(id)).unwrap();
            store
                .write(id, "config.json", &serde_json::json!({"name": format!("n-{}", &id[..2])}))
                .unwrap();
        }
        (dir, store)
    }

    fn name_of(store: &Store) -> impl Fn(&str) -> Option<String> + '_ {
        |id| {
            store.read::<serde_json::Value>(id, "config.json").ok()?["name"]
                .as_str()
                .map(str::to_string)
        }
    }

    #[test]
    fn find_by_id_name_and_unique_prefix() {
        let (_dir, store) = store_with(&["abc111", "abd222", "xyz333"]);
        assert_eq!(store.find("abc111", name_of(&store)).unwrap(), "abc111");
        assert_eq!(store.find("n-xy", name_of(&store)).unwrap(), "xyz333");
        assert_eq!(store.find("abd", name_of(&store)).unwrap(), "abd222");
        assert!(matches!(store.find("ab", name_of(&store)), Err(StoreError::Ambiguous(_))));
        let missing = store.find("nothing", name_of(&store)).unwrap_err();
        assert_eq!(missing.to_string(), "No such container: nothing");
        assert!(matches!(store.find("", name_of(&store)), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn atomic_write_leaves_no_temporary_file() {
        let (dir, store) = store_with(&["abc111"]);
        store.write("abc111", "state.json", &serde_json::json!({"status": "running"})).unwrap();
        let names: Vec<String> = fs::read_dir(dir.path().join("containers/abc111"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.contains("tmp")), "{names:?}");
        let state: serde_json::Value = store.read("abc111", "state.json").unwrap();
        assert_eq!(state["status"], "running");
    }

    #[test]
    fn damaged_json_is_reported_with_its_path() {
        let (_dir, store) = store_with(&["abc111"]);
        fs::write(store.container_dir("abc111").join("state.json"), "{not json").unwrap();
        let err = store.read::<serde_json::Value>("abc111", "state.json").unwrap_err();
        assert!(err.to_string().contains("state.json is damaged"), "{err}");
    }

    #[test]
    fn locks_exclude_each_other() {
        let (_dir, store) = store_with(&["abc111"]);
        let held = store.lock("abc111").unwrap();
        let path = store.container_dir("abc111");
        let second = Flock::lock(File::open(&path).unwrap(), FlockArg::LockExclusiveNonblock);
        assert!(second.is_err(), "a second exclusive lock was granted");
        drop(held);
        assert!(Flock::lock(File::open(&path).unwrap(), FlockArg::LockExclusiveNonblock).is_ok());
    }
}
