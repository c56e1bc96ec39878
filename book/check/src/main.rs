//! `book-check includes BOOK_DIR`: every include resolves, no listing is
//! over 40 lines.
//! `book-check replay SESSION.console...`: replay transcripts (as root).
//! `book-check pages HTML_DIR`: open every built page in headless Chromium
//! (`$CHROMIUM`, default `chromium`): no broken picture, no raw `{{#`.
//! `book-check recorded CONSOLE.log SESSION.console...`: transcripts
//! recorded in the cgroup VM, against its serial console.
//! `book-check record SESSION.console`: print the transcript with what a
//! run prints now, for an author to add `[..]` where it varies.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use book_check::{includes, replay, transcript};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((cmd, rest)) if cmd == "includes" && rest.len() == 1 => check_includes(Path::new(&rest[0])),
        Some((cmd, rest)) if cmd == "replay" && !rest.is_empty() => replay_all(rest),
        Some((cmd, rest)) if cmd == "record" && rest.len() == 1 => record(Path::new(&rest[0])),
        Some((cmd, rest)) if cmd == "pages" && rest.len() == 1 => check_pages(Path::new(&rest[0])),
        Some((cmd, rest)) if cmd == "recorded" && rest.len() > 1 => check_recorded(rest),
        _ => Err("usage: book-check includes BOOK_DIR | replay SESSION.console... | record SESSION.console | pages HTML_DIR | recorded CONSOLE SESSION...".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("book-check: {e}");
            ExitCode::FAILURE
        }
    }
}

fn check_includes(book: &Path) -> Result<(), String> {
    let src = book.join("src");
    let (count, findings) =
        includes::check_book(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    // Listings known to be too long, still to be split: a warning, not a
    // failure. The list may only shrink: an entry that is fine now fails.
    let known_file = book.join("too-long.txt");
    let known = std::fs::read_to_string(&known_file).unwrap_or_default();
    let known: Vec<&str> =
        known.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    let mut refused = 0;
    for finding in &findings {
        let tolerated = matches!(finding.problem, includes::Problem::TooLong(_))
            && known.contains(&finding.key().as_str());
        if tolerated {
            eprintln!("warning (in {}): {finding}", known_file.display());
        } else {
            eprintln!("{finding}");
            refused += 1;
        }
    }
    for entry in &known {
        if !findings.iter().any(|f| f.key() == *entry) {
            eprintln!(
                "{}: `{entry}` is no longer too long: remove it from the list",
                known_file.display()
            );
            refused += 1;
        }
    }
    if refused > 0 {
        return Err(format!("{refused} of {count} includes refused"));
    }
    let long = findings.len();
    println!("book-check: {count} includes resolve to listings; {long} still over {} lines (too-long.txt)", includes::MAX_LINES);
    Ok(())
}

fn setup() -> Result<replay::Setup, String> {
    if !nix_is_root() {
        return Err("replaying needs root: run with sudo".into());
    }
    let repo = book_check::repo();
    Ok(replay::Setup {
        bin_dir: repo.join("target/debug"),
        repo,
        cgroup_parent: format!("mdtest-book{}", std::process::id()),
    })
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .is_some_and(|l| l.split_whitespace().nth(2) == Some("0"))
}

fn replay_all(files: &[String]) -> Result<(), String> {
    let setup = setup()?;
    let mut failed = 0;
    for file in files {
        let outcomes = replay::replay(Path::new(file), &setup)?;
        let bad: Vec<_> = outcomes.iter().filter(|o| !o.ok()).collect();
        bad.iter().for_each(|o| eprintln!("{}", o.report()));
        println!("{file}: {} steps, {} differ", outcomes.len(), bad.len());
        failed += bad.len();
    }
    if failed > 0 {
        return Err(format!("{failed} steps differ from their transcripts"));
    }
    Ok(())
}

fn check_recorded(args: &[String]) -> Result<(), String> {
    let console = std::fs::read_to_string(&args[0]).map_err(|e| format!("{}: {e}", args[0]))?;
    let recorded = book_check::recorded::steps_of_console(&console)
        .map_err(|e| format!("{}: {e}", args[0]))?;
    let mut failed = 0;
    for file in &args[1..] {
        let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
        let steps = transcript::parse(&text).map_err(|e| format!("{file}: {e}"))?;
        let name = Path::new(file).file_stem().unwrap_or_default().to_string_lossy().to_string();
        let outcomes = book_check::recorded::compare(&name, steps, &recorded);
        let bad: Vec<_> = outcomes.iter().filter(|o| !o.ok()).collect();
        bad.iter().for_each(|o| eprintln!("{}", o.report()));
        println!("{file}: {} steps, {} differ from {}", outcomes.len(), bad.len(), args[0]);
        failed += bad.len();
    }
    if failed > 0 {
        return Err(format!("{failed} steps differ from the recording"));
    }
    Ok(())
}

fn record(file: &Path) -> Result<(), String> {
    let setup = setup()?;
    let name = PathBuf::from(file).file_stem().unwrap_or_default().to_string_lossy().to_string();
    for o in replay::replay(file, &setup)?.into_iter().filter(|o| o.session == name) {
        println!("$ {}", o.step.command);
        let keep = transcript::matches(&o.step.expected, &o.actual);
        let lines = if keep { &o.step.expected } else { &o.actual };
        lines.iter().for_each(|l| println!("{l}"));
    }
    Ok(())
}

fn check_pages(html: &Path) -> Result<(), String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_string());
    let found = book_check::pages::check_book(&chromium, html)?;
    let mut bad = 0;
    for (page, problems) in &found {
        for problem in problems {
            eprintln!("{}: {problem}", page.display());
            bad += 1;
        }
    }
    if bad > 0 {
        return Err(format!("{bad} problems in the rendered pages"));
    }
    println!("book-check: {} pages render in {chromium}, every picture there", found.len());
    Ok(())
}
