//! A minimal init for PID 1 (`--init`, like `docker run --init` with tini).
//!
//! The first process of a PID namespace has two jobs nobody else does:
//! it must reap orphans (their parent becomes PID 1 when their own parent
//! dies), and the kernel shields it from signals it has no handler for — so
//! `SIGTERM` to a plain `sleep` as PID 1 does nothing. Our init stays PID 1,
//! runs the command as PID 2, forwards signals to it and reaps every child.

use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::signals;

// ANCHOR: reap
/// Forward signals to `command` and reap every child until `command`
/// exits; return the exit code this init should exit with (128+N for a signal).
pub fn supervise(command: Pid) -> i32 {
    signals::forward_signals_to(command);
    loop {
        // Wait for *any* child: orphans re-parented to us are reaped here too.
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == command => return code,
            Ok(WaitStatus::Signaled(pid, signal, _)) if pid == command => {
                return 128 + signal as i32
            }
            Ok(_) => continue, // an orphan was reaped
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 125, // no children left: cannot happen while `command` runs
        }
    }
}
// ANCHOR_END: reap
