//! The container lifecycle: the engine, and stop, kill, rm, wait.
//!
//! Every command is a short-lived process that reads and writes the store.
//! The one long-lived process is the container's *supervisor* (our
//! conmon / containerd-shim, in [`crate::supervisor`]): it starts the
//! container, copies its output into the log, waits for it, records how it
//! ended and releases what it held. `create` is in [`crate::create`].

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use thiserror::Error;

use crate::container::ContainerConfig;
use crate::extension::Extension;
use crate::ids::short_id;
use crate::state::State;
use crate::store::Store;

// ANCHOR: engine
/// The state root, the containers in it, and the later chapters' extensions.
#[derive(Clone)]
pub struct Engine {
    pub root: PathBuf,
    pub store: Store,
    extensions: Vec<Arc<dyn Extension>>,
    /// This program answers `internal-exited`: a detached supervisor may
    /// become the shim ([`crate::shim`]), which ends in that command.
    shim: bool,
}

impl Engine {
    /// An engine with chapters 1–5 only: a new network namespace with just
    /// `lo`, the image's root, no volumes, no walls beyond the namespaces.
    pub fn new(root: &Path) -> Engine {
        let (store, extensions) = (Store::new(root), Vec::new());
        Engine { root: root.to_path_buf(), store, extensions, shim: false }
    }

    /// The same engine in a program that answers `internal-exited`
    /// ([`Engine::finish_exited`]): its detached supervisors become the shim.
    pub fn exiting_through_shim(mut self) -> Engine {
        self.shim = true;
        self
    }

    pub(crate) fn uses_shim(&self) -> bool {
        self.shim
    }

    /// The same engine with `extension` called after those already added.
    pub fn with(mut self, extension: impl Extension + 'static) -> Engine {
        self.extensions.push(Arc::new(extension));
        self
    }

    pub fn extensions(&self) -> &[Arc<dyn Extension>] {
        &self.extensions
    }
}
// ANCHOR_END: engine

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.extensions.len();
        f.debug_struct("Engine").field("root", &self.root).field("extensions", &count).finish()
    }
}

/// A failure that has its own exit code (Docker's 125, 126, 127).
#[derive(Debug, Error)]
#[error("{message}")]
pub struct StartFailed {
    pub message: String,
    pub exit_code: i32,
}

impl Engine {
    pub fn config(&self, id: &str) -> anyhow::Result<ContainerConfig> {
        Ok(self.store.read(id, "config.json")?)
    }

    /// The state, repaired first if its supervisor died (see [`State::repair_if_supervisor_died`]).
    pub fn state(&self, id: &str) -> anyhow::Result<State> {
        let lock = self.store.lock(id)?;
        let mut state: State = self.store.read(id, "state.json")?;
        if state.repair_if_supervisor_died() {
            self.store.write(id, "state.json", &state)?;
            let config = self.config(id)?;
            self.release(&config);
            if config.auto_remove {
                drop(lock);
                self.remove_files(id, true)?;
            }
        }
        Ok(state)
    }

    /// Find a container by id, name or unique id prefix.
    pub fn find(&self, wanted: &str) -> anyhow::Result<String> {
        Ok(self.store.find(wanted, |id| self.config(id).ok().map(|c| c.name))?)
    }

    pub(crate) fn update_state(
        &self,
        id: &str,
        change: impl FnOnce(&mut State),
    ) -> anyhow::Result<State> {
        let _lock = self.store.lock(id)?;
        let mut state: State = self.store.read(id, "state.json")?;
        change(&mut state);
        self.store.write(id, "state.json", &state)?;
        Ok(state)
    }

    // ANCHOR: stop
    /// `stop`: SIGTERM (or the image's stop signal), then SIGKILL after
    /// `timeout` — PID 1 ignores signals it has no handler for (chapter 1).
    pub fn stop(&self, id: &str, timeout: Duration) -> anyhow::Result<()> {
        let Some(pid) = self.running_pid(id)? else { return Ok(()) };
        let _ = kill(pid, Signal::SIGTERM);
        self.thaw_after(id, Signal::SIGTERM)?;
        if self.wait_for_exit(id, timeout)? {
            return Ok(());
        }
        let _ = kill(pid, Signal::SIGKILL);
        self.wait_for_exit(id, Duration::from_secs(30))?;
        Ok(())
    }
    // ANCHOR_END: stop

    /// `kill`: send `signal` to the container's main process.
    pub fn kill(&self, id: &str, signal: Signal) -> anyhow::Result<()> {
        let Some(pid) = self.running_pid(id)? else {
            bail!(
                "cannot kill container: {}: container {} is not running",
                short_id(id),
                short_id(id)
            )
        };
        kill(pid, signal).with_context(|| format!("sending {signal} to {pid}"))?;
        self.thaw_after(id, signal)
    }

    fn running_pid(&self, id: &str) -> anyhow::Result<Option<Pid>> {
        let state = self.state(id)?;
        Ok(state.pid.filter(|_| state.is_running()).map(Pid::from_raw))
    }

    /// Wait until the container has exited; false when `timeout` passed first.
    pub fn wait_for_exit(&self, id: &str, timeout: Duration) -> anyhow::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.state(id) {
                Ok(state) if state.is_running() => {}
                Ok(_) => return Ok(true),
                Err(_) => return Ok(true), // removed (--rm): it has exited
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // ANCHOR: remove
    /// `rm`: refuse a running container unless `force`, then release
    /// everything it holds and delete its directory; with `volumes` (`rm -v`)
    /// also what the extensions made for it alone (chapter 7's anonymous volumes).
    pub fn remove(&self, id: &str, force: bool, volumes: bool) -> anyhow::Result<()> {
        let state = self.state(id)?;
        if state.is_running() {
            if !force {
                let name = self.config(id)?.name;
                bail!("cannot remove container \"/{name}\": container is running: stop the container before removing or force remove");
            }
            if let Some(pid) = state.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                self.thaw_after(id, Signal::SIGKILL)?;
            }
            if !self.wait_for_exit(id, Duration::from_secs(30))? {
                bail!("container {} did not exit after SIGKILL", short_id(id));
            }
        }
        self.remove_files(id, volumes)
    }
    // ANCHOR_END: remove

    // ANCHOR: remove_2
    /// Delete the container's files and release what it holds.
    pub(crate) fn remove_files(&self, id: &str, volumes: bool) -> anyhow::Result<()> {
        let _all = self.store.lock_all()?;
        let config = self.config(id).ok();
        if let Some(config) = &config {
            self.release(config);
        }
        if let Some(code) =
            self.store.read::<State>(id, "state.json").ok().and_then(|s| s.exit_code)
        {
            self.store.keep_exit_code(id, code);
        }
        let retired = self.store.retire(id)?;
        for dir in retired.into_iter().chain(self.store.retired()) {
            ch03_union_fs::cleanup::remove_container_dir(&dir)
                .with_context(|| format!("removing {}", dir.display()))?;
        }
        for extension in self.extensions().iter().filter(|_| volumes) {
            if let Some(config) = &config {
                extension.remove(&self.root, config)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: remove_2

    /// Free what the container holds outside its directory: its cgroup
    /// (after a crash), and whatever each extension holds for it.
    pub(crate) fn release(&self, config: &ContainerConfig) {
        if let Ok(layout) = ch02_cgroups::detect_once() {
            let _ = ch02_cgroups::remove_leftover(&layout, &config.cgroup_parent, &config.id);
        }
        for extension in self.extensions() {
            extension.release(&self.root, config);
        }
    }

    /// `wait`: block until the container exits and return its exit code.
    pub fn wait(&self, id: &str) -> anyhow::Result<i32> {
        while !self.wait_for_exit(id, Duration::from_secs(3600))? {}
        Ok(self.state(id).ok().and_then(|s| s.exit_code).unwrap_or(0))
    }

    /// Every container with its state, the running ones' supervisors checked.
    pub fn list(&self) -> anyhow::Result<Vec<(ContainerConfig, State)>> {
        let mut all = Vec::new();
        for id in self.store.ids()? {
            if let (Ok(config), Ok(state)) = (self.config(&id), self.state(&id)) {
                all.push((config, state));
            }
        }
        Ok(all)
    }
}
