//! Exercise `pick_node` (medium). Book: ch11-services.md, "The scheduler: spreading".
//!
//! Candidates are the nodes whose `state` is `"ready"` and `availability`
//! is `"active"`. A task *counts* on a node when its `node_id` is that node
//! and its `desired` state is at most `TaskState::Running`. Among the
//! candidates choose the one with the fewest counted tasks of the task's
//! service, then the fewest counted tasks at all, then the smallest id.

use ch11_services::store::{Store, Task};

/// The node `task` should go to, if any can take it.
pub fn pick_node(store: &Store, task: &Task) -> Option<String> {
    todo!("filter store.nodes, count store.tasks per node, take the minimum")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: every task that has a node counted, including
    // those being shut down or already over. Checked by pasting it into the reference
    // implementation: it fails `down_drained_and_stopped_do_not_count` (it used to pass: the
    // stopped task sat on the node that wins a tie on the id anyway).
    //
    //     let active = |t: &&Task| t.node_id.is_some();

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch11_services::scheduler as solution;
    use ch11_services::state::TaskState;
    use ch11_services::store::{Node, Status, Store, Task};

    fn node(id: &str, state: &str, availability: &str) -> Node {
        Node {
            id: id.into(),
            meta: Default::default(),
            hostname: id.into(),
            addr: String::new(),
            listen: String::new(),
            role: "worker".into(),
            availability: availability.into(),
            state: state.into(),
            message: String::new(),
            secret: String::new(),
            last_seen: None,
        }
    }

    fn task(id: &str, service: &str, node: Option<&str>, desired: TaskState) -> Task {
        Task {
            id: id.into(),
            meta: Default::default(),
            service_id: service.into(),
            slot: 1,
            spec: serde_json::Value::Null,
            node_id: node.map(str::to_string),
            desired,
            status: Status::new(TaskState::New),
            run_after: None,
        }
    }

    fn store(nodes: &[Node], tasks: &[Task]) -> Store {
        let mut store = Store::default();
        for n in nodes {
            store.nodes.insert(n.id.clone(), n.clone());
        }
        for t in tasks {
            store.tasks.insert(t.id.clone(), t.clone());
        }
        store
    }

    #[test]
    fn the_node_with_fewest_tasks_of_the_service_wins() {
        let nodes = [node("a", "ready", "active"), node("b", "ready", "active")];
        let tasks = [
            task("t1", "web", Some("a"), TaskState::Running),
            task("o1", "db", Some("b"), TaskState::Running),
            task("o2", "db", Some("b"), TaskState::Running),
        ];
        let s = store(&nodes, &tasks);
        assert_eq!(
            solution::pick_node(&s, &task("new", "web", None, TaskState::Running)).as_deref(),
            Some("b")
        );
    }

    #[test]
    fn then_the_fewest_tasks_at_all_then_the_id() {
        let nodes = [
            node("a", "ready", "active"),
            node("b", "ready", "active"),
            node("c", "ready", "active"),
        ];
        let tasks = [
            task("o1", "db", Some("a"), TaskState::Running),
            task("o2", "db", Some("c"), TaskState::Running),
        ];
        let s = store(&nodes, &tasks);
        assert_eq!(
            solution::pick_node(&s, &task("new", "web", None, TaskState::Running)).as_deref(),
            Some("b")
        );
        let empty = store(&nodes, &[]);
        assert_eq!(
            solution::pick_node(&empty, &task("new", "web", None, TaskState::Running)).as_deref(),
            Some("a")
        );
    }

    #[test]
    fn down_drained_and_stopped_do_not_count() {
        let nodes = [
            node("a", "down", "active"),
            node("b", "ready", "drain"),
            node("c", "ready", "active"),
            node("d", "ready", "active"),
        ];
        // The stopped task is on "d", which loses a tie on the id: only
        // leaving it out of the count makes "d" the emptier node.
        let tasks = [
            task("t1", "web", Some("c"), TaskState::Running),
            task("t2", "web", Some("d"), TaskState::Shutdown),
        ];
        let s = store(&nodes, &tasks);
        assert_eq!(
            solution::pick_node(&s, &task("new", "web", None, TaskState::Running)).as_deref(),
            Some("d"),
            "a task being shut down still counted on its node"
        );
        let none = store(&[node("a", "down", "active")], &[]);
        assert_eq!(solution::pick_node(&none, &task("new", "web", None, TaskState::Running)), None);
    }
}
