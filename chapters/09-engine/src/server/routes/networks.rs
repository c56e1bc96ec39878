//! `/networks/...`: list, create, inspect, delete, prune.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::Value;

use super::objects::answer;
use crate::server::http::{self, Body};
use crate::server::{blocking, Daemon};
use ch06_networking::Changed;

pub async fn list(daemon: Arc<Daemon>) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.networks()).await
}

pub async fn inspect(daemon: Arc<Daemon>, name: String) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.network(&name)).await
}

/// `POST /networks/create`: 201 `{"Id": …, "Warning": ""}`.
pub async fn create(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let body: Value = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    let name = body["Name"].as_str().unwrap_or_default().to_string();
    match blocking(move || local.create_network(&body)).await {
        Ok(created) => {
            let id = created["Id"].as_str().unwrap_or_default();
            daemon.events.emit("network", "create", id, &[("name", &name), ("type", "bridge")]);
            http::json(201, &created)
        }
        Err(error) => http::error(&error),
    }
}

/// `DELETE /networks/{name}`: 204.
pub async fn remove(daemon: Arc<Daemon>, name: String) -> Response<Body> {
    let local = daemon.local.clone();
    let wanted = name.clone();
    match blocking(move || local.remove_network(&wanted)).await {
        Ok(()) => {
            daemon.events.emit("network", "destroy", &name, &[("name", &name), ("type", "bridge")]);
            http::empty(204)
        }
        Err(error) => http::error(&error),
    }
}

pub async fn prune(daemon: Arc<Daemon>) -> Response<Body> {
    let local = daemon.local.clone();
    answer(200, move || local.prune_networks()).await
}

// ANCHOR: connect
/// `POST /networks/{name}/connect` (`disconnect: false`) and
/// `/disconnect`: 200 with no body, and a `connect` or `disconnect` event
/// of the network naming the container, as dockerd's.
pub async fn connect(
    daemon: Arc<Daemon>,
    name: String,
    disconnect: bool,
    request: Request<Incoming>,
) -> Response<Body> {
    let body: Value = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    let changed = blocking(move || match disconnect {
        false => local.connect_network(&name, &body),
        true => local.disconnect_network(&name, &body),
    });
    match changed.await {
        Ok(Changed { network, container_id }) => {
            let action = if disconnect { "disconnect" } else { "connect" };
            let attributes =
                [("container", container_id.as_str()), ("name", &network.name), ("type", "bridge")];
            daemon.events.emit("network", action, &network.id, &attributes);
            http::empty(200)
        }
        Err(error) => http::error(&error),
    }
}
// ANCHOR_END: connect
