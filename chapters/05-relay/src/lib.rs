//! # Chapter 5's shim
//!
//! What a detached container's supervisor becomes once the container runs:
//! a small program of its own, as Podman's `conmon` and containerd's shim
//! are. The full `mini-docker` binary does the start — images, cgroups,
//! mounts, networks, every extension — and then `exec`s this one, which
//! keeps only what a running container needs from its supervisor:
//!
//! ```text
//!  mini-docker (supervisor) ──clone──▶ container        the spawn: chapter 5 in full
//!      │ execve(mini-docker-shim, fds…)                 same pid: still the container's parent
//!      ▼
//!  mini-docker-shim ── relays the output to container.log and to attach.sock's clients,
//!      │               takes their input, waits for the container
//!      │ execve(mini-docker internal-exited ID --exit-code N --attach-fds …)
//!      ▼
//!  mini-docker (exit command) ── releases what the start took, tells the exit, records it
//! ```
//!
//! The pid never changes, so `state.json`'s `supervisor_pid` stays true
//! throughout. The attached supervisor (`run` without `-d`) uses the same
//! [`relay`], [`server`] and [`log`] code in-process.

pub mod frame;
pub mod handover;
pub mod log;
pub mod relay;
pub mod server;
pub mod time;

/// Which of the container's outputs a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Its name in the `json-file` log (`"stream":"stdout"`).
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}
