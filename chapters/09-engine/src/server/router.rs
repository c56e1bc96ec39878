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
use crate::system::strip_version;

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
