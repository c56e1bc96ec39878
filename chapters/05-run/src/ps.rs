//! `ps`: the container list as `docker ps` prints it, from the summaries.

use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::ids::short_id;
use crate::state::human_duration;
use crate::summary::ports_text;

pub const COLUMNS: [&str; 7] =
    ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];

// ANCHOR: table
/// Docker's table: a row per container, columns three spaces apart.
pub fn table(summaries: &[Value], now: SystemTime) -> String {
    let mut rows = vec![COLUMNS.map(String::from).to_vec()];
    for summary in summaries {
        let text = |key: &str| summary[key].as_str().unwrap_or_default().to_string();
        let created =
            SystemTime::UNIX_EPOCH + Duration::from_secs(summary["Created"].as_u64().unwrap_or(0));
        let name = summary["Names"][0].as_str().unwrap_or_default().trim_start_matches('/');
        rows.push(vec![
            short_id(&text("Id")).to_string(),
            text("Image"),
            quoted_command(&text("Command")),
            format!("{} ago", human_duration(now.duration_since(created).unwrap_or_default())),
            text("Status"),
            ports_text(summary),
            name.to_string(),
        ]);
    }
    aligned(&rows)
}
// ANCHOR_END: table

/// `"sh -c 'sleep 1…"`: the command, shortened to 20 characters like `ps`.
pub fn quoted_command(full: &str) -> String {
    let short: String = full.chars().take(20).collect();
    let ellipsis = if full.chars().count() > 20 { "…" } else { "" };
    format!("\"{short}{ellipsis}\"")
}

/// Left-aligned columns, each as wide as its widest cell, three spaces apart.
pub fn aligned(rows: &[Vec<String>]) -> String {
    let width = |c: usize| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0);
    let widths: Vec<usize> = (0..rows[0].len()).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let last = row.len() - 1;
        let cells = row.iter().enumerate().map(|(i, cell)| match i == last {
            true => cell.clone(),
            false => format!("{cell:<w$}   ", w = widths[i]),
        });
        out.push_str(cells.collect::<String>().trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_line_up_under_dockers_headers() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let summary = json!({
            "Id": "0123456789abcdef0123", "Image": "busybox", "Command": "sleep 1000",
            "Created": 990, "Status": "Up 9 seconds", "Ports": [], "Names": ["/web"],
        });
        let table = table(&[summary], now);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("CONTAINER ID   IMAGE     COMMAND        CREATED"), "{table}");
        assert!(
            lines[1].starts_with("0123456789ab   busybox   \"sleep 1000\"   10 seconds ago"),
            "{table}"
        );
        assert!(lines[1].ends_with(&format!("Up 9 seconds{}web", " ".repeat(11))), "{table}");
        assert_eq!(
            quoted_command("sh -c 'while true; do date; done'"),
            "\"sh -c 'while true; d…\""
        );
    }
}
