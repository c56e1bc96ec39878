//! `exec` through the daemon: create, start (hijacked, like attach),
//! resize, inspect. The process is started by a helper of ours — a daemon
//! has threads, and joining a container's namespaces needs a process with
//! one — whose stdio the daemon relays, framed as the attach stream is.

use std::os::fd::{AsRawFd, OwnedFd};
use std::process::Stdio;
use std::sync::Arc;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::logs::{multiplexed, stream_type};
use crate::api::Output;
use crate::server::http::{self, Body};
use crate::server::{blocking, monitor, Daemon};
use crate::types::ExecCreateBody;
use crate::ApiError;

// ANCHOR: create
/// `POST /containers/{id}/exec`: only a running container takes one.
pub async fn create(
    daemon: Arc<Daemon>,
    wanted: String,
    request: Request<Incoming>,
) -> Response<Body> {
    let body: ExecCreateBody = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    if body.cmd.as_ref().is_none_or(|c| c.is_empty()) {
        return http::error(&ApiError::bad_request("No exec command specified"));
    }
    let local = daemon.local.clone();
    let found = blocking(move || {
        let id = local.find(&wanted)?;
        local.refuse_if_paused(&id, crate::local::pause::EXEC_PAUSED)?;
        match local.state_of(&id)?.is_running() {
            true => Ok(id),
            false => Err(ApiError::conflict(format!("Container {id} is not running"))),
        }
    })
    .await;
    match found {
        Ok(id) => {
            let command = body.cmd.clone().unwrap_or_default().join(" ");
            let exec = daemon.execs.add(&id, body);
            let action = format!("exec_create: {command}");
            monitor::container_event(&daemon, &action, &id, &[("execID", &exec)]).await;
            http::json(201, &json!({ "Id": exec }))
        }
        Err(error) => http::error(&error),
    }
}
// ANCHOR_END: create

pub async fn inspect(daemon: Arc<Daemon>, id: String) -> Response<Body> {
    match daemon.execs.get(&id) {
        Some(exec) => http::json(200, &exec.inspect()),
        None => http::error(&ApiError::not_found(format!("No such exec instance: {id}"))),
    }
}

/// `POST /exec/{id}/resize?h=&w=`: a line to the helper, which sizes the pty.
pub async fn resize(daemon: Arc<Daemon>, id: String, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let (Some(rows), Some(cols)) = (query.get("h"), query.get("w")) else {
        return http::error(&ApiError::bad_request("resize needs h and w"));
    };
    let Some(exec) = daemon.execs.get(&id) else {
        return http::error(&ApiError::not_found(format!("No such exec instance: {id}")));
    };
    if let Some(sizes) = exec.sizes {
        let _ = std::io::Write::write_all(&mut &*sizes, format!("{rows} {cols}\n").as_bytes());
    }
    http::empty(200)
}

// ANCHOR: start
/// `POST /exec/{id}/start`: upgrade, then run the helper and relay.
pub async fn start(
    daemon: Arc<Daemon>,
    id: String,
    mut request: Request<Incoming>,
) -> Response<Body> {
    let Some(exec) = daemon.execs.get(&id) else {
        return http::error(&ApiError::not_found(format!("No such exec instance: {id}")));
    };
    if exec.started {
        return http::error(&ApiError::conflict(format!("Exec instance {id} is already started")));
    }
    daemon.execs.update(&id, |e| e.started = true);
    let upgrade = hyper::upgrade::on(&mut request);
    let start: serde_json::Value = http::body_json(request).await.unwrap_or_default();
    let tty = exec.body.tty;
    if start["Detach"] == true {
        tokio::spawn(run(daemon, exec, tokio::io::join(tokio::io::empty(), tokio::io::sink())));
        return http::empty(200);
    }
    tokio::spawn(async move {
        if let Ok(upgraded) = upgrade.await {
            run(daemon, exec, TokioIo::new(upgraded)).await;
        }
    });
    let mut response = http::response(101, Some(stream_type(tty)), Body::Full(None));
    response.headers_mut().insert("Connection", HeaderValue::from_static("Upgrade"));
    response.headers_mut().insert("Upgrade", HeaderValue::from_static("tcp"));
    response
}
// ANCHOR_END: start

/// The helper's command line: `internal-exec --body JSON CONTAINER`, its
/// terminal's sizes on fd 3.
fn helper(
    daemon: &Daemon,
    exec: &crate::server::execs::Exec,
    sizes: Option<&OwnedFd>,
) -> Option<tokio::process::Command> {
    let program = daemon.local.settings.start_helper.clone()?;
    let mut command = tokio::process::Command::new(program);
    command.arg("--root").arg(daemon.local.root()).arg("internal-exec");
    command.arg("--body").arg(serde_json::to_string(&exec.body).ok()?).arg(&exec.container);
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    if let Some(fd) = sizes.map(|f| f.as_raw_fd()) {
        // SAFETY: dup2 between fork and exec, on descriptors we own.
        unsafe {
            command.pre_exec(move || match libc::dup2(fd, 3) {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            });
        }
    }
    Some(command)
}

// ANCHOR: run
/// Run the exec's helper with its stdio relayed to and from `client`;
/// record its exit code before the stream ends.
async fn run(
    daemon: Arc<Daemon>,
    exec: crate::server::execs::Exec,
    client: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
) {
    let Some(mut child) = spawn_helper(&daemon, &exec) else { return };
    announce(&daemon, &exec, "exec_start", None);
    let (from_client, mut to_client) = tokio::io::split(client);
    let stdin = child.stdin.take().filter(|_| exec.body.attach_stdin);
    let input = tokio::spawn(feed(from_client, stdin));
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let tty = exec.body.tty;
    let pumps = [
        child.stdout.take().map(|out| tokio::spawn(pump(out, Output::Stdout, tty, tx.clone()))),
        child.stderr.take().map(|err| tokio::spawn(pump(err, Output::Stderr, tty, tx))),
    ];
    while let Some(chunk) = rx.recv().await {
        if to_client.write_all(&chunk).await.is_err() {
            break;
        }
    }
    drop(pumps);
    let code = child.wait().await.ok().and_then(|s| s.code()).unwrap_or(126) as i64;
    let done = Some(std::time::Instant::now());
    daemon.execs.update(&exec.id, |e| {
        (e.running, e.exit_code, e.sizes, e.finished) = (false, Some(code), None, done)
    });
    announce(&daemon, &exec, "exec_die", Some(code));
    let _ = to_client.shutdown().await;
    input.abort();
}
// ANCHOR_END: run

/// Start the helper, with a pipe for its terminal's sizes on fd 3 (the
/// write end is kept in the exec's record, for `resize`).
fn spawn_helper(
    daemon: &Daemon,
    exec: &crate::server::execs::Exec,
) -> Option<tokio::process::Child> {
    let (size_read, size_write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ok()?;
    let mut command = helper(daemon, exec, exec.body.tty.then_some(&size_read))?;
    let child = command.spawn().ok()?;
    daemon.execs.update(&exec.id, |e| {
        (e.running, e.pid) = (true, child.id());
        e.sizes = Some(Arc::new(std::fs::File::from(size_write)));
    });
    Some(child)
}

/// The client's bytes to the helper's stdin, until either side closes.
async fn feed(
    mut from_client: impl AsyncRead + Unpin,
    mut stdin: Option<tokio::process::ChildStdin>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let (Some(pipe), Ok(n)) = (stdin.as_mut(), from_client.read(&mut buf).await) {
        if n == 0 || pipe.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
}

/// `exec_start: CMD` and `exec_die` events, as dockerd emits them.
fn announce(daemon: &Daemon, exec: &crate::server::execs::Exec, action: &str, code: Option<i64>) {
    let command = exec.body.cmd.clone().unwrap_or_default().join(" ");
    let action =
        if action == "exec_start" { format!("exec_start: {command}") } else { action.to_string() };
    let code = code.map(|c| c.to_string());
    let mut attributes = vec![("execID", exec.id.as_str())];
    if let Some(code) = &code {
        attributes.push(("exitCode", code));
    }
    // A small file read: the container's name and image, as every container event has.
    let config = daemon.local.engine.config(&exec.container).ok();
    let (name, image) = config.map(|c| (c.name, c.image)).unwrap_or_default();
    monitor::emit_named(daemon, &action, &exec.container, (&name, &image), &attributes);
}

/// Copy one of the helper's outputs into the stream, framed unless a terminal's.
async fn pump(
    mut from: impl AsyncRead + Unpin,
    stream: Output,
    tty: bool,
    to: mpsc::Sender<Bytes>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let chunk =
            if tty { Bytes::copy_from_slice(&buf[..n]) } else { multiplexed(stream, &buf[..n]) };
        if to.send(chunk).await.is_err() {
            break;
        }
    }
}
