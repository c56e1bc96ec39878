//! Live restore: the containers' supervisors outlive the daemon (as
//! containerd-shims outlive containerd), so a daemon that starts again —
//! after `systemctl restart`, or a crash — finds them still running. It
//! watches them again, handles the exits that came while no daemon ran,
//! restarts per policy, and clears what a crash left half done.

use std::sync::Arc;
use std::time::Duration;

use super::{blocking, monitor, restart, Daemon};
use crate::lifecycle;
use crate::settings::EngineSettings;

// ANCHOR: restore
/// Pick up every container of the state root.
pub async fn restore(daemon: Arc<Daemon>) {
    let local = daemon.local.clone();
    // Listing repairs the states whose supervisor died (chapter 5), and
    // the directories of removals that a crash interrupted are finished.
    let listed = blocking(move || {
        for dir in local.engine.store.retired() {
            let _ = ch03_union_fs::cleanup::remove_container_dir(&dir);
        }
        Ok(local.engine.list()?)
    })
    .await;
    for (config, state) in listed.unwrap_or_default() {
        let id = config.id.clone();
        if state.is_running() {
            monitor::watch(Arc::clone(&daemon), id);
            continue;
        }
        let dir = daemon.local.engine.store.container_dir(&id);
        let record = lifecycle::read(&dir);
        let exit = state.exit_code.unwrap_or(0) as i64;
        if record.watching.is_some() {
            // It exited while no daemon watched: that is its `die`.
            let (name, image) = monitor::names(&daemon, &id).await;
            let code = exit.to_string();
            let attributes = [("exitCode", code.as_str()), ("name", &name), ("image", &image)];
            daemon.events.emit("container", "die", &id, &attributes);
        }
        let settings: EngineSettings = config.extensions.get().unwrap_or_default();
        let again = lifecycle::restart_at_daemon_start(&settings.restart_policy, exit, &record);
        lifecycle::update(&dir, |r| {
            r.watching = None;
            r.restarting = false;
            r.manually_stopped &= !again;
        });
        if again {
            tokio::spawn(restart::restart_after(Arc::clone(&daemon), id, Duration::ZERO));
        }
    }
}
// ANCHOR_END: restore
