//! Health checks: while a container runs, the daemon runs its check in it
//! every interval — an exec, through the same helper as `docker exec` —
//! and records each result; a change of status is a `health_status` event.

use std::process::Stdio;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::task::JoinHandle;

use super::{monitor, Daemon};
use crate::lifecycle::{self, Check, Probe};
use crate::settings::EngineSettings;
use crate::types::ExecCreateBody;

/// At most this much of a probe's output is kept, as dockerd keeps.
const KEPT_OUTPUT: usize = 4096;

/// The run a check belongs to.
pub struct Run {
    pub started_at: String,
    /// Picked up by a daemon that started again: its health goes on.
    pub restored: bool,
}

/// Start checking `id`'s health, if it has a check; abort the task when
/// the run ends.
pub fn spawn(daemon: &Arc<Daemon>, id: &str, run: Run) -> Option<JoinHandle<()>> {
    let config = daemon.local.engine.config(id).ok()?;
    let settings: EngineSettings = config.extensions.get().unwrap_or_default();
    let check = lifecycle::check_of(settings.healthcheck.as_ref()?)?;
    let dir = daemon.local.engine.store.container_dir(id);
    if !run.restored {
        lifecycle::update(&dir, |r| r.health = Some(lifecycle::starting()));
    }
    let started = humantime::parse_rfc3339(&run.started_at).unwrap_or_else(|_| SystemTime::now());
    Some(tokio::spawn(checks(Arc::clone(daemon), id.to_string(), check, started)))
}

// ANCHOR: checks
/// Every interval: probe, record, and tell a change of status.
async fn checks(daemon: Arc<Daemon>, id: String, check: Check, started: SystemTime) {
    let dir = daemon.local.engine.store.container_dir(&id);
    let mut status = lifecycle::read(&dir).health.map(|h| h.status).unwrap_or_default();
    loop {
        tokio::time::sleep(check.next_interval(started.elapsed().unwrap_or_default(), &status))
            .await;
        let probe = probe(&daemon, &id, &check).await;
        let in_start_period = started.elapsed().unwrap_or_default() < check.start_period;
        let mut changed = None;
        lifecycle::update(&dir, |r| {
            let health = r.health.get_or_insert_with(lifecycle::starting);
            let before = health.status.clone();
            lifecycle::record_probe(health, probe, check.retries, in_start_period);
            changed = (health.status != before).then(|| health.status.clone());
        });
        if let Some(now) = &changed {
            status = now.clone();
        }
        if let Some(status) = changed {
            let (name, image) = monitor::names(&daemon, &id).await;
            let action = format!("health_status: {status}");
            daemon.events.emit("container", &action, &id, &[("name", &name), ("image", &image)]);
        }
    }
}
// ANCHOR_END: checks

// ANCHOR: probe
/// Run the check once in the container, within its timeout.
async fn probe(daemon: &Daemon, id: &str, check: &Check) -> Probe {
    let start = ch05_run::state::now();
    let body = ExecCreateBody {
        attach_stdout: true,
        attach_stderr: true,
        cmd: Some(check.argv.clone()),
        ..ExecCreateBody::default()
    };
    let (exit_code, output) = match helper(daemon, id, &body) {
        None => (-1, "no exec helper: the daemon cannot run health checks".to_string()),
        Some(mut command) => match command.spawn() {
            Err(error) => (-1, format!("running the check: {error}")),
            Ok(child) => {
                match tokio::time::timeout(check.timeout, child.wait_with_output()).await {
                    Err(_) => (-1, format!("Health check exceeded timeout ({:?})", check.timeout)),
                    Ok(Err(error)) => (-1, format!("running the check: {error}")),
                    Ok(Ok(out)) => {
                        let mut text = out.stdout;
                        text.extend_from_slice(&out.stderr);
                        text.truncate(KEPT_OUTPUT);
                        let code = out.status.code().unwrap_or(-1) as i64;
                        (code, String::from_utf8_lossy(&text).into_owned())
                    }
                }
            }
        },
    };
    Probe { start, end: ch05_run::state::now(), exit_code, output }
}
// ANCHOR_END: probe

/// `internal-exec --body JSON ID`: the helper `docker exec` uses too.
fn helper(daemon: &Daemon, id: &str, body: &ExecCreateBody) -> Option<tokio::process::Command> {
    let program = daemon.local.settings.start_helper.clone()?;
    let mut command = tokio::process::Command::new(program);
    command.arg("--root").arg(daemon.local.root()).arg("internal-exec");
    command.arg("--body").arg(serde_json::to_string(body).ok()?).arg(id);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    Some(command)
}
