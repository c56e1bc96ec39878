//! `POST /images/{name}/push?tag=TAG` on chapter 9's daemon, and the
//! client's side of it: the push of [`crate::push_stream`], its messages
//! streamed as dockerd streams them. The credentials come with the
//! request, as the docker CLI sends them: `X-Registry-Auth`, base64url of
//! `{"username":…,"password":…,"serveraddress":…}` (`e30=`, `{}`, for none).

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use ch04_image_pull::registry::RegistryOptions;
use ch04_image_pull::{auth, Reference};
use ch09_engine::server::http;
use ch09_engine::server::router::{Handled, Routed};
use ch09_engine::server::{Daemon, Routes};
use ch09_engine::ApiError;
use serde_json::{json, Value};

use crate::push_stream::{daemon_options, error_of, InProcess, PushTarget};

/// Chapter 10's `POST /images/{name}/push`.
pub struct PushRoutes;

impl Routes for PushRoutes {
    fn handle(&self, daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
        match (routed.method.as_str(), routed.segments.as_slice()) {
            ("POST", [images, name @ .., push])
                if images == "images" && push == "push" && !name.is_empty() =>
            {
                let name = name.join("/");
                Ok(Box::pin(post_push(daemon, name, routed)))
            }
            _ => Err(routed),
        }
    }
}

// ANCHOR: post_push
/// The name is checked before the stream starts (a bad one is a 400, as
/// dockerd answers); after that, a failure is the stream's last message.
async fn post_push(daemon: Arc<Daemon>, name: String, routed: Routed) -> super::Response {
    let request = *routed.request;
    let query = http::query(&request);
    let tag = query.get("tag").filter(|t| !t.is_empty()).cloned();
    let full = match &tag {
        Some(tag) => format!("{name}:{tag}"),
        None => name.clone(),
    };
    if let Err(error) = Reference::parse(&full) {
        return http::error(&ApiError::bad_request(format!("invalid reference format: {error}")));
    }
    let header = request.headers().get("X-Registry-Auth").and_then(|h| h.to_str().ok());
    let credentials = header.and_then(ch09_engine::server::routes::credentials);
    let local = daemon.local.clone();
    let registry = RegistryOptions { credentials, ..local.settings.registry_options(local.root()) };
    let target = InProcess { root: local.root().to_path_buf(), options: daemon_options(registry) };
    let (tx, stream) = http::channel();
    std::thread::spawn(move || {
        let mut send = |message: &Value| drop(tx.blocking_send(format!("{message}\n").into()));
        if let Err(error) = target.push(&name, tag.as_deref(), &mut send) {
            let message = format!("{error:#}");
            send(&json!({ "errorDetail": { "message": message }, "error": message }));
        }
    });
    http::response(200, Some("application/json"), stream)
}
// ANCHOR_END: post_push

// ANCHOR: daemon_push
/// `mini-docker -H … push`: the same push, asked of a daemon, with the
/// credentials this client has for the registry (`login`, or Docker's
/// config.json).
pub struct DaemonPush<'a> {
    pub remote: &'a ch09_engine::Remote,
    pub credential_files: Vec<PathBuf>,
}

impl PushTarget for DaemonPush<'_> {
    fn push(
        &self,
        name: &str,
        tag: Option<&str>,
        out: &mut dyn FnMut(&Value),
    ) -> anyhow::Result<()> {
        let domain = Reference::parse(name)?.domain;
        let header = registry_auth(auth::lookup(&self.credential_files, &domain).as_ref(), &domain);
        let mut path = format!("/images/{name}/push");
        if let Some(tag) = tag {
            path.push_str(&format!("?tag={}", super::encode(tag)));
        }
        let headers = [("Content-Type", "application/json"), ("X-Registry-Auth", header.as_str())];
        let mut failed = None;
        self.remote
            .post_json_stream(&path, b"{}".to_vec(), &headers, &mut |message| match error_of(
                message,
            ) {
                Some(error) => failed = failed.take().or(Some(error)),
                None => out(message),
            })
            .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        failed.map_or(Ok(()), Err)
    }
}
// ANCHOR_END: daemon_push

/// The `X-Registry-Auth` header: base64url JSON, `e30=` without credentials.
pub fn registry_auth(credentials: Option<&auth::Credentials>, domain: &str) -> String {
    let body = match credentials {
        Some(c) => {
            json!({ "username": c.username, "password": c.password, "serveraddress": domain })
        }
        None => json!({}),
    };
    base64::engine::general_purpose::URL_SAFE.encode(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auth_header_is_what_the_daemon_reads_back() {
        assert_eq!(registry_auth(None, "r.test"), "e30=");
        let creds = auth::Credentials { username: "ann".into(), password: "p/w+?".into() };
        let header = registry_auth(Some(&creds), "r.test:5000");
        assert!(!header.contains('+') && !header.contains('/'), "base64url: {header}");
        let back = ch09_engine::server::routes::credentials(&header).unwrap();
        assert_eq!((back.username.as_str(), back.password.as_str()), ("ann", "p/w+?"));
    }
}
