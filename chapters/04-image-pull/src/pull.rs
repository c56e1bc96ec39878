//! The whole pull: manifest (maybe via an index), config, layers — each blob
//! verified, each layer unpacked once — then the image is recorded.

use std::io::Read;

use crate::digest::{self, short};
use crate::oci::{self, Descriptor, ImageConfig, Index, Manifest};
use crate::platform::{self, Platform};
use crate::reference::Reference;
use crate::registry::{FetchedManifest, Registry, RegistryError, RegistryOptions};
use crate::store::{Added, ImageRecord, LayerRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{what} is not a valid image: {why}")]
    NotAnImage { what: String, why: String },
    #[error("no image for platform {wanted} in {what} (it has: {offered})")]
    NoPlatform { what: String, wanted: String, offered: String },
}

// ANCHOR: progress
/// What happens to one layer, for the progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerStatus {
    Waiting,
    AlreadyExists,
    Downloading { done: u64, total: u64 },
    DownloadComplete,
    Extracting,
    PullComplete,
}

/// One progress event: `layer` is the 12-character short id Docker shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub layer: String,
    pub status: LayerStatus,
}
// ANCHOR_END: progress

// ANCHOR: source
/// Where image content comes from: a registry, or an OCI layout on disk
/// (`load`). The store verifies everything either one hands over.
pub trait ImageSource {
    /// A manifest or index, by digest (and, for registries, by tag).
    fn manifest(&mut self, tag_or_digest: &str) -> Result<FetchedManifest, PullError>;
    /// A blob's bytes, to be verified while read.
    fn blob(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, PullError>;
}

impl ImageSource for Registry {
    fn manifest(&mut self, tag_or_digest: &str) -> Result<FetchedManifest, PullError> {
        Ok(Registry::manifest(self, tag_or_digest)?)
    }
    fn blob(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, PullError> {
        Ok(Box::new(Registry::blob(self, &descriptor.digest)?))
    }
}
// ANCHOR_END: source

/// The result of a pull.
#[derive(Debug, Clone)]
pub struct Pulled {
    pub image: ImageRecord,
    /// The digest of what the tag points to (the index, for multi-platform images).
    pub digest: String,
    /// False when everything was already here and the tag did not move.
    pub changed: bool,
}

// ANCHOR: pull
/// `docker pull`: resolve `reference` at its registry, fetch what is
/// missing, record the image and tag it. On error, what this pull added
/// and no image uses is removed again.
pub fn pull(
    store: &Store,
    reference: &Reference,
    options: &RegistryOptions,
    platform: &Platform,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Pulled, PullError> {
    let mut registry = Registry::new(reference, options);
    let top = registry.manifest(reference.tag_or_digest())?;
    let mut added = Added::default();
    let result = fetch_image(
        store,
        &mut registry,
        top.clone(),
        &reference.familiar(),
        platform,
        &mut added,
        progress,
    );
    let lock = store.lock()?;
    match result {
        Ok(mut image) => {
            image.repo_digests = vec![format!("{}@{}", reference.name(), top.digest)];
            // A digest reference (`name@sha256:…`) records no tag.
            let tag = reference.tag.as_ref().map(|_| reference.to_string());
            let previous = store.save_image(&lock, &image, tag.as_deref())?;
            let changed = !added.blobs.is_empty()
                || !added.layers.is_empty()
                || previous.as_deref() != Some(&image.id);
            Ok(Pulled { image, digest: top.digest, changed })
        }
        Err(e) => {
            store.remove_unreferenced(&lock, &added)?;
            Err(e)
        }
    }
}
// ANCHOR_END: pull

// ANCHOR: fetch_image
/// Fetch one image from `source` into the store, starting from its top
/// manifest or index: pick the platform, then config, then each layer.
/// Returns the record (not saved yet).
pub fn fetch_image(
    store: &Store,
    source: &mut dyn ImageSource,
    top: FetchedManifest,
    what: &str,
    platform: &Platform,
    added: &mut Added,
    progress: &mut dyn FnMut(&Progress),
) -> Result<ImageRecord, PullError> {
    let not_an_image = |why: String| PullError::NotAnImage { what: what.to_string(), why };
    let fetched = for_platform(source, top, what, platform, &not_an_image)?;
    let manifest: Manifest = serde_json::from_slice(&fetched.bytes)
        .map_err(|e| not_an_image(format!("bad manifest: {e}")))?;
    let config = fetch_config(store, source, &manifest.config, added, &not_an_image)?;
    check_layers(&manifest, &config).map_err(not_an_image)?;
    let layers = fetch_layers(store, source, &manifest, &config, added, progress)?;
    let (manifest_digest, manifest_added) = store.put_bytes(&fetched.bytes)?;
    if manifest_added {
        added.blobs.push(manifest_digest.clone());
    }
    Ok(ImageRecord {
        id: manifest.config.digest.clone(),
        manifest: manifest_digest,
        size: layers.iter().map(|l| l.size).sum(),
        layers,
        repo_digests: Vec::new(),
        created: config.created,
        parent: None,
    })
}
// ANCHOR_END: fetch_image

// ANCHOR: for_platform
/// From the top manifest to an image manifest: an index points at one
/// manifest per platform (at most one level of nesting), each checked
/// against the digest it was asked by.
fn for_platform(
    source: &mut dyn ImageSource,
    top: FetchedManifest,
    what: &str,
    platform: &Platform,
    not_an_image: &dyn Fn(String) -> PullError,
) -> Result<FetchedManifest, PullError> {
    let mut fetched = top;
    for _ in 0..2 {
        if !oci::is_index(&fetched.media_type) {
            break;
        }
        let index: Index = serde_json::from_slice(&fetched.bytes)
            .map_err(|e| not_an_image(format!("bad index: {e}")))?;
        let chosen = platform::choose(&index, platform).ok_or_else(|| PullError::NoPlatform {
            what: what.to_string(),
            wanted: platform.to_string(),
            offered: platform::offered(&index).join(", "),
        })?;
        let digest = chosen.digest.clone();
        fetched = source.manifest(&digest)?;
        if fetched.digest != digest {
            return Err(not_an_image(format!("manifest {digest} has digest {}", fetched.digest)));
        }
    }
    if !oci::is_manifest(&fetched.media_type) {
        let why = format!("media type {} is not an image manifest", fetched.media_type);
        return Err(not_an_image(why));
    }
    Ok(fetched)
}
// ANCHOR_END: for_platform

/// One DiffID in the config for each layer of the manifest, and every
/// layer of a layer media type.
fn check_layers(manifest: &Manifest, config: &ImageConfig) -> Result<(), String> {
    let (layers, diff_ids) = (manifest.layers.len(), config.rootfs.diff_ids.len());
    if diff_ids != layers {
        return Err(format!("{layers} layers but {diff_ids} DiffIDs in the config"));
    }
    match manifest.layers.iter().find(|l| !oci::is_layer(&l.media_type)) {
        Some(bad) => {
            Err(format!("layer {} has media type {:?}, not a layer", bad.digest, bad.media_type))
        }
        None => Ok(()),
    }
}

// ANCHOR: fetch_layers
/// Every layer, in order, each with its DiffID: all shown waiting first,
/// as `docker pull` lists them, then fetched one by one.
fn fetch_layers(
    store: &Store,
    source: &mut dyn ImageSource,
    manifest: &Manifest,
    config: &ImageConfig,
    added: &mut Added,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<LayerRecord>, PullError> {
    for layer in &manifest.layers {
        let layer = short(&layer.digest).to_string();
        progress(&Progress { layer, status: LayerStatus::Waiting });
    }
    let mut layers = Vec::new();
    for (descriptor, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        let size = fetch_layer(store, source, descriptor, diff_id, added, progress)?;
        layers.push(LayerRecord {
            blob: descriptor.digest.clone(),
            media_type: descriptor.media_type.clone(),
            diff_id: diff_id.clone(),
            size,
        });
    }
    Ok(layers)
}
// ANCHOR_END: fetch_layers

fn fetch_config(
    store: &Store,
    source: &mut dyn ImageSource,
    descriptor: &Descriptor,
    added: &mut Added,
    not_an_image: &dyn Fn(String) -> PullError,
) -> Result<ImageConfig, PullError> {
    if !store.has_blob(&descriptor.digest) {
        let reader = source.blob(descriptor)?;
        if store.write_blob(&descriptor.digest, descriptor.size, reader, &mut |_| {})? {
            added.blobs.push(descriptor.digest.clone());
        }
    }
    let bytes = store.read_blob(&descriptor.digest)?;
    serde_json::from_slice(&bytes).map_err(|e| not_an_image(format!("bad image config: {e}")))
}

// ANCHOR: fetch_layer
/// One layer: nothing to do if its directory exists; otherwise download the
/// blob (if missing), verify it, unpack it and check its DiffID.
fn fetch_layer(
    store: &Store,
    source: &mut dyn ImageSource,
    descriptor: &Descriptor,
    diff_id: &str,
    added: &mut Added,
    progress: &mut dyn FnMut(&Progress),
) -> Result<u64, PullError> {
    let layer = short(&descriptor.digest).to_string();
    let mut report = |status| progress(&Progress { layer: layer.clone(), status });
    if store.has_layer(diff_id) && store.has_blob(&descriptor.digest) {
        report(LayerStatus::AlreadyExists);
        return Ok(layer_size(store, diff_id));
    }
    if !store.has_blob(&descriptor.digest) {
        let total = descriptor.size;
        report(LayerStatus::Downloading { done: 0, total });
        let reader = source.blob(descriptor)?;
        if store.write_blob(&descriptor.digest, total, reader, &mut |done| {
            report(LayerStatus::Downloading { done, total })
        })? {
            added.blobs.push(descriptor.digest.clone());
        }
        report(LayerStatus::DownloadComplete);
    }
    if store.has_layer(diff_id) {
        report(LayerStatus::PullComplete);
        return Ok(layer_size(store, diff_id));
    }
    report(LayerStatus::Extracting);
    let size = store.unpack_layer(&descriptor.digest, diff_id)?;
    added.layers.push(diff_id.to_string());
    report(LayerStatus::PullComplete);
    Ok(size)
}
// ANCHOR_END: fetch_layer

/// The size of an already unpacked layer: the sum of its files' sizes.
fn layer_size(store: &Store, diff_id: &str) -> u64 {
    fn walk(dir: &std::path::Path) -> u64 {
        let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
        entries
            .flatten()
            .map(|e| match e.file_type() {
                Ok(t) if t.is_dir() => walk(&e.path()),
                Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
                Err(_) => 0,
            })
            .sum()
    }
    walk(&store.layer_path(diff_id))
}

/// `sha256:…` short form used in messages.
pub fn short_id(id: &str) -> &str {
    digest::short(id)
}
