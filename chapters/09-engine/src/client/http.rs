//! The client's side of HTTP/1.1: one connection per request, to a unix
//! socket or a loopback port, as the `docker` CLI does.

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{ApiError, ApiResult};
use crate::server::http::Body;
use crate::server::listen::Host;
use crate::system::API_VERSION;

/// Either kind of connection, as one type.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

/// Open a connection to the daemon.
pub async fn connect(host: &Host) -> ApiResult<Box<dyn Stream>> {
    let unreachable = |e: std::io::Error| {
        let at = match host {
            Host::Unix(path) => format!("unix://{}", path.display()),
            Host::Tcp(address) => format!("tcp://{address}"),
        };
        ApiError::new(
            503,
            format!(
                "Cannot connect to the mini-docker daemon at {at}: {e}. Is mini-dockerd running?"
            ),
        )
    };
    Ok(match host {
        Host::Unix(path) => {
            Box::new(tokio::net::UnixStream::connect(path).await.map_err(unreachable)?)
        }
        Host::Tcp(address) => {
            Box::new(tokio::net::TcpStream::connect(address).await.map_err(unreachable)?)
        }
    })
}

// ANCHOR: send
/// Send one request and return the response (its body still to be read).
/// `path` is the API path without version: `/containers/json?all=1`.
pub async fn send(
    host: &Host,
    method: &str,
    path: &str,
    body: Option<Vec<u8>>,
    headers: &[(&str, &str)],
) -> ApiResult<Response<Incoming>> {
    let shown = body.as_deref().map(String::from_utf8_lossy).map(|b| b.into_owned());
    let typed = headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("Content-Type"));
    let mut all = headers.to_vec();
    if body.is_some() && !typed {
        all.push(("Content-Type", "application/json"));
    }
    let body = Body::Full(body.filter(|b| !b.is_empty()).map(Bytes::from));
    send_body(host, method, path, body, shown.as_deref(), &all).await
}

/// [`send`] with a body of any kind — a stream fed while it is sent (a
/// build context read from its file); `shown` is what `--explain` prints.
pub async fn send_body(
    host: &Host,
    method: &str,
    path: &str,
    body: Body,
    shown: Option<&str>,
    headers: &[(&str, &str)],
) -> ApiResult<Response<Incoming>> {
    let io = TokioIo::new(connect(host).await?);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| ApiError::new(500, format!("HTTP handshake: {e}")))?;
    tokio::spawn(async move {
        let _ = connection.with_upgrades().await;
    });
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/v{API_VERSION}{path}"))
        .header("Host", "api.moby.localhost")
        .header("User-Agent", concat!("mini-docker/", env!("CARGO_PKG_VERSION")));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let explain = ch01_namespaces::explain::enabled();
    if explain {
        request = request.header(crate::server::explain::HEADER, "1");
    }
    let request = request.body(body).map_err(|e| ApiError::new(500, e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| ApiError::new(500, format!("{method} {path}: {e}")))?;
    if explain {
        narrate(host, method, path, shown, &response);
    }
    Ok(response)
}
// ANCHOR_END: send

// ANCHOR: narrate
/// `--explain` as a client: the request, the curl command that sends the
/// same, and then what the daemon did for it (its steps, handed back).
fn narrate(
    host: &Host,
    method: &str,
    path: &str,
    body: Option<&str>,
    response: &Response<Incoming>,
) {
    let versioned = format!("/v{API_VERSION}{path}");
    let (socket, url) = match host {
        Host::Unix(socket) => {
            (format!("--unix-socket {} ", socket.display()), "http://localhost".to_string())
        }
        Host::Tcp(address) => (String::new(), format!("http://{address}")),
    };
    let data = match body {
        Some(body) if body.len() > 100 => {
            format!(" -d '{}…'", &body[..body.floor_char_boundary(100)])
        }
        Some(body) => format!(" -d '{body}'"),
        None => String::new(),
    };
    let status = response.status();
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: &format!("ask the daemon: {method} {versioned} → {status}"),
        syscall: &format!("connect(), then write(\"{method} {versioned} HTTP/1.1\\r\\n…\")"),
        shell: &format!("curl {socket}-X {method}{data} '{url}{versioned}'"),
        book: "ch09-engine.md#one-request-by-hand",
    });
    if let Some(steps) = crate::server::explain::steps_of(response) {
        ch01_namespaces::explain::note(&steps);
    }
}
// ANCHOR_END: narrate

/// The whole body of a response.
pub async fn bytes(response: Response<Incoming>) -> ApiResult<Bytes> {
    let collected = response.into_body().collect().await;
    Ok(collected.map_err(|e| ApiError::new(500, format!("reading the answer: {e}")))?.to_bytes())
}

/// A success's JSON, or the error the daemon answered: `{"message": …}`.
pub async fn json(response: Response<Incoming>) -> ApiResult<Value> {
    let status = response.status().as_u16();
    let body = bytes(response).await?;
    let value: Value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(500, format!("the daemon's answer is not JSON: {e}")))?
    };
    if status >= 400 {
        let message = value["message"].as_str().unwrap_or("the daemon gave no reason");
        return Err(ApiError::new(status, message));
    }
    Ok(value)
}

/// The next chunk of a streamed body; `None` at its end.
pub async fn next_chunk(body: &mut Incoming) -> ApiResult<Option<Bytes>> {
    loop {
        match body.frame().await {
            None => return Ok(None),
            Some(Err(e)) => return Err(ApiError::new(500, format!("reading the stream: {e}"))),
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    return Ok(Some(data));
                }
            }
        }
    }
}

/// Percent-encode a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}
