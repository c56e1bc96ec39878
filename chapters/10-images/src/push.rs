//! `docker push NAME[:TAG]`: the layers, then the config, then the
//! manifest — blobs first, because a registry may refuse a manifest that
//! names a blob it does not have, and a manifest is what makes an image
//! visible: until it lands, nothing half-pushed can be pulled.
//!
//! ```text
//! for each blob (layers, then the config):
//!   HEAD  /v2/<name>/blobs/<digest>                 200: "Layer already exists"
//!   POST  /v2/<name>/blobs/uploads/?mount=<d>&from=<repo>   201: "Mounted from <repo>"
//!   POST  /v2/<name>/blobs/uploads/                 202, Location: <session>
//!   PUT   <session>&digest=<d>   (all bytes)        201        monolithic, or
//!   PATCH <session>  Content-Range: a-b (a chunk)   202, Location: <next session> …
//!   PUT   <session>&digest=<d>   (no bytes)         201
//! PUT /v2/<name>/manifests/<tag>  Content-Type: <its mediaType>   201, Docker-Content-Digest
//! ```

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use ch04_image_pull::digest::{sha256_of, short};
use ch04_image_pull::oci::{self, MediaTypeField};
use ch04_image_pull::registry::{resolve_location, Body, Registry, RegistryError, RegistryOptions};
use ch04_image_pull::store::{ImageRecord, LayerRecord, Store};
use ch04_image_pull::Reference;

use crate::image::{build_manifest, compression_of, Compression, LayerBlob};

/// Blobs up to this size go in one PUT; bigger ones in chunks this big.
pub const DEFAULT_CHUNK_SIZE: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub struct PushOptions {
    pub registry: RegistryOptions,
    /// Chunk size for chunked uploads; a blob no bigger goes in one PUT.
    pub chunk_size: u64,
}

// ANCHOR: progress
/// What happens to one layer, as `docker push` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushStatus {
    Preparing,
    Pushing { done: u64, total: u64 },
    Pushed,
    LayerAlreadyExists,
    MountedFrom(String),
}

/// `layer` is the first 12 hex digits of the layer's DiffID, as Docker shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushProgress {
    pub layer: String,
    pub status: PushStatus,
}
// ANCHOR_END: progress

/// What was pushed: `TAG: digest: sha256:… size: N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub tag: String,
    pub digest: String,
    pub size: u64,
}

/// One blob to send: where its bytes are, and how big they are.
struct Blob {
    digest: String,
    size: u64,
    path: PathBuf,
    /// The DiffID's short form for a layer; `None` for the config.
    layer: Option<String>,
    diff_id: Option<String>,
}

impl Blob {
    /// A layer as the store has it; a plain tar (loaded from `docker save`)
    /// is gzipped into `tmp/` first, as Docker does. True when it was.
    fn of_layer(
        store: &Store,
        layer: &LayerRecord,
        temporaries: &mut Temporaries,
    ) -> anyhow::Result<(Blob, bool)> {
        let layer_id = short(&layer.diff_id).to_string();
        let context = || format!("layer {layer_id}");
        let mut path = store.blob_path(&layer.blob);
        let plain = compression_of(store, &layer.blob).with_context(context)? == Compression::None;
        let (digest, size) = if plain {
            let (digest, size, gzipped) = gzip_copy(store, &path).with_context(context)?;
            temporaries.0.push(gzipped.clone());
            path = gzipped;
            (digest, size)
        } else {
            (layer.blob.clone(), path.metadata().with_context(context)?.len())
        };
        let diff_id = Some(layer.diff_id.clone());
        Ok((Blob { digest, size, path, layer: Some(layer_id), diff_id }, plain))
    }

    fn config(store: &Store, id: &str) -> anyhow::Result<Blob> {
        let path = store.blob_path(id);
        let size = path.metadata()?.len();
        Ok(Blob { digest: id.to_string(), size, path, layer: None, diff_id: None })
    }

    fn what(&self) -> String {
        match &self.layer {
            Some(layer) => format!("layer {layer}"),
            None => format!("config {}", short(&self.digest)),
        }
    }
}

type Report<'a> = RefCell<&'a mut dyn FnMut(&PushProgress)>;

// ANCHOR: push
/// Push the image tagged `reference` to its registry.
pub fn push(
    store: &Store,
    reference: &Reference,
    options: &PushOptions,
    progress: &mut dyn FnMut(&PushProgress),
) -> anyhow::Result<Pushed> {
    let Some(tag) = reference.tag.clone().filter(|_| reference.digest.is_none()) else {
        bail!("cannot push a digest reference");
    };
    let id = store.tags()?.get(&reference.to_string()).cloned().ok_or_else(|| {
        anyhow!("An image does not exist locally with the tag: {}", reference.familiar_name())
    })?;
    let record = store.image(&id)?;
    let mut temporaries = Temporaries(Vec::new());
    let (layers, manifest) = prepare(store, &record, &mut temporaries)?;
    let registry = Registry::new(reference, &options.registry).for_push();
    let mounts = mount_sources(store, &registry, &record)?;
    let report: Report = RefCell::new(progress);
    let mut pusher = Pusher { registry, chunk_size: options.chunk_size, report: &report, mounts };
    for layer in layers.iter().rev() {
        pusher.tell(layer, PushStatus::Preparing);
    }
    for blob in layers.iter().rev().chain([&Blob::config(store, &id)?]) {
        pusher.push_blob(blob)?;
    }
    let digest = put_manifest(&mut pusher.registry, &tag, &manifest)?;
    remember(store, &record, reference, &digest)?;
    Ok(Pushed { tag, digest, size: manifest.len() as u64 })
}
// ANCHOR_END: push

/// Temporary gzip copies of plain layers, removed when the push is over.
struct Temporaries(Vec<PathBuf>);

impl Drop for Temporaries {
    fn drop(&mut self) {
        for path in &self.0 {
            let _ = std::fs::remove_file(path);
        }
    }
}

// ANCHOR: prepare
/// The blobs to send and the manifest to put. A gzipped plain layer gets a
/// new digest, so the manifest is made anew; otherwise the stored manifest
/// goes as it is, and the image keeps its digest (as `skopeo copy` does).
fn prepare(
    store: &Store,
    record: &ImageRecord,
    temporaries: &mut Temporaries,
) -> anyhow::Result<(Vec<Blob>, Vec<u8>)> {
    let (mut blobs, mut recompressed) = (Vec::new(), false);
    for layer in &record.layers {
        let (blob, gzipped) = Blob::of_layer(store, layer, temporaries)?;
        blobs.push(blob);
        recompressed |= gzipped;
    }
    if !recompressed {
        return Ok((blobs, store.read_blob(&record.manifest)?));
    }
    let config_size = store.blob_path(&record.id).metadata()?.len();
    let gzip = |b: &Blob| LayerBlob {
        digest: b.digest.clone(),
        size: b.size,
        compression: Compression::Gzip,
    };
    let layers: Vec<LayerBlob> = blobs.iter().map(gzip).collect();
    Ok((blobs, build_manifest(&record.id, config_size, &layers).0))
}
// ANCHOR_END: prepare

/// gzip a plain layer tar into `tmp/`, hashing the result.
fn gzip_copy(store: &Store, plain: &Path) -> anyhow::Result<(String, u64, PathBuf)> {
    let temp = store.temp_path("push.tar.gz");
    let write = || -> io::Result<()> {
        let out = io::BufWriter::new(File::create(&temp)?);
        let mut gzip = flate2::GzBuilder::new().mtime(0).write(out, flate2::Compression::new(6));
        io::copy(&mut BufReader::new(File::open(plain)?), &mut gzip)?;
        io::Write::flush(&mut gzip.finish()?)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&temp);
        return Err(e.into());
    }
    let (digest, size) =
        ch04_image_pull::digest::HashingReader::new(File::open(&temp)?).finish()?;
    Ok((digest, size, temp))
}

/// One push's conversation with the registry.
struct Pusher<'a> {
    registry: Registry,
    chunk_size: u64,
    report: &'a Report<'a>,
    /// `(DiffID, repository)`: where a layer might be mounted from.
    mounts: Vec<(String, String)>,
}

impl Pusher<'_> {
    // ANCHOR: push_blob
    /// One blob: skip it if the registry has it, mount it from another
    /// repository of the same registry if one of ours came from there, else
    /// upload it.
    fn push_blob(&mut self, blob: &Blob) -> anyhow::Result<()> {
        let what = blob.what();
        let repo = self.registry.repository().to_string();
        let url = format!("/v2/{repo}/blobs/{}", blob.digest);
        let head = self.registry.send("HEAD", &url, &[], Body::Empty, &what)?;
        let status = match head.status() {
            200 => PushStatus::LayerAlreadyExists,
            404 => match self.mount(blob, &repo, &what)? {
                Mounted::From(repo) => PushStatus::MountedFrom(repo),
                Mounted::No(session) => {
                    let session = match session {
                        Some(session) => session,
                        None => self.start_upload(&what)?,
                    };
                    self.upload(blob, session, &what).map_err(|e| name_the_blob(e, &what))?;
                    PushStatus::Pushed
                }
            },
            _ => return Err(self.registry.api_error(head, &what).into()),
        };
        self.tell(blob, status);
        Ok(())
    }
    // ANCHOR_END: push_blob

    // ANCHOR: mount
    /// `POST …/uploads/?mount=<digest>&from=<repo>` for each repository that
    /// had this layer: 201 is a mount; 202 is no mount but an upload session
    /// to use; anything else, try the next one.
    fn mount(&mut self, blob: &Blob, repo: &str, what: &str) -> anyhow::Result<Mounted> {
        let diff_id = blob.diff_id.as_ref();
        let sources: Vec<String> = self
            .mounts
            .iter()
            .filter(|(d, from)| Some(d) == diff_id && from != repo)
            .map(|(_, from)| from.clone())
            .collect();
        for from in sources {
            let base = self.registry.base_url();
            let url = format!("{base}/v2/{repo}/blobs/uploads/?mount={}&from={from}", blob.digest);
            let response = self.registry.send("POST", &url, &[], Body::Empty, what)?;
            match response.status() {
                201 => return Ok(Mounted::From(from)),
                202 => return Ok(Mounted::No(Some(location(&url, &response)?))),
                _ => {}
            }
        }
        Ok(Mounted::No(None))
    }
    // ANCHOR_END: mount

    fn start_upload(&mut self, what: &str) -> anyhow::Result<String> {
        let url = format!(
            "{}/v2/{}/blobs/uploads/",
            self.registry.base_url(),
            self.registry.repository()
        );
        let response = self.registry.send("POST", &url, &[], Body::Empty, what)?;
        if response.status() != 202 {
            return Err(self.registry.api_error(response, what).into());
        }
        location(&url, &response)
    }

    // ANCHOR: upload
    /// Send the bytes: one PUT for a small blob, PATCHes of `chunk_size` for a
    /// big one, each to the `Location` the one before answered with. Any
    /// failure cancels the session (`DELETE`), so the registry keeps nothing.
    fn upload(&mut self, blob: &Blob, mut session: String, what: &str) -> anyhow::Result<()> {
        let result = self.send_blob(blob, &mut session, what);
        if result.is_err() {
            let _ = self.registry.send("DELETE", &session, &[], Body::Empty, what);
        }
        result
    }

    fn send_blob(&mut self, blob: &Blob, session: &mut String, what: &str) -> anyhow::Result<()> {
        let chunked = blob.size > self.chunk_size;
        let mut offset = 0;
        while chunked && offset < blob.size {
            let len = self.chunk_size.min(blob.size - offset);
            *session = self.patch_chunk(blob, session, offset, len, what)?;
            offset += len;
        }
        let (start, len) = if chunked { (blob.size, 0) } else { (0, blob.size) };
        let url = with_query(session, "digest", &blob.digest);
        let response = self.send_part("PUT", &url, blob, start, len, &[], what)?;
        match response.status() {
            201 | 204 => Ok(()),
            _ => Err(self.registry.api_error(response, what).into()),
        }
    }
    // ANCHOR_END: upload

    // ANCHOR: patch_chunk
    /// One chunk: `Content-Range: a-b`; the registry answers with the range
    /// it has (`Range: 0-b`) and where the next chunk goes.
    fn patch_chunk(
        &mut self,
        blob: &Blob,
        session: &str,
        offset: u64,
        len: u64,
        what: &str,
    ) -> anyhow::Result<String> {
        let range = format!("{offset}-{}", offset + len - 1);
        let headers = [("Content-Range", range.as_str())];
        let response = self.send_part("PATCH", session, blob, offset, len, &headers, what)?;
        if response.status() != 202 {
            return Err(self.registry.api_error(response, what).into());
        }
        let next = location(session, &response)?;
        let acknowledged = response.header("Range").unwrap_or("");
        if acknowledged.trim_start_matches("bytes=") != format!("0-{}", offset + len - 1) {
            bail!("the registry acknowledged {acknowledged:?} after bytes {range}");
        }
        Ok(next)
    }
    // ANCHOR_END: patch_chunk

    /// `len` bytes of the blob from `offset`, counted into the progress.
    #[allow(clippy::too_many_arguments)]
    fn send_part(
        &mut self,
        method: &str,
        url: &str,
        blob: &Blob,
        offset: u64,
        len: u64,
        headers: &[(&str, &str)],
        what: &str,
    ) -> anyhow::Result<ureq::Response> {
        let mut all_headers = vec![("Content-Type", "application/octet-stream")];
        all_headers.extend_from_slice(headers);
        let report = self.report;
        let mut open = || -> io::Result<Box<dyn Read + '_>> {
            let mut file = File::open(&blob.path)?;
            file.seek(SeekFrom::Start(offset))?;
            let reader = BufReader::with_capacity(1 << 20, file.take(len));
            Ok(Box::new(Counting { inner: reader, done: offset, blob, report }))
        };
        let body = if len == 0 { Body::Empty } else { Body::Stream { len, open: &mut open } };
        Ok(self.registry.send(method, url, &all_headers, body, what)?)
    }

    fn tell(&self, blob: &Blob, status: PushStatus) {
        send(self.report, blob, status);
    }
}

/// What a mount attempt gave: the repository it came from, or no mount
/// (and maybe an upload session the registry opened instead).
enum Mounted {
    From(String),
    No(Option<String>),
}

/// The registry's errors already name the blob; ours get its name.
fn name_the_blob(error: anyhow::Error, what: &str) -> anyhow::Error {
    if error.is::<RegistryError>() {
        error
    } else {
        error.context(what.to_string())
    }
}

/// Reports `Pushing` as bytes go out.
struct Counting<'a, 'b, R> {
    inner: R,
    done: u64,
    blob: &'a Blob,
    report: &'a Report<'b>,
}

impl<R: Read> Read for Counting<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        send(
            self.report,
            self.blob,
            PushStatus::Pushing { done: self.done, total: self.blob.size },
        );
        Ok(n)
    }
}

fn send(report: &Report, blob: &Blob, status: PushStatus) {
    if let Some(layer) = &blob.layer {
        (report.borrow_mut())(&PushProgress { layer: layer.clone(), status });
    }
}

// ANCHOR: location
/// The `Location` of an upload session, resolved against the URL that
/// answered: registries may send it absolute or relative.
fn location(request_url: &str, response: &ureq::Response) -> anyhow::Result<String> {
    let header = response
        .header("Location")
        .ok_or_else(|| anyhow!("the registry answered without a Location"))?;
    Ok(resolve_location(request_url, header))
}

/// Add `key=value` to a URL that may already have a query (`?_state=…`).
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}{key}={}", value.replace(':', "%3A"))
}
// ANCHOR_END: location

// ANCHOR: put_manifest
/// Last, the manifest, under the tag, as the exact bytes whose digest the
/// registry must answer with.
fn put_manifest(registry: &mut Registry, tag: &str, manifest: &[u8]) -> anyhow::Result<String> {
    let declared: MediaTypeField =
        serde_json::from_slice(manifest).context("the image's manifest is not JSON")?;
    let media_type = declared.media_type.unwrap_or_else(|| oci::OCI_MANIFEST.to_string());
    let url = format!("/v2/{}/manifests/{tag}", registry.repository());
    let what = format!("manifest {tag}");
    let headers = [("Content-Type", media_type.as_str())];
    let response = registry.send("PUT", &url, &headers, Body::Bytes(manifest), &what)?;
    if response.status() != 201 {
        return Err(registry.api_error(response, &what).into());
    }
    let digest = sha256_of(manifest);
    match response.header("Docker-Content-Digest") {
        Some(answered) if answered != digest => {
            bail!("the registry stored manifest {answered}, but {digest} was sent")
        }
        _ => Ok(digest),
    }
}
// ANCHOR_END: put_manifest

// ANCHOR: mount_sources
/// `(DiffID, repository)` pairs worth a cross-repository mount: repositories
/// of this same registry that our images were pulled from or pushed to,
/// with the layers those images have. (By DiffID: a plain layer gzipped for
/// the push gets the same digest each time, so it is the same blob there.)
fn mount_sources(
    store: &Store,
    registry: &Registry,
    record: &ImageRecord,
) -> anyhow::Result<Vec<(String, String)>> {
    let prefix = format!("{}/", registry.domain());
    let mut sources = Vec::new();
    for image in store.images()? {
        for repo_digest in &image.repo_digests {
            let Some(repo) = repo_digest.strip_prefix(&prefix).and_then(|r| r.split('@').next())
            else {
                continue;
            };
            let shared = |l: &&LayerRecord| record.layers.iter().any(|m| m.diff_id == l.diff_id);
            for layer in image.layers.iter().filter(shared) {
                sources.push((layer.diff_id.clone(), repo.to_string()));
            }
        }
    }
    sources.sort();
    sources.dedup();
    Ok(sources)
}
// ANCHOR_END: mount_sources

/// Remember where the image now is (`name@digest`), for later mounts.
fn remember(
    store: &Store,
    record: &ImageRecord,
    reference: &Reference,
    digest: &str,
) -> anyhow::Result<()> {
    let lock = store.lock()?;
    let mut record = store.image(&record.id)?;
    record.repo_digests.push(format!("{}@{digest}", reference.name()));
    store.save_image(&lock, &record, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_joins_a_query_that_may_be_there() {
        let d = "sha256:ab";
        assert_eq!(
            with_query("http://r/v2/a/blobs/uploads/u1", "digest", d),
            "http://r/v2/a/blobs/uploads/u1?digest=sha256%3Aab"
        );
        assert_eq!(
            with_query("http://r/u?_state=x", "digest", d),
            "http://r/u?_state=x&digest=sha256%3Aab"
        );
    }

    #[test]
    fn upload_locations_resolve_relative_and_absolute() {
        let request = "http://127.0.0.1:5000/v2/a/blobs/uploads/";
        assert_eq!(
            resolve_location(request, "/v2/a/blobs/uploads/u1?_state=s"),
            "http://127.0.0.1:5000/v2/a/blobs/uploads/u1?_state=s"
        );
        assert_eq!(
            resolve_location(request, "http://other:1/v2/a/blobs/uploads/u2"),
            "http://other:1/v2/a/blobs/uploads/u2"
        );
    }
}
