//! Exec instances: `POST /containers/{id}/exec` makes one, `…/start` runs
//! it, `GET /exec/{id}/json` says how it ended — there is no wait for an
//! exec, so its exit code must be there when its stream ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::types::ExecCreateBody;

/// Finished execs are forgotten after this long.
const KEPT_FOR: Duration = Duration::from_secs(600);

/// One exec instance.
#[derive(Debug, Clone)]
pub struct Exec {
    pub id: String,
    pub container: String,
    pub body: ExecCreateBody,
    pub started: bool,
    pub running: bool,
    pub pid: Option<u32>,
    pub exit_code: Option<i64>,
    /// Where `resize` writes `ROWS COLS` lines for the helper.
    pub sizes: Option<std::sync::Arc<std::fs::File>>,
    pub finished: Option<Instant>,
}

impl Exec {
    /// `GET /exec/{id}/json`.
    pub fn inspect(&self) -> Value {
        let cmd = self.body.cmd.clone().unwrap_or_default();
        json!({
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.body.tty,
                "entrypoint": cmd.first(),
                "arguments": cmd.get(1..).unwrap_or_default(),
                "privileged": self.body.privileged,
                "user": self.body.user,
            },
            "OpenStdin": self.body.attach_stdin,
            "OpenStdout": self.body.attach_stdout,
            "OpenStderr": self.body.attach_stderr,
            "CanRemove": !self.running,
            "ContainerID": self.container,
            "DetachKeys": "",
            "Pid": self.pid.unwrap_or(0),
        })
    }
}

/// Every exec this daemon knows.
#[derive(Default)]
pub struct Execs(Mutex<HashMap<String, Exec>>);

impl Execs {
    pub fn add(&self, container: &str, body: ExecCreateBody) -> String {
        let id = ch05_run::ids::new_id();
        let exec = Exec {
            id: id.clone(),
            container: container.to_string(),
            body,
            started: false,
            running: false,
            pid: None,
            exit_code: None,
            sizes: None,
            finished: None,
        };
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|_, e| e.finished.is_none_or(|at| at.elapsed() < KEPT_FOR));
        all.insert(id.clone(), exec);
        id
    }

    pub fn get(&self, id: &str) -> Option<Exec> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned()
    }

    pub fn update(&self, id: &str, change: impl FnOnce(&mut Exec)) {
        if let Some(exec) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(id) {
            change(exec);
        }
    }
}
