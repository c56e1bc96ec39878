//! `POST /containers/{id}/attach`: the HTTP connection *becomes* the
//! container's terminal. The client asks to upgrade (`Upgrade: tcp`), we
//! answer `101 UPGRADED`, and from then on the socket carries raw bytes both
//! ways — HTTP is over on this connection.
//!
//! ```text
//!  docker ──POST …/attach, Upgrade: tcp──▶ mini-dockerd          supervisor
//!         ◀──────── 101 UPGRADED ────────
//!         ◀──── [1,0,0,0,len] output ───── bridge ◀── attach.sock ──  container
//!         ───── stdin bytes, then EOF ──▶ bridge ───▶ stdin frames ──▶
//! ```

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ch05_run::attach::{frame, Kind};
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::logs::stream_type;
use crate::server::http::{self, Body};
use crate::server::{blocking, supervisor, Daemon};

/// How long an attach made before the start waits for that start.
const START_WITHIN: Duration = Duration::from_secs(60);

// ANCHOR: attach
pub async fn attach(
    daemon: Arc<Daemon>,
    wanted: String,
    mut request: Request<Incoming>,
) -> Response<Body> {
    let query = http::query(&request);
    let stdin = http::truthy(&query, "stdin");
    let local = daemon.local.clone();
    let found = blocking(move || {
        let id = local.find(&wanted)?;
        let tty = local.inspect(&id)?["Config"]["Tty"] == true;
        Ok((id.clone(), tty, local.state_of(&id)?.is_running()))
    })
    .await;
    let (id, tty, running) = match found {
        Ok(found) => found,
        Err(error) => return http::error(&error),
    };
    if !running {
        daemon.expect_attach(&id); // its start will wait for us
    }
    let dir = daemon.local.engine.store.container_dir(&id);
    let upgrade = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            bridge(TokioIo::new(upgraded), dir, tty, stdin).await;
        }
    });
    let mut response = http::response(101, Some(stream_type(tty)), Body::Full(None));
    response.headers_mut().insert("Connection", HeaderValue::from_static("Upgrade"));
    response.headers_mut().insert("Upgrade", HeaderValue::from_static("tcp"));
    response
}
// ANCHOR_END: attach

// ANCHOR: bridge
/// Join the upgraded connection and the supervisor's attach socket: output
/// out (framed, unless a terminal's), input in. The client may half-close
/// its side at once (no stdin) — output still flows until the container ends.
async fn bridge(
    client: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    dir: PathBuf,
    tty: bool,
    stdin: bool,
) {
    let Ok(socket) = supervisor::connect(&dir, true, START_WITHIN).await else { return };
    // tokio::io::split, not into_split: an owned write half shuts the
    // socket down when dropped, and the supervisor would stop sending us output.
    let (mut from_supervisor, to_supervisor) = tokio::io::split(socket);
    let (from_client, mut to_client) = tokio::io::split(client);
    let input = tokio::spawn(forward_input(from_client, to_supervisor, stdin));
    while let Ok(Some((kind, payload))) = supervisor::read_frame(&mut from_supervisor).await {
        let bytes = match kind {
            Kind::Stdout | Kind::Stderr if tty => payload,
            Kind::Stdout | Kind::Stderr => frame(kind, &payload),
            Kind::Exit => break,
            _ => continue,
        };
        if to_client.write_all(&bytes).await.is_err() {
            break; // the client went away: the container runs on
        }
    }
    let _ = to_client.shutdown().await;
    input.abort();
}
// ANCHOR_END: bridge

/// The client's bytes to the container's stdin, then "stdin is closed".
/// The supervisor's side is returned, not dropped: dropping it would close it.
async fn forward_input<R: AsyncRead + Unpin, W: AsyncWrite + Unpin>(
    mut from_client: R,
    mut to_supervisor: W,
    stdin: bool,
) -> W {
    if !stdin {
        return to_supervisor;
    }
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match from_client.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to_supervisor.write_all(&frame(Kind::Stdin, &buf[..n])).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to_supervisor.write_all(&frame(Kind::CloseStdin, b"")).await;
    to_supervisor
}

/// `POST /containers/{id}/resize?h=&w=`: the terminal's new size.
pub async fn resize(
    daemon: Arc<Daemon>,
    wanted: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let query = http::query(&request);
    let size = |key: &str| query.get(key).and_then(|v| v.parse::<u16>().ok());
    let (Some(rows), Some(cols)) = (size("h"), size("w")) else {
        return http::error(&crate::ApiError::bad_request(
            "resize needs h and w, the rows and columns",
        ));
    };
    let local = daemon.local.clone();
    let resized = blocking(move || {
        let id = local.find(&wanted)?;
        let dir = local.engine.store.container_dir(&id);
        let client = ch05_run::attach::AttachClient::connect(&dir, false, Duration::ZERO)
            .map_err(|_| crate::ApiError::conflict(format!("container {id} is not running")))?;
        let mut sender = client.sender().map_err(|e| crate::ApiError::new(500, e.to_string()))?;
        sender.resize(rows, cols).map_err(|e| crate::ApiError::new(500, e.to_string()))
    })
    .await;
    match resized {
        Ok(()) => {
            let mut ok = http::empty(200);
            ok.headers_mut().insert("Content-Length", HeaderValue::from_static("0"));
            ok
        }
        Err(error) => http::error(&error),
    }
}
