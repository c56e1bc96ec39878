//! `pause` and `unpause`: chapter 2's freezer on a running container's
//! cgroup, and the `paused` mark in its state that `ps` and `inspect` show.
//!
//! ```text
//!            pause (freeze the cgroup)
//!  running ───────────────────────────▶ running + paused   ps: Up 3 seconds (Paused)
//!     ▲                                      │             inspect: "Status": "paused"
//!     └──────────────────────────────────────┘
//!            unpause (thaw it)    stop, kill KILL, rm -f: the signal, then a thaw
//! ```
//!
//! A paused container is still running: its processes exist, they are only
//! not scheduled. What needs them to run — `exec`, `attach`, `start` — is
//! refused until `unpause`.

use anyhow::Context;
use ch02_cgroups::{Cgroup, CgroupError};
use nix::sys::signal::Signal;
use thiserror::Error;

use crate::container::ContainerConfig;
use crate::lifecycle::Engine;

/// Docker's refusals, word for word (moby `daemon/pause.go`, `unpause.go`).
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PauseError {
    #[error("Container {0} is not running")]
    NotRunning(String),
    #[error("Container {0} is already paused")]
    AlreadyPaused(String),
    #[error("Container {0} is not paused")]
    NotPaused(String),
}

impl Engine {
    // ANCHOR: pause
    /// `pause`: freeze every process of the running container, then say so
    /// in its state. Returns once the kernel reports all of them stopped.
    pub fn pause(&self, id: &str) -> anyhow::Result<()> {
        let state = self.state(id)?;
        if !state.is_running() {
            return Err(PauseError::NotRunning(id.to_string()).into());
        }
        if state.paused {
            return Err(PauseError::AlreadyPaused(id.to_string()).into());
        }
        let layout = ch02_cgroups::detect()?;
        ch02_cgroups::freezer::require_freezer(&layout)?;
        container_cgroup(&layout, &self.config(id)?)?.freeze()?;
        self.update_state(id, |s| s.paused = s.is_running())?;
        Ok(())
    }

    /// `unpause`: thaw the container's cgroup; its processes go on.
    pub fn unpause(&self, id: &str) -> anyhow::Result<()> {
        let state = self.state(id)?;
        if !state.is_paused() {
            return Err(PauseError::NotPaused(id.to_string()).into());
        }
        self.thaw(id)
    }
    // ANCHOR_END: pause

    /// Thaw the cgroup. One that is gone meanwhile holds nothing frozen:
    /// v2 lets SIGKILL through the freezer, and the supervisor removes the
    /// cgroup of a container that died as soon as it has.
    fn thaw(&self, id: &str) -> anyhow::Result<()> {
        let layout = ch02_cgroups::detect()?;
        match container_cgroup(&layout, &self.config(id)?) {
            Err(CgroupError::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
            Ok(cgroup) => match cgroup.thaw() {
                Err(_) if cgroup.paths().iter().all(|p| !p.exists()) => {}
                done => done?,
            },
        }
        self.update_state(id, |s| s.paused = false)?;
        Ok(())
    }

    // ANCHOR: thaw_after
    /// After `signal` was sent to a paused container: a signal that ends it
    /// (SIGKILL, or `stop`'s SIGTERM) is delivered by thawing it, as dockerd
    /// does. On v1 a frozen process does not even die of SIGKILL until then.
    pub(crate) fn thaw_after(&self, id: &str, signal: Signal) -> anyhow::Result<()> {
        let ends_it = matches!(signal, Signal::SIGKILL | Signal::SIGTERM);
        if ends_it && self.state(id)?.is_paused() {
            self.thaw(id).with_context(|| format!("unpausing container {id} after {signal}"))?;
        }
        Ok(())
    }
    // ANCHOR_END: thaw_after
}

/// The running container's cgroup, opened by its parent and id.
fn container_cgroup(
    layout: &ch02_cgroups::Layout,
    config: &ContainerConfig,
) -> Result<Cgroup, CgroupError> {
    Cgroup::open(layout, &config.cgroup_parent, &config.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_dockers() {
        let id = "3f2a9c".to_string();
        assert_eq!(
            PauseError::NotRunning(id.clone()).to_string(),
            "Container 3f2a9c is not running"
        );
        assert_eq!(
            PauseError::AlreadyPaused(id.clone()).to_string(),
            "Container 3f2a9c is already paused"
        );
        assert_eq!(PauseError::NotPaused(id).to_string(), "Container 3f2a9c is not paused");
    }
}
