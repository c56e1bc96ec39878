//! `POST /containers/{id}/wait?condition=`: the headers go out at once, the
//! body — `{"StatusCode": N}` — when the condition is met. `docker run`
//! sends it *before* the start, so that it cannot miss a quick exit.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::json;
use tokio::sync::mpsc::Sender;

use crate::api::WaitCondition;
use crate::local::containers::{ended_since, first_is_final};
use crate::server::changes::Changes;
use crate::server::http::{self, Body};
use crate::server::{blocking, supervisor, Daemon};
use crate::ApiError;

pub async fn wait(
    daemon: Arc<Daemon>,
    wanted: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let query = http::query(&request);
    let asked = query.get("condition").map_or("", String::as_str);
    let Some(condition) = WaitCondition::parse(asked) else {
        let message =
            format!("invalid condition: {asked:?}: use not-running, next-exit or removed");
        return http::error(&ApiError::bad_request(message));
    };
    let local = daemon.local.clone();
    let id = match blocking(move || local.find(&wanted)).await {
        Ok(id) => id,
        Err(error) => return http::error(&error),
    };
    let (tx, body) = http::channel();
    tokio::spawn(async move {
        if let Some(code) = wait_for(&daemon, &id, condition, &tx).await {
            let answer = json!({ "StatusCode": code, "Error": null });
            let _ = tx.send(Bytes::from(format!("{answer}\n"))).await;
        }
    });
    http::response(200, Some("application/json"), body)
}

// ANCHOR: wait_for
/// Wait for `condition` without holding a thread, and without polling: a
/// running container's supervisor says when it exits; the kernel says when
/// its state changes or it leaves the store ([`Changes`]). `None` when the
/// client went away first.
async fn wait_for(
    d: &Daemon,
    id: &str,
    condition: WaitCondition,
    tx: &Sender<Bytes>,
) -> Option<i64> {
    let store = &d.local.engine.store;
    let mut changes = Changes::watch(store, id); // before the first look: none is missed
    let first = state_of(d, id).await.ok()?;
    if condition == WaitCondition::NotRunning && !first.is_running() {
        return Some(first.exit_code.unwrap_or(0) as i64);
    }
    let mut exit = first.exit_code.unwrap_or(0) as i64;
    // ANCHOR_END: wait_for
    // ANCHOR: wait_for_loop
    loop {
        let mut supervisor = None;
        match state_of(d, id).await {
            Err(_) if !store.is_retiring(id) => {
                return Some(store.kept_exit_code(id).map_or(exit, |c| c as i64));
                // removed
            }
            Ok(now) if now.is_running() => {
                if let Some(told) = exit_told(d, id, tx).await? {
                    exit = told;
                    continue;
                }
                supervisor = now.supervisor_pid;
            }
            Ok(now) if ended_since(&first, &now) || first_is_final(&first, condition) => {
                exit = now.exit_code.unwrap_or(exit as i32) as i64;
                if condition != WaitCondition::Removed {
                    return Some(exit);
                }
            }
            Ok(_) | Err(_) => {}
        }
        tokio::select! {
            _ = tx.closed() => return None,
            _ = changes.next(supervisor) => {}
        }
    }
}
// ANCHOR_END: wait_for_loop

async fn state_of(daemon: &Daemon, id: &str) -> Result<ch05_run::State, ApiError> {
    let (local, id) = (daemon.local.clone(), id.to_string());
    blocking(move || local.state_of(&id)).await
}

/// The exit code as the supervisor tells it: `Some(None)` when it could
/// not be asked (not listening yet, or gone), `None` when the client left.
async fn exit_told(daemon: &Daemon, id: &str, tx: &Sender<Bytes>) -> Option<Option<i64>> {
    let dir = daemon.local.engine.store.container_dir(id);
    let Ok(mut socket) = supervisor::connect(&dir, false, Duration::ZERO).await else {
        return Some(None);
    };
    tokio::select! {
        _ = tx.closed() => None,
        told = supervisor::read_exit(&mut socket) => Some(told),
    }
}
