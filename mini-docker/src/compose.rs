//! The composition point: the one place where the chapters' extensions are
//! registered into chapter 5's engine, in order. Order matters: chapter 8's
//! read-only remount must come after chapter 7 has mounted the volumes,
//! and its checks read what chapters 6 and 7 recorded. Both binaries —
//! `mini-docker` in-process and `mini-dockerd` — use it.

use std::path::Path;

use ch05_run::{Engine, StartOptions};
use ch09_engine::local::Settings;
use ch09_engine::Local;

// ANCHOR: engine
/// The whole engine: chapters 1–5 (with the container's view of its
/// cgroup, chapter 2's, first: chapter 8 may make it writable), the
/// extensions of chapters 6, 7, 8, and the daemon's own settings (chapter 9).
/// Both binaries answer `internal-exited`, the shim's exit command.
pub fn engine(root: &Path) -> Engine {
    Engine::new(root)
        .exiting_through_shim()
        .with(ch05_run::cgroup_view::CgroupView)
        .with(ch06_networking::Networking)
        .with(ch07_volumes::Volumes)
        .with(ch08_security::Security)
        .with(ch09_engine::settings::Engine)
}
// ANCHOR_END: engine

/// The engine in this process, behind the Engine API's interface.
/// Chapter 10 answers its part of the image routes (history, save).
pub fn local(root: &Path, settings: Settings) -> Local {
    Local::new(engine(root), settings).with_archive(std::sync::Arc::new(crate::archive::Chapter10))
}

// ANCHOR: daemon
/// The daemon: chapter 9's routes over the engine, and the routes of the
/// later chapters — chapter 11's swarm mode, which runs its tasks through
/// the same engine.
#[cfg(feature = "api")]
pub fn daemon(root: &Path, settings: Settings) -> ch09_engine::server::Daemon {
    let local = local(root, settings);
    let mut daemon = ch09_engine::server::Daemon::new(local.clone());
    // Chapter 10's `POST /build`, diff, export, commit and push, then chapter 11's swarm routes.
    daemon.routes.push(std::sync::Arc::new(ch10_images::api::BuildRoutes));
    let freezer = |engine: &Engine| -> Box<dyn ch10_images::commit::Freezer> {
        Box::new(Freezer::new(engine.clone()))
    };
    daemon.routes.push(std::sync::Arc::new(ch10_images::api::MakingRoutes { freezer }));
    daemon.routes.push(std::sync::Arc::new(ch10_images::api::PushRoutes));
    daemon.routes.push(ch11_services::routes(root, local));
    daemon
}
// ANCHOR_END: daemon

// ANCHOR: internal_start
/// `internal-start`: what a daemon runs to start a container — a process of
/// its own with a single thread, from which the supervisor can be forked.
/// A container whose PID 1 is our `--init` gets it from a sealed copy of
/// this binary (chapter 8, CVE-2019-5736).
pub fn internal_start(root: &Path, id: &str, wait_for_attach: bool) -> anyhow::Result<()> {
    let engine = engine(root);
    if engine.config(id)?.init {
        ch08_security::seal::reexec_sealed()?;
    }
    engine.start_detached_with(id, StartOptions { wait_for_attach })?;
    Ok(())
}
// ANCHOR_END: internal_start

/// `--userns-remap USER`: USER's ranges from /etc/subuid and /etc/subgid.
pub fn lookup_remap(user: &str) -> anyhow::Result<ch08_security::userns::Remap> {
    let (subuid, subgid) = ch08_security::userns::subid_files();
    Ok(ch08_security::userns::lookup(user, &subuid, &subgid)?)
}

// ANCHOR: internal_exec
/// `internal-exec`: what a daemon runs for `docker exec` — our stdio is the
/// daemon's pipes, a terminal's sizes come on fd 3 as `ROWS COLS` lines.
/// Joining a populated PID namespace, it runs from a sealed copy (CVE-2019-5736).
pub fn internal_exec(root: &Path, id: &str, body: &str) -> anyhow::Result<i64> {
    ch08_security::seal::reexec_sealed()?;
    let body: ch09_engine::types::ExecCreateBody = serde_json::from_str(body)?;
    // SAFETY: fcntl(F_GETFD) only asks whether fd 3 is open.
    let sizes = (unsafe { libc::fcntl(3, libc::F_GETFD) } >= 0).then(|| {
        // SAFETY: fd 3 is open and nothing else in this process owns it.
        unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(3) }
    });
    let local = local(root, Settings::defaults());
    local.exec_sized(id, &body, sizes).map_err(|e| {
        let code = e.exit_code.unwrap_or(126);
        anyhow::Error::from(ch05_run::StartFailed { message: e.message, exit_code: code })
    })
}
// ANCHOR_END: internal_exec

// ANCHOR: freezer
/// Chapter 10's freezer seam for `commit --pause`, filled by chapter 5's
/// `pause` (chapter 2's freezer): the container is frozen while its layer
/// is read. One the user paused stays paused afterwards, as with Docker.
pub struct Freezer {
    engine: Engine,
    paused_here: std::cell::Cell<bool>,
}

impl Freezer {
    pub fn new(engine: Engine) -> Freezer {
        Freezer { engine, paused_here: std::cell::Cell::new(false) }
    }
}

impl ch10_images::commit::Freezer for Freezer {
    fn freeze(&self, container: &ch05_run::ContainerConfig) -> anyhow::Result<()> {
        if !self.engine.state(&container.id)?.is_paused() {
            self.engine.pause(&container.id)?;
            self.paused_here.set(true);
        }
        Ok(())
    }

    fn thaw(&self, container: &ch05_run::ContainerConfig) -> anyhow::Result<()> {
        if self.paused_here.take() {
            self.engine.unpause(&container.id)?;
        }
        Ok(())
    }
}
// ANCHOR_END: freezer
