//! The routes of [`Manage`]: top, stats, rename, update, archive, prune.
//! Each calls `Local`, as every other route does.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};
use serde_json::json;

use crate::manage::{Manage, PathStat, UpdateBody};
use crate::server::http::{self, Body};
use crate::server::router::{Handled, Routed};
use crate::server::{blocking, monitor, Daemon};
use crate::types::parse_filters;
use crate::ApiError;

/// The largest archive `PUT` takes (a `docker cp` into a container).
const MAX_ARCHIVE: usize = 1 << 30;

// ANCHOR: table
/// This file's part of the route table.
pub fn handle(daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
    let path: Vec<&str> = routed.segments.iter().map(String::as_str).collect();
    let d = daemon;
    let handled: Handled = match (routed.method.as_str(), path.as_slice()) {
        ("GET", ["containers", id, "top"]) => Box::pin(top(d, id.to_string(), *routed.request)),
        ("GET", ["containers", id, "stats"]) => Box::pin(stats(d, id.to_string(), *routed.request)),
        ("POST", ["containers", id, "rename"]) => {
            Box::pin(rename(d, id.to_string(), *routed.request))
        }
        ("POST", ["containers", id, "update"]) => {
            Box::pin(update(d, id.to_string(), *routed.request))
        }
        ("POST", ["containers", "prune"]) => Box::pin(prune(d, *routed.request)),
        ("HEAD" | "GET", ["containers", id, "archive"]) => {
            let head = routed.method == "HEAD";
            Box::pin(archive_get(d, id.to_string(), *routed.request, head))
        }
        ("PUT", ["containers", id, "archive"]) => {
            Box::pin(archive_put(d, id.to_string(), *routed.request))
        }
        _ => return Err(routed),
    };
    Ok(handled)
}
// ANCHOR_END: table

fn answer<T>(result: Result<T, ApiError>, ok: impl FnOnce(T) -> Response<Body>) -> Response<Body> {
    match result {
        Ok(value) => ok(value),
        Err(error) => http::error(&error),
    }
}

async fn top(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let ps_args = http::query(&request).get("ps_args").cloned().unwrap_or_default();
    let local = daemon.local.clone();
    answer(blocking(move || local.container_top(&id, &ps_args)).await, |v| http::json(200, &v))
}

// ANCHOR: stats
/// `stats`: one JSON sample a second on a stream, or one (of two taken) without.
async fn stats(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    // `stream=0`, `stream=false`, docker-py's `stream=False`: one sample.
    let stream =
        !query.get("stream").is_some_and(|s| !http::truthy(&query, "stream") && !s.is_empty());
    let local = daemon.local.clone();
    let wanted = id.clone();
    if let Err(error) = blocking(move || local.find(&wanted)).await {
        return http::error(&error);
    }
    let (tx, body) = http::channel();
    let local = daemon.local.clone();
    tokio::task::spawn_blocking(move || {
        let mut send = |sample: &serde_json::Value| {
            tx.blocking_send(Bytes::from(format!("{sample}\n"))).is_ok()
        };
        let _ = local.container_stats(&id, stream, &mut send);
    });
    http::response(200, Some("application/json"), body)
}
// ANCHOR_END: stats

async fn rename(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let Some(name) = http::query(&request).get("name").cloned() else {
        return http::error(&ApiError::bad_request("rename needs a new name (name=)"));
    };
    let local = daemon.local.clone();
    let (wanted, new) = (id.clone(), name.clone());
    let renamed = blocking(move || {
        let full = local.find(&wanted)?;
        let config = local.engine.config(&full)?;
        local.container_rename(&full, &new).map(|()| (full, config.name, config.image))
    })
    .await;
    answer(renamed, |(full, old, image)| {
        let old = format!("/{old}");
        let extra = [("oldName", old.as_str())];
        monitor::emit_named(&daemon, "rename", &full, (&name, &image), &extra);
        http::empty(204)
    })
}

async fn update(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let body: UpdateBody = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    let updated = blocking(move || {
        let full = local.find(&id)?;
        let config = local.engine.config(&full)?;
        let warnings = local.container_update(&full, &body)?;
        Ok::<_, ApiError>((full, config.name, config.image, warnings))
    })
    .await;
    answer(updated, |(full, name, image, warnings)| {
        monitor::emit_named(&daemon, "update", &full, (&name, &image), &[]);
        http::json(200, &json!({ "Warnings": warnings }))
    })
}

async fn prune(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let filters =
        match parse_filters(http::query(&request).get("filters").map_or("", String::as_str)) {
            Ok(filters) => filters,
            Err(message) => return http::error(&ApiError::bad_request(message)),
        };
    let local = daemon.local.clone();
    let pruned = blocking(move || {
        let names: HashMap<String, (String, String)> =
            local.engine.list()?.into_iter().map(|(c, _)| (c.id, (c.name, c.image))).collect();
        local.container_prune(&filters).map(|report| (report, names))
    })
    .await;
    answer(pruned, |(report, names)| {
        for id in report["ContainersDeleted"].as_array().into_iter().flatten() {
            let id = id.as_str().unwrap_or_default();
            let (name, image) = names.get(id).cloned().unwrap_or_default();
            monitor::emit_named(&daemon, "destroy", id, (&name, &image), &[]);
        }
        daemon.events.emit(
            "container",
            "prune",
            "",
            &[("reclaimed", &report["SpaceReclaimed"].to_string())],
        );
        http::json(200, &report)
    })
}

// ANCHOR: archive
/// `GET`/`HEAD /containers/{id}/archive?path=`: the stat in a header, and
/// (for `GET`) the tar.
async fn archive_get(
    daemon: Arc<Daemon>,
    id: String,
    request: Request<Incoming>,
    head: bool,
) -> Response<Body> {
    let Some(path) = http::query(&request).get("path").cloned() else {
        return http::error(&ApiError::bad_request("archive needs a path (path=)"));
    };
    let local = daemon.local.clone();
    let got = blocking(move || match head {
        true => local.archive_stat(&id, &path).map(|s| (s, Vec::new())),
        false => local.archive_get(&id, &path),
    })
    .await;
    answer(got, |(stat, tar)| {
        let body = if head { None } else { Some(Bytes::from(tar)) };
        let mut response = http::response(200, Some("application/x-tar"), Body::Full(body));
        if let Ok(value) = HeaderValue::from_str(&stat_header(&stat)) {
            response.headers_mut().insert("X-Docker-Container-Path-Stat", value);
        }
        response
    })
}
// ANCHOR_END: archive

/// base64 of the stat's JSON, as dockerd sends it.
pub fn stat_header(stat: &PathStat) -> String {
    let json = serde_json::to_vec(stat).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(json)
}

async fn archive_put(
    daemon: Arc<Daemon>,
    id: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let Some(path) = http::query(&request).get("path").cloned() else {
        return http::error(&ApiError::bad_request("archive needs a path (path=)"));
    };
    let limited = http_body_util::Limited::new(request.into_body(), MAX_ARCHIVE);
    let tar = match tokio::time::timeout(Duration::from_secs(600), limited.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => return http::error(&ApiError::new(413, format!("the archive: {e}"))),
        Err(_) => return http::error(&ApiError::bad_request("the archive did not arrive in time")),
    };
    let local = daemon.local.clone();
    answer(blocking(move || local.archive_put(&id, &path, &tar)).await, |()| http::empty(200))
}
