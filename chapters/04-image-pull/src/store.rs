//! The image store under the state root:
//!
//! ```text
//! <root>/blobs/sha256/<hex>      every blob (manifest, config, layer), verified
//! <root>/layers/<diffid hex>/    each layer unpacked once, shared by images
//! <root>/images/<id hex>.json    one record per image (id = config digest)
//! <root>/images/repositories.json  name:tag -> image id
//! <root>/tmp/                    downloads and unpacks in progress
//! ```

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use ch01_namespaces::explain::{self, Step};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::digest::{hex_part, sha256_of, HashingReader};
use crate::unpack::{self, UnpackError};

const BOOK: &str = "ch04-image-pull.md#the-content-store";

#[derive(Debug, thiserror::Error)]
// A field shown in the message is named `error`, not `source`: thiserror
// would make a `source` the error's cause too, and `{:#}` (the CLI prints
// the whole chain) would then say the reason twice.
pub enum StoreError {
    #[error("{what}: {error} (state root {root})")]
    Io { what: String, root: String, error: io::Error },
    #[error("blob {digest} is corrupt: expected {digest}, got {actual} — nothing was stored")]
    DigestMismatch { digest: String, actual: String },
    #[error("blob {digest} is truncated: expected {expected} bytes, got {actual} — nothing was stored, pull again")]
    Truncated { digest: String, expected: u64, actual: u64 },
    #[error("blob {digest} is larger than announced ({expected} bytes) — nothing was stored")]
    TooLarge { digest: String, expected: u64 },
    #[error("layer {diff_id} does not match its DiffID: the uncompressed tar is {actual} — nothing was stored")]
    DiffIdMismatch { diff_id: String, actual: String },
    #[error("layer {diff_id}: {error}")]
    Unpack { diff_id: String, error: UnpackError },
    #[error("image store: {0}")]
    Corrupt(String),
}

// ANCHOR: records
/// One image: its id (the config digest), its manifest and its layers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageRecord {
    pub id: String,
    pub manifest: String,
    pub layers: Vec<LayerRecord>,
    /// `name@sha256:…` for each repository the image was pulled from.
    #[serde(default)]
    pub repo_digests: Vec<String>,
    /// The config's `created`, RFC 3339.
    #[serde(default)]
    pub created: Option<String>,
    /// Sum of the uncompressed layer sizes, what `images` shows.
    pub size: u64,
    /// The image this one was made from on this host (`commit`, `build`).
    /// Docker keeps this link beside the config, not in it, so that the
    /// image id does not depend on where the image was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerRecord {
    /// The (usually compressed) blob's digest, as in the manifest.
    pub blob: String,
    pub media_type: String,
    /// sha256 of the uncompressed tar: the layer directory's name.
    pub diff_id: String,
    /// Uncompressed size.
    pub size: u64,
}
// ANCHOR_END: records

#[derive(Debug, Default, Serialize, Deserialize)]
struct Repositories {
    /// Full reference (`docker.io/library/busybox:latest`) -> image id.
    tags: BTreeMap<String, String>,
}

/// What one pull or load created, so a failure can take it back.
#[derive(Debug, Default)]
pub struct Added {
    pub blobs: Vec<String>,
    pub layers: Vec<String>,
}

/// The store at a state root.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// An exclusive lock on the store's metadata, released on drop.
pub struct StoreLock(#[allow(dead_code)] Flock<File>);

impl Store {
    /// Open (creating) the store at `root`, and remove leftovers of
    /// processes that died mid-download.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        let store = Store { root: root.to_path_buf() };
        for dir in ["blobs/sha256", "layers", "images", "tmp"] {
            fs::create_dir_all(root.join(dir))
                .map_err(|e| store.io(&format!("creating {}", root.join(dir).display()), e))?;
        }
        store.remove_stale_temporaries();
        Ok(store)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root.join("blobs/sha256").join(hex_part(digest))
    }

    pub fn has_blob(&self, digest: &str) -> bool {
        self.blob_path(digest).is_file()
    }

    /// The layer directory for a DiffID: the lower layer chapter 3 mounts.
    pub fn layer_path(&self, diff_id: &str) -> PathBuf {
        self.root.join("layers").join(hex_part(diff_id))
    }

    pub fn has_layer(&self, diff_id: &str) -> bool {
        self.layer_path(diff_id).is_dir()
    }

    // ANCHOR: write_blob
    /// Stream a blob into the store, hashing and counting as it goes. It is
    /// written under a temporary name, fsync-ed, and renamed into place only
    /// when size and sha256 match: a blob in `blobs/` is always complete.
    pub fn write_blob(
        &self,
        digest: &str,
        size: u64,
        reader: impl Read,
        on_bytes: &mut dyn FnMut(u64),
    ) -> Result<bool, StoreError> {
        if self.has_blob(digest) {
            return Ok(false);
        }
        let temp = self.temp_path(hex_part(digest));
        let result = self.write_verified(&temp, digest, size, reader, on_bytes);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result.map(|()| true)
    }
    // ANCHOR_END: write_blob

    // ANCHOR: write_blob_2
    fn write_verified(
        &self,
        temp: &Path,
        digest: &str,
        size: u64,
        reader: impl Read,
        on_bytes: &mut dyn FnMut(u64),
    ) -> Result<(), StoreError> {
        let mut file = File::create(temp).map_err(|e| self.io("creating a temporary blob", e))?;
        // One byte more than announced is enough to know it is too large.
        let mut hashing = HashingReader::new(reader.take(size + 1));
        let mut buffer = vec![0u8; 256 * 1024];
        loop {
            let n = hashing
                .read(&mut buffer)
                .map_err(|e| self.io(&format!("downloading blob {digest} (truncated?)"), e))?;
            if n == 0 {
                break;
            }
            file.write_all(&buffer[..n]).map_err(|e| self.io("writing a blob", e))?;
            on_bytes(hashing.count().min(size));
        }
        let (actual, count) = hashing.finish().map_err(|e| self.io("reading a blob", e))?;
        check_received(digest, size, actual, count)?;
        file.sync_all().map_err(|e| self.io("fsync of a blob", e))?;
        let target = self.blob_path(digest);
        explain::step(Step {
            what: &format!("blob {digest} verified (size and sha256): move it into place"),
            syscall: "rename(tmp/<pid>.<start time>-<n>-<hex>, blobs/sha256/<hex>)",
            shell: &format!("sha256sum {0} && mv {0} {1}", temp.display(), target.display()),
            book: BOOK,
        });
        fs::rename(temp, &target).map_err(|e| self.io("renaming a blob into place", e))?;
        sync_dir(target.parent().unwrap_or(&self.root));
        Ok(())
    }
    // ANCHOR_END: write_blob_2
}

// ANCHOR: check_received
/// What arrived is the blob asked for: exactly `size` bytes whose sha256
/// is `digest` (a registry, or a proxy, may send less, more, or other).
fn check_received(digest: &str, size: u64, actual: String, count: u64) -> Result<(), StoreError> {
    let digest = digest.to_string();
    if count > size {
        return Err(StoreError::TooLarge { digest, expected: size });
    }
    if count < size {
        return Err(StoreError::Truncated { digest, expected: size, actual: count });
    }
    if actual != digest {
        return Err(StoreError::DigestMismatch { digest, actual });
    }
    Ok(())
}
// ANCHOR_END: check_received

impl Store {
    /// Store bytes we already hold (a manifest), under their own digest.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<(String, bool), StoreError> {
        let digest = sha256_of(bytes);
        let added = self.write_blob(&digest, bytes.len() as u64, bytes, &mut |_| {})?;
        Ok((digest, added))
    }

    // ANCHOR: put_file
    /// Move a file this process wrote in `tmp/` (a layer it just made) into
    /// `blobs/`, under the digest of its bytes — hashed here, from the disk,
    /// so a blob's name is always what its bytes are. Returns the digest and
    /// whether it is new (the temporary file is gone either way).
    pub fn put_file(&self, temp: &Path) -> Result<(String, bool), StoreError> {
        let result = self.adopt(temp);
        if !matches!(result, Ok((_, true))) {
            let _ = fs::remove_file(temp);
        }
        result
    }

    fn adopt(&self, temp: &Path) -> Result<(String, bool), StoreError> {
        let file = File::open(temp).map_err(|e| self.io("opening a new blob", e))?;
        let (digest, _) =
            HashingReader::new(&file).finish().map_err(|e| self.io("hashing a new blob", e))?;
        if self.has_blob(&digest) {
            return Ok((digest, false));
        }
        file.sync_all().map_err(|e| self.io("fsync of a blob", e))?;
        let target = self.blob_path(&digest);
        explain::step(Step {
            what: &format!("new blob {digest}: named by its sha256, moved into place"),
            syscall: "rename(tmp/<pid>-<n>-<name>, blobs/sha256/<hex>)",
            shell: &format!("mv {} {}", temp.display(), target.display()),
            book: BOOK,
        });
        fs::rename(temp, &target).map_err(|e| self.io("renaming a blob into place", e))?;
        sync_dir(target.parent().unwrap_or(&self.root));
        Ok((digest, true))
    }
    // ANCHOR_END: put_file

    /// Read a small blob (manifest, config) and check it again.
    pub fn read_blob(&self, digest: &str) -> Result<Vec<u8>, StoreError> {
        let bytes = fs::read(self.blob_path(digest))
            .map_err(|e| self.io(&format!("reading blob {digest}"), e))?;
        let actual = sha256_of(&bytes);
        if actual != digest {
            return Err(StoreError::DigestMismatch { digest: digest.to_string(), actual });
        }
        Ok(bytes)
    }

    // ANCHOR: unpack_layer
    /// Unpack the layer blob `blob` into `layers/<diffid>/`, checking that
    /// the uncompressed tar hashes to `diff_id`. It is unpacked in `tmp/`
    /// and renamed, so a layer directory is always complete. Returns the
    /// uncompressed size.
    pub fn unpack_layer(&self, blob: &str, diff_id: &str) -> Result<u64, StoreError> {
        let file = File::open(self.blob_path(blob))
            .map_err(|e| self.io(&format!("opening layer blob {blob}"), e))?;
        self.unpack_layer_from(file, diff_id)
    }

    /// Same as [`Store::unpack_layer`], from any stream of the (maybe compressed) tar.
    pub fn unpack_layer_from(&self, reader: impl Read, diff_id: &str) -> Result<u64, StoreError> {
        let temp = self.temp_path(hex_part(diff_id));
        fs::create_dir(&temp).map_err(|e| self.io("creating a temporary layer directory", e))?;
        let result = self.unpack_verified(reader, diff_id, &temp);
        match result {
            Ok(size) => match self.move_layer_into_place(&temp, diff_id) {
                Ok(()) => Ok(size),
                Err(e) => {
                    let _ = fs::remove_dir_all(&temp);
                    Err(e)
                }
            },
            Err(e) => {
                let _ = fs::remove_dir_all(&temp);
                Err(e)
            }
        }
    }
    // ANCHOR_END: unpack_layer

    // ANCHOR: unpack_layer_2
    fn unpack_verified(
        &self,
        reader: impl Read,
        diff_id: &str,
        temp: &Path,
    ) -> Result<u64, StoreError> {
        let mut hashing =
            HashingReader::new(decompress(reader).map_err(|e| self.io("reading a layer", e))?);
        let target = self.layer_path(diff_id);
        explain::step(Step {
            what: &format!("unpack layer {} (whiteouts become overlayfs whiteouts)", crate::digest::short(diff_id)),
            syscall: "openat2(layer, parent, RESOLVE_IN_ROOT) + mkdirat/openat/symlinkat/mknodat/linkat per entry",
            shell: &format!("tar -xpf LAYER.tar --xattrs -C {}", target.display()),
            book: "ch04-image-pull.md#safe-unpacking",
        });
        unpack::unpack(&mut hashing, temp)
            .map_err(|error| StoreError::Unpack { diff_id: diff_id.to_string(), error })?;
        let (actual, size) =
            hashing.finish().map_err(|e| self.io("reading the end of a layer", e))?;
        if actual != diff_id {
            return Err(StoreError::DiffIdMismatch { diff_id: diff_id.to_string(), actual });
        }
        Ok(size)
    }

    fn move_layer_into_place(&self, temp: &Path, diff_id: &str) -> Result<(), StoreError> {
        let target = self.layer_path(diff_id);
        match fs::rename(temp, &target) {
            Ok(()) => {
                sync_dir(&self.root.join("layers"));
                Ok(())
            }
            // Another pull unpacked the same layer meanwhile: keep theirs.
            Err(_) if self.has_layer(diff_id) => {
                let _ = fs::remove_dir_all(temp);
                Ok(())
            }
            Err(e) => Err(self.io("renaming a layer into place", e)),
        }
    }
    // ANCHOR_END: unpack_layer_2

    /// Take the metadata lock (`flock` on `images/.lock`): concurrent pulls
    /// and removals update `repositories.json` one at a time.
    pub fn lock(&self) -> Result<StoreLock, StoreError> {
        let path = self.root.join("images/.lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| self.io("opening the store lock", e))?;
        let lock = Flock::lock(file, FlockArg::LockExclusive)
            .map_err(|(_, errno)| self.io("locking the store", errno.into()))?;
        Ok(StoreLock(lock))
    }

    // ANCHOR: save_image
    /// Record an image and point `tag` (a full reference) at it. Returns the
    /// image id the tag pointed to before, if any. Call with the lock held.
    pub fn save_image(
        &self,
        _lock: &StoreLock,
        record: &ImageRecord,
        tag: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let mut record = record.clone();
        if let Ok(old) = self.image(&record.id) {
            for digest in old.repo_digests {
                if !record.repo_digests.contains(&digest) {
                    record.repo_digests.push(digest);
                }
            }
            record.parent = record.parent.or(old.parent);
        }
        let json =
            serde_json::to_vec_pretty(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_file_atomically(&self.image_path(&record.id), &json)?;
        let mut previous = None;
        if let Some(tag) = tag {
            let mut repositories = self.repositories()?;
            previous = repositories.tags.insert(tag.to_string(), record.id.clone());
            self.save_repositories(&repositories)?;
        }
        Ok(previous)
    }
    // ANCHOR_END: save_image

    pub fn image(&self, id: &str) -> Result<ImageRecord, StoreError> {
        let path = self.image_path(id);
        let bytes = fs::read(&path).map_err(|e| self.io(&format!("reading image {id}"), e))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display())))
    }

    /// Every image record, in no particular order.
    pub fn images(&self) -> Result<Vec<ImageRecord>, StoreError> {
        let entries =
            fs::read_dir(self.root.join("images")).map_err(|e| self.io("listing images", e))?;
        let mut images = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(hex) = name.strip_suffix(".json").filter(|h| h.len() == 64) {
                images.push(self.image(&format!("sha256:{hex}"))?);
            }
        }
        Ok(images)
    }

    /// Tags: full reference -> image id.
    pub fn tags(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self.repositories()?.tags)
    }

    // ANCHOR: resolve
    /// What `text` names: a tag (`busybox`, `127.0.0.1:5000/a:1`) or an
    /// image id or unique id prefix (`sha256:3f57…`, `3f57d9`). Returns the
    /// image id and, for a tag, the full tag.
    pub fn resolve(&self, text: &str) -> Result<Option<(String, Option<String>)>, StoreError> {
        let tags = self.tags()?;
        if let Ok(reference) = crate::Reference::parse(text) {
            if let Some(id) = tags.get(&reference.to_string()) {
                return Ok(Some((id.clone(), Some(reference.to_string()))));
            }
        }
        let prefix = text.strip_prefix("sha256:").unwrap_or(text);
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let matches: Vec<String> = self
            .images()?
            .into_iter()
            .map(|i| i.id)
            .filter(|id| hex_part(id).starts_with(prefix))
            .collect();
        match matches.as_slice() {
            [id] => Ok(Some((id.clone(), None))),
            [] => Ok(None),
            _ => Err(StoreError::Corrupt(format!(
                "{text:?} matches {} images: give more of the id",
                matches.len()
            ))),
        }
    }
    // ANCHOR_END: resolve

    /// Point `tag` at `id` (for `tag`). Call with the lock held.
    pub fn set_tag(&self, _lock: &StoreLock, tag: &str, id: &str) -> Result<(), StoreError> {
        let mut repositories = self.repositories()?;
        repositories.tags.insert(tag.to_string(), id.to_string());
        self.save_repositories(&repositories)
    }

    /// Remove one tag; returns the image id it pointed to.
    pub fn remove_tag(&self, _lock: &StoreLock, tag: &str) -> Result<Option<String>, StoreError> {
        let mut repositories = self.repositories()?;
        let id = repositories.tags.remove(tag);
        self.save_repositories(&repositories)?;
        Ok(id)
    }

    // ANCHOR: remove_image
    /// Remove an image record and its tags, then the blobs and layers that
    /// no other image uses. Call with the lock held.
    pub fn remove_image(&self, lock: &StoreLock, id: &str) -> Result<Added, StoreError> {
        let record = self.image(id)?;
        let mut repositories = self.repositories()?;
        repositories.tags.retain(|_, v| v != id);
        self.save_repositories(&repositories)?;
        fs::remove_file(self.image_path(id)).map_err(|e| self.io("removing an image record", e))?;
        let mut candidates =
            Added { blobs: vec![record.manifest.clone(), record.id.clone()], layers: Vec::new() };
        for layer in &record.layers {
            candidates.blobs.push(layer.blob.clone());
            candidates.layers.push(layer.diff_id.clone());
        }
        self.remove_unreferenced(lock, &candidates)?;
        Ok(candidates)
    }
    // ANCHOR_END: remove_image

    // ANCHOR: remove_image_2
    /// Delete those of `candidates` that no image record references: the
    /// rollback of a failed pull, and the end of `rmi`.
    pub fn remove_unreferenced(
        &self,
        _lock: &StoreLock,
        candidates: &Added,
    ) -> Result<(), StoreError> {
        let mut used: HashSet<String> = HashSet::new();
        for image in self.images()? {
            used.insert(image.manifest.clone());
            used.insert(image.id.clone());
            for layer in image.layers {
                used.insert(layer.blob);
                used.insert(format!("layer:{}", layer.diff_id));
            }
        }
        for blob in candidates.blobs.iter().filter(|b| !used.contains(*b)) {
            let _ = fs::remove_file(self.blob_path(blob));
        }
        for diff_id in candidates.layers.iter().filter(|d| !used.contains(&format!("layer:{d}"))) {
            let _ = fs::remove_dir_all(self.layer_path(diff_id));
        }
        Ok(())
    }
    // ANCHOR_END: remove_image_2

    fn image_path(&self, id: &str) -> PathBuf {
        self.root.join("images").join(format!("{}.json", hex_part(id)))
    }

    fn repositories(&self) -> Result<Repositories, StoreError> {
        let path = self.root.join("images/repositories.json");
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| StoreError::Corrupt(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Repositories::default()),
            Err(e) => Err(self.io("reading repositories.json", e)),
        }
    }

    fn save_repositories(&self, repositories: &Repositories) -> Result<(), StoreError> {
        let json = serde_json::to_vec_pretty(repositories)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.write_file_atomically(&self.root.join("images/repositories.json"), &json)
    }

    fn write_file_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let temp = self.temp_path("meta");
        let write = || -> io::Result<()> {
            let mut file = File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, path)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&temp);
            self.io(&format!("writing {}", path.display()), e)
        })
    }

    // ANCHOR: temporaries
    /// `tmp/<pid>.<start time>-<n>-<name>`: unique per process, so
    /// concurrent pulls of the same blob never write the same file; and
    /// naming its owner, so that a later command can tell a dead one's.
    pub fn temp_path(&self, name: &str) -> PathBuf {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id() as i32;
        let started = ch01_namespaces::process::start_time(pid).unwrap_or(0);
        self.root.join("tmp").join(format!("{pid}.{started}-{n}-{name}"))
    }

    /// A process killed mid-pull (SIGKILL, a crash, a reboot) leaves its
    /// `tmp/<pid>.<start time>-…` behind: remove those whose owner is gone.
    /// The start time matters: pids are reused, and a new process with the
    /// dead one's pid must not keep its leftovers alive. Nothing in
    /// `blobs/` or `layers/` is ever partial, so nothing else needs this.
    fn remove_stale_temporaries(&self) {
        let Ok(entries) = fs::read_dir(self.root.join("tmp")) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(owner) = owner_of(&name) else { continue };
            if !owner.is_alive() {
                let path = entry.path();
                let _ =
                    if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            }
        }
    }
    // ANCHOR_END: temporaries

    fn io(&self, what: &str, source: io::Error) -> StoreError {
        StoreError::Io {
            what: what.to_string(),
            root: self.root.display().to_string(),
            error: source,
        }
    }
}

/// Who made a temporary: `<pid>.<start time>`, or a bare `<pid>` from
/// before the start time was recorded. `None` for a name not ours.
#[derive(Debug, PartialEq, Eq)]
struct Owner {
    pid: i32,
    started: Option<u64>,
}

impl Owner {
    fn is_alive(&self) -> bool {
        match self.started {
            Some(started) => ch01_namespaces::process::is_alive(self.pid, started),
            None => Path::new("/proc").join(self.pid.to_string()).exists(),
        }
    }
}

fn owner_of(name: &str) -> Option<Owner> {
    let owner = name.split('-').next()?;
    let (pid, started) = match owner.split_once('.') {
        Some((pid, started)) => (pid, Some(started.parse().ok()?)),
        None => (owner, None),
    };
    Some(Owner { pid: pid.parse().ok()?, started })
}

// ANCHOR: decompress
/// Layers may be gzip, zstd or plain tar: look at the magic bytes, like
/// Docker does, rather than trusting the media type alone.
pub fn decompress<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut reader = io::BufReader::with_capacity(256 * 1024, reader);
    let magic = io::BufRead::fill_buf(&mut reader)?;
    Ok(if magic.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(reader))
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(
            ruzstd::decoding::StreamingDecoder::new(reader)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?,
        )
    } else {
        Box::new(reader)
    })
}
// ANCHOR_END: decompress

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::Builder::new().prefix("mdtest-store").tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    fn tmp_is_empty(store: &Store) -> bool {
        fs::read_dir(store.root().join("tmp")).unwrap().next().is_none()
    }

    #[test]
    fn a_verified_blob_lands_under_its_digest() {
        let (_dir, store) = store();
        let data = b"hello blob";
        let digest = sha256_of(data);
        let mut seen = 0;
        assert!(store
            .write_blob(&digest, data.len() as u64, &data[..], &mut |n| seen = n)
            .unwrap());
        assert_eq!(seen, data.len() as u64);
        assert_eq!(fs::read(store.blob_path(&digest)).unwrap(), data);
        assert!(
            !store.write_blob(&digest, data.len() as u64, &data[..], &mut |_| {}).unwrap(),
            "present blobs are not written again"
        );
        assert!(tmp_is_empty(&store));
    }

    #[test]
    fn wrong_digest_truncated_or_oversized_blobs_leave_nothing() {
        let (_dir, store) = store();
        let data = b"hello blob";
        let digest = sha256_of(b"something else!");
        let err = store.write_blob(&digest, data.len() as u64, &data[..], &mut |_| {}).unwrap_err();
        assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
        let digest = sha256_of(data);
        let err = store.write_blob(&digest, 100, &data[..], &mut |_| {}).unwrap_err();
        assert!(matches!(err, StoreError::Truncated { expected: 100, actual: 10, .. }), "{err}");
        let err = store.write_blob(&digest, 4, &data[..], &mut |_| {}).unwrap_err();
        assert!(matches!(err, StoreError::TooLarge { .. }), "{err}");
        assert!(!store.has_blob(&digest));
        assert!(tmp_is_empty(&store));
    }

    #[test]
    fn put_file_names_a_blob_by_its_bytes_and_leaves_no_temporary() {
        let (_dir, store) = store();
        let temp = store.temp_path("layer");
        fs::write(&temp, b"made here").unwrap();
        let (digest, added) = store.put_file(&temp).unwrap();
        assert_eq!(digest, sha256_of(b"made here"));
        assert!(added && store.has_blob(&digest) && !temp.exists());
        let again = store.temp_path("layer");
        fs::write(&again, b"made here").unwrap();
        assert_eq!(store.put_file(&again).unwrap(), (digest, false));
        assert!(!again.exists() && tmp_is_empty(&store));
        assert!(store.put_file(&store.temp_path("missing")).is_err());
    }

    #[test]
    fn stale_temporaries_of_dead_processes_are_removed_on_open() {
        let (dir, store) = store();
        let me = std::process::id();
        let stale = store.root().join("tmp/999999999-0-abc");
        // Our pid, but another start time: a dead process whose pid we got.
        let reused = store.root().join(format!("tmp/{me}.1-0-abc"));
        let foreign = store.root().join("tmp/not-ours");
        for path in [&stale, &reused, &foreign] {
            fs::create_dir_all(path.join("usr/bin")).unwrap();
        }
        let mine = store.temp_path("x");
        fs::write(&mine, "in progress").unwrap();
        Store::open(dir.path()).unwrap();
        assert!(!stale.exists() && !reused.exists(), "a dead process's leftovers go");
        assert!(mine.exists(), "a live process's download is left alone");
        assert!(foreign.exists(), "a name we did not make is not ours to remove");
    }

    #[test]
    fn a_temporary_names_its_owner() {
        assert_eq!(owner_of("42.7-0-x"), Some(Owner { pid: 42, started: Some(7) }));
        assert_eq!(owner_of("42-0-x"), Some(Owner { pid: 42, started: None }));
        assert_eq!(owner_of("meta"), None);
        let (_dir, store) = store();
        let name = store.temp_path("x").file_name().unwrap().to_string_lossy().into_owned();
        assert!(owner_of(&name).unwrap().is_alive(), "{name}");
    }

    #[test]
    fn layers_are_checked_against_their_diff_id() {
        let (_dir, store) = store();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(2);
        header.set_mode(0o644);
        builder.append_data(&mut header, "hello", &b"hi"[..]).unwrap();
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let gz = gz.finish().unwrap();
        let wrong = sha256_of(b"not this");
        let err = store.unpack_layer_from(&gz[..], &wrong).unwrap_err();
        assert!(matches!(err, StoreError::DiffIdMismatch { .. }), "{err}");
        assert!(!store.has_layer(&wrong));
        assert!(tmp_is_empty(&store));
        let diff_id = sha256_of(&tar);
        assert_eq!(store.unpack_layer_from(&gz[..], &diff_id).unwrap(), tar.len() as u64);
        assert_eq!(fs::read(store.layer_path(&diff_id).join("hello")).unwrap(), b"hi");
    }

    #[test]
    fn tags_and_removal_keep_shared_content() {
        let (_dir, store) = store();
        let shared = LayerRecord {
            blob: sha256_of(b"blob"),
            media_type: String::new(),
            diff_id: sha256_of(b"diff"),
            size: 1,
        };
        let (config_a, _) = store.put_bytes(b"config a").unwrap();
        let (config_b, _) = store.put_bytes(b"config b").unwrap();
        store.write_blob(&shared.blob, 4, &b"blob"[..], &mut |_| {}).unwrap();
        fs::create_dir(store.layer_path(&shared.diff_id)).unwrap();
        let a = ImageRecord {
            id: config_a.clone(),
            manifest: config_a.clone(),
            layers: vec![shared.clone()],
            repo_digests: vec![],
            created: None,
            size: 1,
            parent: None,
        };
        let b = ImageRecord { id: config_b.clone(), manifest: config_b.clone(), ..a.clone() };
        let lock = store.lock().unwrap();
        assert_eq!(store.save_image(&lock, &a, Some("example.com/a:1")).unwrap(), None);
        store.save_image(&lock, &b, Some("example.com/b:1")).unwrap();
        assert_eq!(store.tags().unwrap()["example.com/a:1"], config_a);
        store.remove_image(&lock, &config_a).unwrap();
        assert!(!store.has_blob(&config_a));
        assert!(
            store.has_blob(&shared.blob) && store.has_layer(&shared.diff_id),
            "b still uses the shared layer"
        );
        store.remove_image(&lock, &config_b).unwrap();
        assert!(!store.has_blob(&shared.blob) && !store.has_layer(&shared.diff_id));
        assert!(store.tags().unwrap().is_empty());
    }

    /// The error and its causes, as the CLI prints them (`{:#}`: ": " between).
    fn whole_chain(error: &dyn std::error::Error) -> String {
        let mut text = error.to_string();
        let mut cause = error.source();
        while let Some(next) = cause {
            text.push_str(&format!(": {next}"));
            cause = next.source();
        }
        text
    }

    #[test]
    fn a_refused_layer_says_its_reason_once() {
        let escape = UnpackError::Escape { path: "../x".into() };
        let refused = StoreError::Unpack { diff_id: "sha256:ab".into(), error: escape };
        let text = whole_chain(&refused);
        assert_eq!(text.matches("points outside the layer").count(), 1, "{text}");
        let io = StoreError::Io {
            what: "renaming".into(),
            root: "/r".into(),
            error: io::Error::from_raw_os_error(libc::ENOSPC),
        };
        let text = whole_chain(&io);
        assert_eq!(text.matches("No space left on device").count(), 1, "{text}");
    }
}
