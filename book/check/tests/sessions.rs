//! Every shell session in the book is a real run: each transcript in
//! `book/sessions/` is replayed against the built binaries (as root, in
//! namespaces of its own; see `book_check::replay`) and must match. And a
//! transcript that no longer matches fails.

use std::path::{Path, PathBuf};

use book_check::replay::{self, Outcome, Setup};

/// The binaries beside this test (`target/debug`), built beforehand by
/// `cargo build --workspace --bins` (test.sh and check-book.sh do).
fn setup(test: &str) -> Option<Setup> {
    if !testkit::require_root(test) {
        return None;
    }
    let exe = std::env::current_exe().unwrap();
    let bin_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    for bin in ["mini-docker", "ch01-namespaces", "ch03-union-fs", "ch04-image-pull", "ch05-run"] {
        assert!(
            bin_dir.join(bin).is_file(),
            "{test}: no {bin} in {}: build the workspace first (cargo build --workspace --bins)",
            bin_dir.display()
        );
    }
    let cgroup_parent = testkit::unique("cg");
    Some(Setup { bin_dir, repo: book_check::repo(), cgroup_parent })
}

fn replay_checked(session: &Path, setup: &Setup) -> Vec<Outcome> {
    let outcomes = replay::replay(session, setup).unwrap_or_else(|e| panic!("{e}"));
    testkit::assert_no_leftovers(&setup.cgroup_parent);
    outcomes
}

/// Replays run side by side (each in namespaces of its own), a few at a time.
const AT_ONCE: usize = 3;

#[test]
fn every_session_replays() {
    let Some(first) = setup("every_session_replays") else { return };
    let sessions = book_check::sessions();
    assert!(!sessions.is_empty(), "no transcripts in book/sessions");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let differ = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..AT_ONCE {
            scope.spawn(|| {
                let setup = Setup { cgroup_parent: testkit::unique("cg"), ..first.clone() };
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(session) = sessions.get(i) else { break };
                    let outcomes = replay_checked(session, &setup);
                    let bad = outcomes.iter().filter(|o| !o.ok()).map(Outcome::report);
                    differ.lock().unwrap().extend(bad);
                }
            });
        }
    });
    let differ = differ.into_inner().unwrap();
    assert!(differ.is_empty(), "{} steps differ:\n{}", differ.len(), differ.join("\n"));
}

/// The first expected line of `text` with no wildcard in it, changed.
fn edit_one_line(text: &str) -> String {
    let mut seen_command = false;
    let mut edited = false;
    let mut out = String::new();
    for line in text.lines() {
        let mut line = line.to_string();
        seen_command |= line.starts_with("$ ");
        let plain = !line.starts_with("$ ") && !line.contains("[..]") && line != "...";
        if seen_command && plain && !line.trim().is_empty() && !edited {
            line.push_str(" (edited)");
            edited = true;
        }
        out.push_str(&line);
        out.push('\n');
    }
    assert!(edited, "no line to edit in:\n{text}");
    out
}

#[test]
fn an_edited_session_line_fails() {
    let Some(setup) = setup("an_edited_session_line_fails") else { return };
    let session = book_check::repo().join("book/sessions/ch01-hostname.console");
    let dir = testkit::temp_dir();
    let copy: PathBuf = dir.path().join("ch01-hostname.console");
    std::fs::write(&copy, edit_one_line(&std::fs::read_to_string(&session).unwrap())).unwrap();

    let outcomes = replay_checked(&copy, &setup);
    let bad: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    assert_eq!(bad.len(), 1, "exactly the edited step must differ: {outcomes:#?}");
    assert!(bad[0].report().contains("(edited)"), "{}", bad[0].report());

    let outcomes = replay_checked(&session, &setup);
    assert!(outcomes.iter().all(Outcome::ok), "the unedited transcript matches");
}
