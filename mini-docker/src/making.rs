//! Making images (chapter 10): `diff`, `commit`, `export`, `history`,
//! `push`, `save` — the chapter's own command line, on the composed engine.

use std::path::Path;

use anyhow::Result;
pub use ch10_images::cli::{CommitArgs, DiffArgs, ExportArgs, HistoryArgs, PushArgs, SaveArgs};

use mini_docker::compose;

pub fn diff(root: &Path, args: &DiffArgs) -> Result<u8> {
    ch10_images::cli::diff(&compose::engine(root), args)
}

/// `--pause` goes through chapter 10's freezer seam, to chapter 2's freezer.
pub fn commit(root: &Path, args: &CommitArgs) -> Result<u8> {
    let engine = compose::engine(root);
    ch10_images::cli::commit(&engine, args, &compose::Freezer::new(engine.clone()))
}

pub fn export(root: &Path, args: &ExportArgs) -> Result<u8> {
    ch10_images::cli::export(&compose::engine(root), args)
}

pub fn history(root: &Path, args: &HistoryArgs) -> Result<u8> {
    ch10_images::cli::history(root, args)
}

pub fn push(root: &Path, args: &PushArgs) -> Result<u8> {
    ch10_images::cli::push(root, args)
}

pub fn save(root: &Path, args: &SaveArgs) -> Result<u8> {
    ch10_images::cli::save(root, args)
}
