//! `--explain`: narrate every privileged step as it happens.
//!
//! Each step says what we do, the shell command that does the same thing,
//! and the book section that explains it. Chapters call [`step`] right before
//! the system call it describes, so the narration is always in the order the
//! kernel sees the calls — also in the child process, which inherits stderr.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// The environment variable that turns narration on, like `--explain`.
pub const ENV_VAR: &str = "MINI_DOCKER_EXPLAIN";

/// Turn narration on or off for this process (and the children it clones).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Turn narration on when `--explain` was given or `MINI_DOCKER_EXPLAIN` is set
/// to anything but `0` or an empty string.
pub fn init(flag: bool) {
    let from_env = std::env::var(ENV_VAR).map(|v| !v.is_empty() && v != "0").unwrap_or(false);
    set_enabled(flag || from_env);
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

/// Print `step` to stderr when narration is on.
pub fn step(step: Step<'_>) {
    if enabled() {
        let _ = std::io::stderr().write_all(render(&step).as_bytes());
    }
}
// ANCHOR_END: step

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
