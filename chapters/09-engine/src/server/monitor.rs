//! The daemon watches every container it started: when one exits, its
//! supervisor says so on the attach socket, and the daemon records the
//! `die` event (and `destroy`, for `--rm`).

use std::sync::Arc;
use std::time::Duration;

use super::{blocking, supervisor, Daemon};

// ANCHOR: watch
/// Watch `id` until it exits, on a task of its own.
pub fn watch(daemon: Arc<Daemon>, id: String) {
    tokio::spawn(async move {
        let dir = daemon.local.engine.store.container_dir(&id);
        let Ok(mut socket) = supervisor::connect(&dir, false, Duration::from_secs(5)).await else {
            return;
        };
        let code = supervisor::read_exit(&mut socket).await;
        let exit = code.map_or("137".to_string(), |c| c.to_string());
        daemon.events.emit("container", "die", &id, &[("exitCode", &exit)]);
        let local = daemon.local.clone();
        let check = id.clone();
        tokio::time::sleep(Duration::from_millis(20)).await;
        if blocking(move || local.state_of(&check)).await.is_err() {
            daemon.events.emit("container", "destroy", &id, &[]);
        }
    });
}
// ANCHOR_END: watch
