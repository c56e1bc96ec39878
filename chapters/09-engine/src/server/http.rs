//! The small pieces every route uses: response bodies (whole or streamed),
//! JSON answers with dockerd's headers, the query string, the request body.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming};
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::error::ApiError;
use crate::system::API_VERSION;

/// A request body larger than this is refused (a build context will need
/// more: its route reads the body as a stream).
pub const MAX_BODY: usize = 16 << 20;

// ANCHOR: body
/// A response body: all at once, or streamed from a channel as the
/// daemon produces it (logs, pull progress, events, a pending wait).
pub enum Body {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Bytes>),
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx) => rx.poll_recv(cx).map(|chunk| chunk.map(|b| Ok(Frame::data(b)))),
        }
    }

    /// A whole body's length is known: hyper sends `Content-Length`, as
    /// dockerd does for small answers; a stream is chunked.
    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            Body::Full(bytes) => {
                hyper::body::SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
            Body::Stream(_) => hyper::body::SizeHint::default(),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }
}
// ANCHOR_END: body

/// A streamed body, and the sender that feeds it: each `send` is one HTTP
/// chunk, flushed as it comes. Dropping the sender ends the body.
pub fn channel() -> (mpsc::Sender<Bytes>, Body) {
    let (tx, rx) = mpsc::channel(64);
    (tx, Body::Stream(rx))
}

/// A response with the headers dockerd puts on every answer.
pub fn response(status: u16, content_type: Option<&str>, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    headers.insert("Ostype", HeaderValue::from_static("linux"));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    let server = concat!("Docker/mini-docker-", env!("CARGO_PKG_VERSION"), " (linux)");
    headers.insert("Server", HeaderValue::from_static(server));
    if let Some(kind) = content_type {
        headers.insert("Content-Type", HeaderValue::from_str(kind).expect("a valid header"));
    }
    response
}

pub fn json(status: u16, value: &Value) -> Response<Body> {
    let bytes = Bytes::from(serde_json::to_vec(value).expect("JSON values serialize"));
    response(status, Some("application/json"), Body::Full(Some(bytes)))
}

/// 204, 304: a status and no body.
pub fn empty(status: u16) -> Response<Body> {
    response(status, None, Body::Full(None))
}

/// moby's error answer: `{"message": "..."}` with the error's status.
pub fn error(error: &ApiError) -> Response<Body> {
    json(error.status, &serde_json::json!({ "message": error.message }))
}

/// The query string, decoded: `?all=1&filters=%7B%7D` → {all: 1, filters: {}}.
pub fn query(request: &Request<Incoming>) -> BTreeMap<String, String> {
    let raw = request.uri().query().unwrap_or_default();
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// `%2F` → `/`, `+` → space, as URL query strings encode them.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = || std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok();
        match (bytes[i], hex().and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// dockerd's booleans: "", 0, no, false, none are false; anything else true.
pub fn truthy(query: &BTreeMap<String, String>, key: &str) -> bool {
    query
        .get(key)
        .is_some_and(|v| !matches!(v.to_lowercase().as_str(), "" | "0" | "no" | "false" | "none"))
}

/// The whole request body, at most [`MAX_BODY`] bytes.
pub async fn body_bytes(request: Request<Incoming>) -> Result<Bytes, ApiError> {
    let limited = http_body_util::Limited::new(request.into_body(), MAX_BODY);
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(ApiError::new(413, format!("request body larger than {MAX_BODY} bytes")))
        }
        Err(e) => Err(ApiError::bad_request(format!("reading the request body: {e}"))),
    }
}

// ANCHOR: body_to_file
/// The request body written to `path` as it arrives, never all in memory
/// (a build context may be gigabytes); more than `limit` bytes is refused.
/// Returns how many bytes came. A failure removes the file.
pub async fn body_to_file(
    request: Request<Incoming>,
    path: &std::path::Path,
    limit: u64,
) -> Result<u64, ApiError> {
    let written = copy_body(request.into_body(), path, limit).await;
    if written.is_err() {
        let _ = std::fs::remove_file(path);
    }
    written
}
// ANCHOR_END: body_to_file

// ANCHOR: copy_body
async fn copy_body(
    mut body: Incoming,
    path: &std::path::Path,
    limit: u64,
) -> Result<u64, ApiError> {
    use std::io::Write;
    let failed = |e: std::io::Error| ApiError::new(500, format!("writing {}: {e}", path.display()));
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(failed)?);
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| ApiError::bad_request(format!("reading the request body: {e}")))?;
        let Ok(data) = frame.into_data() else { continue };
        total += data.len() as u64;
        // Past the limit the rest is read and dropped, not written: a
        // client still sending would otherwise never read the answer.
        if total <= limit {
            file.write_all(&data).map_err(failed)?;
        }
    }
    if total > limit {
        return Err(ApiError::bad_request(format!("request body larger than {limit} bytes")));
    }
    file.flush().map_err(failed)?;
    Ok(total)
}
// ANCHOR_END: copy_body

/// The request body as JSON of type `T`; an empty body is `T`'s default.
pub async fn body_json<T: DeserializeOwned + Default>(
    request: Request<Incoming>,
) -> Result<T, ApiError> {
    let bytes = body_bytes(request).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_urls() {
        assert_eq!(
            percent_decode("fromImage=127.0.0.1%3A5000%2Fbusybox"),
            "fromImage=127.0.0.1:5000/busybox"
        );
        assert_eq!(percent_decode("ENV+A%3D1"), "ENV A=1");
        assert_eq!(percent_decode("100%"), "100%");
        let q: BTreeMap<String, String> =
            [("all", "1"), ("v", "False"), ("force", "")].map(|(k, v)| (k.into(), v.into())).into();
        assert!(truthy(&q, "all") && !truthy(&q, "v") && !truthy(&q, "force") && !truthy(&q, "x"));
    }
}
