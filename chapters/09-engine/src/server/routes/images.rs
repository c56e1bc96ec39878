//! The image routes. A pull answers with a stream of JSON messages, one
//! per line, as the layers arrive.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use ch04_image_pull::auth::Credentials;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;

use crate::server::http::{self, Body};
use crate::server::Daemon;
use crate::ApiError;

// ANCHOR: pull
/// `POST /images/create?fromImage=NAME&tag=TAG`, credentials in
/// `X-Registry-Auth`. Errors before the first message are a status; after
/// it, they travel inside the stream as `errorDetail`.
pub async fn pull(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let Some(image) = query.get("fromImage").filter(|i| !i.is_empty()) else {
        return http::error(&ApiError::bad_request(
            "fromImage is required (image import is not supported)",
        ));
    };
    let reference = match query.get("tag").map(String::as_str) {
        None | Some("") => image.clone(),
        Some(digest) if digest.starts_with("sha256:") => format!("{image}@{digest}"),
        Some(tag) => format!("{image}:{tag}"),
    };
    let credentials =
        request.headers().get("X-Registry-Auth").and_then(|h| credentials(h.to_str().ok()?));
    let platform = query.get("platform").cloned();
    let (tx, body) = http::channel();
    let local = daemon.local.clone();
    tokio::task::spawn_blocking(move || {
        let mut send = |message: &serde_json::Value| {
            let _ = tx.blocking_send(Bytes::from(format!("{message}\n")));
        };
        if let Err(error) = local.pull_as(&reference, platform.as_deref(), credentials, &mut send) {
            send(&json!({ "errorDetail": { "message": error.message }, "error": error.message }));
        }
    });
    http::response(200, Some("application/json"), body)
}
// ANCHOR_END: pull

/// `X-Registry-Auth`: base64url of `{"username": …, "password": …}`;
/// `e30=` (`{}`) when the client has none.
pub fn credentials(header: &str) -> Option<Credentials> {
    let engine = base64::engine::general_purpose::URL_SAFE;
    let bytes = engine
        .decode(header.trim())
        .or_else(|_| base64::engine::general_purpose::STANDARD.decode(header.trim()))
        .ok()?;
    let auth: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let username = auth["username"].as_str().filter(|u| !u.is_empty())?.to_string();
    let password = auth["password"].as_str().unwrap_or_default().to_string();
    Some(Credentials { username, password })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_auth_headers() {
        assert!(credentials("e30=").is_none(), "{{}}: no credentials");
        let header = base64::engine::general_purpose::URL_SAFE
            .encode(r#"{"username":"ann","password":"pw","serveraddress":"localhost:5000"}"#);
        let creds = credentials(&header).unwrap();
        assert_eq!((creds.username.as_str(), creds.password.as_str()), ("ann", "pw"));
        assert!(credentials("!!!").is_none());
    }
}
