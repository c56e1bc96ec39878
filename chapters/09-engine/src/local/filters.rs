//! `filters=` for the container list, as dockerd applies them: each key
//! must match (any of its values), keys together must all match.

use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::types::Filters;

/// The container states a `status=` filter may name (dockerd's list).
const STATES: [&str; 7] =
    ["created", "restarting", "running", "removing", "paused", "exited", "dead"];

/// Refuse what dockerd refuses: a key it does not know, a state that is not one.
pub fn check(filters: &Filters) -> ApiResult<()> {
    for (key, values) in filters {
        if !["id", "name", "status", "ancestor", "label", "network", "exited"]
            .contains(&key.as_str())
        {
            return Err(ApiError::bad_request(format!("invalid filter '{key}'")));
        }
        let bad = |v: &String| match key.as_str() {
            "status" => !STATES.contains(&v.as_str()),
            "exited" => v.parse::<i64>().is_err(),
            _ => false,
        };
        if let Some(value) = values.iter().find(|v| bad(v)) {
            let message = format!("invalid filter '{key}={value}'");
            return Err(ApiError::bad_request(message));
        }
    }
    Ok(())
}

// ANCHOR: matches
/// Does the container `summary` pass every filter?
pub fn matches(summary: &Value, filters: &Filters) -> bool {
    filters.iter().all(|(key, values)| values.iter().any(|value| one(summary, key, value)))
}

fn one(summary: &Value, key: &str, value: &str) -> bool {
    let text = |field: &str| summary[field].as_str().unwrap_or_default().to_string();
    match key {
        "id" => text("Id").starts_with(value),
        "name" => names(summary).iter().any(|name| name.contains(value)),
        "status" => text("State") == value,
        "ancestor" => ancestor(&text("Image"), &text("ImageID"), value),
        "label" => label(&summary["Labels"], value),
        "network" => summary["NetworkSettings"]["Networks"].get(value).is_some(),
        "exited" => text("State") == "exited" && exit_code(&text("Status")) == value.parse().ok(),
        _ => false,
    }
}
// ANCHOR_END: matches

fn names(summary: &Value) -> Vec<String> {
    let names = summary["Names"].as_array().map(Vec::as_slice).unwrap_or_default();
    names.iter().filter_map(|n| n.as_str()).map(|n| n.trim_start_matches('/').to_string()).collect()
}

/// The code in a status line like `Exited (137) 2 seconds ago`.
fn exit_code(status: &str) -> Option<i64> {
    let inside = status.strip_prefix("Exited (")?.split(')').next()?;
    inside.parse().ok()
}

/// `ancestor=busybox`, `ancestor=busybox:latest` or an image id prefix.
fn ancestor(image: &str, image_id: &str, wanted: &str) -> bool {
    let bare = |name: &str| name.strip_suffix(":latest").unwrap_or(name).to_string();
    let id = image_id.trim_start_matches("sha256:");
    bare(image) == bare(wanted)
        || (wanted.len() >= 4 && id.starts_with(wanted.trim_start_matches("sha256:")))
}

/// `label=key` (present) or `label=key=value` (equal).
fn label(labels: &Value, wanted: &str) -> bool {
    match wanted.split_once('=') {
        Some((key, value)) => labels[key].as_str() == Some(value),
        None => labels.get(wanted).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(pairs: &[(&str, &str)]) -> Filters {
        let mut filters = Filters::new();
        for (k, v) in pairs {
            filters.entry(k.to_string()).or_default().push(v.to_string());
        }
        filters
    }

    #[test]
    fn dockers_container_filters() {
        let web = json!({"Id": "abc123", "Names": ["/web-1"], "State": "running",
            "Image": "busybox", "ImageID": "sha256:deadbeef", "Labels": {"tier": "front"},
            "NetworkSettings": {"Networks": {"bridge": {}}}});
        assert!(matches(&web, &f(&[])));
        assert!(matches(&web, &f(&[("name", "web"), ("status", "running")])));
        assert!(matches(&web, &f(&[("status", "exited"), ("status", "running")])));
        assert!(!matches(&web, &f(&[("name", "db")])));
        assert!(matches(&web, &f(&[("ancestor", "busybox:latest")])));
        assert!(matches(&web, &f(&[("ancestor", "deadbe")])));
        assert!(matches(&web, &f(&[("label", "tier"), ("id", "abc")])));
        assert!(matches(&web, &f(&[("label", "tier=front"), ("network", "bridge")])));
        assert!(!matches(&web, &f(&[("label", "tier=back")])));
        let job = json!({"State": "exited", "Status": "Exited (3) 2 seconds ago"});
        assert!(matches(&job, &f(&[("exited", "3")])) && !matches(&job, &f(&[("exited", "0")])));
    }

    #[test]
    fn unknown_keys_and_states_are_refused_as_dockerd_does() {
        assert!(check(&f(&[("name", "web"), ("status", "paused"), ("exited", "0")])).is_ok());
        assert_eq!(check(&f(&[("colour", "red")])).unwrap_err().message, "invalid filter 'colour'");
        let bad = check(&f(&[("status", "sleeping")])).unwrap_err();
        assert_eq!((bad.status, bad.message.as_str()), (400, "invalid filter 'status=sleeping'"));
    }
}
