//! The drift guard guards: a tiny book with one good include passes, and
//! each way an include can go wrong makes `book-check includes` fail.

use std::path::Path;
use std::process::Command;

const CODE: &str = "fn other() {}\n// ANCHOR: spawn\nfn spawn() {}\n// ANCHOR_END: spawn\n";

/// A book whose one chapter has `include`, next to `src/code.rs`.
fn book(include: &str, code: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/code.rs"), code).unwrap();
    std::fs::write(dir.path().join("src/ch.md"), format!("# Ch\n\n```rust\n{include}\n```\n"))
        .unwrap();
    dir
}

fn check(book: &Path) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_book-check")).arg("includes").arg(book).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string())
}

#[test]
fn a_good_include_passes() {
    let (ok, err) = check(book("{{#include code.rs:spawn}}", CODE).path());
    assert!(ok, "{err}");
}

#[test]
fn a_renamed_anchor_fails() {
    let renamed = CODE.replace("spawn", "spawn_child");
    let (ok, err) = check(book("{{#include code.rs:spawn}}", &renamed).path());
    assert!(!ok);
    assert!(err.contains("ch.md:4:") && err.contains("no `ANCHOR: spawn`"), "{err}");
}

#[test]
fn a_moved_file_fails() {
    let (ok, err) = check(book("{{#include moved/code.rs:spawn}}", CODE).path());
    assert!(!ok);
    assert!(err.contains("does not exist"), "{err}");
}

#[test]
fn an_empty_listing_fails() {
    let empty = "// ANCHOR: spawn\n\n// ANCHOR_END: spawn\n";
    let (ok, err) = check(book("{{#include code.rs:spawn}}", empty).path());
    assert!(!ok);
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn a_listing_over_40_lines_fails_unless_listed_and_the_list_only_shrinks() {
    let long = format!("// ANCHOR: spawn\n{}// ANCHOR_END: spawn\n", "x();\n".repeat(41));
    let dir = book("{{#include code.rs:spawn}}", &long);
    let (ok, err) = check(dir.path());
    assert!(!ok);
    assert!(err.contains("41 lines, more than 40"), "{err}");

    std::fs::write(dir.path().join("too-long.txt"), "# known\nch.md:spawn\n").unwrap();
    let (ok, err) = check(dir.path());
    assert!(ok, "a listed long listing is a warning: {err}");

    std::fs::write(dir.path().join("src/code.rs"), CODE).unwrap();
    let (ok, err) = check(dir.path());
    assert!(!ok, "a listed listing that fits now must be taken off the list");
    assert!(err.contains("no longer too long"), "{err}");
}

#[test]
fn the_real_book_passes() {
    let (ok, err) = check(&book_check::repo().join("book"));
    assert!(ok, "{err}");
}
