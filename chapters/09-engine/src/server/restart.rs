//! Restart policies: after an exit the daemon asks the policy, waits the
//! restart manager's delay (the container is `restarting` meanwhile) and
//! starts it again — unless `docker stop` or `docker rm` came first.

use std::sync::Arc;
use std::time::Duration;

use super::{blocking, monitor, Daemon};
use crate::lifecycle;
use crate::settings::EngineSettings;

// ANCHOR: after_exit
/// The policy's answer to an exit with `exit`.
pub async fn after_exit(daemon: Arc<Daemon>, id: String, exit: i64) {
    let local = daemon.local.clone();
    let wanted = id.clone();
    let read =
        blocking(move || Ok((local.engine.config(&wanted)?, local.state_of(&wanted)?))).await;
    let Ok((config, state)) = read else { return }; // removed
    if state.is_running() {
        return; // someone started it again already
    }
    let dir = daemon.local.engine.store.container_dir(&id);
    let Some(record) = lifecycle::update(&dir, |r| r.watching = None) else { return };
    let settings: EngineSettings = config.extensions.get().unwrap_or_default();
    if !lifecycle::should_restart(&settings.restart_policy, exit, &record) {
        return;
    }
    let delay = lifecycle::restart_delay(record.restart_count, ran_for(&state));
    restart_after(daemon, id, delay).await;
}

// ANCHOR_END: after_exit

// ANCHOR: restart_after
/// Wait `delay` as `restarting`, then start it again and watch the new run.
pub async fn restart_after(daemon: Arc<Daemon>, id: String, delay: Duration) {
    let dir = daemon.local.engine.store.container_dir(&id);
    lifecycle::update(&dir, |r| r.restarting = true);
    tokio::time::sleep(delay).await;
    let record = lifecycle::read(&dir);
    if !record.restarting || record.manually_stopped {
        return; // stopped (or started by hand) meanwhile
    }
    let (local, wanted) = (daemon.local.clone(), id.clone());
    // `start_by_policy` counts the restart (RestartCount) before it starts.
    let started = blocking(move || local.start_by_policy(&wanted)).await;
    match started {
        Ok(true) => {
            lifecycle::update(&dir, |r| r.restarting = false);
            let (name, image) = monitor::names(&daemon, &id).await;
            daemon.events.emit("container", "start", &id, &[("name", &name), ("image", &image)]);
            monitor::watch(daemon, id);
        }
        Ok(false) => drop(lifecycle::update(&dir, |r| r.restarting = false)),
        Err(error) if error.status == 404 => {}
        Err(error) => {
            // It could not start (its command is gone, …): that is an exit too.
            lifecycle::update(&dir, |r| r.restarting = false);
            let exit = error.exit_code.unwrap_or(125) as i64;
            Box::pin(after_exit(daemon, id, exit)).await;
        }
    }
}
// ANCHOR_END: restart_after

fn ran_for(state: &ch05_run::State) -> Duration {
    let at = |t: &Option<String>| t.as_deref().and_then(|t| humantime::parse_rfc3339(t).ok());
    match (at(&state.started_at), at(&state.finished_at)) {
        (Some(start), Some(end)) => end.duration_since(start).unwrap_or_default(),
        _ => Duration::ZERO,
    }
}
