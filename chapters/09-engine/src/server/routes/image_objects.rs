//! `/images/...` besides pull: list, inspect, tag, delete, history, save,
//! load, prune. Save and load are tarballs streamed through the socket.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};

use super::objects::{answer, filters};
use crate::server::http::{self, Body};
use crate::server::Daemon;
use crate::ApiError;

pub async fn list(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let filters = match filters(&request) {
        Ok(filters) => filters,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    answer(200, move || local.images(&filters)).await
}

pub async fn inspect(daemon: Arc<Daemon>, name: String) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.image(&name)).await
}

pub async fn history(daemon: Arc<Daemon>, name: String) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.history(&name)).await
}

// ANCHOR: tag
/// `POST /images/{name}/tag?repo=&tag=`: 201 and no body.
pub async fn tag(daemon: Arc<Daemon>, name: String, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let repo = query.get("repo").cloned().unwrap_or_default();
    let tag = query.get("tag").cloned().unwrap_or_default();
    if repo.is_empty() {
        return http::error(&ApiError::bad_request("repo is required"));
    }
    let local = daemon.local.clone();
    let (events, target) = (Arc::clone(&daemon), format!("{repo}:{tag}"));
    let response = answer(201, move || local.tag(&name, &repo, &tag)).await;
    if response.status().is_success() {
        events.events.emit("image", "tag", &target, &[("name", &target)]);
    }
    response
}
// ANCHOR_END: tag

/// `DELETE /images/{name}?force=`: what was untagged and deleted.
pub async fn remove(
    daemon: Arc<Daemon>,
    name: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let force = http::truthy(&http::query(&request), "force");
    let local = daemon.local.clone();
    let removed = crate::server::blocking(move || local.remove_image(&name, force)).await;
    match removed {
        Ok(removed) => {
            for item in &removed {
                let (action, id) = match (item["Untagged"].as_str(), item["Deleted"].as_str()) {
                    (Some(tag), _) => ("untag", tag),
                    (_, Some(id)) => ("delete", id),
                    _ => continue,
                };
                daemon.events.emit("image", action, id, &[("name", id)]);
            }
            http::json(200, &Value::from(removed))
        }
        Err(error) => http::error(&error),
    }
}

pub async fn prune(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let filters = match filters(&request) {
        Ok(filters) => filters,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    answer(200, move || local.prune_images(&filters)).await
}

/// Every `names=` of the query (it repeats: `?names=a&names=b`).
fn names(request: &Request<Incoming>) -> Vec<String> {
    let raw = request.uri().query().unwrap_or_default();
    raw.split('&')
        .filter_map(|pair| pair.strip_prefix("names="))
        .map(http::percent_decode)
        .filter(|n| !n.is_empty())
        .collect()
}

// ANCHOR: save
/// `GET /images/get?names=…` (or `/images/{name}/get`): the tarball,
/// streamed as chapter 10 writes it. The names are checked first, while
/// a missing one can still be a 404.
pub async fn save(
    daemon: Arc<Daemon>,
    one: Option<String>,
    request: Request<Incoming>,
) -> Response<Body> {
    let names = one.map(|n| vec![n]).unwrap_or_else(|| names(&request));
    if names.is_empty() {
        return http::error(&ApiError::bad_request("names is required"));
    }
    let (tx, body) = http::channel();
    let (first, checked) = tokio::sync::oneshot::channel();
    let local = daemon.local.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter { tx, first: Some(first) };
        if let Err(error) = local.save(&names, &mut out) {
            if let Some(first) = out.first.take() {
                let _ = first.send(Err(error));
            }
        }
    });
    match checked.await {
        Ok(Err(error)) => http::error(&error),
        _ => http::response(200, Some("application/x-tar"), body),
    }
}
// ANCHOR_END: save

// ANCHOR: channel_writer

/// Bytes written by the engine's thread, sent as the body's chunks; the
/// first write says the tarball has begun.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    first: Option<tokio::sync::oneshot::Sender<Result<(), ApiError>>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(first) = self.first.take() {
            let _ = first.send(Ok(()));
        }
        let gone = |_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away");
        self.tx.blocking_send(Bytes::copy_from_slice(buf)).map_err(gone)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
// ANCHOR_END: channel_writer

// ANCHOR: load
/// `POST /images/load`: the tarball to a temporary file of the store (as
/// it arrives, whatever its size), then chapter 4's load; the answer is a
/// JSON message stream, `{"stream": "Loaded image: …\n"}`.
pub async fn load(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let local = daemon.local.clone();
    let temp = match ch04_image_pull::store::Store::open(local.root()) {
        Ok(store) => store.temp_path("load.tar"),
        Err(e) => return http::error(&ApiError::new(500, e.to_string())),
    };
    if let Err(error) = receive(request, &temp).await {
        let _ = std::fs::remove_file(&temp);
        return http::error(&error);
    }
    let loaded = crate::server::blocking(move || {
        let mut messages = Vec::new();
        let result = local.load_images(&temp, &mut |m| messages.push(m.clone()));
        let _ = std::fs::remove_file(&temp);
        result.map(|()| messages)
    })
    .await;
    let lines = match loaded {
        Ok(messages) => messages,
        Err(e) => vec![json!({ "errorDetail": { "message": e.message }, "error": e.message })],
    };
    let text: String = lines.iter().map(|m| format!("{m}\n")).collect();
    http::response(200, Some("application/json"), Body::Full(Some(Bytes::from(text))))
}
// ANCHOR_END: load

/// Write the request's body to `path`, chunk by chunk (a write of a
/// chunk to a local file is short enough not to need a thread of its own).
async fn receive(request: Request<Incoming>, path: &std::path::Path) -> Result<(), ApiError> {
    let failed = |e: std::io::Error| ApiError::new(500, format!("{}: {e}", path.display()));
    let mut file = std::fs::File::create(path).map_err(failed)?;
    let mut body = request.into_body();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading the tarball: {e}")))?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data).map_err(failed)?;
        }
    }
    file.sync_all().map_err(failed)
}
