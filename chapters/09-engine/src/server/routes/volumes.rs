//! `/volumes/...`: list, create, inspect, delete, prune.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;

use super::objects::{answer, filters};
use crate::server::http::{self, Body};
use crate::server::{blocking, Daemon};

pub async fn list(daemon: Arc<Daemon>) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.volumes()).await
}

pub async fn inspect(daemon: Arc<Daemon>, name: String) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.volume(&name)).await
}

/// `POST /volumes/create`: 201 and the volume.
pub async fn create(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let body: Value = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    match blocking(move || local.create_volume(&body)).await {
        Ok(volume) => {
            let name = volume["Name"].as_str().unwrap_or_default();
            daemon.events.emit("volume", "create", name, &[("driver", "local")]);
            http::json(201, &volume)
        }
        Err(error) => http::error(&error),
    }
}

/// `DELETE /volumes/{name}?force=`: 204.
pub async fn remove(
    daemon: Arc<Daemon>,
    name: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let force = http::truthy(&http::query(&request), "force");
    let local = daemon.local.clone();
    let wanted = name.clone();
    match blocking(move || local.remove_volume(&wanted, force)).await {
        Ok(()) => {
            daemon.events.emit("volume", "destroy", &name, &[("driver", "local")]);
            http::empty(204)
        }
        Err(error) => http::error(&error),
    }
}

pub async fn prune(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let filters = match filters(&request) {
        Ok(filters) => filters,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    answer(200, move || local.prune_volumes(&filters)).await
}
