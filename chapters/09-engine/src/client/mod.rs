//! The [`Api`] over HTTP: what `mini-docker -H unix:///run/mini-docker.sock`
//! uses — the same requests, in the same order, as the `docker` CLI sends.

mod http;
mod manage;
mod objects;
mod terminal;

use std::time::Duration;

use serde_json::Value;
use tokio::runtime::Runtime;

use crate::api::{Api, Attached, LogsOptions, Output, WaitCondition};
use crate::error::{ApiError, ApiResult};
use crate::server::listen::Host;
use crate::types::{filters_json, ContainerCreateBody, CreateResponse, ExecCreateBody, Filters};
use http::{encode, json, send};

/// A daemon, over its socket.
pub struct Remote {
    host: Host,
    runtime: Option<Runtime>,
}

impl Drop for Remote {
    /// Do not wait for a read of our stdin that will never return (the
    /// container is gone; the keyboard may never be touched again).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Remote {
    pub fn new(host: Host) -> anyhow::Result<Remote> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Remote { host, runtime: Some(runtime) })
    }

    fn block_on<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        self.runtime.as_ref().expect("the runtime lives as long as we do").block_on(work)
    }

    /// One request whose answer is JSON (or nothing).
    fn call(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> ApiResult<Value> {
        self.block_on(async { json(send(&self.host, method, path, body, &[]).await?).await })
    }

    /// Any request whose answer is JSON: for the routes of later chapters
    /// (chapter 11's `swarm`, `node` and `service` verbs).
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> ApiResult<Value> {
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON values serialize"));
        self.call(method, path, body)
    }

    /// A request's path with `text` encoded for a query string.
    pub fn encode(text: &str) -> String {
        encode(text)
    }

    /// `POST path` with `body` and `headers` (its `Content-Type`, …), whose
    /// answer is a stream of JSON messages, one a line (`POST /build`,
    /// `POST /images/{name}/push`): each to `on_message`. An error status
    /// before the stream is the daemon's error.
    pub fn post_json_stream(
        &self,
        path: &str,
        body: Vec<u8>,
        headers: &[(&str, &str)],
        on_message: &mut dyn FnMut(&Value),
    ) -> ApiResult<()> {
        self.block_on(async {
            let response = send(&self.host, "POST", path, Some(body), headers).await?;
            json_stream(response, on_message).await
        })
    }

    /// [`Remote::post_json_stream`] with the body read from `file` while it
    /// is sent, never whole in memory (a build context may be gigabytes).
    pub fn post_file_json_stream(
        &self,
        path: &str,
        file: &std::path::Path,
        headers: &[(&str, &str)],
        on_message: &mut dyn FnMut(&Value),
    ) -> ApiResult<()> {
        let unreadable = |e: std::io::Error| ApiError::new(500, format!("{}: {e}", file.display()));
        let mut reader = std::fs::File::open(file).map_err(unreadable)?;
        let (tx, body) = crate::server::http::channel();
        let feeder = std::thread::spawn(move || -> std::io::Result<()> {
            let mut buffer = vec![0u8; 256 << 10];
            loop {
                let n = std::io::Read::read(&mut reader, &mut buffer)?;
                let chunk = bytes::Bytes::copy_from_slice(&buffer[..n]);
                if n == 0 || tx.blocking_send(chunk).is_err() {
                    return Ok(());
                }
            }
        });
        self.block_on(async {
            let response = http::send_body(&self.host, "POST", path, body, None, headers).await?;
            json_stream(response, on_message).await
        })?;
        // Answered: the daemon read the whole body, so the feeder is done.
        let fed = feeder.join().unwrap_or_else(|_| Err(std::io::Error::other("it panicked")));
        fed.map_err(unreadable)
    }

    /// `GET path` whose answer is a byte stream (`export`): copied to `out`.
    pub fn get_to(&self, path: &str, out: &mut dyn std::io::Write) -> ApiResult<()> {
        self.block_on(async {
            let response = send(&self.host, "GET", path, None, &[]).await?;
            if response.status().as_u16() >= 400 {
                return json(response).await.map(drop);
            }
            let mut body = response.into_body();
            while let Some(chunk) = http::next_chunk(&mut body).await? {
                out.write_all(&chunk).map_err(|e| ApiError::new(500, format!("writing: {e}")))?;
            }
            Ok(())
        })
    }

    fn id_path(id: &str, rest: &str) -> String {
        format!("/containers/{}{rest}", encode(id))
    }
}

// ANCHOR: api_impl
impl Api for Remote {
    fn version(&self) -> ApiResult<Value> {
        self.call("GET", "/version", None)
    }

    fn info(&self) -> ApiResult<Value> {
        self.call("GET", "/info", None)
    }

    fn container_create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> ApiResult<CreateResponse> {
        let query = name.map(|n| format!("?name={}", encode(n))).unwrap_or_default();
        let body = serde_json::to_vec(body).expect("a create body serializes");
        let created = self.call("POST", &format!("/containers/create{query}"), Some(body))?;
        serde_json::from_value(created).map_err(|e| ApiError::new(500, e.to_string()))
    }

    fn container_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>> {
        let path = format!(
            "/containers/json?all={}&filters={}",
            u8::from(all),
            encode(&filters_json(filters))
        );
        match self.call("GET", &path, None)? {
            Value::Array(list) => Ok(list),
            _ => Err(ApiError::new(500, "the container list is not a list")),
        }
    }

    fn container_inspect(&self, id: &str) -> ApiResult<Value> {
        self.call("GET", &Self::id_path(id, "/json"), None)
    }

    fn container_start(&self, id: &str) -> ApiResult<()> {
        self.call("POST", &Self::id_path(id, "/start"), None).map(drop)
    }

    fn container_stop(&self, id: &str, timeout: Option<u64>) -> ApiResult<()> {
        let query = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        self.call("POST", &Self::id_path(id, &format!("/stop{query}")), None).map(drop)
    }

    fn container_restart(&self, id: &str, timeout: Option<u64>) -> ApiResult<()> {
        let query = timeout.map(|t| format!("?t={t}")).unwrap_or_default();
        self.call("POST", &Self::id_path(id, &format!("/restart{query}")), None).map(drop)
    }

    fn container_kill(&self, id: &str, signal: &str) -> ApiResult<()> {
        let path = Self::id_path(id, &format!("/kill?signal={}", encode(signal)));
        self.call("POST", &path, None).map(drop)
    }

    fn container_remove(&self, id: &str, force: bool, volumes: bool) -> ApiResult<()> {
        let path =
            Self::id_path(id, &format!("?force={}&v={}", u8::from(force), u8::from(volumes)));
        self.call("DELETE", &path, None).map(drop)
    }

    fn container_wait(&self, id: &str, condition: WaitCondition) -> ApiResult<i64> {
        let path = Self::id_path(id, &format!("/wait?condition={}", condition.name()));
        let answer = self.call("POST", &path, None)?;
        Ok(answer["StatusCode"].as_i64().unwrap_or(-1))
    }

    fn container_pause(&self, id: &str) -> ApiResult<()> {
        self.call("POST", &Self::id_path(id, "/pause"), None).map(drop)
    }

    fn container_unpause(&self, id: &str) -> ApiResult<()> {
        self.call("POST", &Self::id_path(id, "/unpause"), None).map(drop)
    }

    fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
        out: &mut dyn FnMut(Output, &[u8]),
    ) -> ApiResult<()> {
        self.block_on(terminal::logs(&self.host, id, options, out))
    }

    fn container_start_attached(&self, id: &str) -> ApiResult<i64> {
        self.block_on(terminal::run(&self.host, id, true, None))
    }

    fn container_run_attached(&self, id: &str, how: Attached) -> ApiResult<i64> {
        self.block_on(terminal::run(&self.host, id, true, Some(how)))
    }

    fn container_attach(&self, id: &str) -> ApiResult<i64> {
        self.block_on(terminal::run(&self.host, id, false, None))
    }

    fn container_exec(&self, id: &str, body: &ExecCreateBody) -> ApiResult<i64> {
        self.block_on(terminal::exec(&self.host, id, body))
    }

    fn image_pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        progress: &mut dyn FnMut(&Value),
    ) -> ApiResult<()> {
        self.block_on(terminal::pull(&self.host, reference, platform, progress))
    }
}
// ANCHOR_END: api_impl

/// A stream of JSON messages, one a line, each to `on_message`; an error
/// status (before any message) is the daemon's error.
async fn json_stream(
    response: hyper::Response<hyper::body::Incoming>,
    on_message: &mut dyn FnMut(&Value),
) -> ApiResult<()> {
    if response.status().as_u16() >= 400 {
        return json(response).await.map(drop);
    }
    let mut body = response.into_body();
    let mut pending = Vec::new();
    while let Some(chunk) = http::next_chunk(&mut body).await? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            if let Ok(message) = serde_json::from_slice::<Value>(&line) {
                on_message(&message);
            }
        }
    }
    Ok(())
}

/// How long a client waits for a daemon that is not answering at all.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
