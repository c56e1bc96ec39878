//! A container's summary: one entry of `docker ps`, with the field names of
//! the Engine API's `GET /containers/json`. Chapter 5 fills in what it
//! knows; chapter 6 adds the ports and networks, chapter 7 the mounts.

use std::time::SystemTime;

use serde_json::{json, Value};

use crate::container::ContainerConfig;
use crate::lifecycle::Engine;
use crate::state::{State, Status};

// ANCHOR: summarize
/// One container's summary, as of `now`.
pub fn summarize(
    engine: &Engine,
    config: &ContainerConfig,
    state: &State,
    now: SystemTime,
) -> Value {
    let created = humantime::parse_rfc3339(&config.created).ok();
    let created_unix = created.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
    let mut summary = json!({
        "Id": config.id,
        "Names": [format!("/{}", config.name)],
        "Image": config.image,
        "ImageID": config.image_id,
        "Command": config.argv.join(" "),
        "Created": created_unix.map_or(0, |d| d.as_secs()),
        "Ports": [],
        "Labels": {},
        "State": state_name(state),
        "Status": state.status_line(now),
        "HostConfig": { "NetworkMode": "none" },
        "NetworkSettings": { "Networks": {} },
        "Mounts": [],
    });
    for extension in engine.extensions() {
        extension.summarize(&engine.root, config, &mut summary);
    }
    summary
}
// ANCHOR_END: summarize

/// `docker inspect`'s and the API's name of a container's state: a
/// paused container is running, and called `paused`.
pub fn state_name(state: &State) -> &'static str {
    if state.is_paused() {
        "paused"
    } else {
        status_name(state.status)
    }
}

/// The name of a status.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Created => "created",
        Status::Running => "running",
        Status::Exited => "exited",
    }
}

/// `0.0.0.0:8080->80/tcp, 53/udp`: a summary's `Ports` as `docker ps` shows them.
pub fn ports_text(summary: &Value) -> String {
    let ports = summary["Ports"].as_array().map(Vec::as_slice).unwrap_or_default();
    let text = |p: &Value| {
        let (private, kind) = (&p["PrivatePort"], p["Type"].as_str().unwrap_or("tcp"));
        match (p["IP"].as_str(), p["PublicPort"].as_u64()) {
            (Some(ip), Some(public)) => format!("{ip}:{public}->{private}/{kind}"),
            _ => format!("{private}/{kind}"),
        }
    };
    ports.iter().map(text).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_read_like_docker_ps() {
        let summary = json!({"Ports": [
            {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
            {"PrivatePort": 53, "Type": "udp"},
        ]});
        assert_eq!(ports_text(&summary), "0.0.0.0:8080->80/tcp, 53/udp");
        assert_eq!(ports_text(&json!({"Ports": []})), "");
    }
}
