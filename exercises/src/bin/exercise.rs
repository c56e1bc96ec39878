//! The exercise runner: `cargo exercise [list|next|check NAME|check chNN|hint NAME|verify]`.
//!
//! It runs `cargo test -p exercises --lib` (with `--features reference` for
//! the chapter code), reads libtest's per-test lines, and says per exercise
//! what passed, what failed and why, and what to do next. CI uses `verify`:
//! every test passes against the reference, and fails against the stubs.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::{Command, ExitCode};

use exercises::catalog::{self, Exercise, CHAPTERS};

const USAGE: &str = "\
usage: cargo exercise [COMMAND]

  list              every exercise, in order, with ✓ done / ✗ to do
  next              check your work and show the next exercise to do (the default)
  check NAME        run one exercise's tests (e.g. check clone_flags)
  check chNN        run one chapter's exercises (e.g. check ch02), or `check all`
  hint NAME         the hint for an exercise, and the book section it practises
  verify            (CI) the tests pass against the chapter code and fail against the stubs

Add --reference to list/next/check to run the tests against the chapter's real code.
Exercises marked (root) use the real kernel: run them with sudo.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reference = args.iter().any(|a| a == "--reference");
    let words: Vec<&str> =
        args.iter().filter(|a| !a.starts_with("--")).map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["next"] => next(reference),
        ["list"] => list(reference),
        ["check", target] => check(target, reference),
        ["hint", name] => hint(name),
        ["verify"] => verify(),
        _ if args.iter().any(|a| a == "--help" || a == "-h" || a == "help") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => Err(format!("unknown command {:?}\n\n{USAGE}", args.join(" "))),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("exercise: {message}");
            ExitCode::from(2)
        }
    }
}

// ---------------------------------------------------------------- running the tests

/// One test's outcome, with what it printed when it failed.
#[derive(Debug, Clone)]
struct TestOutcome {
    passed: bool,
    output: Vec<String>,
}

/// All tests of one run, by full test name (`ch01::clone_flags::tests::x`).
type Outcomes = BTreeMap<String, TestOutcome>;

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Run the exercise tests whose names start with `filter`; `Err` is a
/// compile failure, with the compiler's errors.
fn run_tests(filter: &str, reference: bool) -> Result<Outcomes, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(crate_dir().join("Cargo.toml"))
        .args(["--lib", "--color", "never"]);
    if reference {
        cmd.args(["--features", "reference"]);
    }
    // One test at a time: some tests fork (an init must not reap the
    // harness's children), and a child forked while another test thread
    // holds the output lock — as a panicking stub does — deadlocks in its
    // own panic message.
    cmd.arg("--").arg(filter).arg("--test-threads=1").env("RUST_BACKTRACE", "0");
    eprintln!(
        "{}",
        dim(&format!(
            "(running the tests{}...)",
            if reference { " against the chapter code" } else { "" }
        ))
    );
    let out = cmd.output().map_err(|e| format!("running cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("running ") {
        return Err(compile_errors(&String::from_utf8_lossy(&out.stderr)));
    }
    Ok(parse_libtest(&stdout))
}

/// The compiler's messages without cargo's progress lines.
fn compile_errors(stderr: &str) -> String {
    let progress = [
        "Compiling",
        "Finished",
        "Running",
        "Blocking",
        "Checking",
        "Updating",
        "Downloaded",
        "Downloading",
        "Locking",
    ];
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !progress.iter().any(|p| l.trim_start().starts_with(p)))
        .collect();
    format!(
        "the exercises do not compile: fix this first (every exercise is built together)\n\n{}",
        lines.join("\n")
    )
}

/// Read libtest's human output: `test NAME ... ok|FAILED` lines, then a
/// `---- NAME stdout ----` section per failure.
fn parse_libtest(stdout: &str) -> Outcomes {
    let mut outcomes = Outcomes::new();
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("test ") {
            if let Some((name, result)) = rest.rsplit_once(" ... ") {
                outcomes.insert(
                    name.to_string(),
                    TestOutcome { passed: result.trim() == "ok", output: Vec::new() },
                );
            }
        }
    }
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----"))
        {
            current = Some(name.to_string());
        } else if line == "failures:" || line.starts_with("test result:") {
            current = None;
        } else if let Some(outcome) = current.as_ref().and_then(|name| outcomes.get_mut(name)) {
            outcome.output.push(line.to_string());
        }
    }
    outcomes
}

/// The outcomes of one exercise's tests.
fn tests_of<'a>(outcomes: &'a Outcomes, exercise: &Exercise) -> Vec<(&'a str, &'a TestOutcome)> {
    let prefix = exercise.test_prefix();
    outcomes
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .map(|(n, o)| (n.as_str(), o))
        .collect()
}

fn is_done(outcomes: &Outcomes, exercise: &Exercise) -> bool {
    let tests = tests_of(outcomes, exercise);
    !tests.is_empty() && tests.iter().all(|(_, o)| o.passed)
}

// ---------------------------------------------------------------- output

fn paint(code: &str, text: &str) -> String {
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn green(text: &str) -> String {
    paint("32", text)
}

fn red(text: &str) -> String {
    paint("31", text)
}

fn dim(text: &str) -> String {
    if std::io::stderr().is_terminal() {
        format!("\x1b[2m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

fn mark(done: bool) -> String {
    if done {
        green("✓")
    } else {
        red("✗")
    }
}

fn label(exercise: &Exercise) -> String {
    let root = if exercise.root { ", root" } else { "" };
    format!("{} ({}, {}{root})", exercise.name, exercise.chapter, exercise.level.name())
}

fn root_command(name: &str) -> String {
    format!("sudo -E env \"PATH=$PATH\" cargo exercise check {name}")
}

/// What a failing test printed, made short: the panic message without the
/// thread line, backtrace notes and the harness's chatter.
fn why_it_failed(outcome: &TestOutcome) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut location = None;
    for line in &outcome.output {
        if let Some(rest) = line.strip_prefix("thread '") {
            location =
                rest.split(" panicked at ").nth(1).map(|l| l.trim_end_matches(':').to_string());
            continue;
        }
        if line.starts_with("note: ")
            || line.starts_with("stack backtrace")
            || line.trim().is_empty()
        {
            continue;
        }
        lines.push(line.to_string());
    }
    if let Some(first) = lines.first() {
        if let Some(todo) = first.strip_prefix("not yet implemented") {
            let what = todo.trim_start_matches(':').trim();
            let mut short = vec!["not done yet: the todo!() is still there".to_string()];
            if !what.is_empty() {
                short.push(format!("(its note: {what})"));
            }
            return short;
        }
    }
    lines.truncate(10);
    if let Some(at) = location {
        lines.push(format!("at {at}"));
    }
    lines
}

fn show_failures(outcomes: &Outcomes, exercise: &Exercise) {
    let failing: Vec<_> =
        tests_of(outcomes, exercise).into_iter().filter(|(_, o)| !o.passed).collect();
    let all_todo = failing
        .iter()
        .all(|(_, o)| why_it_failed(o).first().is_some_and(|l| l.starts_with("not done yet")));
    if all_todo {
        if let Some((_, outcome)) = failing.first() {
            for line in why_it_failed(outcome) {
                println!("  {line}");
            }
        }
        return;
    }
    for (name, outcome) in failing.iter().take(3) {
        let short = name.rsplit("::").next().unwrap_or(name);
        println!("  {} {}", red("failed:"), short.replace('_', " "));
        for line in why_it_failed(outcome) {
            println!("      {line}");
        }
    }
    if failing.len() > 3 {
        println!("  ... and {} more failing test(s)", failing.len() - 3);
    }
}

/// The detailed report on one exercise; returns whether it is done.
fn report(outcomes: &Outcomes, exercise: &Exercise) -> bool {
    let tests = tests_of(outcomes, exercise);
    let passed = tests.iter().filter(|(_, o)| o.passed).count();
    let done = is_done(outcomes, exercise);
    if done {
        println!("{} {}: all {} tests pass.", mark(true), label(exercise), tests.len());
        return true;
    }
    println!("{} {}: {passed} of {} tests pass.", mark(false), label(exercise), tests.len());
    println!("  task: {}", exercise.task);
    println!("  edit: exercises/{}", exercise.file());
    println!("  book: book/src/{}", exercise.book);
    if exercise.root && !is_root() {
        println!("  needs root: run with sudo ({})", root_command(exercise.name));
        return false;
    }
    println!();
    show_failures(outcomes, exercise);
    println!();
    println!("Stuck? cargo exercise hint {}", exercise.name);
    false
}

fn say_next(outcomes: &Outcomes, after: Option<&Exercise>) {
    let all = catalog::all();
    let start = after.and_then(|a| all.iter().position(|e| e.name == a.name)).map_or(0, |i| i + 1);
    let pending = all[start..].iter().chain(all[..start].iter()).find(|e| !is_done(outcomes, e));
    match pending {
        Some(e) if e.root && !is_root() => println!("Next: {} — needs root: {}", label(e), root_command(e.name)),
        Some(e) => println!("Next: {} — cargo exercise check {}", label(e), e.name),
        None => println!("{}", green("Every exercise is done. Well done! Try the chapters' harder ideas in the book's Exercises sections.")),
    }
}

fn progress(outcomes: &Outcomes) -> String {
    let all = catalog::all();
    let done = all.iter().filter(|e| is_done(outcomes, e)).count();
    format!("Progress: {done}/{} exercises done.", all.len())
}

// ---------------------------------------------------------------- commands

fn list(reference: bool) -> Result<bool, String> {
    let outcomes = run_tests("ch", reference)?;
    for (chapter, title, exercises) in CHAPTERS {
        println!("{chapter}: {title}");
        for e in exercises.iter() {
            let root = if e.root { " (root)" } else { "" };
            println!(
                "  {} {:<20} {:<7}{root:<8} {}",
                mark(is_done(&outcomes, e)),
                e.name,
                e.level.name(),
                e.task
            );
        }
    }
    println!();
    println!("{}", progress(&outcomes));
    say_next(&outcomes, None);
    Ok(true)
}

fn next(reference: bool) -> Result<bool, String> {
    let outcomes = run_tests("ch", reference)?;
    println!("{}", progress(&outcomes));
    let Some(exercise) = catalog::all().into_iter().find(|e| !is_done(&outcomes, e)) else {
        say_next(&outcomes, None);
        return Ok(true);
    };
    println!();
    report(&outcomes, &exercise);
    Ok(false)
}

fn check(target: &str, reference: bool) -> Result<bool, String> {
    if let Some(exercise) = catalog::find(target) {
        if exercise.root && !is_root() {
            println!(
                "{} needs root: run with sudo:\n  {}",
                label(&exercise),
                root_command(exercise.name)
            );
            return Ok(false);
        }
        let outcomes = run_tests(&exercise.test_prefix(), reference)?;
        let done = report(&outcomes, &exercise);
        if done {
            say_next(&outcomes, Some(&exercise));
        }
        return Ok(done);
    }
    let chosen: Vec<Exercise> = match target {
        "all" => catalog::all(),
        chapter => catalog::all().into_iter().filter(|e| e.chapter == chapter).collect(),
    };
    if chosen.is_empty() {
        return Err(format!("no exercise or chapter called {target:?}: see `cargo exercise list`"));
    }
    let filter = if target == "all" { "ch".to_string() } else { format!("{target}::") };
    let outcomes = run_tests(&filter, reference)?;
    for e in &chosen {
        let root = if e.root && !is_root() { "  (needs root: run with sudo)" } else { "" };
        println!("{} {}{root}", mark(is_done(&outcomes, e)), label(e));
    }
    match chosen.iter().find(|e| !is_done(&outcomes, e)) {
        Some(first) => {
            println!();
            report(&outcomes, first);
            Ok(false)
        }
        None => {
            println!(
                "\n{}",
                green(&format!("All {} exercises of {target} are done.", chosen.len()))
            );
            Ok(true)
        }
    }
}

fn hint(name: &str) -> Result<bool, String> {
    let exercise = catalog::find(name)
        .ok_or_else(|| format!("no exercise called {name:?}: see `cargo exercise list`"))?;
    let path = crate_dir().join(exercise.hint_file());
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    println!("Hint for {}\n", label(&exercise));
    println!("{}", text.trim_end());
    println!("\nBook: book/src/{}", exercise.book);
    println!("Still stuck? The chapter's own version is `{}`.", exercise.reference);
    Ok(true)
}

/// CI: prove every exercise sound. Against the chapter code every test
/// passes; against the untouched stubs every test of every exercise fails.
fn verify() -> Result<bool, String> {
    let mut problems: Vec<String> = Vec::new();
    let all = catalog::all();
    for e in &all {
        let stub = std::fs::read_to_string(crate_dir().join(e.file())).unwrap_or_default();
        if !stub.contains("todo!(") {
            problems.push(format!(
                "{}: the stub in {} has no todo!() (it must be untouched in the repository)",
                e.name,
                e.file()
            ));
        }
        if e.root && !is_root() {
            problems.push(format!("{}: needs root, and verify is not running as root", e.name));
        }
    }

    let reference = run_tests("", true)?;
    for (name, outcome) in &reference {
        if !outcome.passed {
            problems.push(format!(
                "against the chapter code, {name} fails: {}",
                why_it_failed(outcome).join(" / ")
            ));
        }
    }
    let stubs = run_tests("", false)?;
    for e in &all {
        let with_reference = tests_of(&reference, e);
        let with_stub = tests_of(&stubs, e);
        if with_reference.is_empty() {
            problems.push(format!("{}: no tests found under {}", e.name, e.test_prefix()));
        }
        for (name, outcome) in &with_stub {
            if outcome.passed {
                problems
                    .push(format!("against the untouched stub, {name} passes: it tests nothing"));
            }
        }
        let fine = !with_reference.is_empty()
            && with_reference.iter().all(|(_, o)| o.passed)
            && with_stub.iter().all(|(_, o)| !o.passed);
        println!(
            "{} {:<20} {} tests: pass against {}, fail against the stub",
            mark(fine),
            e.name,
            with_reference.len(),
            e.reference
        );
    }
    let known = |name: &str| {
        name.starts_with("catalog::") || all.iter().any(|e| name.starts_with(&e.test_prefix()))
    };
    for name in reference.keys().filter(|n| !known(n)) {
        problems.push(format!(
            "{name} belongs to no exercise in the catalog (add it to its chapter's EXERCISES)"
        ));
    }
    if problems.is_empty() {
        println!("{}", green(&format!("All {} exercises are sound.", all.len())));
        Ok(true)
    } else {
        for p in &problems {
            println!("{} {p}", red("problem:"));
        }
        Ok(false)
    }
}
