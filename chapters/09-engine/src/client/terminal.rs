//! The client's streams: `run` and `attach` through the hijacked
//! connection, `exec`, `logs`, and a pull's progress messages.

use std::io::{IsTerminal, Write};
use std::os::fd::AsRawFd;

use bytes::{Buf, BytesMut};
use hyper::body::Incoming;
use hyper::Response;
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::http::{self, encode, send};
use crate::api::{Attached, LogsOptions, Output};
use crate::error::{ApiError, ApiResult};
use crate::server::listen::Host;
use crate::types::ExecCreateBody;

const UPGRADE: [(&str, &str); 2] = [("Connection", "Upgrade"), ("Upgrade", "tcp")];

// ANCHOR: demux
/// Split a multiplexed stream back into stdout and stderr: whole frames
/// from `buffer`, the rest kept for the next chunk.
pub fn demux(buffer: &mut BytesMut, out: &mut dyn FnMut(Output, &[u8])) {
    while buffer.len() >= 8 {
        let length = u32::from_be_bytes([buffer[4], buffer[5], buffer[6], buffer[7]]) as usize;
        if buffer.len() < 8 + length {
            return;
        }
        let stream = if buffer[0] == 2 { Output::Stderr } else { Output::Stdout };
        out(stream, &buffer[8..8 + length]);
        buffer.advance(8 + length);
    }
}
// ANCHOR_END: demux

fn print(stream: Output, bytes: &[u8]) {
    let _ = match stream {
        Output::Stdout => {
            std::io::stdout().write_all(bytes).and_then(|()| std::io::stdout().flush())
        }
        Output::Stderr => std::io::stderr().write_all(bytes),
    };
}

pub async fn logs(
    host: &Host,
    id: &str,
    options: &LogsOptions,
    out: &mut dyn FnMut(Output, &[u8]),
) -> ApiResult<()> {
    let inspect = http::json(
        send(host, "GET", &format!("/containers/{}/json", encode(id)), None, &[]).await?,
    )
    .await?;
    let tty = inspect["Config"]["Tty"] == true;
    let mut query = format!(
        "stdout={}&stderr={}&follow={}&timestamps={}&tail={}",
        u8::from(options.stdout),
        u8::from(options.stderr),
        u8::from(options.follow),
        u8::from(options.timestamps),
        options.tail.map_or("all".to_string(), |t| t.to_string())
    );
    if let Some(since) = options.since {
        query.push_str(&format!("&since={since}"));
    }
    let response =
        send(host, "GET", &format!("/containers/{}/logs?{query}", encode(id)), None, &[]).await?;
    let mut body = ok_stream(response).await?;
    let mut buffer = BytesMut::new();
    while let Some(chunk) = http::next_chunk(&mut body).await? {
        match tty {
            true => out(Output::Stdout, &chunk),
            false => {
                buffer.extend_from_slice(&chunk);
                demux(&mut buffer, out);
            }
        }
    }
    Ok(())
}

/// The body of a successful streamed answer, or its error.
async fn ok_stream(response: Response<Incoming>) -> ApiResult<Incoming> {
    if response.status().is_success() {
        Ok(response.into_body())
    } else {
        Err(http::json(response).await.expect_err("an error status is an error"))
    }
}

// ANCHOR: run
/// `docker run` (with `start`) or `docker attach` (without), as the docker
/// CLI does it: attach first, then ask to be told of the exit, then start —
/// so neither the first byte nor a quick exit can be missed. `run` knows
/// `how` the container was made; `start -a` and `attach` ask.
pub async fn run(host: &Host, id: &str, start: bool, how: Option<Attached>) -> ApiResult<i64> {
    let path = |rest: &str| format!("/containers/{}{rest}", encode(id));
    let how = match how {
        Some(how) => how,
        None => look_up(host, &path("/json"), start).await?,
    };
    let Attached { tty, stdin, auto_remove: removed } = how;
    let attach =
        format!("/attach?stream=1&stdout=1&stderr=1{}", if stdin { "&stdin=1" } else { "" });
    let upgraded = hijack(send(host, "POST", &path(&attach), None, &UPGRADE).await?).await?;
    let condition = if !start {
        "not-running"
    } else if removed {
        "removed"
    } else {
        "next-exit"
    };
    let wait =
        send(host, "POST", &path(&format!("/wait?condition={condition}")), None, &[]).await?;
    if start {
        if let Err(error) = http::json(send(host, "POST", &path("/start"), None, &[]).await?).await
        {
            return Err(failed_start(wait, error).await);
        }
    }
    let _raw =
        (tty && std::io::stdin().is_terminal()).then(ch05_run::stdio::RawMode::enable).flatten();
    if tty {
        resize(host, &path("/resize")).await;
    }
    let signals = tokio::spawn(forward_signals(host.clone(), id.to_string(), tty));
    relay(upgraded, tty, stdin).await;
    signals.abort();
    let answer = http::json(wait).await?;
    Ok(answer["StatusCode"].as_i64().unwrap_or(-1))
}
// ANCHOR_END: run

/// How the container was made, from its inspect (`attach` also needs
/// it to run).
async fn look_up(host: &Host, inspect_path: &str, start: bool) -> ApiResult<Attached> {
    let inspect = http::json(send(host, "GET", inspect_path, None, &[]).await?).await?;
    if !start {
        attachable(&inspect)?;
    }
    let (config, host_config) = (&inspect["Config"], &inspect["HostConfig"]);
    Ok(Attached {
        tty: config["Tty"] == true,
        stdin: config["OpenStdin"] == true,
        auto_remove: host_config["AutoRemove"] == true,
    })
}

/// `docker attach` needs a container that runs, and is not paused.
fn attachable(inspect: &Value) -> ApiResult<()> {
    if inspect["State"]["Running"] != true {
        return Err(ApiError::conflict("You cannot attach to a stopped container, start it first"));
    }
    if inspect["State"]["Paused"] == true {
        return Err(ApiError::conflict(crate::local::pause::ATTACH_PAUSED));
    }
    Ok(())
}

/// A start that failed: its message, and the exit code the container
/// recorded (127 for a command not found, 126 for one that cannot run),
/// which the wait sent before the start answers with — as `docker run`
/// reads it. Without an answer, the code follows from the message, as the
/// docker CLI's does.
async fn failed_start(wait: Response<Incoming>, error: ApiError) -> ApiError {
    let told = tokio::time::timeout(std::time::Duration::from_secs(5), http::json(wait)).await;
    let code = match told {
        Ok(Ok(answer)) => answer["StatusCode"].as_i64().map(|c| c as i32).filter(|c| *c > 0),
        _ => None,
    };
    let code = code.unwrap_or_else(|| code_of_message(&error.message));
    ApiError { exit_code: Some(code), ..error }
}

/// The docker CLI's `toStatusError`: 127 for a command not found, 126 for
/// one that cannot run, 125 for anything else.
pub fn code_of_message(message: &str) -> i32 {
    let not_found = ["executable file not found", "no such file or directory"];
    let cannot_run = ["permission denied", "is a directory"];
    if not_found.iter().any(|m| message.contains(m)) {
        127
    } else if cannot_run.iter().any(|m| message.contains(m)) {
        126
    } else {
        125
    }
}

/// Take the connection over after `101 UPGRADED`.
async fn hijack(response: Response<Incoming>) -> ApiResult<TokioIo<hyper::upgrade::Upgraded>> {
    if response.status().as_u16() != 101 {
        let status = response.status().as_u16();
        let error = http::json(response).await.err();
        return Err(error.unwrap_or(ApiError::new(
            500,
            format!("unable to upgrade to tcp, received {status}"),
        )));
    }
    let upgraded =
        hyper::upgrade::on(response).await.map_err(|e| ApiError::new(500, e.to_string()))?;
    Ok(TokioIo::new(upgraded))
}

// ANCHOR: relay
/// Our stdin to the container (then half-close: the container reads end of
/// file), the container's output to our stdout and stderr.
async fn relay(
    stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    tty: bool,
    stdin: bool,
) {
    let (mut from_daemon, mut to_daemon) = tokio::io::split(stream);
    let input = tokio::spawn(async move {
        if stdin {
            let mut keyboard = tokio::io::stdin();
            let mut buf = vec![0u8; 4096];
            loop {
                match keyboard.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if to_daemon.write_all(&buf[..n]).await.is_err() => return,
                    Ok(_) => {}
                }
            }
        }
        let _ = to_daemon.shutdown().await;
    });
    let mut buffer = BytesMut::new();
    let mut chunk = vec![0u8; 16 * 1024];
    while let Ok(n) = from_daemon.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        match tty {
            true => print(Output::Stdout, &chunk[..n]),
            false => {
                buffer.extend_from_slice(&chunk[..n]);
                demux(&mut buffer, &mut print);
            }
        }
    }
    input.abort();
}
// ANCHOR_END: relay

/// Our terminal's size, to `…/resize?h=&w=`.
async fn resize(host: &Host, path: &str) {
    let Some((rows, cols)) = terminal_size() else { return };
    let _ = send(host, "POST", &format!("{path}?h={rows}&w={cols}"), None, &[]).await;
}

nix::ioctl_read_bad!(window_size, libc::TIOCGWINSZ, nix::pty::Winsize);

fn terminal_size() -> Option<(u16, u16)> {
    let mut size = nix::pty::Winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ fills the struct we pass.
    unsafe { window_size(std::io::stdout().as_raw_fd(), &mut size) }.ok()?;
    (size.ws_row > 0).then_some((size.ws_row, size.ws_col))
}

// ANCHOR: signals
/// The docker CLI's sig-proxy: a signal we get goes to the container
/// (`kill?signal=`); a terminal's resize becomes a `resize`.
async fn forward_signals(host: Host, id: String, tty: bool) {
    use tokio::signal::unix::{signal, SignalKind};
    let kinds = [
        ("INT", SignalKind::interrupt()),
        ("TERM", SignalKind::terminate()),
        ("HUP", SignalKind::hangup()),
        ("QUIT", SignalKind::quit()),
        ("WINCH", SignalKind::window_change()),
    ];
    let (tx, mut rx) = tokio::sync::mpsc::channel::<&'static str>(8);
    for (name, kind) in kinds {
        let Ok(mut stream) = signal(kind) else { continue };
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() && tx.send(name).await.is_ok() {}
        });
    }
    while let Some(name) = rx.recv().await {
        let path = format!("/containers/{}", encode(&id));
        match name {
            "WINCH" if tty => resize(&host, &format!("{path}/resize")).await,
            "WINCH" => {}
            _ => drop(send(&host, "POST", &format!("{path}/kill?signal={name}"), None, &[]).await),
        }
    }
}
// ANCHOR_END: signals

// ANCHOR: exec
/// `docker exec`: create the exec, start it on a hijacked connection, and
/// once its stream ends, read its exit code (there is no wait for execs).
pub async fn exec(host: &Host, id: &str, body: &ExecCreateBody) -> ApiResult<i64> {
    let body_json = serde_json::to_vec(body).expect("an exec body serializes");
    let create =
        send(host, "POST", &format!("/containers/{}/exec", encode(id)), Some(body_json), &[])
            .await?;
    let exec_id = http::json(create).await?["Id"].as_str().unwrap_or_default().to_string();
    let start = json!({ "Detach": false, "Tty": body.tty }).to_string().into_bytes();
    let headers = [UPGRADE[0], UPGRADE[1], ("Content-Type", "application/json")];
    let response =
        send(host, "POST", &format!("/exec/{exec_id}/start"), Some(start), &headers).await?;
    let upgraded = hijack(response).await?;
    let _raw = (body.tty && std::io::stdin().is_terminal())
        .then(ch05_run::stdio::RawMode::enable)
        .flatten();
    if body.tty {
        resize(host, &format!("/exec/{exec_id}/resize")).await;
    }
    relay(upgraded, body.tty, body.attach_stdin).await;
    let inspect =
        http::json(send(host, "GET", &format!("/exec/{exec_id}/json"), None, &[]).await?).await?;
    Ok(inspect["ExitCode"].as_i64().unwrap_or(126))
}
// ANCHOR_END: exec

/// A pull's messages, each as it comes; an `errorDetail` ends it as an error.
pub async fn pull(
    host: &Host,
    reference: &str,
    platform: Option<&str>,
    progress: &mut dyn FnMut(&Value),
) -> ApiResult<()> {
    let (name, tag) = split_reference(reference);
    let mut path = format!("/images/create?fromImage={}&tag={}", encode(&name), encode(&tag));
    if let Some(platform) = platform {
        path.push_str(&format!("&platform={}", encode(platform)));
    }
    let response = send(host, "POST", &path, None, &[("X-Registry-Auth", "e30=")]).await?;
    let mut body = ok_stream(response).await?;
    let mut pending = BytesMut::new();
    while let Some(chunk) = http::next_chunk(&mut body).await? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line = pending.split_to(end + 1);
            let Ok(message) = serde_json::from_slice::<Value>(&line) else { continue };
            if let Some(error) = message["errorDetail"]["message"].as_str() {
                return Err(ApiError::new(500, error));
            }
            progress(&message);
        }
    }
    Ok(())
}

/// `name:tag` or `name@digest` → (name, tag-or-digest), as the CLI sends them.
fn split_reference(reference: &str) -> (String, String) {
    if let Some((name, digest)) = reference.split_once('@') {
        return (name.to_string(), digest.to_string());
    }
    match reference.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name.to_string(), tag.to_string()),
        _ => (reference.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks_come_out_whole() {
        let mut buffer = BytesMut::new();
        let mut seen = Vec::new();
        let all = [
            ch05_run::attach::frame(ch05_run::attach::Kind::Stdout, b"hello\n"),
            ch05_run::attach::frame(ch05_run::attach::Kind::Stderr, b"oops\n"),
        ]
        .concat();
        for piece in all.chunks(5) {
            buffer.extend_from_slice(piece);
            demux(&mut buffer, &mut |s, b| seen.push((s, b.to_vec())));
        }
        assert_eq!(
            seen,
            [(Output::Stdout, b"hello\n".to_vec()), (Output::Stderr, b"oops\n".to_vec())]
        );
        assert!(buffer.is_empty());
    }

    #[test]
    fn references_split_as_the_cli_sends_them() {
        assert_eq!(split_reference("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(
            split_reference("127.0.0.1:5000/app:1"),
            ("127.0.0.1:5000/app".into(), "1".into())
        );
        assert_eq!(
            split_reference("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app".into(), "latest".into())
        );
        assert_eq!(split_reference("a@sha256:ab"), ("a".into(), "sha256:ab".into()));
    }
}
