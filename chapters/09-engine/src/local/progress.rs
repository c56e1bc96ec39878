//! Pull progress as the Engine API's JSON messages — one object per line,
//! flushed as it happens — and back, for a client that draws them.
//!
//! ```text
//! {"status":"Pulling from library/busybox","id":"latest"}
//! {"status":"Downloading","progressDetail":{"current":32768,"total":2216542},"id":"9ad63333ebc9"}
//! {"status":"Pull complete","progressDetail":{},"id":"9ad63333ebc9"}
//! {"status":"Digest: sha256:…"}
//! ```

use ch04_image_pull::progress::status_word;
use ch04_image_pull::pull::{LayerStatus, Progress};
use serde_json::{json, Value};

// ANCHOR: to_json
/// One layer's progress as a JSON message.
pub fn to_json(event: &Progress) -> Value {
    let detail = match event.status {
        LayerStatus::Downloading { done, total } => json!({ "current": done, "total": total }),
        _ => json!({}),
    };
    json!({ "status": status_word(&event.status), "progressDetail": detail, "id": event.layer })
}
// ANCHOR_END: to_json

/// A message about a layer, back as chapter 4's progress event (for its
/// display); `None` for the other messages.
pub fn from_json(message: &Value) -> Option<Progress> {
    let layer = message["id"].as_str()?.to_string();
    let detail = &message["progressDetail"];
    let status = match message["status"].as_str()? {
        "Pulling fs layer" | "Waiting" => LayerStatus::Waiting,
        "Already exists" => LayerStatus::AlreadyExists,
        "Downloading" => LayerStatus::Downloading {
            done: detail["current"].as_u64().unwrap_or(0),
            total: detail["total"].as_u64().unwrap_or(0),
        },
        "Download complete" | "Verifying Checksum" => LayerStatus::DownloadComplete,
        "Extracting" => LayerStatus::Extracting,
        "Pull complete" => LayerStatus::PullComplete,
        _ => return None,
    };
    Some(Progress { layer, status })
}

/// A status line of the stream (`Digest: …`), with its id if it has one
/// (`latest: Pulling from library/busybox`).
pub fn status_line(message: &Value) -> Option<String> {
    let status = message["status"].as_str()?;
    Some(match message["id"].as_str() {
        Some(id) => format!("{id}: {status}"),
        None => status.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_messages_round_trip() {
        let events = [
            LayerStatus::Waiting,
            LayerStatus::Downloading { done: 10, total: 20 },
            LayerStatus::DownloadComplete,
            LayerStatus::Extracting,
            LayerStatus::PullComplete,
            LayerStatus::AlreadyExists,
        ];
        for status in events {
            let event = Progress { layer: "9ad63333ebc9".into(), status };
            assert_eq!(from_json(&to_json(&event)), Some(event));
        }
        let digest = json!({"status": "Digest: sha256:abc"});
        assert_eq!(from_json(&digest), None);
        assert_eq!(status_line(&digest).unwrap(), "Digest: sha256:abc");
        let pulling = json!({"status": "Pulling from library/busybox", "id": "latest"});
        assert_eq!(status_line(&pulling).unwrap(), "latest: Pulling from library/busybox");
    }
}
