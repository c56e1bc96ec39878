//! The replicated orchestrator: desired state against actual state, per
//! slot. A service of N replicas has slots 1..N; each slot holds the
//! history of the tasks that were that replica. The orchestrator never
//! starts a container: it only writes tasks (and their desired states)
//! into the store, and the scheduler and the workers do the rest.
//!
//! It is level-triggered: every pass looks at the whole picture again, so
//! a missed event (a report lost with a node, a manager restart) is only
//! a delay, never a divergence.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use serde_json::Value;

use crate::spec;
use crate::state::TaskState;
use crate::store::{new_id, Status, Store, Task};

/// One pass over one service: replace what died, then match the count.
pub fn reconcile(store: &mut Store, service: &str, now: SystemTime) {
    restart_failed(store, service, now);
    scale(store, service);
    promote_ready(store, service, now);
}

/// A task that still counts as its slot's replica.
pub fn runnable(task: &Task) -> bool {
    task.desired <= TaskState::Running
}

// ANCHOR: restart
/// A runnable task that stopped, or whose node is down, is never reused:
/// it is told to shut down, and (if the restart policy says so) a new
/// task takes its slot, waiting at `ready` for the restart delay.
fn restart_failed(store: &mut Store, service: &str, now: SystemTime) {
    let dead: Vec<String> = store
        .tasks_of(service)
        .filter(|t| runnable(t))
        .filter(|t| t.status.state.is_terminal() || lost(store, t))
        .map(|t| t.id.clone())
        .collect();
    for id in dead {
        let task = &store.tasks[&id];
        let (slot, template, exit) = (task.slot, task.spec.clone(), task.status.exit_code);
        let delay = if lost(store, task) { None } else { Some(spec::restart_policy(&template)) };
        set_desired(store, &id, TaskState::Shutdown);
        if spec::restart_policy(&template).restarts(exit) {
            let template = current_template(store, service).unwrap_or(template);
            let run_after = now + delay.map(|p| p.delay).unwrap_or_default();
            new_task(store, service, slot, template, TaskState::Ready, Some(run_after));
        }
    }
}
// ANCHOR_END: restart

/// Was the task's node lost (down, or gone from the swarm)?
fn lost(store: &Store, task: &Task) -> bool {
    task.node_id.is_some() && !store.node_is_up(task.node_id.as_ref())
}

// ANCHOR: scale
/// Match the number of slots to the replica count: new tasks in the
/// lowest free slots, or the extra slots' tasks removed.
fn scale(store: &mut Store, service: &str) {
    let Some(template) = current_template(store, service) else { return };
    let wanted = spec::replicas(&store.services[service].spec) as usize;
    let slots = runnable_slots(store, service);
    if slots.len() < wanted {
        let free = (1..).filter(|n| !slots.contains_key(n));
        for slot in free.take(wanted - slots.len()).collect::<Vec<_>>() {
            new_task(store, service, slot, template.clone(), TaskState::Running, None);
        }
    } else if slots.len() > wanted {
        for slot in slots_to_remove(store, &slots, slots.len() - wanted) {
            for id in &slots[&slot] {
                set_desired(store, id, TaskState::Remove);
            }
        }
    }
}
// ANCHOR_END: scale

/// The runnable tasks of a service, by slot.
pub fn runnable_slots(store: &Store, service: &str) -> BTreeMap<u64, Vec<String>> {
    let mut slots: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for task in store.tasks_of(service).filter(|t| runnable(t)) {
        slots.entry(task.slot).or_default().push(task.id.clone());
    }
    slots
}

// ANCHOR: scale_down
/// Which slots go when scaling down (swarmkit's `slotsByIndex`): each slot
/// ranks among this service's copies on its node; the highest ranks go
/// first (the most loaded nodes lose a copy), not-running before running,
/// high slot numbers before low.
pub fn slots_to_remove(store: &Store, slots: &BTreeMap<u64, Vec<String>>, n: usize) -> Vec<u64> {
    let first = |slot: &u64| &store.tasks[&slots[slot][0]];
    let mut order: Vec<u64> = slots.keys().copied().collect();
    order.sort_by_key(|slot| (first(slot).status.state != TaskState::Running, *slot));
    let mut copies: HashMap<Option<String>, usize> = HashMap::new();
    let mut rank: HashMap<u64, usize> = HashMap::new();
    for slot in &order {
        let node = first(slot).node_id.clone();
        let index = copies.entry(node.clone()).or_default();
        *index += 1;
        rank.insert(*slot, if node.is_none() { usize::MAX } else { *index });
    }
    order.sort_by_key(|slot| rank[slot]); // stable: running and low slots stay ahead
    order.into_iter().rev().take(n).collect()
}
// ANCHOR_END: scale_down

/// A task waiting at `ready` runs once its delay is over and the slot's
/// older tasks have stopped (stop-first; their node may also be gone).
fn promote_ready(store: &mut Store, service: &str, now: SystemTime) {
    let waiting: Vec<String> = store
        .tasks_of(service)
        .filter(|t| t.desired == TaskState::Ready && t.run_after.is_none_or(|at| at <= now))
        .map(|t| t.id.clone())
        .collect();
    for id in waiting {
        let task = &store.tasks[&id];
        let others_stopped = store
            .tasks_of(service)
            .filter(|o| o.slot == task.slot && o.id != task.id && o.desired > TaskState::Running)
            .all(|o| {
                o.status.state.is_terminal()
                    || o.status.state < TaskState::Starting
                    || lost(store, o)
            });
        if others_stopped {
            set_desired(store, &id, TaskState::Running);
        }
    }
}

/// The service's TaskTemplate, with `ForceUpdate` and all.
pub fn current_template(store: &Store, service: &str) -> Option<Value> {
    store.services.get(service).map(|s| s.spec["TaskTemplate"].clone())
}

/// A new task for a slot: `new`, not yet on a node.
pub fn new_task(
    store: &mut Store,
    service: &str,
    slot: u64,
    template: Value,
    desired: TaskState,
    run_after: Option<SystemTime>,
) -> String {
    let id = new_id();
    let meta = store.new_meta();
    let task = Task {
        id: id.clone(),
        meta,
        service_id: service.to_string(),
        slot,
        spec: template,
        node_id: None,
        desired,
        status: Status::new(TaskState::New),
        run_after,
    };
    store.tasks.insert(id.clone(), task);
    id
}

pub fn set_desired(store: &mut Store, id: &str, desired: TaskState) {
    let Some(mut meta) = store.tasks.get(id).map(|t| t.meta.clone()) else { return };
    if store.tasks[id].desired == desired {
        return;
    }
    store.touch(&mut meta);
    let task = store.tasks.get_mut(id).expect("checked above");
    task.desired = desired;
    task.meta = meta;
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::store::{Node, Service};
    use serde_json::json;

    /// A store with nodes `n1..=nodes` (ready) and service `s` of `replicas`.
    pub fn swarm(nodes: usize, replicas: u64) -> Store {
        let mut store = Store::default();
        for n in 1..=nodes {
            let meta = store.new_meta();
            let id = format!("n{n}");
            store.nodes.insert(
                id.clone(),
                Node {
                    id,
                    meta,
                    hostname: format!("host{n}"),
                    addr: format!("10.0.0.{n}"),
                    listen: format!("10.0.0.{n}:2377"),
                    role: if n == 1 { "manager" } else { "worker" }.into(),
                    availability: "active".into(),
                    state: "ready".into(),
                    message: String::new(),
                    secret: String::new(),
                    last_seen: None,
                },
            );
        }
        let meta = store.new_meta();
        let spec = json!({"Name": "web", "Mode": {"Replicated": {"Replicas": replicas}},
                          "TaskTemplate": {"ContainerSpec": {"Image": "busybox"}}});
        let service = Service {
            id: "s".into(),
            meta,
            spec,
            previous_spec: None,
            ports: vec![],
            update: None,
        };
        store.services.insert("s".into(), service);
        store
    }

    /// Pretend every runnable task is running on the node the scheduler gave it.
    pub fn run_all(store: &mut Store) {
        crate::scheduler::schedule(store, SystemTime::now() + std::time::Duration::from_secs(3600));
        for task in store.tasks.values_mut().filter(|t| t.desired == TaskState::Running) {
            if task.node_id.is_some() && !task.status.state.is_terminal() {
                task.status.state = TaskState::Running;
            }
        }
    }

    fn running_slots(store: &Store) -> Vec<u64> {
        let mut slots: Vec<u64> = store
            .tasks
            .values()
            .filter(|t| t.desired == TaskState::Running)
            .map(|t| t.slot)
            .collect();
        slots.sort();
        slots
    }

    #[test]
    fn a_new_service_gets_one_task_per_slot() {
        let mut store = swarm(3, 3);
        reconcile(&mut store, "s", SystemTime::now());
        assert_eq!(running_slots(&store), vec![1, 2, 3]);
        reconcile(&mut store, "s", SystemTime::now());
        assert_eq!(store.tasks.len(), 3, "a second pass changes nothing");
    }

    #[test]
    fn a_dead_task_is_replaced_in_its_slot_after_the_delay() {
        let mut store = swarm(2, 2);
        let now = SystemTime::now();
        reconcile(&mut store, "s", now);
        run_all(&mut store);
        let victim = store.tasks.values().find(|t| t.slot == 2).unwrap().id.clone();
        store.tasks.get_mut(&victim).unwrap().status.state = TaskState::Failed;
        reconcile(&mut store, "s", now);
        assert_eq!(store.tasks[&victim].desired, TaskState::Shutdown, "never reused");
        let new = store.tasks.values().find(|t| t.slot == 2 && t.id != victim).unwrap();
        assert_eq!(new.desired, TaskState::Ready, "waits for the restart delay");
        let later = now + std::time::Duration::from_secs(6);
        reconcile(&mut store, "s", later);
        assert_eq!(running_slots(&store), vec![1, 2]);
    }

    #[test]
    fn tasks_of_a_down_node_are_replaced_at_once() {
        let mut store = swarm(2, 2);
        let now = SystemTime::now();
        reconcile(&mut store, "s", now);
        run_all(&mut store);
        store.nodes.get_mut("n2").unwrap().state = "down".into();
        reconcile(&mut store, "s", now);
        let on_n2: Vec<&Task> =
            store.tasks.values().filter(|t| t.node_id.as_deref() == Some("n2")).collect();
        assert!(on_n2.iter().all(|t| t.desired == TaskState::Shutdown));
        assert_eq!(running_slots(&store), vec![1, 2], "no delay: the node is gone");
    }

    #[test]
    fn scaling_down_removes_copies_from_the_most_loaded_node() {
        let mut store = swarm(2, 4);
        reconcile(&mut store, "s", SystemTime::now());
        run_all(&mut store); // two on each node
        store.nodes.get_mut("n2").unwrap().state = "down".into();
        reconcile(&mut store, "s", SystemTime::now());
        run_all(&mut store); // all four on n1 now
        store.nodes.get_mut("n2").unwrap().state = "ready".into();
        store.services.get_mut("s").unwrap().spec["Mode"]["Replicated"]["Replicas"] = json!(1);
        reconcile(&mut store, "s", SystemTime::now());
        let kept: Vec<&Task> = store.tasks.values().filter(|t| runnable(t)).collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].slot, 1, "the lowest slot stays");
        let removed = store.tasks.values().filter(|t| t.desired == TaskState::Remove).count();
        assert_eq!(removed, 3);
    }

    #[test]
    fn scaling_up_fills_the_lowest_free_slots() {
        let mut store = swarm(1, 3);
        reconcile(&mut store, "s", SystemTime::now());
        let two = store.tasks.values().find(|t| t.slot == 2).unwrap().id.clone();
        set_desired(&mut store, &two, TaskState::Remove);
        store.services.get_mut("s").unwrap().spec["Mode"]["Replicated"]["Replicas"] = json!(4);
        reconcile(&mut store, "s", SystemTime::now());
        assert_eq!(running_slots(&store), vec![1, 2, 3, 4]);
    }
}
