//! [`Manage`] over HTTP: the routes `docker events`, `top`, `stats`,
//! `rename`, `update`, `cp` and `container prune` use.

use base64::Engine as _;
use bytes::BytesMut;
use serde_json::Value;

use super::http::{self, encode, send};
use super::Remote;
use crate::error::{ApiError, ApiResult};
use crate::manage::{EventsOptions, Manage, PathStat, UpdateBody};
use crate::types::{filters_json, Filters};

/// The header that carries a path's stat, base64 of its JSON.
pub const PATH_STAT: &str = "X-Docker-Container-Path-Stat";

fn path_stat(response: &hyper::Response<hyper::body::Incoming>) -> ApiResult<PathStat> {
    let header = response.headers().get(PATH_STAT).and_then(|h| h.to_str().ok()).unwrap_or("");
    let json = base64::engine::general_purpose::STANDARD
        .decode(header)
        .map_err(|e| ApiError::new(500, format!("{PATH_STAT}: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| ApiError::new(500, format!("{PATH_STAT}: {e}")))
}

/// A response's error, if it is one (a HEAD's has no body: its status says).
async fn check(
    response: hyper::Response<hyper::body::Incoming>,
    what: &str,
) -> ApiResult<hyper::Response<hyper::body::Incoming>> {
    let status = response.status().as_u16();
    if status < 400 {
        return Ok(response);
    }
    match http::json(response).await {
        Err(error) => Err(error),
        Ok(_) => Err(ApiError::new(status, format!("{what}: status {status}"))),
    }
}

/// Each JSON value of a stream of them, one after another.
fn split_values(buffer: &mut BytesMut, out: &mut dyn FnMut(&Value) -> bool) -> bool {
    let mut values = serde_json::Deserializer::from_slice(buffer).into_iter::<Value>();
    let mut used = 0;
    let mut go_on = true;
    while let Some(Ok(value)) = values.next() {
        used = values.byte_offset();
        if !out(&value) {
            go_on = false;
            break;
        }
    }
    let _ = buffer.split_to(used);
    go_on
}

impl Remote {
    async fn stream_values(
        &self,
        path: &str,
        out: &mut dyn FnMut(&Value) -> bool,
    ) -> ApiResult<()> {
        let response = check(send(&self.host, "GET", path, None, &[]).await?, path).await?;
        let mut body = response.into_body();
        let mut buffer = BytesMut::new();
        while let Some(chunk) = http::next_chunk(&mut body).await? {
            buffer.extend_from_slice(&chunk);
            if !split_values(&mut buffer, out) {
                return Ok(());
            }
        }
        Ok(())
    }

    fn archive_path(id: &str, path: &str) -> String {
        format!("/containers/{}/archive?path={}", encode(id), encode(path))
    }
}

impl Manage for Remote {
    fn events(&self, options: &EventsOptions, out: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        let mut query = format!("filters={}", encode(&filters_json(&options.filters)));
        if let Some(since) = options.since {
            query.push_str(&format!("&since={since}"));
        }
        if let Some(until) = options.until {
            query.push_str(&format!("&until={until}"));
        }
        let path = format!("/events?{query}");
        self.block_on(self.stream_values(&path, &mut |v| {
            out(v);
            true
        }))
    }

    fn container_top(&self, id: &str, ps_args: &str) -> ApiResult<Value> {
        let path = format!("/containers/{}/top?ps_args={}", encode(id), encode(ps_args));
        self.call("GET", &path, None)
    }

    fn container_stats(
        &self,
        id: &str,
        stream: bool,
        out: &mut dyn FnMut(&Value) -> bool,
    ) -> ApiResult<()> {
        let path = format!("/containers/{}/stats?stream={}", encode(id), u8::from(stream));
        self.block_on(self.stream_values(&path, out))
    }

    fn container_rename(&self, id: &str, name: &str) -> ApiResult<()> {
        let path = format!("/containers/{}/rename?name={}", encode(id), encode(name));
        self.call("POST", &path, None).map(drop)
    }

    fn container_update(&self, id: &str, body: &UpdateBody) -> ApiResult<Vec<String>> {
        let body = serde_json::to_vec(body).expect("an update body serializes");
        let answer =
            self.call("POST", &format!("/containers/{}/update", encode(id)), Some(body))?;
        let warnings = answer["Warnings"].as_array().cloned().unwrap_or_default();
        Ok(warnings.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
    }

    fn container_prune(&self, filters: &Filters) -> ApiResult<Value> {
        let path = format!("/containers/prune?filters={}", encode(&filters_json(filters)));
        self.call("POST", &path, None)
    }

    fn archive_stat(&self, id: &str, path: &str) -> ApiResult<PathStat> {
        self.block_on(async {
            let response =
                send(&self.host, "HEAD", &Self::archive_path(id, path), None, &[]).await?;
            if response.status().as_u16() == 404 {
                let message = format!("Could not find the file {path} in container {id}");
                return Err(ApiError::not_found(message));
            }
            path_stat(&check(response, "HEAD archive").await?)
        })
    }

    fn archive_get(&self, id: &str, path: &str) -> ApiResult<(PathStat, Vec<u8>)> {
        self.block_on(async {
            let response =
                send(&self.host, "GET", &Self::archive_path(id, path), None, &[]).await?;
            let response = check(response, "GET archive").await?;
            let stat = path_stat(&response)?;
            Ok((stat, http::bytes(response).await?.to_vec()))
        })
    }

    fn archive_put(&self, id: &str, path: &str, tar: &[u8]) -> ApiResult<()> {
        let headers = [("Content-Type", "application/x-tar")];
        self.block_on(async {
            let put = Self::archive_path(id, path) + "&noOverwriteDirNonDir=true";
            let response = send(&self.host, "PUT", &put, Some(tar.to_vec()), &headers).await?;
            check(response, "PUT archive").await.map(drop)
        })
    }
}
