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
    let mut registry = Registry::new(reference, &options.registry).for_push();
    let report: Report = RefCell::new(progress);
    for layer in layers.iter().rev() {
        send(&report, layer, PushStatus::Preparing);
    }
    let mounts = mount_sources(store, &registry, &record)?;
    for blob in layers.iter().rev() {
        push_blob(&mut registry, blob, &mounts, options.chunk_size, &report)?;
    }
    let config = Blob {
        digest: id.clone(),
        size: store.blob_path(&id).metadata()?.len(),
        path: store.blob_path(&id),
        layer: None,
        diff_id: None,
    };
    push_blob(&mut registry, &config, &[], options.chunk_size, &report)?;
    let digest = put_manifest(&mut registry, &tag, &manifest)?;
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
/// The blobs to send and the manifest to put. Layers stored as plain tars
/// (loaded from `docker save`) are gzipped first, as Docker does, which
/// makes a new manifest; otherwise the stored manifest goes as it is, so
/// the image keeps its digest (as `skopeo copy` does).
fn prepare(
    store: &Store,
    record: &ImageRecord,
    temporaries: &mut Temporaries,
) -> anyhow::Result<(Vec<Blob>, Vec<u8>)> {
    let mut blobs = Vec::new();
    let mut recompressed = false;
    for layer in &record.layers {
        let layer_id = short(&layer.diff_id).to_string();
        let path = store.blob_path(&layer.blob);
        if compression_of(store, &layer.blob)? == Compression::None {
            let (digest, size, path) =
                gzip_copy(store, &path).with_context(|| format!("layer {layer_id}"))?;
            temporaries.0.push(path.clone());
            blobs.push(Blob {
                digest,
                size,
                path,
                layer: Some(layer_id),
                diff_id: Some(layer.diff_id.clone()),
            });
            recompressed = true;
        } else {
            let size = path.metadata().with_context(|| format!("layer {layer_id}"))?.len();
            blobs.push(Blob {
                digest: layer.blob.clone(),
                size,
                path,
                layer: Some(layer_id),
                diff_id: Some(layer.diff_id.clone()),
            });
        }
    }
    let manifest = if recompressed {
        let config_size = store.blob_path(&record.id).metadata()?.len();
        let layers: Vec<LayerBlob> = blobs
            .iter()
            .map(|b| LayerBlob {
                digest: b.digest.clone(),
                size: b.size,
                compression: Compression::Gzip,
            })
            .collect();
        build_manifest(&record.id, config_size, &layers).0
    } else {
        store.read_blob(&record.manifest)?
    };
    Ok((blobs, manifest))
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

// ANCHOR: push_blob
/// One blob: skip it if the registry has it, mount it from another
/// repository of the same registry if one of ours came from there, else
/// upload it.
fn push_blob(
    registry: &mut Registry,
    blob: &Blob,
    mounts: &[(String, String)],
    chunk_size: u64,
    report: &Report,
) -> anyhow::Result<()> {
    let what = blob
        .layer
        .as_ref()
        .map_or_else(|| format!("config {}", short(&blob.digest)), |l| format!("layer {l}"));
    let result = (|| {
        let repo = registry.repository().to_string();
        let head = registry.send(
            "HEAD",
            &format!("/v2/{repo}/blobs/{}", blob.digest),
            &[],
            Body::Empty,
            &what,
        )?;
        match head.status() {
            200 => return Ok(Some(PushStatus::LayerAlreadyExists)),
            404 => {}
            _ => return Err(registry.api_error(head, &what).into()),
        }
        let mut session = None;
        let sources =
            mounts.iter().filter(|(d, from)| Some(d) == blob.diff_id.as_ref() && *from != repo);
        for (_, from) in sources {
            let base = registry.base_url();
            let url = format!("{base}/v2/{repo}/blobs/uploads/?mount={}&from={from}", blob.digest);
            let response = registry.send("POST", &url, &[], Body::Empty, &what)?;
            match response.status() {
                201 => return Ok(Some(PushStatus::MountedFrom(from.clone()))),
                // Not mounted, but an ordinary upload session to use.
                202 => {
                    session = Some(location(&url, &response)?);
                    break;
                }
                _ => {} // try the next source, then upload
            }
        }
        let session = match session {
            Some(session) => session,
            None => start_upload(registry, &what)?,
        };
        upload(registry, blob, &session, chunk_size, report, &what)?;
        Ok::<_, anyhow::Error>(blob.layer.as_ref().map(|_| PushStatus::Pushed))
    })();
    match result {
        Ok(Some(status)) => {
            send(report, blob, status);
            Ok(())
        }
        Ok(None) => Ok(()),
        // The registry's errors already name the layer.
        Err(e) if e.is::<RegistryError>() => Err(e),
        Err(e) => Err(e.context(what)),
    }
}
// ANCHOR_END: push_blob

fn start_upload(registry: &mut Registry, what: &str) -> anyhow::Result<String> {
    let url = format!("{}/v2/{}/blobs/uploads/", registry.base_url(), registry.repository());
    let response = registry.send("POST", &url, &[], Body::Empty, what)?;
    if response.status() != 202 {
        return Err(registry.api_error(response, what).into());
    }
    location(&url, &response)
}

// ANCHOR: upload
/// Send the bytes: one PUT for a small blob, PATCHes of `chunk_size` for a
/// big one, each to the `Location` the one before answered with. Any
/// failure cancels the session (`DELETE`), so the registry keeps nothing.
fn upload(
    registry: &mut Registry,
    blob: &Blob,
    session: &str,
    chunk_size: u64,
    report: &Report,
    what: &str,
) -> anyhow::Result<()> {
    let mut session = session.to_string();
    let result = (|| {
        let mut offset = 0;
        while blob.size > chunk_size && offset < blob.size {
            let len = chunk_size.min(blob.size - offset);
            session = patch_chunk(registry, blob, &session, offset, len, report, what)?;
            offset += len;
        }
        let (start, len) = if blob.size > chunk_size { (blob.size, 0) } else { (0, blob.size) };
        let url = with_query(&session, "digest", &blob.digest);
        let response = send_part(registry, "PUT", &url, blob, start, len, &[], report, what)?;
        match response.status() {
            201 | 204 => Ok(()),
            _ => Err(anyhow::Error::from(registry.api_error(response, what))),
        }
    })();
    if result.is_err() {
        let _ = registry.send("DELETE", &session, &[], Body::Empty, what);
    }
    result
}

fn patch_chunk(
    registry: &mut Registry,
    blob: &Blob,
    session: &str,
    offset: u64,
    len: u64,
    report: &Report,
    what: &str,
) -> anyhow::Result<String> {
    let range = format!("{offset}-{}", offset + len - 1);
    let headers = [("Content-Range", range.as_str())];
    let response =
        send_part(registry, "PATCH", session, blob, offset, len, &headers, report, what)?;
    if response.status() != 202 {
        return Err(registry.api_error(response, what).into());
    }
    let next = location(session, &response)?;
    let acknowledged = response.header("Range").unwrap_or("");
    if acknowledged.trim_start_matches("bytes=") != format!("0-{}", offset + len - 1) {
        bail!("the registry acknowledged {acknowledged:?} after bytes {range}");
    }
    Ok(next)
}
// ANCHOR_END: upload

/// `len` bytes of the blob from `offset`, counted into the progress.
#[allow(clippy::too_many_arguments)]
fn send_part(
    registry: &mut Registry,
    method: &str,
    url: &str,
    blob: &Blob,
    offset: u64,
    len: u64,
    headers: &[(&str, &str)],
    report: &Report,
    what: &str,
) -> anyhow::Result<ureq::Response> {
    let mut all_headers = vec![("Content-Type", "application/octet-stream")];
    all_headers.extend_from_slice(headers);
    let mut open = || -> io::Result<Box<dyn Read + '_>> {
        let mut file = File::open(&blob.path)?;
        file.seek(SeekFrom::Start(offset))?;
        let reader = BufReader::with_capacity(1 << 20, file.take(len));
        Ok(Box::new(Counting { inner: reader, done: offset, blob, report }))
    };
    let body = if len == 0 { Body::Empty } else { Body::Stream { len, open: &mut open } };
    Ok(registry.send(method, url, &all_headers, body, what)?)
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
