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
//!
//! This module uses std, nix and libc only (a test below checks its `use`s): every
//! page of the shim is resident once per detached container, and the
//! linker keeps only what the shim's `main` reaches.

pub mod frame;
pub mod handover;
pub mod log;
// The relay loop of the shim: `relay::relay`, the name the book uses.
#[allow(clippy::module_inception)]
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

#[cfg(test)]
mod tests {
    /// The shim's code imports from no crate but std, nix and libc, and
    /// from no other module of this chapter: what it reaches is all the
    /// shim links.
    #[test]
    fn the_shim_uses_std_nix_and_libc_only() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("frame.rs"),
            include_str!("handover.rs"),
            include_str!("log.rs"),
            include_str!("relay.rs"),
            include_str!("server.rs"),
            include_str!("time.rs"),
        ];
        let allowed =
            ["std::", "nix::", "libc::", "crate::relay::", "super::", "self::", "core::", "Kind::"];
        for source in sources {
            for line in source.lines().map(str::trim).filter(|l| l.starts_with("use ")) {
                let path = line.trim_start_matches("use ");
                assert!(allowed.iter().any(|a| path.starts_with(a)), "the shim uses {line}");
            }
        }
    }
}
