//! `docker save -o FILE IMAGE...`: images as one tar that `docker load`,
//! `skopeo copy docker-archive:` and chapter 4's `load` read. It is two
//! formats at once, as moby v25+ writes it: Docker's `manifest.json` (what
//! `docker load` and skopeo read) and an OCI image layout beside it.
//!
//! ```text
//! blobs/sha256/<DiffID>     each layer, uncompressed (named by its DiffID)
//! blobs/sha256/<image id>   each config, byte for byte
//! blobs/sha256/<digest>     an OCI manifest per image
//! index.json, oci-layout    the OCI layout: one descriptor per tag
//! manifest.json             [{"Config": …, "RepoTags": […], "Layers": […]}]
//! repositories              {"busybox": {"latest": "<top DiffID>"}}
//! ```

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::UNIX_EPOCH;

use anyhow::{anyhow, bail, Context};
use ch04_image_pull::digest::{hex_part, sha256_of, short, HashingReader};
use ch04_image_pull::oci::{self, Manifest};
use ch04_image_pull::store::{decompress, ImageRecord, Store};
use ch04_image_pull::Reference;
use serde_json::{json, Value};

use crate::image::{compression_of, descriptor, Compression};

/// One image to save, and the tags it is saved under (full references).
#[derive(Debug, Clone)]
pub struct Chosen {
    pub record: ImageRecord,
    pub tags: Vec<Reference>,
}

// ANCHOR: choose
/// What `names` name: a tag, an id, or a repository alone (`busybox`:
/// every tag it has, as `docker save` does). Images come once each.
pub fn choose(store: &Store, names: &[String]) -> anyhow::Result<Vec<Chosen>> {
    let tags = store.tags()?;
    let mut chosen: Vec<Chosen> = Vec::new();
    for name in names {
        let mut found: Vec<(String, Option<Reference>)> = Vec::new();
        if let Some(repository) = repository_only(name) {
            for (tag, id) in &tags {
                let reference = Reference::parse(tag)?;
                if reference.name() == repository {
                    found.push((id.clone(), Some(reference)));
                }
            }
        }
        if found.is_empty() {
            let (id, tag) =
                store.resolve(name)?.ok_or_else(|| anyhow!("reference does not exist: {name}"))?;
            found.push((id, tag.map(|t| Reference::parse(&t)).transpose()?));
        }
        for (id, tag) in found {
            let at = match chosen.iter().position(|c| c.record.id == id) {
                Some(at) => at,
                None => {
                    chosen.push(Chosen { record: store.image(&id)?, tags: Vec::new() });
                    chosen.len() - 1
                }
            };
            let tags = &mut chosen[at].tags;
            if let Some(tag) = tag.filter(|t| !tags.contains(t)) {
                tags.push(tag);
            }
        }
    }
    Ok(chosen)
}
// ANCHOR_END: choose

/// `busybox`, `127.0.0.1:5000/a`: a name with neither tag nor digest.
fn repository_only(name: &str) -> Option<String> {
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        return None;
    }
    Reference::parse(name).ok().map(|r| r.name())
}

// ANCHOR: save
/// Write the images to `out` as a `docker save` tarball.
pub fn save(store: &Store, images: &[Chosen], out: impl Write) -> anyhow::Result<()> {
    if images.iter().any(|i| i.record.layers.is_empty()) {
        bail!("empty export - not implemented"); // Docker's words for an image without layers
    }
    let mut saver = Saver::new(out)?;
    for image in images {
        saver.add_image(store, image)?;
    }
    saver.finish()
}

/// A tarball being written, and what its index files will say.
struct Saver<W: Write> {
    tar: tar::Builder<W>,
    /// Blobs written so far; layers with their uncompressed sizes.
    written: HashSet<String>,
    layer_sizes: HashMap<String, u64>,
    manifest_json: Vec<Value>,
    index_json: Vec<Value>,
    repositories: BTreeMap<String, BTreeMap<String, Option<String>>>,
}
// ANCHOR_END: save

impl<W: Write> Saver<W> {
    fn new(out: W) -> anyhow::Result<Saver<W>> {
        let mut tar = tar::Builder::new(out);
        for dir in ["blobs/", "blobs/sha256/"] {
            append(&mut tar, dir, 0, &mut io::empty())?;
        }
        let (written, layer_sizes) = (HashSet::new(), HashMap::new());
        let (manifest_json, index_json, repositories) = (Vec::new(), Vec::new(), BTreeMap::new());
        Ok(Saver { tar, written, layer_sizes, manifest_json, index_json, repositories })
    }

    // ANCHOR: add_image
    /// One image: its layers (each once per tarball), its config, an OCI
    /// manifest, and its lines in `manifest.json`, `index.json`, `repositories`.
    fn add_image(&mut self, store: &Store, image: &Chosen) -> anyhow::Result<()> {
        let (record, mtime) = (&image.record, created_seconds(&image.record));
        let mut layers = Vec::new();
        for layer in &record.layers {
            let name = blob_name(&layer.diff_id);
            if !self.layer_sizes.contains_key(&layer.diff_id) {
                let size =
                    append_layer(store, &mut self.tar, &layer.blob, &layer.diff_id, &name, mtime)
                        .with_context(|| format!("layer {}", short(&layer.diff_id)))?;
                self.layer_sizes.insert(layer.diff_id.clone(), size);
            }
            layers.push(name);
        }
        let config = store.read_blob(&record.id)?;
        self.add_blob(&record.id, &config, mtime)?;
        let manifest = oci_manifest(image, config.len() as u64, &self.layer_sizes)?;
        let manifest_digest = sha256_of(&manifest);
        self.add_blob(&manifest_digest, &manifest, 0)?;
        self.index_json.extend(index_entries(image, &manifest_digest, manifest.len() as u64));
        let top = record.layers.last().map(|l| hex_part(&l.diff_id).to_string());
        for tag in &image.tags {
            let tags = self.repositories.entry(tag.familiar_name()).or_default();
            tags.insert(tag.tag.clone().unwrap_or_default(), top.clone());
        }
        let repo_tags: Vec<String> = image.tags.iter().map(Reference::familiar).collect();
        let repo_tags = if repo_tags.is_empty() { Value::Null } else { json!(repo_tags) };
        let entry =
            json!({ "Config": blob_name(&record.id), "RepoTags": repo_tags, "Layers": layers });
        self.manifest_json.push(entry);
        Ok(())
    }
    // ANCHOR_END: add_image

    fn add_blob(&mut self, digest: &str, bytes: &[u8], mtime: u64) -> anyhow::Result<()> {
        if self.written.insert(digest.to_string()) {
            append_entry(
                &mut self.tar,
                &blob_name(digest),
                bytes.len() as u64,
                mtime,
                &mut &bytes[..],
            )?;
        }
        Ok(())
    }

    /// The index files last, then the end of the archive.
    fn finish(mut self) -> anyhow::Result<()> {
        let index = json!({ "schemaVersion": 2, "mediaType": oci::OCI_INDEX, "manifests": self.index_json });
        append_json(&mut self.tar, "index.json", &index)?;
        append_json(&mut self.tar, "manifest.json", &Value::Array(self.manifest_json))?;
        append_json(&mut self.tar, "oci-layout", &json!({ "imageLayoutVersion": "1.0.0" }))?;
        if !self.repositories.is_empty() {
            append_json(&mut self.tar, "repositories", &json!(self.repositories))?;
        }
        self.tar.into_inner()?.flush()?;
        Ok(())
    }
}

// ANCHOR: append_layer
/// A layer goes in uncompressed, under its DiffID. A tar entry's size comes
/// before its bytes, so a compressed blob is unpacked into `tmp/` first —
/// and checked against its DiffID on the way. Returns the size.
fn append_layer(
    store: &Store,
    tar: &mut tar::Builder<impl Write>,
    blob: &str,
    diff_id: &str,
    name: &str,
    mtime: u64,
) -> anyhow::Result<u64> {
    let blob_path = store.blob_path(blob);
    let plain: PathBuf = match compression_of(store, blob)? {
        Compression::None => blob_path.clone(),
        _ => store.temp_path("save.tar"),
    };
    let result = (|| {
        if plain != blob_path {
            let mut hashing = HashingReader::new(decompress(File::open(&blob_path)?)?);
            io::copy(&mut hashing, &mut io::BufWriter::new(File::create(&plain)?))?;
            let (actual, _) = hashing.finish()?;
            if actual != diff_id {
                bail!("the blob unpacks to {actual}, not its DiffID");
            }
        }
        let file = File::open(&plain)?;
        let size = file.metadata()?.len();
        append_entry(tar, name, size, mtime, &mut io::BufReader::new(file))?;
        Ok(size)
    })();
    if plain != blob_path {
        let _ = std::fs::remove_file(&plain);
    }
    result
}
// ANCHOR_END: append_layer

/// The OCI manifest of a saved image: plain layers named by DiffID.
fn oci_manifest(
    image: &Chosen,
    config_size: u64,
    sizes: &HashMap<String, u64>,
) -> anyhow::Result<Vec<u8>> {
    let mut layers = Vec::new();
    for layer in &image.record.layers {
        layers.push(descriptor(oci::OCI_LAYER_TAR, &layer.diff_id, sizes[&layer.diff_id]));
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(oci::OCI_MANIFEST.into()),
        config: descriptor(oci::OCI_CONFIG, &image.record.id, config_size),
        layers,
    };
    Ok(serde_json::to_vec(&manifest)?)
}

/// One `index.json` descriptor per tag (none for an untagged image: one
/// without annotations), named as containerd and the OCI spec name them.
fn index_entries(image: &Chosen, digest: &str, size: u64) -> Vec<Value> {
    let plain = json!({ "mediaType": oci::OCI_MANIFEST, "digest": digest, "size": size });
    if image.tags.is_empty() {
        return vec![plain];
    }
    image
        .tags
        .iter()
        .map(|tag| {
            let mut entry = plain.clone();
            entry["annotations"] = json!({
                "io.containerd.image.name": tag.to_string(),
                "org.opencontainers.image.ref.name": tag.tag.clone().unwrap_or_default(),
            });
            entry
        })
        .collect()
}

fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", hex_part(digest))
}

fn created_seconds(record: &ImageRecord) -> u64 {
    record
        .created
        .as_deref()
        .and_then(|c| humantime::parse_rfc3339_weak(c).ok())
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

fn append_json(
    tar: &mut tar::Builder<impl Write>,
    name: &str,
    value: &Value,
) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(value)?;
    append_entry(tar, name, bytes.len() as u64, 0, &mut &bytes[..])
}

fn append_entry(
    tar: &mut tar::Builder<impl Write>,
    name: &str,
    size: u64,
    mtime: u64,
    data: &mut dyn Read,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, name, data)?;
    Ok(())
}

fn append(
    tar: &mut tar::Builder<impl Write>,
    dir: &str,
    mtime: u64,
    data: &mut dyn Read,
) -> anyhow::Result<()> {
    let mut header = tar::Header::new_ustar();
    header.set_size(0);
    header.set_mode(0o755);
    header.set_mtime(mtime);
    header.set_entry_type(tar::EntryType::Directory);
    tar.append_data(&mut header, dir, data)?;
    Ok(())
}
