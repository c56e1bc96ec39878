//! The [`objects`](crate::objects) interfaces over HTTP: the requests the
//! `docker` CLI sends for its image, network, volume and `system df` verbs.

use std::io::Write;
use std::path::Path;

use bytes::BytesMut;
use serde_json::Value;

use super::http::{self, encode, send};
use super::Remote;
use crate::error::{ApiError, ApiResult};
use crate::objects::{ImageApi, NetworkApi, SystemApi, VolumeApi};
use crate::types::{filters_json, Filters};

/// An image name goes into the path as it is (`/images/127.0.0.1:5000/a/b/json`),
/// as the `docker` CLI sends it; only what a path cannot hold is escaped.
fn image_path(name: &str, rest: &str) -> String {
    let escaped: String = name
        .chars()
        .map(|c| match c {
            '?' | '#' | '%' | ' ' => format!("%{:02X}", c as u32),
            c => c.to_string(),
        })
        .collect();
    format!("/images/{escaped}{rest}")
}

fn list(value: Value, what: &str) -> ApiResult<Vec<Value>> {
    match value {
        Value::Array(list) => Ok(list),
        _ => Err(ApiError::new(500, format!("the {what} is not a list"))),
    }
}

fn body(value: &Value) -> Option<Vec<u8>> {
    Some(serde_json::to_vec(value).expect("JSON values serialize"))
}

// ANCHOR: remote_images
impl ImageApi for Remote {
    fn image_list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>> {
        let query = format!("?all={}&filters={}", u8::from(all), encode(&filters_json(filters)));
        list(self.call("GET", &format!("/images/json{query}"), None)?, "image list")
    }

    fn image_inspect(&self, name: &str) -> ApiResult<Value> {
        self.call("GET", &image_path(name, "/json"), None)
    }

    fn image_tag(&self, name: &str, repo: &str, tag: &str) -> ApiResult<()> {
        let query = format!("/tag?repo={}&tag={}", encode(repo), encode(tag));
        self.call("POST", &image_path(name, &query), None).map(drop)
    }

    fn image_remove(&self, name: &str, force: bool) -> ApiResult<Vec<Value>> {
        let path = image_path(name, &format!("?force={}", u8::from(force)));
        list(self.call("DELETE", &path, None)?, "answer to a delete")
    }
    // ANCHOR_END: remote_images

    fn image_history(&self, name: &str) -> ApiResult<Vec<Value>> {
        list(self.call("GET", &image_path(name, "/history"), None)?, "history")
    }

    fn image_save(&self, names: &[String], out: &mut dyn Write) -> ApiResult<()> {
        let query: Vec<String> = names.iter().map(|n| format!("names={}", encode(n))).collect();
        let path = format!("/images/get?{}", query.join("&"));
        self.block_on(async {
            let response = send(&self.host, "GET", &path, None, &[]).await?;
            if response.status().as_u16() >= 400 {
                return http::json(response).await.map(drop);
            }
            let mut body = response.into_body();
            while let Some(chunk) = http::next_chunk(&mut body).await? {
                out.write_all(&chunk).map_err(|e| ApiError::new(500, format!("writing: {e}")))?;
            }
            Ok(())
        })
    }

    fn image_load(&self, archive: &Path, out: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        let cannot = |why: String| {
            ApiError::bad_request(format!("invalid image {}: {why}", archive.display()))
        };
        if archive.is_dir() {
            return Err(cannot(
                "a directory: a daemon loads tarballs (tar it with `tar -C DIR -cf image.tar .`)"
                    .into(),
            ));
        }
        let bytes = std::fs::read(archive).map_err(|e| cannot(format!("cannot read it: {e}")))?;
        self.block_on(async {
            let headers = [("Content-Type", "application/x-tar")];
            let response = send(&self.host, "POST", "/images/load?quiet=1", Some(bytes), &headers);
            json_lines(response.await?, out).await
        })
    }

    fn image_prune(&self, filters: &Filters) -> ApiResult<Value> {
        let path = format!("/images/prune?filters={}", encode(&filters_json(filters)));
        self.call("POST", &path, None)
    }
}

/// A JSON message stream (`load`): each message to `out`; an `errorDetail`
/// inside it is the error.
async fn json_lines(
    response: hyper::Response<hyper::body::Incoming>,
    out: &mut dyn FnMut(&Value),
) -> ApiResult<()> {
    if response.status().as_u16() >= 400 {
        return http::json(response).await.map(drop);
    }
    let mut body = response.into_body();
    let mut pending = BytesMut::new();
    while let Some(chunk) = http::next_chunk(&mut body).await? {
        pending.extend_from_slice(&chunk);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line = pending.split_to(end + 1);
            let Ok(message) = serde_json::from_slice::<Value>(&line) else { continue };
            if let Some(error) = message["errorDetail"]["message"].as_str() {
                return Err(ApiError::bad_request(error));
            }
            out(&message);
        }
    }
    Ok(())
}

impl NetworkApi for Remote {
    fn network_list(&self) -> ApiResult<Vec<Value>> {
        list(self.call("GET", "/networks", None)?, "network list")
    }

    fn network_create(&self, request: &Value) -> ApiResult<Value> {
        self.call("POST", "/networks/create", body(request))
    }

    fn network_inspect(&self, name: &str) -> ApiResult<Value> {
        self.call("GET", &format!("/networks/{}", encode(name)), None)
    }

    fn network_remove(&self, name: &str) -> ApiResult<()> {
        self.call("DELETE", &format!("/networks/{}", encode(name)), None).map(drop)
    }

    fn network_prune(&self) -> ApiResult<Value> {
        self.call("POST", "/networks/prune", None)
    }

    fn network_connect(&self, name: &str, request: &Value) -> ApiResult<()> {
        self.call("POST", &format!("/networks/{}/connect", encode(name)), body(request)).map(drop)
    }

    fn network_disconnect(&self, name: &str, request: &Value) -> ApiResult<()> {
        let path = format!("/networks/{}/disconnect", encode(name));
        self.call("POST", &path, body(request)).map(drop)
    }
}

impl VolumeApi for Remote {
    fn volume_list(&self) -> ApiResult<Value> {
        self.call("GET", "/volumes", None)
    }

    fn volume_create(&self, request: &Value) -> ApiResult<Value> {
        self.call("POST", "/volumes/create", body(request))
    }

    fn volume_inspect(&self, name: &str) -> ApiResult<Value> {
        self.call("GET", &format!("/volumes/{}", encode(name)), None)
    }

    fn volume_remove(&self, name: &str, force: bool) -> ApiResult<()> {
        let path = format!("/volumes/{}?force={}", encode(name), u8::from(force));
        self.call("DELETE", &path, None).map(drop)
    }

    fn volume_prune(&self, filters: &Filters) -> ApiResult<Value> {
        let path = format!("/volumes/prune?filters={}", encode(&filters_json(filters)));
        self.call("POST", &path, None)
    }
}

impl SystemApi for Remote {
    fn system_df(&self) -> ApiResult<Value> {
        self.call("GET", "/system/df", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_go_into_the_path_as_they_are() {
        assert_eq!(
            image_path("127.0.0.1:5000/a/b:1", "/json"),
            "/images/127.0.0.1:5000/a/b:1/json"
        );
        assert_eq!(image_path("a b", ""), "/images/a%20b");
    }
}
