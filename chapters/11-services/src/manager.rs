//! The manager: the store, the dispatcher's side of the heartbeats, and
//! the reconciliation loop that runs the orchestrator, the updater and the
//! scheduler over the store a few times a second.
//!
//! ```text
//!   API (docker service …) ──writes──▶ store ◀──reports── dispatcher ◀── workers
//!                                        │  ▲
//!                    every 200 ms: read  ▼  │ write
//!        heartbeats (down?) → orchestrator (slots) → updater → scheduler → reaper
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use crate::protocol::{Assignment, Assignments, Heartbeat, MeshPort, Register, Registered, Report};
use crate::state::{advance, TaskState};
use crate::store::{random_base36, Node, Store};
use crate::{orchestrator, scheduler, spec, updater};

/// A node missing this many heartbeat periods is down (swarmkit's factor).
pub const GRACE_PERIODS: u32 = 3;
/// Old tasks kept per slot for `docker service ps` (swarmkit keeps 5 in all).
pub const HISTORY: usize = 4;

pub struct Manager {
    root: PathBuf,
    store: Mutex<Store>,
}

impl Manager {
    pub fn new(root: &Path, mut store: Store) -> Manager {
        // A restarted manager gives every node a fresh deadline.
        let now = SystemTime::now();
        for node in store.nodes.values_mut() {
            node.last_seen = Some(now);
        }
        Manager { root: root.to_path_buf(), store: Mutex::new(store) }
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the store and write it out if anything changed.
    pub fn write<T>(&self, change: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self.store();
        let before = store.index;
        let result = change(&mut store);
        if store.index != before {
            if let Err(e) = store.save(&self.root) {
                eprintln!("mini-dockerd: swarm: saving the store: {e:#}");
            }
        }
        result
    }

    pub fn heartbeat_period(store: &Store) -> Duration {
        let spec = store.cluster.as_ref().map(|c| &c.spec);
        let nanos = spec.and_then(|s| s["Dispatcher"]["HeartbeatPeriod"].as_i64());
        nanos.map(crate::store::from_nanos).unwrap_or(Duration::from_secs(5))
    }

    // ANCHOR: tick
    /// One turn of the loop. Each step reads the store as it is now.
    pub fn tick(&self, now: SystemTime) {
        self.write(|store| {
            mark_silent_nodes_down(store, now);
            let services: Vec<String> = store.services.keys().cloned().collect();
            for service in &services {
                orchestrator::reconcile(store, service, now);
                updater::step(store, service, now);
            }
            scheduler::schedule(store, now);
            reap(store);
        })
    }
    // ANCHOR_END: tick

    /// `POST /node/register`: a join token buys a node id and a secret.
    pub fn register(&self, request: &Register) -> Result<Registered, String> {
        self.write(|store| {
            let cluster = store.cluster.clone().ok_or("this node is not a swarm manager")?;
            if request.token == cluster.manager_token {
                return Err(
                    "this swarm has one manager (no Raft here): join it with the worker token"
                        .into(),
                );
            }
            if request.token != cluster.worker_token {
                return Err("invalid join token".into());
            }
            let meta = store.new_meta();
            let node = Node {
                id: crate::store::new_id(),
                meta,
                hostname: request.hostname.clone(),
                addr: request.addr.clone(),
                listen: request.listen.clone(),
                role: "worker".into(),
                availability: "active".into(),
                state: "ready".into(),
                message: String::new(),
                secret: random_base36(32),
                last_seen: Some(SystemTime::now()),
            };
            let registered = Registered {
                node_id: node.id.clone(),
                secret: node.secret.clone(),
                cluster_id: cluster.id.clone(),
                role: node.role.clone(),
            };
            store.nodes.insert(node.id.clone(), node);
            Ok(registered)
        })
    }

    // ANCHOR: heartbeat
    /// `POST /node/heartbeat`: the node is alive, its reports go into the
    /// store (forward only), and it gets its tasks back.
    pub fn heartbeat(&self, beat: &Heartbeat) -> Result<Assignments, String> {
        self.write(|store| {
            let node = store.nodes.get(&beat.node_id).ok_or("this node is not in the swarm")?;
            if node.secret != beat.secret {
                return Err("wrong node secret".into());
            }
            let mut meta = node.meta.clone();
            if node.state != "ready" {
                store.touch(&mut meta);
            }
            let node = store.nodes.get_mut(&beat.node_id).expect("looked up above");
            (node.state, node.message, node.meta) = ("ready".into(), String::new(), meta);
            node.last_seen = Some(SystemTime::now());
            for report in &beat.reports {
                apply_report(store, &beat.node_id, report);
            }
            Ok(assignments(store, &beat.node_id))
        })
    }
    // ANCHOR_END: heartbeat

    /// `POST /node/leave`: a worker left; it is down from now on.
    pub fn node_left(&self, beat: &Heartbeat) -> Result<(), String> {
        self.write(|store| {
            let node = store.nodes.get(&beat.node_id).ok_or("this node is not in the swarm")?;
            if node.secret != beat.secret {
                return Err("wrong node secret".into());
            }
            let mut meta = node.meta.clone();
            store.touch(&mut meta);
            let node = store.nodes.get_mut(&beat.node_id).expect("looked up above");
            (node.state, node.message, node.meta) = ("down".into(), "node left".into(), meta);
            Ok(())
        })
    }
}

/// A node whose last heartbeat is older than 3 periods is down.
fn mark_silent_nodes_down(store: &mut Store, now: SystemTime) {
    let deadline = Manager::heartbeat_period(store) * GRACE_PERIODS;
    let silent: Vec<String> = store
        .nodes
        .values()
        .filter(|n| n.state != "down")
        .filter(|n| {
            n.last_seen.is_some_and(|seen| now.duration_since(seen).unwrap_or_default() > deadline)
        })
        .map(|n| n.id.clone())
        .collect();
    for id in silent {
        let mut meta = store.nodes[&id].meta.clone();
        store.touch(&mut meta);
        let node = store.nodes.get_mut(&id).expect("listed above");
        (node.state, node.message, node.meta) = ("down".into(), "heartbeat failure".into(), meta);
    }
}

/// A worker's report, if it is about one of its own tasks and news.
fn apply_report(store: &mut Store, node: &str, report: &Report) {
    let Some(task) = store.tasks.get(&report.task_id) else { return };
    if task.node_id.as_deref() != Some(node) {
        return;
    }
    let mut state = task.status.state;
    if !advance(&mut state, report.state) {
        return;
    }
    let mut meta = task.meta.clone();
    store.touch(&mut meta);
    let task = store.tasks.get_mut(&report.task_id).expect("looked up above");
    let status = &mut task.status;
    (status.state, status.message, status.err) =
        (state, report.message.clone(), report.err.clone());
    status.timestamp = crate::store::now_text();
    if !report.container_id.is_empty() {
        status.container_id = report.container_id.clone();
    }
    if report.pid != 0 || state.is_terminal() {
        status.pid = report.pid;
    }
    if report.exit_code.is_some() {
        status.exit_code = report.exit_code;
    }
    if !report.ports.is_empty() {
        status.ports = report.ports.clone();
    }
    task.meta = meta;
}

/// Every task on the node, and the mesh table (the same for every node).
fn assignments(store: &Store, node: &str) -> Assignments {
    let tasks = store
        .tasks
        .values()
        .filter(|t| t.node_id.as_deref() == Some(node))
        .map(|t| {
            let service = store.services.get(&t.service_id);
            Assignment {
                id: t.id.clone(),
                service_id: t.service_id.clone(),
                service_name: service
                    .map(|s| s.spec["Name"].as_str().unwrap_or_default().to_string())
                    .unwrap_or_default(),
                slot: t.slot,
                spec: t.spec.clone(),
                targets: service
                    .map(|s| s.ports.iter().map(|p| p.target).collect())
                    .unwrap_or_default(),
                desired: if service.is_some() { t.desired } else { TaskState::Remove },
                state: t.status.state,
            }
        })
        .collect();
    let period = Manager::heartbeat_period(store);
    Assignments { period_ms: period.as_millis() as u64, tasks, mesh: mesh_table(store) }
}

// ANCHOR: mesh_table
/// For each published port, the running tasks' node ports, on every node.
pub fn mesh_table(store: &Store) -> Vec<MeshPort> {
    let mut table = Vec::new();
    for service in store.services.values() {
        for port in &service.ports {
            let backends = store
                .tasks_of(&service.id)
                .filter(|t| t.desired == TaskState::Running && t.status.state == TaskState::Running)
                .filter(|t| store.node_is_up(t.node_id.as_ref()))
                .filter_map(|t| {
                    let node = &store.nodes[t.node_id.as_ref()?];
                    let (_, host) =
                        t.status.ports.iter().find(|(target, _)| *target == port.target)?;
                    Some(format!("{}:{host}", node.addr))
                })
                .collect();
            table.push(MeshPort { port: port.published, backends });
        }
    }
    table
}
// ANCHOR_END: mesh_table

// ANCHOR: reap
/// The task reaper: removed tasks go once stopped (or their node is
/// gone), and each slot keeps only its last few old tasks.
fn reap(store: &mut Store) {
    let mut doomed: Vec<String> = store
        .tasks
        .values()
        .filter(|t| t.desired == TaskState::Remove || !store.services.contains_key(&t.service_id))
        .filter(|t| {
            t.status.state.is_terminal()
                || t.node_id.is_none()
                || !store.node_is_up(t.node_id.as_ref())
        })
        .map(|t| t.id.clone())
        .collect();
    for service in store.services.keys() {
        let mut old: Vec<_> = store
            .tasks_of(service)
            .filter(|t| !orchestrator::runnable(t) && t.status.state.is_terminal())
            .collect();
        old.sort_by_key(|t| (t.slot, std::cmp::Reverse(t.meta.created_at.clone())));
        let mut kept_in_slot = (0, 0);
        for task in old {
            kept_in_slot = if kept_in_slot.0 == task.slot {
                (task.slot, kept_in_slot.1 + 1)
            } else {
                (task.slot, 1)
            };
            if kept_in_slot.1 > HISTORY {
                doomed.push(task.id.clone());
            }
        }
    }
    for id in doomed {
        store.tasks.remove(&id);
        store.index += 1;
    }
}
// ANCHOR_END: reap

/// A published port for each asked port: 0 takes the first free one of
/// 30000–32767; one taken by another service is refused.
pub fn allocate_ports(
    store: &Store,
    service: &str,
    asked: &[spec::Port],
) -> Result<Vec<spec::Port>, String> {
    let used = |port: u16| {
        store
            .services
            .values()
            .filter(|s| s.id != service)
            .find(|s| s.ports.iter().any(|p| p.published == port))
    };
    let mut ports = Vec::new();
    for port in asked {
        let mut port = port.clone();
        if port.published == 0 {
            let taken =
                |p: u16| used(p).is_some() || ports.iter().any(|q: &spec::Port| q.published == p);
            port.published =
                (30000..=32767).find(|p| !taken(*p)).ok_or("no free port in 30000-32767")?;
        } else if let Some(other) = used(port.published) {
            let other_name = other.spec["Name"].as_str().unwrap_or_default();
            return Err(format!(
                "port '{}' is already in use by service '{other_name}' ({}) as an ingress port",
                port.published, other.id
            ));
        }
        ports.push(port);
    }
    Ok(ports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::tests::swarm;

    #[test]
    fn a_silent_node_is_marked_down_after_three_periods() {
        let mut store = swarm(2, 2);
        let now = SystemTime::now();
        for node in store.nodes.values_mut() {
            node.last_seen = Some(now);
        }
        store.nodes.get_mut("n2").unwrap().last_seen = Some(now - Duration::from_secs(16));
        mark_silent_nodes_down(&mut store, now);
        assert_eq!(store.nodes["n1"].state, "ready");
        assert_eq!(
            (store.nodes["n2"].state.as_str(), store.nodes["n2"].message.as_str()),
            ("down", "heartbeat failure")
        );
    }

    #[test]
    fn reports_only_move_tasks_forward_and_only_from_their_node() {
        let mut store = swarm(2, 1);
        orchestrator::reconcile(&mut store, "s", SystemTime::now());
        scheduler::schedule(&mut store, SystemTime::now());
        let task = store.tasks.values().next().unwrap().clone();
        let node = task.node_id.clone().unwrap();
        let other = if node == "n1" { "n2" } else { "n1" };
        apply_report(&mut store, other, &Report::new(&task.id, TaskState::Failed));
        assert_eq!(store.tasks[&task.id].status.state, TaskState::Assigned, "not its task");
        let mut running = Report::new(&task.id, TaskState::Running);
        running.ports = vec![(80, 31000)];
        apply_report(&mut store, &node, &running);
        apply_report(&mut store, &node, &Report::new(&task.id, TaskState::Starting));
        assert_eq!(store.tasks[&task.id].status.state, TaskState::Running);
        store.services.get_mut("s").unwrap().ports =
            vec![spec::Port { protocol: "tcp".into(), target: 80, published: 8080 }];
        let table = mesh_table(&store);
        let addr = &store.nodes[&node].addr;
        assert_eq!(table, vec![MeshPort { port: 8080, backends: vec![format!("{addr}:31000")] }]);
    }

    #[test]
    fn published_ports_are_allocated_once() {
        let mut store = swarm(1, 1);
        let asked = [spec::Port { protocol: "tcp".into(), target: 80, published: 0 }];
        let ports = allocate_ports(&store, "t", &asked).unwrap();
        assert_eq!(ports[0].published, 30000);
        store.services.get_mut("s").unwrap().ports = ports;
        assert_eq!(allocate_ports(&store, "t", &asked).unwrap()[0].published, 30001);
        let taken = [spec::Port { protocol: "tcp".into(), target: 80, published: 30000 }];
        let error = allocate_ports(&store, "t", &taken).unwrap_err();
        assert_eq!(error, "port '30000' is already in use by service 'web' (s) as an ingress port");
    }

    #[test]
    fn removed_tasks_are_reaped_once_stopped() {
        let mut store = swarm(1, 2);
        orchestrator::reconcile(&mut store, "s", SystemTime::now());
        scheduler::schedule(&mut store, SystemTime::now());
        store.services.get_mut("s").unwrap().spec["Mode"]["Replicated"]["Replicas"] = 1.into();
        orchestrator::reconcile(&mut store, "s", SystemTime::now());
        reap(&mut store);
        assert_eq!(store.tasks.len(), 2, "the removed task still runs");
        let removed =
            store.tasks.values().find(|t| t.desired == TaskState::Remove).unwrap().id.clone();
        store.tasks.get_mut(&removed).unwrap().status.state = TaskState::Shutdown;
        reap(&mut store);
        assert_eq!(store.tasks.len(), 1);
    }
}
