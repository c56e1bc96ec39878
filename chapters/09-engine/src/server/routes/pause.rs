//! `POST /containers/{id}/pause` and `/unpause`: 204, or Docker's 409s
//! (not running, already paused, not paused), with a `pause` or `unpause`
//! event for the container.

use std::sync::Arc;

use hyper::Response;

use crate::server::http::{self, Body};
use crate::server::{blocking, Daemon};

// ANCHOR: pause
pub async fn pause(daemon: Arc<Daemon>, wanted: String, frozen: bool) -> Response<Body> {
    let local = daemon.local.clone();
    let done = blocking(move || {
        let id = if frozen { local.pause(&wanted)? } else { local.unpause(&wanted)? };
        let config = local.engine.config(&id)?;
        Ok::<_, crate::ApiError>((id, config.name, config.image))
    })
    .await;
    match done {
        Ok((id, name, image)) => {
            let action = if frozen { "pause" } else { "unpause" };
            let attributes = [("image", image.as_str()), ("name", name.as_str())];
            daemon.events.emit("container", action, &id, &attributes);
            http::empty(204)
        }
        Err(error) => http::error(&error),
    }
}
// ANCHOR_END: pause
