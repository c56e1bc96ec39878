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
  hint NAME [N]     the next step of an exercise's hint (a nudge first, the answer last),
                    or step N
  verify            (CI) the tests pass against the chapter code and fail against the stubs

Add --reference to list/next/check to run the tests against the chapter's real code.
Exercises marked (root) use the real kernel: `check NAME` runs their tests with
sudo (only the test binary runs as root: the build, and target/, stay yours).
Without root, `next` skips them and says so.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let reference = args.iter().any(|a| a == "--reference");
    let words: Vec<&str> =
        args.iter().filter(|a| !a.starts_with("--")).map(String::as_str).collect();
    let result = match words.as_slice() {
        [] | ["next"] => next(reference),
        ["list"] => list(reference),
        ["check", target] => check(target, reference),
        ["hint", name] => hint(name, None),
        ["hint", name, step] => match step.parse::<usize>() {
            Ok(n) if n > 0 => hint(name, Some(n)),
            _ => Err(format!("hint {name} {step}: the step is a number from 1")),
        },
        ["verify"] => verify(),
        _ if args.iter().any(|a| a == "--help" || a == "-h" || a == "help") => {
            println!("{USAGE}");
            Ok(true)
        }
        _ => Err(format!("unknown command {:?}\n\n{USAGE}", args.join(" "))),
    };
    give_back_target();
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

/// `cargo test` of the exercises' library tests.
fn cargo_test(reference: bool) -> Command {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut cmd = Command::new(cargo);
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(crate_dir().join("Cargo.toml"))
        .args(["--lib", "--color", "never"]);
    if reference {
        cmd.args(["--features", "reference"]);
    }
    cmd
}

/// Run the exercise tests whose names start with `filter`; `Err` is a
/// compile failure, with the compiler's errors.
fn run_tests(filter: &str, reference: bool) -> Result<Outcomes, String> {
    let mut cmd = cargo_test(reference);
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

/// A root exercise, for a learner who is not root: build the tests as the
/// learner, then run only the test binary with sudo, so that nothing in
/// target/ ends up owned by root.
fn run_tests_with_sudo(filter: &str, reference: bool) -> Result<Outcomes, String> {
    let mut build = cargo_test(reference);
    build.args(["--no-run", "--message-format=json"]);
    let out = build.output().map_err(|e| format!("running cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let Some(binary) = stdout.lines().find_map(test_executable) else {
        return Err(compile_errors(&String::from_utf8_lossy(&out.stderr)));
    };
    eprintln!("{}", dim("(this exercise needs root: running its tests with sudo...)"));
    let out = Command::new("sudo")
        .arg("--")
        .arg(&binary)
        .args([filter, "--test-threads=1", "--color", "never"])
        .env("RUST_BACKTRACE", "0")
        .current_dir(crate_dir())
        .output()
        .map_err(|e| format!("running sudo (is it installed?): {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("running ") {
        return Err(format!(
            "sudo did not run the tests: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse_libtest(&stdout))
}

/// The test binary named by one of cargo's JSON messages, if it names one.
fn test_executable(message: &str) -> Option<String> {
    let at = message.find("\"executable\":\"")? + "\"executable\":\"".len();
    let path = &message[at..];
    Some(path[..path.find('"')?].to_string())
}

/// Run as `sudo cargo exercise ...`: cargo built as root, so give whatever
/// root now owns in target/ back to the learner who ran sudo.
fn give_back_target() {
    let ids = |var: &str| std::env::var(var).ok().and_then(|v| v.parse::<u32>().ok());
    let (Some(uid), Some(gid)) = (ids("SUDO_UID"), ids("SUDO_GID")) else { return };
    if !is_root() || uid == 0 {
        return;
    }
    give_back(&target_dir(), uid, gid);
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir().join("../target"))
}

fn give_back(path: &std::path::Path, uid: u32, gid: u32) {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::symlink_metadata(path) else { return };
    if meta.uid() == 0 {
        let _ = std::os::unix::fs::lchown(path, Some(uid), Some(gid));
    }
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).into_iter().flatten().flatten() {
            give_back(&entry.path(), uid, gid);
        }
    }
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
    format!("cargo exercise check {name} (it runs the tests with sudo)")
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
    if exercise.root && !is_root() && tests.iter().all(|(_, o)| !o.passed) {
        println!("  needs root: {}", root_command(exercise.name));
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
    let pending: Vec<&Exercise> =
        all[start..].iter().chain(all[..start].iter()).filter(|e| !is_done(outcomes, e)).collect();
    let (next, skipped) = next_runnable(&pending, is_root());
    say_skipped(&skipped);
    match next {
        Some(e) => println!("Next: {} — cargo exercise check {}", label(e), e.name),
        None if !skipped.is_empty() => println!("Next: {} — {}", label(skipped[0]), root_command(skipped[0].name)),
        None => println!("{}", green("Every exercise is done. Well done! Try the chapters' harder ideas in the book's Exercises sections.")),
    }
}

/// The first pending exercise this learner can run now, and the root ones
/// skipped on the way to it (all of them are runnable as root).
fn next_runnable<'a>(
    pending: &[&'a Exercise],
    root: bool,
) -> (Option<&'a Exercise>, Vec<&'a Exercise>) {
    if root {
        return (pending.first().copied(), Vec::new());
    }
    let first = pending.iter().position(|e| !e.root);
    let skipped_upto = first.unwrap_or(pending.len());
    (first.map(|i| pending[i]), pending[..skipped_upto].to_vec())
}

fn say_skipped(skipped: &[&Exercise]) {
    if skipped.is_empty() {
        return;
    }
    let names: Vec<&str> = skipped.iter().map(|e| e.name).collect();
    println!(
        "(skipped {} exercise(s) that need root, as you are not root: {}; `cargo exercise check NAME` runs one with sudo)",
        skipped.len(),
        names.join(", ")
    );
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
    let all = catalog::all();
    let pending: Vec<&Exercise> = all.iter().filter(|e| !is_done(&outcomes, e)).collect();
    let (next, skipped) = next_runnable(&pending, is_root());
    let Some(exercise) = next else {
        say_next(&outcomes, None);
        return Ok(pending.is_empty());
    };
    println!();
    say_skipped(&skipped);
    report(&outcomes, exercise);
    Ok(false)
}

fn check(target: &str, reference: bool) -> Result<bool, String> {
    if let Some(exercise) = catalog::find(target) {
        let outcomes = if exercise.root && !is_root() {
            run_tests_with_sudo(&exercise.test_prefix(), reference)?
        } else {
            run_tests(&exercise.test_prefix(), reference)?
        };
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

/// `hint NAME`: the next step of the hint, one at a time — a nudge first,
/// the answer last. Step 1 is made from the tests (what they check); the
/// others are the hint file's parts, separated by lines `---`. How many
/// steps were shown is kept in target/exercise-hints/NAME.
fn hint(name: &str, step: Option<usize>) -> Result<bool, String> {
    let exercise = catalog::find(name)
        .ok_or_else(|| format!("no exercise called {name:?}: see `cargo exercise list`"))?;
    let path = crate_dir().join(exercise.hint_file());
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let mut steps = vec![nudge_from_tests(&exercise)];
    steps.extend(text.split("\n---\n").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    let seen_file = target_dir().join("exercise-hints").join(exercise.name);
    let seen: usize =
        std::fs::read_to_string(&seen_file).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let shown = step.unwrap_or(seen + 1).min(steps.len());
    let _ = std::fs::create_dir_all(seen_file.parent().expect("a parent"));
    let _ = std::fs::write(&seen_file, shown.max(seen).to_string());
    println!("Hint for {}, step {shown} of {}:\n", label(&exercise), steps.len());
    println!("{}", steps[shown - 1]);
    if shown < steps.len() {
        println!("\nTry with that first. More: cargo exercise hint {name}");
    } else {
        println!("\nBook: book/src/{}", exercise.book);
        println!("Still stuck? The chapter's own version is `{}`.", exercise.reference);
    }
    Ok(true)
}

/// The first step of every hint: what the tests check, from their names,
/// and where the book explains it.
fn nudge_from_tests(exercise: &Exercise) -> String {
    let stub = std::fs::read_to_string(crate_dir().join(exercise.file())).unwrap_or_default();
    let mut names = Vec::new();
    let mut after_test = false;
    for line in stub.lines().map(str::trim) {
        if line == "#[test]" {
            after_test = true;
        } else if let Some(rest) = line.strip_prefix("fn ").filter(|_| after_test) {
            names.push(rest.split('(').next().unwrap_or(rest).replace('_', " "));
            after_test = false;
        }
    }
    let mut text = format!(
        "Start from what the tests ask (exercises/{}), one test at a time:\n",
        exercise.file()
    );
    names.iter().for_each(|n| text.push_str(&format!("  - {n}\n")));
    text.push_str(&format!(
        "The section that explains it: book/src/{} (its text, not its listing).",
        exercise.book
    ));
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_root_next_skips_the_root_exercises_and_names_them() {
        let all = catalog::all();
        let pending: Vec<&Exercise> = all.iter().collect();
        let first_root = pending.iter().position(|e| e.root).expect("a root exercise");
        let from_root = &pending[first_root..];
        let (next, skipped) = next_runnable(from_root, false);
        assert!(next.is_some_and(|e| !e.root), "the next one a non-root learner can do");
        assert!(!skipped.is_empty() && skipped.iter().all(|e| e.root));
        assert_eq!(skipped[0].name, from_root[0].name);
        let (next, skipped) = next_runnable(from_root, true);
        assert_eq!(next.map(|e| e.name), Some(from_root[0].name), "root takes them in order");
        assert!(skipped.is_empty());
        let only_root: Vec<&Exercise> = all.iter().filter(|e| e.root).collect();
        let (next, skipped) = next_runnable(&only_root, false);
        assert!(next.is_none() && skipped.len() == only_root.len());
    }

    #[test]
    fn the_test_binary_is_read_from_cargos_json() {
        let line = r#"{"reason":"compiler-artifact","executable":"/t/debug/deps/exercises-1f2e","fresh":true}"#;
        assert_eq!(test_executable(line).as_deref(), Some("/t/debug/deps/exercises-1f2e"));
        assert_eq!(test_executable(r#"{"reason":"build-finished","success":true}"#), None);
    }

    #[test]
    fn the_first_hint_step_lists_what_the_tests_check() {
        let e = catalog::find("supervise").expect("supervise");
        let nudge = nudge_from_tests(&e);
        assert!(nudge.contains("a signal to the init is forwarded to the command"), "{nudge}");
    }

    #[test]
    fn files_root_made_are_given_back() {
        if !is_root() {
            return; // only root can make a file owned by root
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("deps")).unwrap();
        std::fs::write(dir.path().join("deps/x"), "").unwrap();
        give_back(dir.path(), 65534, 65534);
        use std::os::unix::fs::MetadataExt;
        for p in [dir.path().to_path_buf(), dir.path().join("deps"), dir.path().join("deps/x")] {
            assert_eq!(std::fs::metadata(&p).unwrap().uid(), 65534, "{}", p.display());
        }
    }
}
