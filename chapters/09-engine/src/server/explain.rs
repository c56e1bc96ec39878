//! `--explain` through a daemon: the privileged steps a request made are
//! kept, and go back to the client that asked, in a response header.
//!
//! ```text
//! mini-docker --explain ──POST /containers/{id}/start──▶ mini-dockerd
//!                         X-Mini-Docker-Explain: 1        │ blocking thread: capture
//!                                                         │ helper: steps on fd 3
//!                  ◀──204, X-Mini-Docker-Explain: <base64 of the steps>
//! ```

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::server::http::Body;
use crate::server::{router, Daemon};

/// The request header that asks for the narration, and the response
/// header that carries it.
pub const HEADER: &str = "X-Mini-Docker-Explain";

tokio::task_local! {
    /// The steps of the request this task serves.
    static KEPT: Arc<Mutex<String>>;
}

// ANCHOR: narrated
/// Serve `request`; if the client asked, hand back the steps made for it.
pub async fn narrated(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    if !request.headers().contains_key(HEADER) {
        return router::route(daemon, request).await;
    }
    let kept = Arc::new(Mutex::new(String::new()));
    let mut response = KEPT.scope(Arc::clone(&kept), router::route(daemon, request)).await;
    let steps = std::mem::take(&mut *kept.lock().unwrap_or_else(|e| e.into_inner()));
    let encoded = base64::engine::general_purpose::STANDARD.encode(steps);
    if let (false, Ok(value)) = (encoded.is_empty(), encoded.parse()) {
        response.headers_mut().insert(HEADER, value);
    }
    response
}
// ANCHOR_END: narrated

/// `work` for a blocking thread: within a narrated request, its steps are
/// captured (chapter 1's `explain::capture`) and kept for the response.
pub fn kept_by_request<T>(work: impl FnOnce() -> T) -> impl FnOnce() -> T {
    let kept = KEPT.try_with(Arc::clone).ok();
    move || match kept {
        None => work(),
        Some(kept) => {
            let (result, steps) = ch01_namespaces::explain::capture(work);
            kept.lock().unwrap_or_else(|e| e.into_inner()).push_str(&steps);
            result
        }
    }
}

/// The narration a response carries, decoded.
pub fn steps_of<B>(response: &Response<B>) -> Option<String> {
    let value = response.headers().get(HEADER)?.to_str().ok()?;
    let bytes = base64::engine::general_purpose::STANDARD.decode(value).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}
