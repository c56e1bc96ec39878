//! `--explain`: narrate every privileged step as it happens.
//!
//! Each step says what we do, the shell command that does the same thing,
//! and the book section that explains it. Chapters call [`step`] right before
//! the system call it describes, so the narration is always in the order the
//! kernel sees the calls — also in the child process, which inherits stderr.

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Where the narration goes instead of stderr (see [`SINK_FD_VAR`]).
static SINK: Mutex<Option<std::fs::File>> = Mutex::new(None);

thread_local! {
    /// The narration of this thread's current request (see [`capture`]).
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// The environment variable that turns narration on, like `--explain`.
pub const ENV_VAR: &str = "MINI_DOCKER_EXPLAIN";

/// A file descriptor to narrate to instead of stderr: how a daemon's helper
/// process (whose stderr is its error channel) hands its steps back.
pub const SINK_FD_VAR: &str = "MINI_DOCKER_EXPLAIN_FD";

/// Turn narration on or off for this process (and the children it clones).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Turn narration on when `--explain` was given or `MINI_DOCKER_EXPLAIN` is set
/// to anything but `0` or an empty string.
pub fn init(flag: bool) {
    let from_env = std::env::var(ENV_VAR).map(|v| !v.is_empty() && v != "0").unwrap_or(false);
    set_enabled(flag || from_env);
    if let Some(fd) = std::env::var(SINK_FD_VAR).ok().and_then(|v| v.parse::<i32>().ok()) {
        // Close-on-exec: a container's process must not inherit it.
        // SAFETY: fcntl on a number that may not be open only fails.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } == 0 {
            // SAFETY: the parent put this descriptor there for us alone.
            let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
            *SINK.lock().unwrap_or_else(|e| e.into_inner()) = Some(file);
            set_enabled(true);
        }
        std::env::remove_var(SINK_FD_VAR);
    }
}

/// Stop narrating to the sink (a detached supervisor, once its container
/// runs: whoever reads the other end sees the end of the steps).
pub fn close_sink() {
    if SINK.lock().unwrap_or_else(|e| e.into_inner()).take().is_some() {
        set_enabled(false);
    }
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

// ANCHOR: step
/// One privileged step, narrated.
pub struct Step<'a> {
    /// What happens, in words: "create namespaces uts, pid".
    pub what: &'a str,
    /// The system call as a learner would write it in C.
    pub syscall: &'a str,
    /// The shell command with the same effect.
    pub shell: &'a str,
    /// Where the book explains it: "ch01-namespaces.md#the-spawn-protocol".
    pub book: &'a str,
}

/// Print `step` to stderr when narration is on (or keep it for the
/// request this thread is serving, see [`capture`]).
pub fn step(step: Step<'_>) {
    if capturing() {
        note(&render(&step));
    } else if enabled() {
        write_out(&render(&step));
    }
}
// ANCHOR_END: step

fn write_out(text: &str) {
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    let _ = match sink.as_mut() {
        Some(file) => file.write_all(text.as_bytes()),
        None => std::io::stderr().write_all(text.as_bytes()),
    };
}

// ANCHOR: capture
/// Run `work`, keeping the steps it narrates on this thread instead of
/// printing them: a daemon hands them back to the client that asked.
pub fn capture<T>(work: impl FnOnce() -> T) -> (T, String) {
    let outer = CAPTURE.with(|c| c.borrow_mut().replace(String::new()));
    let result = work();
    let kept = CAPTURE.with(|c| std::mem::replace(&mut *c.borrow_mut(), outer));
    (result, kept.unwrap_or_default())
}
// ANCHOR_END: capture

/// Is this thread keeping its steps for a request?
pub fn capturing() -> bool {
    CAPTURE.with(|c| c.borrow().is_some())
}

/// Add already rendered narration (a helper process's) to the capture,
/// or print it.
pub fn note(text: &str) {
    let kept = CAPTURE.with(|c| c.borrow_mut().as_mut().map(|kept| kept.push_str(text)).is_some());
    if !kept && enabled() {
        write_out(text);
    }
}

/// The text printed for one step (kept separate so it can be snapshot-tested).
pub fn render(step: &Step<'_>) -> String {
    format!(
        "[explain] {}\n    syscall: {}\n    shell:   {}\n    book:    {}\n",
        step.what, step.syscall, step.shell, step.book
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_all_four_parts() {
        let text = render(&Step {
            what: "set the hostname",
            syscall: "sethostname(\"box\")",
            shell: "hostname box",
            book: "ch01-namespaces.md#uts",
        });
        insta::assert_snapshot!(text, @r#"
        [explain] set the hostname
            syscall: sethostname("box")
            shell:   hostname box
            book:    ch01-namespaces.md#uts
        "#);
    }

    #[test]
    fn a_capture_keeps_its_threads_steps() {
        let step = || {
            super::step(Step { what: "w", syscall: "s()", shell: "sh", book: "b" });
        };
        let ((), kept) = capture(step);
        assert_eq!(kept, render(&Step { what: "w", syscall: "s()", shell: "sh", book: "b" }));
        let (((), inner), outer) = capture(|| {
            note("before\n");
            capture(step)
        });
        assert!(inner.starts_with("[explain] w"), "{inner}");
        assert_eq!(outer, "before\n", "a nested capture keeps its own");
        assert!(!capturing());
    }

    #[test]
    fn env_var_zero_means_off() {
        // Only this test touches the variable, so there is no race.
        std::env::set_var(ENV_VAR, "0");
        init(false);
        assert!(!enabled());
        std::env::set_var(ENV_VAR, "1");
        init(false);
        assert!(enabled());
        std::env::remove_var(ENV_VAR);
        init(false);
        assert!(!enabled());
    }
}
