//! The daemon watches every container it started: when one exits, its
//! supervisor says so on the attach socket, and the daemon records the
//! `die` event (and `destroy`, for `--rm`), stops its health checks and
//! applies its restart policy. A daemon that starts again watches the
//! running ones anew (live restore, in [`super::restore`]).

use std::sync::Arc;
use std::time::Duration;

use super::{blocking, health, restart, supervisor, Daemon};
use crate::lifecycle;

// ANCHOR: watch
/// Watch `id` until it exits, on a task of its own.
pub fn watch(daemon: Arc<Daemon>, id: String) {
    tokio::spawn(async move {
        let dir = daemon.local.engine.store.container_dir(&id);
        let Some(mut socket) = listen(&dir).await else {
            return ended_unseen(daemon, id).await;
        };
        let checks = begin_run(&daemon, &id).await.map(|run| health::spawn(&daemon, &id, run));
        let code = supervisor::read_exit(&mut socket).await;
        if let Some(Some(checks)) = checks {
            checks.abort();
        }
        match code {
            Some(code) => exited(daemon, id, code).await,
            // We came as it was telling the exit: its state will say.
            None => ended_unseen(daemon, id).await,
        }
    });
}

// ANCHOR_END: watch

// ANCHOR: listen
/// Ask the supervisor in `dir` for the exit. Its socket was bound before
/// the start returned, so there is nothing to wait for: no socket means the
/// container has already ended and its exit command removed the socket
/// (`true` is that quick). Waiting for it would tell its `die` late.
async fn listen(dir: &std::path::Path) -> Option<tokio::net::UnixStream> {
    supervisor::connect(dir, false, Duration::ZERO).await.ok()
}
// ANCHOR_END: listen

/// It ended before we could listen (`sh -c 'exit 3'` is quick): its
/// state says how.
async fn ended_unseen(daemon: Arc<Daemon>, id: String) {
    let (local, wanted) = (daemon.local.clone(), id.clone());
    let settled = blocking(move || {
        local.engine.wait_for_exit(&wanted, Duration::from_secs(5))?;
        local.state_of(&wanted)
    });
    match settled.await {
        Ok(state) if !state.is_running() && state.finished_at.is_some() => {
            let exit = state.exit_code.unwrap_or(0) as i64;
            exited(daemon, id, exit).await
        }
        Ok(_) => {}
        Err(_) => {
            let (name, image) = names(&daemon, &id).await;
            daemon.events.emit("container", "die", &id, &[("name", &name), ("image", &image)]);
            daemon.events.emit("container", "destroy", &id, &[("name", &name), ("image", &image)]);
        }
    }
}

// ANCHOR: exited
/// After an exit: `die`, `destroy` if `--rm` took it, then the policy.
pub async fn exited(daemon: Arc<Daemon>, id: String, exit: i64) {
    let (name, image) = names(&daemon, &id).await;
    let code = exit.to_string();
    let attributes = [("exitCode", code.as_str()), ("name", &name), ("image", &image)];
    daemon.events.emit("container", "die", &id, &attributes);
    let local = daemon.local.clone();
    let check = id.clone();
    tokio::time::sleep(Duration::from_millis(20)).await;
    if blocking(move || local.state_of(&check)).await.is_err() {
        daemon.events.emit("container", "destroy", &id, &[("name", &name), ("image", &image)]);
        return;
    }
    restart::after_exit(daemon, id, exit).await;
}
// ANCHOR_END: exited

/// Mark the run being watched (its `StartedAt`); a new run's health starts
/// over as `starting`. The run's start, or `None` if it is not running.
async fn begin_run(daemon: &Daemon, id: &str) -> Option<health::Run> {
    let (local, wanted) = (daemon.local.clone(), id.to_string());
    let state = blocking(move || local.state_of(&wanted)).await.ok()?;
    let running = state.is_running();
    let started_at = state.started_at.filter(|_| running)?;
    let dir = daemon.local.engine.store.container_dir(id);
    let restored = lifecycle::read(&dir).watching.as_deref() == Some(started_at.as_str());
    lifecycle::update(&dir, |r| {
        if !restored {
            r.health = None;
        }
        r.watching = Some(started_at.clone());
    });
    Some(health::Run { started_at, restored })
}

// ANCHOR: container_event
/// A container event with the `image` and `name` attributes dockerd gives
/// every one, and then `extra` (`signal`, `exitCode`, `execID`, …).
pub async fn container_event(daemon: &Daemon, action: &str, id: &str, extra: &[(&str, &str)]) {
    let (name, image) = names(daemon, id).await;
    emit_named(daemon, action, id, (&name, &image), extra);
}

/// [`container_event`] when the name and image are known (the container may be gone).
pub fn emit_named(
    daemon: &Daemon,
    action: &str,
    id: &str,
    (name, image): (&str, &str),
    extra: &[(&str, &str)],
) {
    let mut attributes = vec![("image", image), ("name", name)];
    attributes.extend_from_slice(extra);
    daemon.events.emit("container", action, id, &attributes);
}
// ANCHOR_END: container_event

/// The container's name and image, for the events' attributes.
pub async fn names(daemon: &Daemon, id: &str) -> (String, String) {
    let (engine, id) = (daemon.local.engine.clone(), id.to_string());
    let config = tokio::task::spawn_blocking(move || engine.config(&id).ok()).await;
    match config.ok().flatten() {
        Some(config) => (config.name, config.image),
        None => (String::new(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_container_already_gone_is_not_waited_for() {
        let dir = tempfile::tempdir().unwrap();
        let asked = std::time::Instant::now();
        assert!(listen(dir.path()).await.is_none());
        assert!(asked.elapsed() < Duration::from_millis(500), "{:?}", asked.elapsed());
    }

    #[tokio::test]
    async fn a_running_supervisor_is_asked_for_the_exit() {
        let dir = tempfile::tempdir().unwrap();
        let _server = ch05_run::attach::AttachServer::listen(dir.path()).unwrap();
        assert!(listen(dir.path()).await.is_some());
    }
}
