//! `GET /containers/{id}/logs`: the log, framed as the attach stream is —
//! unless the container has a terminal, whose bytes go as they are.

use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::{Request, Response};

use crate::api::{LogsOptions, Output};
use crate::server::http::{self, Body};
use crate::server::{blocking, Daemon};

// ANCHOR: multiplex
/// Docker's stream framing: `[stream, 0, 0, 0, length (u32, big-endian)]`
/// before each piece, stream 1 for stdout and 2 for stderr, so that one
/// connection carries both and the client can tell them apart.
pub fn multiplexed(stream: Output, payload: &[u8]) -> Bytes {
    let kind = match stream {
        Output::Stdout => ch05_run::attach::Kind::Stdout,
        Output::Stderr => ch05_run::attach::Kind::Stderr,
    };
    Bytes::from(ch05_run::attach::frame(kind, payload))
}
// ANCHOR_END: multiplex

/// The content type of a container's stream, for API 1.42 and later.
pub fn stream_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

pub async fn logs(
    daemon: Arc<Daemon>,
    wanted: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let query = http::query(&request);
    let options = LogsOptions {
        follow: http::truthy(&query, "follow"),
        tail: query.get("tail").and_then(|t| t.parse().ok()),
        since: query
            .get("since")
            .and_then(|s| s.split('.').next()?.parse().ok())
            .filter(|s| *s > 0),
        timestamps: http::truthy(&query, "timestamps"),
        stdout: http::truthy(&query, "stdout"),
        stderr: http::truthy(&query, "stderr"),
    };
    let local = daemon.local.clone();
    let who = wanted.clone();
    let tty = match blocking(move || local.inspect(&who)).await {
        Ok(described) => described["Config"]["Tty"] == true,
        Err(error) => return http::error(&error),
    };
    let (tx, body) = http::channel();
    let local = daemon.local.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = |stream: Output, bytes: &[u8]| {
            let chunk =
                if tty { Bytes::copy_from_slice(bytes) } else { multiplexed(stream, bytes) };
            let _ = tx.blocking_send(chunk);
        };
        let _ = local.logs_until(&wanted, &options, &mut out, &|| tx.is_closed());
    });
    http::response(200, Some(stream_type(tty)), body)
}
