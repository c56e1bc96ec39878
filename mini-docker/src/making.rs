//! Making images (chapter 10): `diff`, `commit`, `export`, `history`,
//! `push`, `save` — the chapter's own command line, on the composed engine.

use std::path::Path;

use std::time::SystemTime;

use anyhow::{anyhow, Result};
use ch09_engine::Api;
pub use ch10_images::cli::{CommitArgs, DiffArgs, ExportArgs, HistoryArgs, PushArgs, SaveArgs};
use ch10_images::commit::NoFreezer;
use ch10_images::history::TableOptions;

use mini_docker::compose;

pub fn diff(root: &Path, args: &DiffArgs) -> Result<u8> {
    ch10_images::cli::diff(&compose::engine(root), args)
}

/// `--pause` goes through chapter 10's freezer seam; until chapter 2 has a
/// freezer, pausing a running container is refused with a way out.
pub fn commit(root: &Path, args: &CommitArgs) -> Result<u8> {
    ch10_images::cli::commit(&compose::engine(root), args, &NoFreezer)
}

pub fn export(root: &Path, args: &ExportArgs) -> Result<u8> {
    ch10_images::cli::export(&compose::engine(root), args)
}

// ANCHOR: history
/// `history IMAGE`: `GET /images/{name}/history`, as chapter 10's table.
pub fn history(api: &dyn Api, args: &HistoryArgs) -> Result<u8> {
    let items = api.image_history(&args.image).map_err(|e| anyhow!("{}", e.message))?;
    let rows: Vec<_> = items.iter().map(mini_docker::archive::history_row).collect();
    let options = TableOptions { no_trunc: args.no_trunc, human: args.human, quiet: args.quiet };
    print!("{}", ch10_images::history::table(&rows, SystemTime::now(), options));
    Ok(0)
}
// ANCHOR_END: history

pub fn push(root: &Path, args: &PushArgs) -> Result<u8> {
    ch10_images::cli::push(root, args)
}

/// `save IMAGE...`: `GET /images/get?names=…`, to a file or stdout.
pub fn save(api: &dyn Api, args: &SaveArgs) -> Result<u8> {
    ch10_images::cli::to_file_or_stdout(args.output.as_deref(), |out| {
        api.image_save(&args.images, out).map_err(|e| anyhow!("{}", e.message))
    })?;
    Ok(0)
}
