//! From a request line to a handler: the version prefix first, then the
//! method and the path's segments. Image names may contain `/` and `:`,
//! so image routes match the path's end and take the middle as the name.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};

use super::http::{self, Body};
use super::routes;
use super::Daemon;
use crate::error::ApiError;
use crate::system::{API_VERSION, MIN_API_VERSION};

/// A request on its way to a handler.
pub struct Routed {
    pub method: String,
    /// The path without its version prefix, split at `/`.
    pub segments: Vec<String>,
    pub request: Box<Request<Incoming>>,
}

pub type Handled = Pin<Box<dyn Future<Output = Response<Body>> + Send>>;

// ANCHOR: routes_seam
/// Routes a later chapter adds to the daemon (chapter 10's build and push,
/// chapter 11's swarm): handle the request, or hand it back.
pub trait Routes: Send + Sync {
    fn handle(&self, daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed>;

    /// What `_ping`'s `Swarm` header says, if this chapter knows (chapter 11).
    fn swarm_header(&self) -> Option<String> {
        None
    }

    /// Fill in the parts of `GET /info` this chapter owns (chapter 11's `Swarm`).
    fn amend_info(&self, _info: &mut serde_json::Value) {}
}
// ANCHOR_END: routes_seam

// ANCHOR: version_prefix
/// `/v1.47/containers/json` → `/containers/json`; no prefix is the newest.
/// A version outside what we speak is refused, as dockerd does.
pub fn strip_version(path: &str) -> Result<&str, ApiError> {
    let Some(rest) = path.strip_prefix("/v") else { return Ok(path) };
    let (version, rest) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let Some(asked) = parse_version(version) else { return Ok(path) };
    if asked > parse_version(API_VERSION).expect("ours parses") {
        return Err(ApiError::bad_request(format!(
            "client version {version} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    if asked < parse_version(MIN_API_VERSION).expect("ours parses") {
        return Err(ApiError::bad_request(format!(
            "client version {version} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    Ok(rest)
}

/// `1.47` → (1, 47); anything else is not a version.
fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}
// ANCHOR_END: version_prefix

/// Answer one request.
pub async fn route(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let path = match strip_version(&path) {
        Ok(path) => path.to_string(),
        Err(error) => return http::error(&error),
    };
    let segments = path.trim_matches('/').split('/').map(http::percent_decode).collect();
    let routed =
        Routed { method: request.method().to_string(), segments, request: Box::new(request) };
    let mut routed = match routes::handle(Arc::clone(&daemon), routed) {
        Ok(handled) => return handled.await,
        Err(routed) => routed,
    };
    for extra in daemon.routes.iter() {
        routed = match extra.handle(Arc::clone(&daemon), routed) {
            Ok(handled) => return handled.await,
            Err(routed) => routed,
        };
    }
    let message = format!("page not found: {} {path}", routed.method);
    http::error(&ApiError::not_found(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_prefixes() {
        assert_eq!(strip_version("/v1.47/containers/json").unwrap(), "/containers/json");
        assert_eq!(strip_version("/v1.24/_ping").unwrap(), "/_ping");
        assert_eq!(strip_version("/containers/json").unwrap(), "/containers/json");
        assert_eq!(strip_version("/volumes/v1.2x").unwrap(), "/volumes/v1.2x");
        assert_eq!(strip_version("/v1.47").unwrap(), "/");
        let new = strip_version("/v1.99/info").unwrap_err();
        assert_eq!(new.status, 400);
        assert!(new.message.contains("too new"));
        assert!(strip_version("/v1.12/info").unwrap_err().message.contains("too old"));
    }
}
