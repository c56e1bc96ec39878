//! `docker push` as dockerd tells it: one JSON message per event, the
//! same whether the push runs in this process or in a daemon behind
//! `POST /images/{name}/push`. The command line reads these messages in
//! both cases ([`crate::cli::push`]), so it is written once.
//!
//! ```text
//! {"status":"The push refers to repository [localhost:5000/x]"}
//! {"status":"Preparing","progressDetail":{},"id":"0a1b2c3d4e5f"}
//! {"status":"Pushing","progressDetail":{"current":32768,"total":1048576},"id":"0a1b2c3d4e5f"}
//! {"status":"Pushed","progressDetail":{},"id":"0a1b2c3d4e5f"}     or "Layer already exists",
//! {"status":"1: digest: sha256:… size: 527"}                          "Mounted from team/a"
//! {"progressDetail":{},"aux":{"Tag":"1","Digest":"sha256:…","Size":527}}
//! {"errorDetail":{"message":"…"},"error":"…"}                          a failure, at any point
//! ```

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use ch04_image_pull::store::Store;
use ch04_image_pull::Reference;
use serde_json::{json, Value};

use crate::display::status_word;
use crate::push::{self, PushOptions, PushProgress, PushStatus, Pushed};

/// A `Pushing` message at most this often (in bytes sent) per layer, as
/// dockerd throttles its progress; the last one always goes.
const PUSHING_EVERY: u64 = 512 << 10;

/// Where a push runs: this process, or a daemon. Both answer with the
/// messages above, to `out`; a failure is the `Err`.
pub trait PushTarget {
    /// Push `name:tag`, or every local tag of `name` when `tag` is `None`.
    fn push(&self, name: &str, tag: Option<&str>, out: &mut dyn FnMut(&Value)) -> Result<()>;
}

// ANCHOR: in_process
/// The push in this process, on the store under `root`.
pub struct InProcess {
    pub root: PathBuf,
    pub options: PushOptions,
}

impl PushTarget for InProcess {
    fn push(&self, name: &str, tag: Option<&str>, out: &mut dyn FnMut(&Value)) -> Result<()> {
        let store = Store::open(&self.root)?;
        let repository = Reference::parse(name)?;
        out(&json!({ "status": format!("The push refers to repository [{}]", repository.name()) }));
        for reference in references(&store, &repository, tag)? {
            let pushed = push_reporting(&store, &reference, &self.options, out)?;
            out(&json!({ "status": summary(&pushed) }));
            let aux = json!({ "Tag": pushed.tag, "Digest": pushed.digest, "Size": pushed.size });
            out(&json!({ "progressDetail": {}, "aux": aux }));
        }
        Ok(())
    }
}
// ANCHOR_END: in_process

/// `TAG: digest: sha256:… size: N`, the line `docker push` ends with.
pub fn summary(pushed: &Pushed) -> String {
    format!("{}: digest: {} size: {}", pushed.tag, pushed.digest, pushed.size)
}

/// The tag asked for, or (none asked) every tag the store has for the
/// repository, as dockerd pushes them all.
fn references(store: &Store, repository: &Reference, tag: Option<&str>) -> Result<Vec<Reference>> {
    if let Some(tag) = tag {
        let tagged = Reference { tag: Some(tag.to_string()), digest: None, ..repository.clone() };
        return Ok(vec![tagged]);
    }
    let name = repository.name();
    let tagged: Vec<Reference> = store
        .tags()?
        .keys()
        .filter_map(|t| Reference::parse(t).ok())
        .filter(|r| r.name() == name && r.digest.is_none())
        .collect();
    if tagged.is_empty() {
        bail!("An image does not exist locally with the tag: {}", repository.familiar_name());
    }
    Ok(tagged)
}

/// Chapter 10's push, its progress as messages (`Pushing` throttled).
fn push_reporting(
    store: &Store,
    reference: &Reference,
    options: &PushOptions,
    out: &mut dyn FnMut(&Value),
) -> Result<Pushed> {
    let mut last: HashMap<String, u64> = HashMap::new();
    push::push(store, reference, options, &mut |event| {
        if let PushStatus::Pushing { done, total } = event.status {
            let sent = last.entry(event.layer.clone()).or_insert(0);
            if done < total && done < *sent + PUSHING_EVERY {
                return;
            }
            *sent = done;
        }
        out(&progress_json(event));
    })
}

// ANCHOR: messages
/// One layer's event as dockerd's message.
pub fn progress_json(event: &PushProgress) -> Value {
    let detail = match event.status {
        PushStatus::Pushing { done, total } => json!({ "current": done, "total": total }),
        _ => json!({}),
    };
    json!({ "status": status_word(&event.status), "progressDetail": detail, "id": event.layer })
}

/// The inverse: a layer's event, if the message is one.
pub fn progress_of(message: &Value) -> Option<PushProgress> {
    let layer = message["id"].as_str()?.to_string();
    let status = match message["status"].as_str()? {
        "Preparing" => PushStatus::Preparing,
        "Pushing" => PushStatus::Pushing {
            done: message["progressDetail"]["current"].as_u64().unwrap_or(0),
            total: message["progressDetail"]["total"].as_u64().unwrap_or(0),
        },
        "Pushed" => PushStatus::Pushed,
        "Layer already exists" => PushStatus::LayerAlreadyExists,
        other => PushStatus::MountedFrom(other.strip_prefix("Mounted from ")?.to_string()),
    };
    Some(PushProgress { layer, status })
}

/// A failure inside the stream, as `Err`: dockerd's `errorDetail`.
pub fn error_of(message: &Value) -> Option<anyhow::Error> {
    let detail = message.get("errorDetail")?;
    let text = detail["message"].as_str().or(message["error"].as_str());
    Some(anyhow!("{}", text.unwrap_or("the push failed")))
}
// ANCHOR_END: messages

/// The daemon's push options: its registry settings, credentials from
/// the request, the chunk size of `MINI_DOCKER_PUSH_CHUNK_SIZE` if set.
pub fn daemon_options(registry: ch04_image_pull::registry::RegistryOptions) -> PushOptions {
    let chunk_size = std::env::var("MINI_DOCKER_PUSH_CHUNK_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(push::DEFAULT_CHUNK_SIZE);
    PushOptions { registry, chunk_size: chunk_size.max(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_survives_the_round_trip_through_json() {
        let statuses = [
            PushStatus::Preparing,
            PushStatus::Pushing { done: 10, total: 20 },
            PushStatus::Pushed,
            PushStatus::LayerAlreadyExists,
            PushStatus::MountedFrom("team/a".into()),
        ];
        for status in statuses {
            let event = PushProgress { layer: "0a1b2c3d4e5f".into(), status };
            let message = progress_json(&event);
            assert_eq!(message["id"], "0a1b2c3d4e5f");
            assert_eq!(progress_of(&message), Some(event));
        }
        let pushing = progress_json(&PushProgress {
            layer: "x".into(),
            status: PushStatus::Pushing { done: 1, total: 2 },
        });
        assert_eq!(pushing["progressDetail"], json!({ "current": 1, "total": 2 }));
    }

    #[test]
    fn status_lines_and_errors_are_not_layer_events() {
        let line = json!({ "status": "The push refers to repository [r/x]" });
        assert_eq!(progress_of(&line), None);
        assert!(error_of(&line).is_none());
        let failed =
            json!({ "errorDetail": { "message": "layer x: denied" }, "error": "layer x: denied" });
        assert_eq!(error_of(&failed).unwrap().to_string(), "layer x: denied");
        let pushed = Pushed { tag: "1".into(), digest: "sha256:ab".into(), size: 527 };
        assert_eq!(summary(&pushed), "1: digest: sha256:ab size: 527");
    }

    #[test]
    fn without_a_tag_every_local_tag_of_the_repository_goes() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let lock = store.lock().unwrap();
        for tag in ["r.test/x:1", "r.test/x:2", "r.test/y:1"] {
            let full = Reference::parse(tag).unwrap().to_string();
            store.set_tag(&lock, &full, "sha256:00").unwrap();
        }
        drop(lock);
        let repository = Reference::parse("r.test/x").unwrap();
        let mut tags: Vec<String> = references(&store, &repository, None)
            .unwrap()
            .into_iter()
            .map(|r| r.tag.unwrap())
            .collect();
        tags.sort();
        assert_eq!(tags, ["1", "2"]);
        let none = references(&store, &Reference::parse("r.test/z").unwrap(), None).unwrap_err();
        assert_eq!(none.to_string(), "An image does not exist locally with the tag: r.test/z");
    }
}
