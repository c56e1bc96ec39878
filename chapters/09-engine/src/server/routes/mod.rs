//! Chapter 9's routes: the method and the path's segments, to a handler.

mod attach;
mod containers;
mod exec;
mod image_objects;
mod images;
mod logs;
mod manage;
mod networks;
mod objects;
mod pause;
mod system;
mod volumes;
mod wait;

use std::sync::Arc;

use super::router::{Handled, Routed};
use super::Daemon;

/// `X-Registry-Auth` read as pulls read it (chapter 10's push too).
pub use images::credentials;

// ANCHOR: table
/// The route table. A request no route takes is handed back.
pub fn handle(daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
    let Routed { method, segments, request } = routed;
    let request = *request;
    let path: Vec<&str> = segments.iter().map(String::as_str).collect();
    let d = daemon;
    Ok(match (method.as_str(), path.as_slice()) {
        ("GET" | "HEAD", ["_ping"]) => Box::pin(system::ping(d, method == "HEAD")),
        ("GET", ["version"]) => Box::pin(system::version()),
        ("GET", ["info"]) => Box::pin(system::info(d)),
        ("GET", ["events"]) => Box::pin(system::events(d, request)),
        ("POST", ["containers", "create"]) => Box::pin(containers::create(d, request)),
        ("GET", ["containers", "json"]) => Box::pin(containers::list(d, request)),
        ("GET", ["containers", id, "json"]) => Box::pin(containers::inspect(d, id.to_string())),
        ("POST", ["containers", id, "start"]) => Box::pin(containers::start(d, id.to_string())),
        ("POST", ["containers", id, "stop"]) => {
            Box::pin(containers::stop(d, id.to_string(), request))
        }
        ("POST", ["containers", id, "restart"]) => {
            Box::pin(containers::restart(d, id.to_string(), request))
        }
        ("POST", ["containers", id, "kill"]) => {
            Box::pin(containers::kill(d, id.to_string(), request))
        }
        ("DELETE", ["containers", id]) => Box::pin(containers::remove(d, id.to_string(), request)),
        // ANCHOR_END: table
        // ANCHOR: table_more
        ("POST", ["containers", id, "pause"]) => Box::pin(pause::pause(d, id.to_string(), true)),
        ("POST", ["containers", id, "unpause"]) => Box::pin(pause::pause(d, id.to_string(), false)),
        ("POST", ["containers", id, "wait"]) => Box::pin(wait::wait(d, id.to_string(), request)),
        ("GET", ["containers", id, "logs"]) => Box::pin(logs::logs(d, id.to_string(), request)),
        ("POST", ["containers", id, "attach"]) => {
            Box::pin(attach::attach(d, id.to_string(), request))
        }
        ("POST", ["containers", id, "resize"]) => {
            Box::pin(attach::resize(d, id.to_string(), request))
        }
        ("POST", ["containers", id, "exec"]) => Box::pin(exec::create(d, id.to_string(), request)),
        ("POST", ["exec", id, "start"]) => Box::pin(exec::start(d, id.to_string(), request)),
        ("POST", ["exec", id, "resize"]) => Box::pin(exec::resize(d, id.to_string(), request)),
        ("GET", ["exec", id, "json"]) => Box::pin(exec::inspect(d, id.to_string())),
        ("POST", ["images", "create"]) => Box::pin(images::pull(d, request)),
        _ => {
            let routed = Routed { method, segments, request: Box::new(request) };
            return objects::handle(Arc::clone(&d), routed).or_else(|r| manage::handle(d, r));
        }
    })
}
// ANCHOR_END: table_more
