//! Exercise `supervise` (hard). Book: ch01-namespaces.md, "PID 1 and orphans".
//!
//! With `--init`, our init is PID 1 and the command its child. It must
//! forward signals to the command (`ch01_namespaces::signals` does that),
//! reap *every* child that exits — orphans are re-parented to PID 1 — and,
//! when the command itself exits, return its exit code, or 128+N when a
//! signal N killed it.

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// Forward signals to `command` and reap every child until `command`
/// exits; return the exit code the init should exit with.
pub fn supervise(command: Pid) -> i32 {
    todo!("loop on waitpid(None, ..) until the command is the one that ended")
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch01_namespaces::init as solution;

    use std::time::Duration;

    use nix::errno::Errno;
    use nix::sys::signal::{raise, Signal};
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    use nix::unistd::{fork, ForkResult, Pid};

    /// Fork a child that runs `body` and exits with what it returns.
    fn forked(body: impl FnOnce() -> i32) -> Pid {
        // SAFETY: the child only forks, sleeps, waits and exits; it never
        // returns into the test harness (every path ends in _exit).
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(99);
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => child,
        }
    }

    /// Run `scenario` in a separate process (it plays the init), so that
    /// waiting for "any child" never touches the test harness's children.
    fn init_exit_code(scenario: impl FnOnce() -> i32) -> i32 {
        let init = forked(scenario);
        match waitpid(init, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => code,
            other => panic!("the init process ended with {other:?}"),
        }
    }

    #[test]
    fn returns_the_commands_exit_code() {
        let code = init_exit_code(|| {
            let command = forked(|| 7);
            solution::supervise(command)
        });
        assert_eq!(code, 7, "99 means supervise panicked");
    }

    #[test]
    fn a_signal_becomes_128_plus_n() {
        let code = init_exit_code(|| {
            let command = forked(|| {
                let _ = raise(Signal::SIGKILL);
                0
            });
            solution::supervise(command)
        });
        assert_eq!(code, 128 + 9, "99 means supervise panicked");
    }

    #[test]
    fn other_children_are_reaped_and_do_not_count() {
        let code = init_exit_code(|| {
            let orphan = forked(|| 3);
            let command = forked(|| {
                std::thread::sleep(Duration::from_millis(200));
                5
            });
            let code = solution::supervise(command);
            // The other child must have been reaped already: no zombie left.
            match waitpid(orphan, Some(WaitPidFlag::WNOHANG)) {
                Err(Errno::ECHILD) => code,
                _ => 42,
            }
        });
        assert_ne!(code, 3, "supervise returned the exit code of a child that is not the command");
        assert_ne!(
            code, 42,
            "supervise left the other child as a zombie: wait for any child, not only the command"
        );
        assert_eq!(code, 5, "99 means supervise panicked");
    }

    // A wrong answer this test catches: a `supervise` that only waits. The
    // init then dies of the SIGTERM meant for the command (or, if it
    // ignores signals, waits the command out), and `docker stop` would
    // always end in SIGKILL after its grace period. Checked by deleting
    // `signals::forward_signals_to(command)` from the reference: this test
    // fails with "the init itself died of SIGTERM".
    #[test]
    fn a_signal_to_the_init_is_forwarded_to_the_command() {
        let init = forked(|| {
            let command = forked(|| {
                std::thread::sleep(Duration::from_secs(3));
                0
            });
            solution::supervise(command)
        });
        // Time for supervise to install its handlers before the signal comes.
        std::thread::sleep(Duration::from_millis(500));
        nix::sys::signal::kill(init, Signal::SIGTERM).expect("kill");
        match waitpid(init, None).expect("waitpid") {
            WaitStatus::Exited(_, code) => assert_eq!(
                code,
                128 + 15,
                "the command did not die of the SIGTERM sent to the init (exit {code}; 99 means \
                 supervise panicked): forward the init's signals to the command"
            ),
            WaitStatus::Signaled(_, signal, _) => panic!(
                "the init itself died of {signal:?}: supervise must catch the signals it gets \
                 and forward them to the command (see ch01_namespaces::signals)"
            ),
            other => panic!("the init process ended with {other:?}"),
        }
    }
}
