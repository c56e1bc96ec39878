//! `docker history IMAGE`: the config's history, newest first, each line
//! with the size of its layer and, while the local chain of parents
//! lasts, the id of the image that line made (`<missing>` after that —
//! for pulled images, whose parents never were on this host).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use ch04_image_pull::digest::short;
use ch04_image_pull::store::Store;

use crate::config::ImageConfig;

/// What `docker history` shows for an image made before this date: `N/A`.
const YEAR_2000: u64 = 946_684_800;

// ANCHOR: row
/// One line of `docker history` (the Engine API's `HistoryResponseItem`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// `sha256:…`, or `<missing>`.
    pub id: String,
    pub created: Option<SystemTime>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}
// ANCHOR_END: row

// ANCHOR: history
/// The history of image `id`, newest first.
pub fn history(store: &Store, id: &str) -> anyhow::Result<Vec<HistoryRow>> {
    let record = store.image(id)?;
    let config = ImageConfig::parse(&store.read_blob(id)?)
        .with_context(|| format!("the config of image {} is not valid", short(id)))?;
    let mut rows = Vec::new();
    let mut layers = record.layers.iter();
    for entry in &config.history {
        let size = if entry.empty_layer { 0 } else { layers.next().map_or(0, |l| l.size) };
        rows.push(HistoryRow {
            id: "<missing>".into(),
            created: entry.created.as_deref().and_then(|c| humantime::parse_rfc3339_weak(c).ok()),
            created_by: entry.created_by.clone().unwrap_or_default(),
            size,
            comment: entry.comment.clone().unwrap_or_default(),
        });
    }
    rows.reverse();
    // The newest line made this image; each older one, its parent's.
    let mut image = Some(record);
    for row in rows.iter_mut() {
        let Some(current) = image else { break };
        row.id = current.id.clone();
        image = current.parent.as_deref().and_then(|p| store.image(p).ok());
    }
    Ok(rows)
}
// ANCHOR_END: history

/// How the table is printed: `--no-trunc`, `-H/--human`, `-q`.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    pub no_trunc: bool,
    pub human: bool,
    pub quiet: bool,
}

// ANCHOR: table
/// Docker's table: `IMAGE CREATED CREATED BY SIZE COMMENT`.
pub fn table(rows: &[HistoryRow], now: SystemTime, options: TableOptions) -> String {
    let id = |row: &HistoryRow| match (row.id.strip_prefix("sha256:"), options.no_trunc) {
        (Some(_), true) => row.id.clone(),
        (Some(hex), false) => hex[..hex.len().min(12)].to_string(),
        (None, _) => row.id.clone(),
    };
    if options.quiet {
        return rows.iter().map(|r| id(r) + "\n").collect();
    }
    let mut cells =
        vec![["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"].map(String::from).to_vec()];
    for row in rows {
        let created_by = row.created_by.replace('\t', " ");
        cells.push(vec![
            id(row),
            created(row.created, now, options.human),
            if options.no_trunc { created_by } else { ellipsis(&created_by, 45) },
            if options.human { human_size(row.size) } else { row.size.to_string() },
            row.comment.clone(),
        ]);
    }
    tab_aligned(&cells)
}
// ANCHOR_END: table

fn created(at: Option<SystemTime>, now: SystemTime, human: bool) -> String {
    let Some(at) =
        at.filter(|t| t.duration_since(UNIX_EPOCH).is_ok_and(|d| d.as_secs() >= YEAR_2000))
    else {
        return "N/A".into();
    };
    if !human {
        return humantime::format_rfc3339_seconds(at).to_string();
    }
    format!("{} ago", human_duration(now.duration_since(at).unwrap_or_default()))
}

/// docker/cli's `Ellipsis`: at most `width` characters, the last one `…`.
pub fn ellipsis(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    text.chars().take(width - 1).chain(['…']).collect()
}

// ANCHOR: duration
/// go-units' `HumanDuration`, which `docker history` and `docker images` use.
pub fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match seconds {
        0 => "Less than a second".into(),
        1 => "1 second".into(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "About a minute".into(),
        120..=3599 => format!("{} minutes", seconds / 60),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", seconds / 3600 / 24 / 365),
    }
}

// ANCHOR_END: duration

// ANCHOR: size
/// go-units' `HumanSizeWithPrecision(size, 3)`: decimal units, Go's `%.3g`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let (mut size, mut unit) = (bytes as f64, 0);
    while size >= 1000.0 && unit < UNITS.len() - 1 {
        size /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_g3(size), UNITS[unit])
}

/// Go's `%.3g`: three significant digits, no trailing zeros, and the
/// exponent form once the number needs more than three digits.
fn go_g3(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let scientific = format!("{value:.2e}"); // "4.26e6"
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let trim = |s: &str| match s.contains('.') {
        true => s.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => s.to_string(),
    };
    if !(-4..3).contains(&exponent) {
        return format!(
            "{}e{}{:02}",
            trim(mantissa),
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    }
    trim(&format!("{value:.*}", (2 - exponent) as usize))
}
// ANCHOR_END: size

/// Go's `tabwriter` as docker/cli sets it up: each column as wide as its
/// widest cell plus 3, and at least 10; the last column unpadded.
pub fn tab_aligned(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count() + 3).max().unwrap_or(0).max(10))
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == columns {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        let trimmed = out.trim_end_matches(' ').len();
        out.truncate(trimmed);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_dockers() {
        let cases = [
            (0, "0B"),
            (999, "999B"),
            (1000, "1kB"),
            (1234, "1.23kB"),
            (4_261_000, "4.26MB"),
            (12_000_000, "12MB"),
            (100_000, "100kB"),
            (999_700, "1e+03kB"),
        ];
        for (bytes, text) in cases {
            assert_eq!(human_size(bytes), text, "{bytes}");
        }
    }

    #[test]
    fn durations_read_like_dockers() {
        let d = |s: u64| human_duration(Duration::from_secs(s));
        assert_eq!(d(0), "Less than a second");
        assert_eq!(d(59), "59 seconds");
        assert_eq!(d(90), "About a minute");
        assert_eq!(d(3000), "50 minutes");
        assert_eq!(d(5400), "2 hours");
        assert_eq!(d(3 * 86400), "3 days");
        assert_eq!(d(20 * 86400), "2 weeks");
        assert_eq!(d(90 * 86400), "3 months");
        assert_eq!(d(800 * 86400), "2 years");
    }

    #[test]
    fn the_table_truncates_like_docker_history() {
        let now = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
        let rows = [
            HistoryRow {
                id: format!("sha256:{}", "ab".repeat(32)),
                created: Some(now - Duration::from_secs(120)),
                created_by: "sh -c\techo a very long command line that goes on and on".into(),
                size: 4_261_000,
                comment: "first".into(),
            },
            HistoryRow {
                id: "<missing>".into(),
                created: None,
                created_by: String::new(),
                size: 0,
                comment: String::new(),
            },
        ];
        let options = TableOptions { no_trunc: false, human: true, quiet: false };
        let text = table(&rows, now, options);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "IMAGE          CREATED         CREATED BY                                      SIZE      COMMENT");
        assert_eq!(lines[1], "abababababab   2 minutes ago   sh -c echo a very long command line that goe…   4.26MB    first");
        assert_eq!(
            lines[2],
            "<missing>      N/A                                                             0B"
        );
        let quiet = table(&rows, now, TableOptions { quiet: true, ..options });
        assert_eq!(quiet, "abababababab\n<missing>\n");
    }
}
