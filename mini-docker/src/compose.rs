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
/// The whole engine: chapters 1–5 and the extensions of chapters 6, 7, 8,
/// and the daemon's own settings (chapter 9).
pub fn engine(root: &Path) -> Engine {
    Engine::new(root)
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
