//! The scheduler: a task that has no node gets one. Filters first (the
//! node must be ready and active), then spread: the node with the fewest
//! tasks of this service, then the fewest tasks at all (swarmkit's
//! `nodeinfo` ordering, without resources and constraints).

use std::time::SystemTime;

use crate::state::TaskState;
use crate::store::{Status, Store, Task};

// ANCHOR: pick
/// The node a task should go to, if any can take it.
pub fn pick_node(store: &Store, task: &Task) -> Option<String> {
    let active = |t: &&Task| t.node_id.is_some() && t.desired <= TaskState::Running;
    let load = |node: &str| {
        let on_node =
            store.tasks.values().filter(active).filter(|t| t.node_id.as_deref() == Some(node));
        let (mut mine, mut all) = (0, 0);
        for t in on_node {
            all += 1;
            mine += usize::from(t.service_id == task.service_id);
        }
        (mine, all)
    };
    store
        .nodes
        .values()
        .filter(|n| n.state == "ready" && n.availability == "active")
        .min_by_key(|n| (load(&n.id), n.id.clone()))
        .map(|n| n.id.clone())
}
// ANCHOR_END: pick

// ANCHOR: schedule
/// Give every unassigned runnable task a node, one at a time (each choice
/// counts in the next one's spread); without a node a task stays pending
/// with the reason, as `docker service ps` shows it. A replacement waits
/// out its restart delay first.
pub fn schedule(store: &mut Store, now: SystemTime) {
    let waiting: Vec<String> = store
        .tasks
        .values()
        .filter(|t| t.node_id.is_none() && t.desired <= TaskState::Running)
        .filter(|t| t.run_after.is_none_or(|at| at <= now))
        .filter(|t| t.status.state < TaskState::Assigned)
        .map(|t| t.id.clone())
        .collect();
    for id in waiting {
        let node = pick_node(store, &store.tasks[&id]);
        let mut meta = store.tasks[&id].meta.clone();
        let status = match &node {
            Some(_) => Status::new(TaskState::Assigned),
            None if store.tasks[&id].status.state == TaskState::Pending => continue,
            None => Status {
                err: "no suitable node (no ready and active node in the swarm)".into(),
                ..Status::new(TaskState::Pending)
            },
        };
        store.touch(&mut meta);
        let task = store.tasks.get_mut(&id).expect("listed above");
        (task.node_id, task.status, task.meta) = (node, status, meta);
    }
}
// ANCHOR_END: schedule

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orchestrator::{reconcile, tests::swarm};
    use std::time::SystemTime;

    fn per_node(store: &Store) -> Vec<usize> {
        let mut counts = std::collections::BTreeMap::new();
        for node in store.nodes.keys() {
            counts.insert(node.clone(), 0);
        }
        for t in store.tasks.values() {
            *counts.get_mut(t.node_id.as_ref().unwrap()).unwrap() += 1;
        }
        counts.into_values().collect()
    }

    #[test]
    fn tasks_spread_over_ready_nodes() {
        let mut store = swarm(3, 7);
        reconcile(&mut store, "s", SystemTime::now());
        schedule(&mut store, SystemTime::now());
        assert_eq!(per_node(&store), vec![3, 2, 2]);
        assert!(store.tasks.values().all(|t| t.status.state == TaskState::Assigned));
    }

    #[test]
    fn down_and_drained_nodes_get_nothing() {
        let mut store = swarm(3, 4);
        store.nodes.get_mut("n2").unwrap().state = "down".into();
        store.nodes.get_mut("n3").unwrap().availability = "drain".into();
        reconcile(&mut store, "s", SystemTime::now());
        schedule(&mut store, SystemTime::now());
        assert_eq!(per_node(&store), vec![4, 0, 0]);
    }

    #[test]
    fn without_a_node_a_task_waits_with_the_reason() {
        let mut store = swarm(1, 1);
        store.nodes.get_mut("n1").unwrap().state = "down".into();
        reconcile(&mut store, "s", SystemTime::now());
        schedule(&mut store, SystemTime::now());
        let task = store.tasks.values().next().unwrap();
        assert_eq!(task.status.state, TaskState::Pending);
        assert!(task.status.err.starts_with("no suitable node"));
        store.nodes.get_mut("n1").unwrap().state = "ready".into();
        schedule(&mut store, SystemTime::now());
        assert_eq!(store.tasks.values().next().unwrap().node_id.as_deref(), Some("n1"));
    }
}
