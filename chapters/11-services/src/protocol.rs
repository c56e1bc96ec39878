//! What managers and workers say to each other: small JSON messages over
//! HTTP on the node addresses (port 2377). swarmkit speaks gRPC over
//! mutual TLS with the same shape: a worker registers once, then each
//! heartbeat carries its task reports up and brings its assignments down.
//!
//! ```text
//!  worker                                   manager (dispatcher)
//!    │ POST /node/register {token, addr}  ─▶  checks the join token
//!    │ ◀─ {node_id, secret, period}            records the node
//!    │ POST /node/heartbeat {reports}     ─▶  applies the reports (forward only)
//!    │ ◀─ {tasks of this node, mesh}           node alive until now + 3 × period
//!    │ GET  /node/logs?container=ID&secret=S ◀─ the manager asks, for service logs
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::state::TaskState;

pub const REGISTER: &str = "/node/register";
pub const HEARTBEAT: &str = "/node/heartbeat";
pub const LEAVE: &str = "/node/leave";
pub const LOGS: &str = "/node/logs";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Register {
    pub token: String,
    pub hostname: String,
    pub addr: String,
    /// Where its node server listens (`ADDR:PORT`).
    pub listen: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registered {
    pub node_id: String,
    pub secret: String,
    pub cluster_id: String,
    pub role: String,
}

// ANCHOR: heartbeat
/// A worker's heartbeat: who it is, and what happened to its tasks.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Heartbeat {
    pub node_id: String,
    pub secret: String,
    pub reports: Vec<Report>,
}

/// One task's new state, as the worker saw it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Report {
    pub task_id: String,
    pub state: TaskState,
    pub message: String,
    pub err: String,
    pub container_id: String,
    pub pid: i64,
    pub exit_code: Option<i64>,
    pub ports: Vec<(u16, u16)>,
}

/// The manager's answer: every task assigned to the node, the routing
/// mesh's table, and how soon to come back.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Assignments {
    pub period_ms: u64,
    pub tasks: Vec<Assignment>,
    pub mesh: Vec<MeshPort>,
}
// ANCHOR_END: heartbeat

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Assignment {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    pub slot: u64,
    /// The TaskTemplate.
    pub spec: Value,
    /// The service's published target ports (each gets a node port).
    pub targets: Vec<u16>,
    pub desired: TaskState,
    /// What the manager last heard.
    pub state: TaskState,
}

/// A published port and where its connections may go (`addr:port` of
/// running tasks, on any node).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MeshPort {
    pub port: u16,
    pub backends: Vec<String>,
}

impl Report {
    pub fn new(task_id: &str, state: TaskState) -> Report {
        Report {
            task_id: task_id.to_string(),
            state,
            message: state.message().to_string(),
            err: String::new(),
            container_id: String::new(),
            pid: 0,
            exit_code: None,
            ports: Vec::new(),
        }
    }
}
