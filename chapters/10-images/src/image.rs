//! A new image in chapter 4's store: a layer (or none), a config, a
//! manifest, a record, a tag — each blob verified and renamed into place,
//! and all of it taken back if any step fails.
//!
//! ```text
//! layer tar ──sha256──▶ DiffID          (config.rootfs.diff_ids)
//!     └─gzip─▶ blob ──sha256──▶ digest  (manifest.layers[].digest)
//!               └─unpack─▶ layers/<DiffID>/   (chapter 4, once)
//! config JSON ──sha256──▶ image id
//! manifest JSON ──sha256──▶ what a registry calls the image
//! ```
//!
//! `commit` uses this once; a Dockerfile builder once per step.

use std::fs::File;
use std::io::{self, BufWriter, Write};

use anyhow::Context;
use ch04_image_pull::digest::short;
use ch04_image_pull::oci::{self, Descriptor, Manifest};
use ch04_image_pull::store::{Added, ImageRecord, LayerRecord, Store};
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

use crate::config::{History, ImageConfig};

// ANCHOR: stored_layer
/// A layer now in the store: its gzip blob and its unpacked directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayer {
    /// sha256 of the gzip blob.
    pub blob: String,
    /// sha256 of the uncompressed tar.
    pub diff_id: String,
    /// The uncompressed tar's size.
    pub size: u64,
}

// ANCHOR_END: stored_layer

impl StoredLayer {
    fn record(self) -> LayerRecord {
        let media_type = oci::DOCKER_LAYER_TAR_GZIP.to_string();
        LayerRecord { blob: self.blob, media_type, diff_id: self.diff_id, size: self.size }
    }
}

// ANCHOR: store_layer
/// Write a layer with `write` (which returns how many entries it wrote),
/// gzip it, hash both forms on the way, store the blob and unpack it once.
/// `Ok(None)` for a layer with no entries: an image step without a layer.
pub fn store_layer(
    store: &Store,
    added: &mut Added,
    write: impl FnOnce(&mut dyn Write) -> io::Result<u64>,
) -> anyhow::Result<Option<StoredLayer>> {
    let temp = store.temp_path("layer.tar.gz");
    let written = write_gzip_hashed(&temp, write);
    let (diff_id, size, entries) = match written {
        Ok(done) => done,
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            return Err(e).context("writing the layer");
        }
    };
    if entries == 0 {
        let _ = std::fs::remove_file(&temp);
        return Ok(None);
    }
    let (blob, new_blob) = store.put_file(&temp)?;
    if new_blob {
        added.blobs.push(blob.clone());
    }
    if !store.has_layer(&diff_id) {
        store.unpack_layer(&blob, &diff_id)?;
        added.layers.push(diff_id.clone());
    }
    Ok(Some(StoredLayer { blob, diff_id, size }))
}
// ANCHOR_END: store_layer

// ANCHOR: gzip_hashed
/// The tar goes through a hasher (its DiffID) into gzip into the file.
/// gzip's header carries no name and no time, so the same tar gives the
/// same blob: level 6, as Go's `compress/gzip` default that Docker uses.
fn write_gzip_hashed(
    path: &std::path::Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<u64>,
) -> io::Result<(String, u64, u64)> {
    let file = BufWriter::with_capacity(256 * 1024, File::create(path)?);
    let gzip = flate2::GzBuilder::new().mtime(0).write(file, flate2::Compression::new(6));
    let mut tee = HashingWriter { inner: gzip, hasher: Sha256::new(), count: 0 };
    let entries = write(&mut tee)?;
    let HashingWriter { inner, hasher, count } = tee;
    let mut file = inner.finish()?;
    file.flush()?;
    let diff_id = format!("sha256:{}", ch04_image_pull::digest::to_hex(&hasher.finalize()));
    Ok((diff_id, count, entries))
}
// ANCHOR_END: gzip_hashed

/// Counts and hashes what is written through it.
struct HashingWriter<W: Write> {
    inner: GzEncoder<W>,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An image to make children of: its record and its config.
#[derive(Debug, Clone)]
pub struct Parent {
    pub record: ImageRecord,
    pub config: ImageConfig,
}

impl Parent {
    pub fn load(store: &Store, id: &str) -> anyhow::Result<Parent> {
        let record = store.image(id).with_context(|| {
            format!("image {} is no longer in the store (was it removed?)", short(id))
        })?;
        let config = ImageConfig::parse(&store.read_blob(id)?)
            .with_context(|| format!("the config of image {} is not valid", short(id)))?;
        Ok(Parent { record, config })
    }
}

// ANCHOR: new_image
/// A new image: `config` (the parent's, changed) plus `layer` and the
/// `history` line that made it. Writes config and manifest, records the
/// image with its parent, and points `tag` (a full reference) at it.
pub fn record_image(
    store: &Store,
    added: &mut Added,
    parent: Option<&Parent>,
    mut config: ImageConfig,
    mut history: History,
    layer: Option<StoredLayer>,
    tag: Option<&str>,
) -> anyhow::Result<ImageRecord> {
    let mut layers: Vec<LayerRecord> = parent.map(|p| p.record.layers.clone()).unwrap_or_default();
    history.empty_layer = layer.is_none();
    if let Some(new) = layer {
        config.rootfs.diff_ids.push(new.diff_id.clone());
        layers.push(new.record());
    }
    config.rootfs.kind = "layers".into();
    config.history.push(history);
    let config_bytes = config.to_bytes();
    let id = put_blob(store, added, &config_bytes)?;
    narrate_config(&id);
    let (manifest, layers) = local_manifest(store, &id, config_bytes.len() as u64, layers)?;
    let record = ImageRecord {
        id,
        manifest: put_blob(store, added, &manifest)?,
        size: layers.iter().map(|l| l.size).sum(),
        layers,
        repo_digests: Vec::new(),
        created: config.created.clone(),
        parent: parent.map(|p| p.record.id.clone()),
    };
    store.save_image(&store.lock()?, &record, tag)?;
    Ok(record)
}
// ANCHOR_END: new_image

/// Store `bytes` under their digest, remembering it for a rollback.
fn put_blob(store: &Store, added: &mut Added, bytes: &[u8]) -> anyhow::Result<String> {
    let (digest, new) = store.put_bytes(bytes)?;
    if new {
        added.blobs.push(digest.clone());
    }
    Ok(digest)
}

fn narrate_config(id: &str) {
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: &format!("the new config is blob {id}: its sha256 is the image id"),
        syscall: "write(tmp) + fsync + rename(tmp, blobs/sha256/<hex>)",
        shell: "sha256sum config.json",
        book: "ch10-images.md#commit-a-config-a-layer-a-line-of-history",
    });
}

/// Run `make` and, if it fails, remove whatever it added that no image uses.
pub fn or_roll_back<T>(
    store: &Store,
    make: impl FnOnce(&mut Added) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let mut added = Added::default();
    let result = make(&mut added);
    if result.is_err() {
        if let Ok(lock) = store.lock() {
            let _ = store.remove_unreferenced(&lock, &added);
        }
    }
    result
}

// ANCHOR: manifest
/// A layer blob as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    pub digest: String,
    pub size: u64,
    pub compression: Compression,
}

/// The manifest of an image: Docker's schema 2 when every layer is gzip
/// (what `docker push` sends), else OCI (a Docker manifest has no types for
/// plain or zstd tars). Returns its bytes and each layer's media type.
pub fn build_manifest(
    config_digest: &str,
    config_size: u64,
    layers: &[LayerBlob],
) -> (Vec<u8>, Vec<&'static str>) {
    let docker = layers.iter().all(|l| l.compression == Compression::Gzip);
    let types: Vec<&'static str> =
        layers.iter().map(|l| l.compression.media_type(docker)).collect();
    let (manifest_type, config_type) = match docker {
        true => (oci::DOCKER_MANIFEST, oci::DOCKER_CONFIG),
        false => (oci::OCI_MANIFEST, oci::OCI_CONFIG),
    };
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(manifest_type.into()),
        config: descriptor(config_type, config_digest, config_size),
        layers: layers.iter().zip(&types).map(|(l, t)| descriptor(t, &l.digest, l.size)).collect(),
    };
    (serde_json::to_vec(&manifest).expect("a manifest always serializes"), types)
}
// ANCHOR_END: manifest

/// The manifest of an image in the store; the records get its media types.
pub fn local_manifest(
    store: &Store,
    config_digest: &str,
    config_size: u64,
    mut layers: Vec<LayerRecord>,
) -> anyhow::Result<(Vec<u8>, Vec<LayerRecord>)> {
    let mut blobs = Vec::new();
    for layer in &layers {
        let size = std::fs::metadata(store.blob_path(&layer.blob))?.len();
        let compression = compression_of(store, &layer.blob)?;
        blobs.push(LayerBlob { digest: layer.blob.clone(), size, compression });
    }
    let (bytes, types) = build_manifest(config_digest, config_size, &blobs);
    for (layer, media_type) in layers.iter_mut().zip(types) {
        layer.media_type = media_type.to_string();
    }
    Ok((bytes, layers))
}

pub fn descriptor(media_type: &str, digest: &str, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: digest.to_string(),
        size,
        platform: None,
        urls: None,
        annotations: Default::default(),
    }
}

/// How a layer blob is compressed, from its first bytes (as chapter 4
/// decides when it unpacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

impl Compression {
    pub fn media_type(self, docker: bool) -> &'static str {
        match (self, docker) {
            (Compression::Gzip, true) => oci::DOCKER_LAYER_TAR_GZIP,
            (Compression::Gzip, false) => "application/vnd.oci.image.layer.v1.tar+gzip",
            (Compression::Zstd, _) => "application/vnd.oci.image.layer.v1.tar+zstd",
            (Compression::None, _) => oci::OCI_LAYER_TAR,
        }
    }
}

pub fn compression_of(store: &Store, blob: &str) -> io::Result<Compression> {
    let mut magic = [0u8; 4];
    let mut file = File::open(store.blob_path(blob))?;
    let n = io::Read::read(&mut file, &mut magic)?;
    Ok(match &magic[..n] {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    })
}
