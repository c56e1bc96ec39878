//! `ps --format`: a container summary as the rows of Docker's templates.
//!
//! The fields are docker/cli's (`formatter/container.go`): `.ID`, `.Image`,
//! `.Command`, `.CreatedAt`, `.RunningFor`, `.Ports`, `.State`, `.Status`,
//! `.Size`, `.Names`, `.Labels`, `.Mounts`, `.Networks`, `.LocalVolumes`.
//! Each is text already, as the CLI's are: `{{.Names}}` prints `web`, not
//! the API's `["/web"]`.

use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use crate::format;

/// The fields of a `ps` row, and their column headers (Docker's).
pub const PS_HEADERS: &format::Headers = &[
    ("ID", "CONTAINER ID"),
    ("Image", "IMAGE"),
    ("Command", "COMMAND"),
    ("CreatedAt", "CREATED AT"),
    ("RunningFor", "CREATED"),
    ("Ports", "PORTS"),
    ("State", "STATE"),
    ("Status", "STATUS"),
    ("Size", "SIZE"),
    ("Names", "NAMES"),
    ("Labels", "LABELS"),
    ("Mounts", "MOUNTS"),
    ("Networks", "NETWORKS"),
    ("LocalVolumes", "LOCAL VOLUMES"),
];

/// What a bare `--format table` means for `ps`: its default columns.
pub const PS_TABLE: &str = r"table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

// ANCHOR: row
/// One container summary (`GET /containers/json`) as a template's row.
pub fn row(summary: &Value, now: SystemTime, no_trunc: bool) -> Value {
    let text = |key: &str| summary[key].as_str().unwrap_or_default().to_string();
    let id = text("Id");
    let created = summary["Created"].as_i64().unwrap_or(0);
    let since = now.duration_since(SystemTime::UNIX_EPOCH + Duration::from_secs(created as u64));
    let command = match no_trunc {
        true => format!("\"{}\"", text("Command")),
        false => ch05_run::ps::quoted_command(&text("Command")),
    };
    let mounts = mount_names(summary, no_trunc);
    json!({
        "ID": if no_trunc { &id } else { &id[..id.len().min(12)] },
        "Image": text("Image"),
        "Command": command,
        "CreatedAt": crate::images::docker_time(created),
        "RunningFor": format!("{} ago", ch05_run::state::human_duration(since.unwrap_or_default())),
        "Ports": ch05_run::summary::ports_text(summary),
        "State": text("State"),
        "Status": text("Status"),
        "Size": size(summary),
        "Names": names(summary),
        "Labels": joined_pairs(&summary["Labels"]),
        "LocalVolumes": local_volumes(summary).to_string(),
        "Mounts": mounts.join(","),
        "Networks": joined_keys(&summary["NetworkSettings"]["Networks"]),
    })
}
// ANCHOR_END: row

/// `web`, or `web,other/alias` for several names: without the leading `/`.
fn names(summary: &Value) -> String {
    let names = summary["Names"].as_array().map(Vec::as_slice).unwrap_or_default();
    let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
    names.iter().map(|n| n.trim_start_matches('/')).collect::<Vec<_>>().join(",")
}

/// `k=v,k2=v2`, sorted (Docker's order is a Go map's, i.e. random).
fn joined_pairs(map: &Value) -> String {
    let Some(map) = map.as_object() else { return String::new() };
    let mut pairs: Vec<String> =
        map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    pairs.join(",")
}

fn joined_keys(map: &Value) -> String {
    let mut keys: Vec<&String> = map.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    keys.sort();
    keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(",")
}

/// Each mount by its volume's name, or its source; shortened to 15
/// characters with `…` unless `--no-trunc`, as Docker does.
fn mount_names(summary: &Value, no_trunc: bool) -> Vec<String> {
    let mounts = summary["Mounts"].as_array().map(Vec::as_slice).unwrap_or_default();
    let name = |m: &Value| match m["Name"].as_str().filter(|n| !n.is_empty()) {
        Some(name) => name.to_string(),
        None => m["Source"].as_str().unwrap_or_default().to_string(),
    };
    let short = |n: String| match no_trunc || n.chars().count() <= 15 {
        true => n,
        false => format!("{}…", n.chars().take(14).collect::<String>()),
    };
    mounts.iter().map(|m| short(name(m))).collect()
}

fn local_volumes(summary: &Value) -> usize {
    let mounts = summary["Mounts"].as_array().map(Vec::as_slice).unwrap_or_default();
    mounts.iter().filter(|m| m["Type"] == "volume").count()
}

/// `SizeRw` as Docker prints it, when the summary has one (`ps -s`).
fn size(summary: &Value) -> String {
    match summary["SizeRw"].as_u64() {
        Some(bytes) => format!("{bytes}B"),
        None => "0B".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary() -> Value {
        json!({
            "Id": "0123456789abcdef0123", "Names": ["/web"], "Image": "busybox",
            "Command": "sleep 1000", "Created": 990, "State": "running",
            "Status": "Up 9 seconds", "Labels": {"tier": "front", "app": "shop"},
            "Ports": [{"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"}],
            "Mounts": [{"Type": "volume", "Name": "0123456789abcdef0123456789", "Source": "/x"},
                       {"Type": "bind", "Source": "/srv"}],
            "NetworkSettings": {"Networks": {"bridge": {}, "back": {}}},
        })
    }

    #[test]
    fn a_summary_reads_as_the_docker_cli_fields() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let row = row(&summary(), now, false);
        assert_eq!(row["ID"], "0123456789ab");
        assert_eq!(row["Names"], "web");
        assert_eq!(row["Command"], "\"sleep 1000\"");
        assert_eq!(row["RunningFor"], "10 seconds ago");
        assert_eq!(row["CreatedAt"], "1970-01-01 00:16:30 +0000 UTC");
        assert_eq!(row["Labels"], "app=shop,tier=front");
        assert_eq!(row["Mounts"], "0123456789abcd…,/srv");
        assert_eq!(row["LocalVolumes"], "1");
        assert_eq!(row["Networks"], "back,bridge");
        assert_eq!(row["Ports"], "0.0.0.0:8080->80/tcp");
    }

    #[test]
    fn templates_and_tables_use_those_fields() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let rows = [row(&summary(), now, true)];
        let names = format::Format::parse("{{.Names}} {{.State}}", PS_TABLE).unwrap();
        assert_eq!(names.render(&rows, PS_HEADERS).unwrap(), "web running\n");
        let table = format::Format::parse(r"table {{.Names}}\t{{.Status}}", PS_TABLE).unwrap();
        let text = table.render(&rows, PS_HEADERS).unwrap();
        assert_eq!(text, "NAMES     STATUS\nweb       Up 9 seconds\n", "{text}");
        assert_eq!(rows[0]["ID"], "0123456789abcdef0123");
    }
}
