//! The container routes: create, list, inspect, start, stop, restart,
//! kill, remove. Each is one call of the engine, on a thread of its own.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};

use crate::server::http::{self, Body};
use crate::server::{blocking, monitor, Daemon};
use crate::types::{parse_filters, ContainerCreateBody};
use crate::ApiError;

/// The answer of a call that returns JSON.
fn answer(status: u16, result: Result<Value, ApiError>) -> Response<Body> {
    match result {
        Ok(value) => http::json(status, &value),
        Err(error) => http::error(&error),
    }
}

/// 204 when it changed something, 304 when there was nothing to do.
fn done(result: Result<bool, ApiError>) -> Response<Body> {
    match result {
        Ok(true) => http::empty(204),
        Ok(false) => http::empty(304),
        Err(error) => http::error(&error),
    }
}

// ANCHOR: create
pub async fn create(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let name = http::query(&request).get("name").cloned();
    let body: ContainerCreateBody = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    let image = body.image.clone();
    let created = blocking(move || local.create(name.as_deref(), &body)).await;
    if let Ok(created) = &created {
        let (name, _) = monitor::names(&daemon, &created.id).await;
        daemon.events.emit(
            "container",
            "create",
            &created.id,
            &[("image", &image), ("name", &name)],
        );
    }
    answer(201, created.map(|c| json!({ "Id": c.id, "Warnings": c.warnings })))
}
// ANCHOR_END: create

pub async fn list(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let all = http::truthy(&query, "all");
    let filters = match parse_filters(query.get("filters").map_or("", String::as_str)) {
        Ok(filters) => filters,
        Err(message) => return http::error(&ApiError::bad_request(message)),
    };
    let limit: Option<usize> = query.get("limit").and_then(|l| l.parse().ok()).filter(|l| *l > 0);
    let local = daemon.local.clone();
    let listed = blocking(move || local.list(all || limit.is_some(), &filters)).await;
    let limited = listed.map(|mut l| {
        l.truncate(limit.unwrap_or(usize::MAX));
        Value::Array(l)
    });
    answer(200, limited)
}

pub async fn inspect(daemon: Arc<Daemon>, id: String) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, blocking(move || local.inspect(&id)).await)
}

// ANCHOR: start
/// `start`: if a client attached first (`docker run`), the container waits
/// for that client before it runs, so the client misses nothing.
pub async fn start(daemon: Arc<Daemon>, wanted: String) -> Response<Body> {
    let local = daemon.local.clone();
    let id = match blocking(move || local.find(&wanted)).await {
        Ok(id) => id,
        Err(error) => return http::error(&error),
    };
    let wait_for_attach = daemon.take_expected_attach(&id);
    let (local, started_id) = (daemon.local.clone(), id.clone());
    let options = ch05_run::StartOptions { wait_for_attach };
    let started = blocking(move || local.start(&started_id, options)).await;
    if let Ok(true) = started {
        let (name, image) = monitor::names(&daemon, &id).await;
        daemon.events.emit("container", "start", &id, &[("name", &name), ("image", &image)]);
        monitor::watch(Arc::clone(&daemon), id);
    }
    done(started)
}
// ANCHOR_END: start

fn timeout(request: &Request<Incoming>) -> Option<u64> {
    http::query(request).get("t").and_then(|t| t.parse().ok())
}

/// The full id of `wanted`, and whether it runs.
async fn running(daemon: &Daemon, wanted: &str) -> Result<(String, bool), ApiError> {
    let (local, wanted) = (daemon.local.clone(), wanted.to_string());
    blocking(move || {
        let id = local.find(&wanted)?;
        let running = local.state_of(&id)?.is_running();
        Ok((id, running))
    })
    .await
}

// ANCHOR: stop
/// `stop`: dockerd's events for it are `kill` with the stop signal, `die`
/// (the monitor sees the exit) and `stop`.
pub async fn stop(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let (full, was_running) = match running(&daemon, &id).await {
        Ok(found) => found,
        Err(error) => return http::error(&error),
    };
    if was_running {
        monitor::container_event(&daemon, "kill", &full, &[("signal", "15")]).await;
    }
    let (local, t, stopping) = (daemon.local.clone(), timeout(&request), full.clone());
    let stopped = blocking(move || local.stop(&stopping, t)).await;
    if let Ok(true) = stopped {
        monitor::container_event(&daemon, "stop", &full, &[]).await;
    }
    done(stopped)
}
// ANCHOR_END: stop

/// `restart`: `kill`, `die`, `stop`, `start`, `restart`, as dockerd.
pub async fn restart(
    daemon: Arc<Daemon>,
    id: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let (full, was_running) = match running(&daemon, &id).await {
        Ok(found) => found,
        Err(error) => return http::error(&error),
    };
    if was_running {
        monitor::container_event(&daemon, "kill", &full, &[("signal", "15")]).await;
    }
    let (local, t, wanted) = (daemon.local.clone(), timeout(&request), full.clone());
    let restarted = blocking(move || local.restart(&wanted, t).map(|()| true)).await;
    if restarted.is_ok() {
        for action in ["stop", "start", "restart"].iter().skip(usize::from(!was_running)) {
            monitor::container_event(&daemon, action, &full, &[]).await;
        }
        monitor::watch(Arc::clone(&daemon), full);
    }
    done(restarted)
}

pub async fn kill(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let signal = http::query(&request).get("signal").cloned().unwrap_or_default();
    let local = daemon.local.clone();
    let (wanted, sent) = (id.clone(), signal.clone());
    let killed = blocking(move || {
        let full = local.find(&wanted)?;
        local.kill(&full, &sent).map(|()| full)
    })
    .await;
    match killed {
        Ok(full) => {
            let number =
                ch05_run::cli::parse_signal(if signal.is_empty() { "KILL" } else { &signal })
                    .map(|s| (s as i32).to_string())
                    .unwrap_or(signal);
            monitor::container_event(&daemon, "kill", &full, &[("signal", &number)]).await;
            http::empty(204)
        }
        Err(error) => http::error(&error),
    }
}

pub async fn remove(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let (force, volumes) = (http::truthy(&query, "force"), http::truthy(&query, "v"));
    let local = daemon.local.clone();
    let wanted = id.clone();
    let removed = blocking(move || {
        let full = local.find(&wanted)?;
        let config = local.engine.config(&full)?;
        local.remove(&full, force, volumes).map(|()| (full, config.name, config.image))
    })
    .await;
    match removed {
        Ok((full, name, image)) => {
            monitor::emit_named(&daemon, "destroy", &full, (&name, &image), &[]);
            http::empty(204)
        }
        Err(error) => http::error(&error),
    }
}
