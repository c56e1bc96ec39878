//! Chapter 10's `history` and `save`, plugged into chapter 9's engine
//! through its [`ImageArchive`] seam, so that `GET /images/{name}/history`
//! and `GET /images/get` answer with chapter 10's work.

use std::io::Write;
use std::path::Path;
use std::time::UNIX_EPOCH;

use ch04_image_pull::store::Store;
use ch04_image_pull::Reference;
use ch09_engine::ImageArchive;
use ch10_images::history::HistoryRow;
use serde_json::{json, Value};

/// The seam's filling.
pub struct Chapter10;

// ANCHOR: archive
impl ImageArchive for Chapter10 {
    /// moby's `HistoryResponseItem`s: created as unix seconds, the tags of
    /// the image each line made.
    fn history(&self, root: &Path, id: &str) -> anyhow::Result<Vec<Value>> {
        let store = Store::open(root)?;
        let tags = store.tags()?;
        let rows = ch10_images::history::history(&store, id)?;
        Ok(rows
            .iter()
            .map(|row| {
                let tagged: Vec<String> = tags
                    .iter()
                    .filter(|(_, image)| **image == row.id)
                    .filter_map(|(tag, _)| Reference::parse(tag).ok().map(|r| r.familiar()))
                    .collect();
                history_json(row, tagged)
            })
            .collect())
    }

    fn save(&self, root: &Path, names: &[String], out: &mut dyn Write) -> anyhow::Result<()> {
        let store = Store::open(root)?;
        let images = ch10_images::save::choose(&store, names)?;
        ch10_images::save::save(&store, &images, out)
    }
}
// ANCHOR_END: archive

fn history_json(row: &HistoryRow, tags: Vec<String>) -> Value {
    let created = row.created.and_then(|c| c.duration_since(UNIX_EPOCH).ok());
    json!({
        "Id": row.id,
        "Created": created.map_or(0, |c| c.as_secs()),
        "CreatedBy": row.created_by,
        "Tags": if tags.is_empty() { Value::Null } else { json!(tags) },
        "Size": row.size,
        "Comment": row.comment,
    })
}

/// The inverse, for the CLI's table: what the API answered, as chapter 10's rows.
pub fn history_row(item: &Value) -> HistoryRow {
    let created = item["Created"].as_u64().filter(|c| *c > 0);
    HistoryRow {
        id: item["Id"].as_str().unwrap_or("<missing>").to_string(),
        created: created.map(|c| UNIX_EPOCH + std::time::Duration::from_secs(c)),
        created_by: item["CreatedBy"].as_str().unwrap_or_default().to_string(),
        size: item["Size"].as_u64().unwrap_or(0),
        comment: item["Comment"].as_str().unwrap_or_default().to_string(),
    }
}
