//! `load -i FILE`: images from a `docker save` tarball or an OCI image
//! layout (a directory, or a tar of one) — for workshops without a network.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::json;

use crate::digest::{hex_part, sha256_of, HashingReader};
use crate::oci::{self, Descriptor, Index};
use crate::platform::Platform;
use crate::pull::{fetch_image, ImageSource, Progress, PullError};
use crate::reference::Reference;
use crate::registry::FetchedManifest;
use crate::store::{Added, ImageRecord, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {why}")]
    Invalid { path: String, why: String },
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One loaded image and the names it was tagged with.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub image: ImageRecord,
    pub tags: Vec<String>,
}

/// `docker save`'s `manifest.json` entries.
#[derive(Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

// ANCHOR: load
/// Load every image in `path` (a tar file or a directory) into the store.
pub fn load(
    store: &Store,
    path: &Path,
    platform: &Platform,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<Loaded>, LoadError> {
    let invalid = |why: String| LoadError::Invalid { path: path.display().to_string(), why };
    let metadata = fs::metadata(path).map_err(|e| invalid(format!("cannot read it: {e}")))?;
    let extracted = if metadata.is_dir() { None } else { Some(extract(store, path)?) };
    let dir = extracted.as_ref().map_or(path, |t| t.0.as_path());
    let mut added = Added::default();
    let result = if dir.join("manifest.json").is_file() {
        load_docker_save(store, dir, platform, &mut added, progress)
    } else if dir.join("oci-layout").is_file() && dir.join("index.json").is_file() {
        load_oci_layout(store, dir, platform, &mut added, progress)
    } else {
        Err(invalid("neither a `docker save` tarball (manifest.json) nor an OCI layout (oci-layout + index.json)".into()))
    };
    let lock = store.lock()?;
    match result {
        Ok(loaded) => {
            for image in &loaded {
                store.save_image(&lock, &image.image, None)?;
                for tag in &image.tags {
                    store.set_tag(&lock, tag, &image.image.id)?;
                }
            }
            Ok(loaded)
        }
        Err(e) => {
            store.remove_unreferenced(&lock, &added)?;
            Err(e)
        }
    }
}
// ANCHOR_END: load

/// A tar file is unpacked (safely) into the store's tmp/ first; removed on drop.
struct Extracted(PathBuf);

impl Drop for Extracted {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn extract(store: &Store, path: &Path) -> Result<Extracted, LoadError> {
    let invalid = |why: String| LoadError::Invalid { path: path.display().to_string(), why };
    let file = File::open(path).map_err(|e| invalid(format!("cannot open it: {e}")))?;
    let dir = Extracted(store.temp_path("load"));
    fs::create_dir(&dir.0)
        .map_err(|e| invalid(format!("cannot create {}: {e}", dir.0.display())))?;
    let reader = crate::store::decompress(file).map_err(|e| invalid(e.to_string()))?;
    crate::unpack::unpack(reader, &dir.0).map_err(|e| invalid(format!("not a usable tar: {e}")))?;
    Ok(dir)
}

// ANCHOR: oci_layout
/// An OCI layout: `index.json` lists the images, `blobs/sha256/<hex>` holds
/// everything. Names come from the `io.containerd.image.name` or
/// `org.opencontainers.image.ref.name` annotations.
fn load_oci_layout(
    store: &Store,
    dir: &Path,
    platform: &Platform,
    added: &mut Added,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<Loaded>, LoadError> {
    let index: Index = read_json(&dir.join("index.json"))?;
    let mut source = DirSource { dir: dir.to_path_buf(), paths: HashMap::new() };
    let mut loaded = Vec::new();
    for descriptor in &index.manifests {
        if !oci::is_manifest(&descriptor.media_type) && !oci::is_index(&descriptor.media_type) {
            continue;
        }
        let mut top = source.manifest(&descriptor.digest)?;
        top.media_type = descriptor.media_type.clone();
        let tag = image_name(descriptor);
        let what = tag.clone().unwrap_or_else(|| descriptor.digest.clone());
        let image = fetch_image(store, &mut source, top, &what, platform, added, progress)?;
        loaded.push(Loaded { image, tags: tag.into_iter().collect() });
    }
    Ok(loaded)
}

fn image_name(descriptor: &Descriptor) -> Option<String> {
    let annotations = &descriptor.annotations;
    let full = annotations
        .get("io.containerd.image.name")
        .or_else(|| annotations.get("org.opencontainers.image.ref.name"))?;
    // A bare tag (`latest`, what skopeo and umoci write) names no repository.
    Reference::parse(full)
        .ok()
        .filter(|_| full.contains('/') || full.contains(':'))
        .map(|r| r.to_string())
}
// ANCHOR_END: oci_layout

// ANCHOR: docker_save
/// A `docker save` tarball: `manifest.json` lists each image's config and
/// layer files (uncompressed tars). We describe them with a manifest of our
/// own, so the same verified path as a pull stores them.
fn load_docker_save(
    store: &Store,
    dir: &Path,
    platform: &Platform,
    added: &mut Added,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Vec<Loaded>, LoadError> {
    let entries: Vec<SaveEntry> = read_json(&dir.join("manifest.json"))?;
    let mut loaded = Vec::new();
    for entry in entries {
        let mut source = DirSource { dir: dir.to_path_buf(), paths: HashMap::new() };
        let config = source.describe(&entry.config, oci::DOCKER_CONFIG)?;
        let layers = entry
            .layers
            .iter()
            .map(|layer| source.describe(layer, "application/vnd.docker.image.rootfs.diff.tar"))
            .collect::<Result<Vec<_>, _>>()?;
        let manifest = json!({ "schemaVersion": 2, "mediaType": oci::DOCKER_MANIFEST, "config": config, "layers": layers });
        let bytes = serde_json::to_vec(&manifest).expect("a JSON value serializes");
        let top = FetchedManifest {
            digest: sha256_of(&bytes),
            bytes,
            media_type: oci::DOCKER_MANIFEST.to_string(),
        };
        let tags: Vec<String> = entry
            .repo_tags
            .unwrap_or_default()
            .iter()
            .filter_map(|t| Reference::parse(t).ok())
            .map(|r| r.to_string())
            .collect();
        let what = tags.first().cloned().unwrap_or_else(|| entry.config.clone());
        let image = fetch_image(store, &mut source, top, &what, platform, added, progress)?;
        loaded.push(Loaded { image, tags });
    }
    Ok(loaded)
}
// ANCHOR_END: docker_save

/// Blobs in a directory: `blobs/sha256/<hex>`, or any file we described.
struct DirSource {
    dir: PathBuf,
    paths: HashMap<String, PathBuf>,
}

impl DirSource {
    /// Hash a file of the layout and remember it under its digest.
    fn describe(&mut self, relative: &str, media_type: &str) -> Result<Descriptor, LoadError> {
        let path = self.inside(relative)?;
        let file = File::open(&path).map_err(|e| LoadError::Invalid {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        let (digest, size) = HashingReader::new(file).finish().map_err(|e| LoadError::Invalid {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        self.paths.insert(digest.clone(), path);
        Ok(Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            platform: None,
            urls: None,
            annotations: Default::default(),
        })
    }

    /// A path named inside the archive must stay inside it.
    fn inside(&self, relative: &str) -> Result<PathBuf, LoadError> {
        let components = crate::unpack::clean_path(relative)
            .map_err(|e| LoadError::Invalid { path: relative.into(), why: e.to_string() })?;
        Ok(components.iter().fold(self.dir.clone(), |p, c| p.join(c)))
    }

    fn path_of(&self, digest: &str) -> PathBuf {
        self.paths
            .get(digest)
            .cloned()
            .unwrap_or_else(|| self.dir.join("blobs/sha256").join(hex_part(digest)))
    }
}

impl ImageSource for DirSource {
    fn manifest(&mut self, digest: &str) -> Result<FetchedManifest, PullError> {
        let path = self.path_of(digest);
        let bytes = fs::read(&path).map_err(|e| PullError::NotAnImage {
            what: digest.into(),
            why: format!("{}: {e}", path.display()),
        })?;
        let actual = sha256_of(&bytes);
        if actual != digest {
            return Err(StoreError::DigestMismatch { digest: digest.into(), actual }.into());
        }
        let declared: oci::MediaTypeField = serde_json::from_slice(&bytes)
            .map_err(|e| PullError::NotAnImage { what: digest.into(), why: e.to_string() })?;
        let media_type = declared.media_type.unwrap_or_else(|| {
            if String::from_utf8_lossy(&bytes).contains("\"manifests\"") {
                oci::OCI_INDEX.into()
            } else {
                oci::OCI_MANIFEST.into()
            }
        });
        Ok(FetchedManifest { bytes, media_type, digest: actual })
    }

    fn blob(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read + '_>, PullError> {
        let path = self.path_of(&descriptor.digest);
        let file = File::open(&path).map_err(|e| PullError::NotAnImage {
            what: descriptor.digest.clone(),
            why: format!("{}: {e}", path.display()),
        })?;
        Ok(Box::new(file))
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    let bytes = fs::read(path)
        .map_err(|e| LoadError::Invalid { path: path.display().to_string(), why: e.to_string() })?;
    serde_json::from_slice(&bytes).map_err(|e| LoadError::Invalid {
        path: path.display().to_string(),
        why: format!("bad JSON: {e}"),
    })
}
