//! Helpers every end-to-end test uses.
//!
//! - [`require_root`]: a root test that cannot run says so loudly, and with
//!   `CI=true` it fails instead of skipping.
//! - [`unique`]: a name no other test (or test run) uses, for cgroup
//!   parents, bridges and state roots, so tests run in parallel.
//! - [`leftovers`]: what of ours is still on the host (mounts, cgroups,
//!   links, processes), for the test that checks nothing was left behind.

pub mod images;
pub mod network;
pub mod registry;
pub mod world;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

pub mod busybox;

/// Every name a test gives a host resource starts with this, so that
/// [`leftovers`] can find anything a test forgot.
pub const TEST_PREFIX: &str = "mdtest";

/// True when running under CI (`CI=true`): missing preconditions fail.
pub fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true" || v == "1").unwrap_or(false)
}

/// Returns true when the test can go on as root. Otherwise it prints why it
/// is skipped — or, under CI, panics: CI must never skip silently.
pub fn require_root(test: &str) -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    precondition_missing(test, "needs root (run the tests with sudo)")
}

/// A test cannot run because `why`: skip loudly, or fail under CI.
pub fn precondition_missing(test: &str, why: &str) -> bool {
    if in_ci() {
        panic!("{test}: {why} -- CI=true, so this fails instead of skipping");
    }
    eprintln!("\n!!! SKIPPED {test}: {why} !!!\n");
    false
}

/// Returns true when `program` is on the PATH; otherwise skips loudly (fails in CI).
pub fn require_program(test: &str, program: &str, package: &str) -> bool {
    if find_program(program).is_some() {
        return true;
    }
    precondition_missing(test, &format!("needs `{program}` (apt-get install {package})"))
}

pub fn find_program(program: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let mut dirs: Vec<&str> = path.split(':').collect();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
    dirs.into_iter().map(|d| Path::new(d).join(program)).find(|p| p.is_file())
}

/// A short name unique to this process and call: `mdtest<pid><n>`.
/// Short because interface names are limited to 15 bytes.
pub fn unique(kind: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let _ = kind;
    format!("{TEST_PREFIX}{:x}{n:x}", std::process::id() % 0xfffff)
}

/// A fresh temporary directory whose name carries [`TEST_PREFIX`].
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix(TEST_PREFIX).tempdir().expect("creating a temporary directory")
}

/// Run a command and capture its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// stdout as a trimmed string.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// stderr as a trimmed string.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).trim().to_string()
}

// ANCHOR: leftovers
/// Everything of ours still on the host whose name contains `marker`: mount
/// points, cgroup directories, network links, iptables rules (and chapter
/// 6's notes of them) and processes.
pub fn leftovers(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    for line in mountinfo.lines().filter(|l| l.contains(marker)) {
        found.push(format!("mount: {line}"));
    }
    found.extend(
        cgroup_dirs_containing(Path::new("/sys/fs/cgroup"), marker, 3)
            .into_iter()
            .map(|d| format!("cgroup: {}", d.display())),
    );
    if let Ok(links) = std::fs::read_dir("/sys/class/net") {
        for link in links.flatten() {
            let name = link.file_name().to_string_lossy().to_string();
            if name.contains(marker) {
                found.push(format!("link: {name}"));
            }
        }
    }
    found.extend(
        network::iptables_rules_mentioning(marker).into_iter().map(|r| format!("iptables: {r}")),
    );
    // Chapter 6's note that a network's rules are in (see nat::ensure_network_rules).
    for note in std::fs::read_dir("/run/mini-docker/rules").into_iter().flatten().flatten() {
        if note.file_name().to_string_lossy().contains(marker) {
            found.push(format!("rules note: {}", note.path().display()));
        }
    }
    found.extend(processes_mentioning(marker).into_iter().map(|p| format!("process: {p}")));
    found
}
// ANCHOR_END: leftovers

fn cgroup_dirs_containing(dir: &Path, marker: &str, depth: u32) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if !entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            continue;
        }
        if entry.file_name().to_string_lossy().contains(marker) {
            found.push(path);
        } else if depth > 0 {
            found.extend(cgroup_dirs_containing(&path, marker, depth - 1));
        }
    }
    found
}

fn processes_mentioning(marker: &str) -> Vec<String> {
    let me = std::process::id().to_string();
    let Ok(procs) = std::fs::read_dir("/proc") else { return Vec::new() };
    procs
        .flatten()
        .filter(|p| p.file_name().to_string_lossy().chars().all(|c| c.is_ascii_digit()))
        .filter(|p| p.file_name().to_string_lossy() != me)
        .filter_map(|p| {
            let cmdline = std::fs::read(p.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            cmdline
                .contains(marker)
                .then(|| format!("{} {}", p.file_name().to_string_lossy(), cmdline.trim()))
        })
        .collect()
}

/// Assert that nothing of ours containing `marker` remains on the host.
pub fn assert_no_leftovers(marker: &str) {
    let found = leftovers(marker);
    assert!(found.is_empty(), "left behind on the host:\n{}", found.join("\n"));
}

/// Remove `dir` when this test process exits (for caches that every test
/// of the process shares, so no single test can remove them).
pub fn remove_at_exit(dir: &Path) {
    static DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    static REGISTER: std::sync::Once = std::sync::Once::new();
    extern "C" fn cleanup() {
        let dirs = DIRS.lock().map(|d| d.clone()).unwrap_or_default();
        for dir in dirs {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    DIRS.lock().unwrap_or_else(|e| e.into_inner()).push(dir.to_path_buf());
    // SAFETY: registering a plain extern "C" function with no arguments, once.
    REGISTER.call_once(|| unsafe {
        libc::atexit(cleanup);
    });
}
