//! Forward signals sent to us to the container's main process.
//!
//! `docker run` does the same (`--sig-proxy`, on by default). A signal
//! handler may only do async-signal-safe work, and `kill(2)` is such a call.

use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{
    kill, sigaction, sigprocmask, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal,
};
use nix::unistd::Pid;

static TARGET: AtomicI32 = AtomicI32::new(0);

/// The signals a terminal or `kill` typically sends, all passed on.
pub const FORWARDED: [Signal; 7] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

extern "C" fn forward(signal: libc::c_int) {
    let pid = TARGET.load(Ordering::Relaxed);
    if pid > 0 {
        if let Ok(signal) = Signal::try_from(signal) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }
}

// ANCHOR: forward_signals
/// From now on, every signal in [`FORWARDED`] that reaches this process is
/// sent on to `pid`. `SA_RESTART` keeps our own `waitpid` from failing with EINTR.
pub fn forward_signals_to(pid: Pid) {
    TARGET.store(pid.as_raw(), Ordering::Relaxed);
    let action = SigAction::new(SigHandler::Handler(forward), SaFlags::SA_RESTART, SigSet::empty());
    for signal in FORWARDED {
        // SAFETY: `forward` only calls the async-signal-safe kill(2).
        unsafe { sigaction(signal, &action) }
            .expect("installing a signal handler cannot fail for these signals");
    }
}
// ANCHOR_END: forward_signals

/// Restore the default action for every forwarded signal.
pub fn stop_forwarding() {
    TARGET.store(0, Ordering::Relaxed);
    let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
    for signal in FORWARDED {
        // SAFETY: restoring the default disposition.
        let _ = unsafe { sigaction(signal, &default) };
    }
}

// ANCHOR: reset_for_exec
/// Give the command the signals of a fresh process: each at its default
/// action, none blocked. `execve` resets a signal that has a handler, but
/// an *ignored* signal stays ignored, and a blocked one blocked — and every
/// Rust program ignores SIGPIPE, so without this `yes | head -1` in a
/// container would say "Broken pipe" instead of ending quietly.
pub fn reset_for_exec() {
    // The kernel's struct sigaction, all zero: SIG_DFL, no flags, empty
    // mask. The raw call, because glibc refuses to touch 32 and 33 (its
    // own), which whoever started us may still have left ignored.
    let default = [0u64; 4];
    for signal in 1..=libc::SIGRTMAX() {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // SAFETY: the default disposition runs none of our code.
            unsafe { libc::syscall(libc::SYS_rt_sigaction, signal, default.as_ptr(), 0usize, 8) };
        }
    }
    let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None);
}
// ANCHOR_END: reset_for_exec
