//! `GET /events`: what happened, as it happens. Every action the daemon
//! takes is recorded here; a client may ask for the past (`since`), a
//! window (`until`), and only some kinds (`filters`).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tokio::sync::broadcast;

use crate::types::Filters;

/// How many past events are kept for `since`.
const KEPT: usize = 1024;

/// The events of this daemon: a bounded history and live subscribers.
pub struct Events {
    history: Mutex<VecDeque<Value>>,
    live: broadcast::Sender<Value>,
}

impl Default for Events {
    fn default() -> Self {
        Events { history: Mutex::new(VecDeque::new()), live: broadcast::channel(256).0 }
    }
}

impl Events {
    // ANCHOR: emit
    /// Record and send one event: `kind` is container, image, network or
    /// volume; `action` is create, start, die, …; `actor` is the object's id.
    pub fn emit(&self, kind: &str, action: &str, actor: &str, attributes: &[(&str, &str)]) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let attributes: Map<String, Value> =
            attributes.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let mut event = json!({
            "Type": kind,
            "Action": action,
            "Actor": { "ID": actor, "Attributes": attributes },
            "scope": "local",
            "time": now.as_secs(),
            "timeNano": now.as_nanos() as u64,
        });
        if kind == "container" || kind == "image" {
            event["status"] = json!(action);
            event["id"] = json!(actor);
            event["from"] = event["Actor"]["Attributes"]["image"].clone();
        }
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if history.len() == KEPT {
            history.pop_front();
        }
        history.push_back(event.clone());
        let _ = self.live.send(event);
    }
    // ANCHOR_END: emit

    /// The kept events since `since` (unix seconds), and a receiver for the
    /// ones to come — taken together, so that none falls in between.
    pub fn subscribe(&self, since: Option<i64>) -> (Vec<Value>, broadcast::Receiver<Value>) {
        let history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let receiver = self.live.subscribe();
        let past = match since {
            None => Vec::new(),
            Some(since) => {
                history.iter().filter(|e| e["time"].as_i64() >= Some(since)).cloned().collect()
            }
        };
        (past, receiver)
    }
}

// ANCHOR: matches
/// `type`, `event`, `container`, `image`, `label` filters, as dockerd's.
pub fn matches(event: &Value, filters: &Filters) -> bool {
    filters.iter().all(|(key, values)| {
        values.iter().any(|value| match key.as_str() {
            "type" => event["Type"] == value.as_str(),
            "event" => event["Action"]
                .as_str()
                .is_some_and(|a| a == value || a.starts_with(&format!("{value}:"))),
            "container" => event["Type"] == "container" && actor_is(event, value),
            "image" => event["Actor"]["Attributes"]["image"] == value.as_str(),
            "network" => event["Type"] == "network" && actor_is(event, value),
            "volume" => event["Type"] == "volume" && actor_is(event, value),
            "label" => label(event, value),
            _ => false,
        })
    })
}
// ANCHOR_END: matches

fn actor_is(event: &Value, wanted: &str) -> bool {
    let id = event["Actor"]["ID"].as_str().unwrap_or_default();
    id.starts_with(wanted) || event["Actor"]["Attributes"]["name"] == wanted
}

fn label(event: &Value, wanted: &str) -> bool {
    let attributes = &event["Actor"]["Attributes"];
    match wanted.split_once('=') {
        Some((key, value)) => attributes[key] == value,
        None => attributes.get(wanted).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_kept_and_filtered() {
        let events = Events::default();
        events.emit("container", "create", "abc123", &[("name", "web"), ("image", "busybox")]);
        events.emit("network", "connect", "net1", &[("container", "abc123")]);
        let (past, _) = events.subscribe(Some(0));
        assert_eq!(past.len(), 2);
        assert_eq!(past[0]["status"], "create");
        assert_eq!(past[0]["from"], "busybox");
        let mut only = Filters::new();
        only.insert("type".into(), vec!["container".into()]);
        only.insert("container".into(), vec!["web".into()]);
        assert!(matches(&past[0], &only) && !matches(&past[1], &only));
        let mut exec = Filters::new();
        exec.insert("event".into(), vec!["exec_start".into()]);
        let e = json!({"Action": "exec_start: sh -c true"});
        assert!(matches(&e, &exec));
        assert!(events.subscribe(None).0.is_empty(), "without since, only what comes");
    }
}
