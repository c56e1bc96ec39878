//! Keeps the book from drifting away from the code:
//! - [`includes`]: every `{{#include}}` resolves to a non-empty listing of
//!   at most 40 lines (mdBook itself only warns);
//! - [`transcript`] and [`replay`]: every shell session in the book is a
//!   transcript in `book/sessions/`, replayed against the built binaries;
//! - [`recorded`]: the sessions of the cgroup VM, against its console;
//! - [`pages`]: every page of the built book renders in headless Chromium,
//!   with no broken picture and no raw directive.

pub mod includes;
pub mod pages;
pub mod recorded;
pub mod replay;
pub mod transcript;

use std::path::PathBuf;

/// The checkout this crate was built in.
pub fn repo() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .canonicalize()
        .expect("the checkout exists")
}

/// Every transcript of the book, sorted.
pub fn sessions() -> Vec<PathBuf> {
    let dir = repo().join("book/sessions");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "console"))
        .collect();
    found.sort();
    found
}
