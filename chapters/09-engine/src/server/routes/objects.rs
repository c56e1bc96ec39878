//! The object routes: images (besides pull), networks, volumes and
//! `system/df`. Image names may hold `/` and `:`, so an image route is
//! matched by the path's ends, and its middle is the name.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;

use super::{image_objects as images, networks, volumes};
use crate::server::http::{self, Body};
use crate::server::router::{Handled, Routed};
use crate::server::{blocking, Daemon};
use crate::types::{parse_filters, Filters};
use crate::ApiError;

// ANCHOR: objects_table
/// The object routes; a request none takes is handed back.
pub fn handle(daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
    let Routed { method, segments, request } = routed;
    let request = *request;
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    let d = daemon;
    let name = |parts: &[&str]| parts.join("/");
    Ok(match (method.as_str(), path.as_slice()) {
        ("GET", ["images", "json"]) => Box::pin(images::list(d, request)),
        ("GET", ["images", "get"]) => Box::pin(images::save(d, None, request)),
        ("POST", ["images", "load"]) => Box::pin(images::load(d, request)),
        ("POST", ["images", "prune"]) => Box::pin(images::prune(d, request)),
        ("GET", ["images", n @ .., "json"]) if !n.is_empty() => {
            Box::pin(images::inspect(d, name(n)))
        }
        ("GET", ["images", n @ .., "history"]) if !n.is_empty() => {
            Box::pin(images::history(d, name(n)))
        }
        ("GET", ["images", n @ .., "get"]) if !n.is_empty() => {
            Box::pin(images::save(d, Some(name(n)), request))
        }
        ("POST", ["images", n @ .., "tag"]) if !n.is_empty() => {
            Box::pin(images::tag(d, name(n), request))
        }
        ("DELETE", ["images", n @ ..]) if !n.is_empty() => {
            Box::pin(images::remove(d, name(n), request))
        }
        // ANCHOR_END: objects_table
        // ANCHOR: objects_table_more
        ("GET", ["networks"]) => Box::pin(networks::list(d)),
        ("POST", ["networks", "create"]) => Box::pin(networks::create(d, request)),
        ("POST", ["networks", "prune"]) => Box::pin(networks::prune(d)),
        ("GET", ["networks", n]) => Box::pin(networks::inspect(d, n.to_string())),
        ("DELETE", ["networks", n]) => Box::pin(networks::remove(d, n.to_string())),
        ("POST", ["networks", n, "connect"]) => {
            Box::pin(networks::connect(d, n.to_string(), false, request))
        }
        ("POST", ["networks", n, "disconnect"]) => {
            Box::pin(networks::connect(d, n.to_string(), true, request))
        }
        ("GET", ["volumes"]) => Box::pin(volumes::list(d)),
        ("POST", ["volumes", "create"]) => Box::pin(volumes::create(d, request)),
        ("POST", ["volumes", "prune"]) => Box::pin(volumes::prune(d, request)),
        ("GET", ["volumes", n]) => Box::pin(volumes::inspect(d, n.to_string())),
        ("DELETE", ["volumes", n]) => Box::pin(volumes::remove(d, n.to_string(), request)),
        ("GET", ["system", "df"]) => Box::pin(system_df(d)),
        _ => return Err(Routed { method, segments, request: Box::new(request) }),
    })
}
// ANCHOR_END: objects_table_more

/// The answer of an engine call made on a thread of its own: its JSON
/// with `status`, or the error's status and message.
pub async fn answer<T: serde::Serialize + Send + 'static>(
    status: u16,
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Response<Body> {
    match blocking(work).await {
        Ok(value) => match serde_json::to_value(value) {
            Ok(Value::Null) => http::empty(status),
            Ok(value) => http::json(status, &value),
            Err(e) => http::error(&ApiError::new(500, e.to_string())),
        },
        Err(error) => http::error(&error),
    }
}

/// The `filters` query parameter.
pub fn filters(request: &Request<Incoming>) -> Result<Filters, ApiError> {
    let query = http::query(request);
    parse_filters(query.get("filters").map_or("", String::as_str)).map_err(ApiError::bad_request)
}

async fn system_df(daemon: Arc<Daemon>) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.disk_usage()).await
}
