//! The manager's store: the cluster, its nodes, services and tasks — the
//! desired state and what the workers last reported — kept in memory and
//! written whole to `<data-root>/swarm/state.json` after every change
//! (a temporary file, then a rename, so a crash never leaves half a file).
//! swarmkit keeps the same objects in a MemoryStore replicated by Raft.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::spec;
use crate::state::TaskState;

/// Every object carries the store's index at its last change:
/// `POST /services/{id}/update?version=N` must name the current one.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Meta {
    pub version: u64,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cluster {
    pub id: String,
    pub meta: Meta,
    /// The SwarmSpec as `docker swarm init` sent it (with our defaults).
    pub spec: Value,
    pub worker_token: String,
    pub manager_token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    pub id: String,
    pub meta: Meta,
    pub hostname: String,
    /// The node's advertised address (no port).
    pub addr: String,
    /// Its node server (`ADDR:2377`), which the manager asks for logs.
    pub listen: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// `ready` or `down` (`unknown` until its first heartbeat after a restart).
    pub state: String,
    pub message: String,
    /// Proves a heartbeat comes from this node (given at join).
    pub secret: String,
    /// When the manager last heard from it (not persisted: a restarted
    /// manager gives every node a fresh deadline).
    #[serde(skip)]
    pub last_seen: Option<SystemTime>,
}

// ANCHOR: service
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Service {
    pub id: String,
    pub meta: Meta,
    /// The desired state: the ServiceSpec exactly as the client sent it.
    pub spec: Value,
    pub previous_spec: Option<Value>,
    /// The published ports, with the ones asked as 0 chosen (30000–32767).
    pub ports: Vec<spec::Port>,
    pub update: Option<Update>,
}
// ANCHOR_END: service

/// A rolling update in progress (or its outcome), and where it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Update {
    /// `updating`, `paused` or `completed`.
    pub state: String,
    pub started_at: String,
    pub completed_at: Option<String>,
    pub message: String,
    /// The new tasks of the batch being rolled out.
    pub batch: Vec<String>,
    /// Old tasks a start-first batch stops once its new tasks run.
    pub replaced: Vec<String>,
    /// The delay between batches ends then.
    pub next_batch_at: Option<SystemTime>,
}

// ANCHOR: task
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub meta: Meta,
    pub service_id: String,
    pub slot: u64,
    /// The TaskTemplate this task was made from: a rolling update replaces
    /// tasks whose template is not the service's.
    pub spec: Value,
    pub node_id: Option<String>,
    /// What the manager wants (ready, running, shutdown, remove).
    pub desired: TaskState,
    /// What was last observed (the scheduler's, then the agent's reports).
    pub status: Status,
    /// A replacement waits at `ready` until then (the restart delay).
    pub run_after: Option<SystemTime>,
}
// ANCHOR_END: task

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    pub state: TaskState,
    pub timestamp: String,
    pub message: String,
    pub err: String,
    pub container_id: String,
    pub pid: i64,
    pub exit_code: Option<i64>,
    /// (target, node port): the node ports that reach the task's
    /// container, the routing mesh's backends.
    pub ports: Vec<(u16, u16)>,
}

impl Status {
    pub fn new(state: TaskState) -> Status {
        Status {
            state,
            timestamp: now_text(),
            message: state.message().to_string(),
            err: String::new(),
            container_id: String::new(),
            pid: 0,
            exit_code: None,
            ports: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Store {
    /// The last index handed out.
    pub index: u64,
    pub cluster: Option<Cluster>,
    pub nodes: BTreeMap<String, Node>,
    pub services: BTreeMap<String, Service>,
    pub tasks: BTreeMap<String, Task>,
}

impl Store {
    pub fn path(root: &Path) -> PathBuf {
        root.join("swarm").join("state.json")
    }

    pub fn load(root: &Path) -> anyhow::Result<Option<Store>> {
        match std::fs::read(Store::path(root)) {
            Ok(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    pub fn save(&self, root: &Path) -> anyhow::Result<()> {
        write_atomic(&Store::path(root), &serde_json::to_vec_pretty(self)?)
    }

    /// A new meta for an object made now.
    pub fn new_meta(&mut self) -> Meta {
        self.index += 1;
        let now = now_text();
        Meta { version: self.index, created_at: now.clone(), updated_at: now }
    }

    /// Mark an object changed.
    pub fn touch(&mut self, meta: &mut Meta) {
        self.index += 1;
        meta.version = self.index;
        meta.updated_at = now_text();
    }

    pub fn tasks_of<'a>(&'a self, service: &'a str) -> impl Iterator<Item = &'a Task> + 'a {
        self.tasks.values().filter(move |t| t.service_id == service)
    }

    pub fn node_is_up(&self, node: Option<&String>) -> bool {
        node.and_then(|id| self.nodes.get(id)).is_some_and(|n| n.state != "down")
    }
}

/// Write `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// RFC 3339 with nanoseconds, as Go prints times.
pub fn now_text() -> String {
    time_text(SystemTime::now())
}

pub fn time_text(time: SystemTime) -> String {
    humantime::format_rfc3339_nanos(time).to_string()
}

/// A swarm object id: 25 characters of base 36, as swarmkit's are.
pub fn new_id() -> String {
    random_base36(25)
}

pub fn random_base36(len: usize) -> String {
    use std::io::Read;
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut bytes = vec![0u8; len];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom is readable on every Linux system");
    // 252 is the largest multiple of 36 below 256: a tiny bias, fine for ids.
    bytes.iter().map(|b| DIGITS[(*b as usize) % 36] as char).collect()
}

/// Nanoseconds as the API sends durations.
pub fn from_nanos(nanos: i64) -> Duration {
    Duration::from_nanos(nanos.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_survives_a_restart() {
        let root = tempfile::tempdir().unwrap();
        assert!(Store::load(root.path()).unwrap().is_none());
        let mut store = Store::default();
        let meta = store.new_meta();
        assert_eq!(meta.version, 1);
        store.services.insert(
            "s1".into(),
            Service {
                id: "s1".into(),
                meta,
                spec: serde_json::json!({"Name": "web"}),
                previous_spec: None,
                ports: vec![],
                update: None,
            },
        );
        store.save(root.path()).unwrap();
        let again = Store::load(root.path()).unwrap().unwrap();
        assert_eq!(again.index, 1);
        assert_eq!(again.services["s1"].spec["Name"], "web");
    }

    #[test]
    fn ids_look_like_swarmkits() {
        let id = new_id();
        assert_eq!(id.len(), 25);
        assert!(id.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()));
        assert_ne!(id, new_id());
    }
}
