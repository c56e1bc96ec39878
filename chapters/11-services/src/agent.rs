//! The agent: a worker's side. Each heartbeat sends what happened to its
//! tasks and brings back what it should run; the agent compares each
//! assigned task with its container (found by the task-id label, so a
//! restarted daemon knows its containers again) and does one step:
//! prepare, start, stop, report, remove. Steps run on threads of their
//! own, so a slow stop never delays a heartbeat.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ch09_engine::types::ContainerCreateBody;
use ch09_engine::Local;
use serde_json::{json, Value};

use crate::node::NodeConfig;
use crate::protocol::{Assignment, Assignments, Heartbeat, Report, HEARTBEAT};
use crate::state::TaskState;
use crate::{client, mesh, spec};

pub const TASK_LABEL: &str = "com.docker.swarm.task.id";
pub const NODE_LABEL: &str = "com.docker.swarm.node.id";

/// A task's container, as this node sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub id: String,
    pub running: bool,
    pub exit_code: Option<i64>,
}

// ANCHOR: action
/// The one thing to do for an assigned task.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Pull the image if needed and create the container (→ ready).
    Prepare,
    Start,
    Stop,
    /// Tell the manager about a state it has not heard of.
    Report(TaskState, Option<i64>),
    Nothing,
}

/// Desired state, last reported state and the container: what to do.
pub fn decide(desired: TaskState, reported: TaskState, container: Option<&Container>) -> Action {
    let stopped = |c: &Container| match c.exit_code {
        Some(0) => Action::Report(TaskState::Complete, Some(0)),
        code => Action::Report(TaskState::Failed, code),
    };
    match container {
        _ if reported.is_terminal() => Action::Nothing,
        Some(c) if desired > TaskState::Running && c.running => Action::Stop,
        _ if desired > TaskState::Running => Action::Report(TaskState::Shutdown, None),
        None if reported >= TaskState::Starting => Action::Report(TaskState::Failed, None),
        None => Action::Prepare,
        Some(c) if c.running && reported < TaskState::Running => {
            Action::Report(TaskState::Running, None)
        }
        Some(c) if c.running => Action::Nothing,
        Some(c) if reported >= TaskState::Starting => stopped(c),
        Some(_) if desired == TaskState::Running => Action::Start,
        Some(_) if reported < TaskState::Ready => Action::Report(TaskState::Ready, None),
        Some(_) => Action::Nothing,
    }
}
// ANCHOR_END: action

pub struct Agent {
    pub local: Local,
    pub config: NodeConfig,
    pub mesh: mesh::Mesh,
    /// Reports waiting for the next heartbeat.
    reports: Arc<Mutex<Vec<Report>>>,
    /// Tasks with a step in progress.
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Agent {
    pub fn new(local: Local, config: NodeConfig, mesh: mesh::Mesh) -> Agent {
        Agent { local, config, mesh, reports: Default::default(), busy: Default::default() }
    }

    // ANCHOR: beat
    /// One heartbeat and what follows from its answer; the time until the next.
    pub fn beat(&self) -> Duration {
        let reports = std::mem::take(&mut *self.reports.lock().unwrap());
        let beat = Heartbeat {
            node_id: self.config.node_id.clone(),
            secret: self.config.secret.clone(),
            reports: reports.clone(),
        };
        let answer: Assignments = match client::post(&self.config.manager, HEARTBEAT, &beat) {
            Ok(answer) => answer,
            Err(error) => {
                eprintln!("mini-dockerd: swarm: heartbeat to {}: {error}", self.config.manager);
                self.reports.lock().unwrap().splice(0..0, reports);
                return Duration::from_millis(500);
            }
        };
        self.mesh.apply(&answer.mesh);
        let containers = self.containers();
        for task in &answer.tasks {
            let action = decide(task.desired, task.state, containers.get(&task.id));
            self.run(task, containers.get(&task.id).cloned(), action);
        }
        let assigned: HashSet<&String> = answer.tasks.iter().map(|t| &t.id).collect();
        for (task, container) in &containers {
            if !assigned.contains(task) {
                self.remove_container(task, &container.id);
            }
        }
        Duration::from_millis((answer.period_ms / 2).clamp(100, 500))
    }
    // ANCHOR_END: beat

    /// This node's task containers, by task id.
    fn containers(&self) -> HashMap<String, Container> {
        let filters =
            [("label".to_string(), vec![format!("{NODE_LABEL}={}", self.config.node_id)])];
        let listed = self.local.list(true, &filters.into_iter().collect()).unwrap_or_default();
        listed
            .iter()
            .filter_map(|summary| {
                let id = summary["Id"].as_str()?.to_string();
                let task = summary["Labels"][TASK_LABEL].as_str()?.to_string();
                let state = self.local.state_of(&id).ok()?;
                let exit_code = state.exit_code.map(i64::from);
                Some((task, Container { id, running: state.is_running(), exit_code }))
            })
            .collect()
    }

    /// Do `action` for `task` on a thread of its own, unless one is busy with it.
    fn run(&self, task: &Assignment, container: Option<Container>, action: Action) {
        if action == Action::Nothing || !self.busy.lock().unwrap().insert(task.id.clone()) {
            return;
        }
        let (local, task, node) = (self.local.clone(), task.clone(), self.config.node_id.clone());
        let (reports, busy) = (Arc::clone(&self.reports), Arc::clone(&self.busy));
        std::thread::spawn(move || {
            let report = |r: Report| reports.lock().unwrap().push(r);
            match action {
                Action::Prepare => prepare(&local, &task, &node, &report),
                Action::Start => {
                    start(&local, &task, &container.expect("decided on one").id, &report)
                }
                Action::Stop => {
                    stop(&local, &task, &container.expect("decided on one").id, &report)
                }
                Action::Report(state, exit_code) => {
                    report(state_report(&task.id, state, exit_code))
                }
                Action::Nothing => {}
            }
            busy.lock().unwrap().remove(&task.id);
        });
    }

    /// A container whose task the manager no longer has goes.
    fn remove_container(&self, task: &str, container: &str) {
        if !self.busy.lock().unwrap().insert(task.to_string()) {
            return;
        }
        let (local, container, task, busy) =
            (self.local.clone(), container.to_string(), task.to_string(), Arc::clone(&self.busy));
        std::thread::spawn(move || {
            let _ = local.remove(&container, true, false);
            busy.lock().unwrap().remove(&task);
        });
    }

    /// Leaving the swarm: every task container goes.
    pub fn remove_all(&self) {
        for container in self.containers().values() {
            let _ = self.local.remove(&container.id, true, false);
        }
        self.mesh.apply(&[]);
    }
}

fn state_report(task: &str, state: TaskState, exit_code: Option<i64>) -> Report {
    let mut report = Report::new(task, state);
    report.exit_code = exit_code;
    match (state, exit_code) {
        (TaskState::Failed, Some(code)) => report.err = format!("task: non-zero exit ({code})"),
        (TaskState::Failed, None) => report.err = "task: the container is gone".into(),
        _ => {}
    }
    report
}

// ANCHOR: prepare
/// accepted → preparing (pull if the image is not here, create) → ready.
/// An error before starting rejects the task, with the reason.
fn prepare(local: &Local, task: &Assignment, node: &str, report: &dyn Fn(Report)) {
    report(Report::new(&task.id, TaskState::Accepted));
    report(Report::new(&task.id, TaskState::Preparing));
    let body = container_body(task, node);
    let name = format!("{}.{}.{}", task.service_name, task.slot, task.id);
    let mut created = local.create(Some(&name), &body);
    if created.as_ref().is_err_and(|e| e.status == 404) {
        created =
            local.pull(&body.image, &mut |_| {}).and_then(|()| local.create(Some(&name), &body));
    }
    match created {
        Ok(created) => {
            let mut ready = Report::new(&task.id, TaskState::Ready);
            ready.container_id = created.id;
            report(ready);
        }
        Err(error) => {
            let mut rejected = Report::new(&task.id, TaskState::Rejected);
            rejected.err = error.message;
            report(rejected);
        }
    }
}
// ANCHOR_END: prepare

/// starting → running, with the node ports the container got.
fn start(local: &Local, task: &Assignment, container: &str, report: &dyn Fn(Report)) {
    report(Report::new(&task.id, TaskState::Starting));
    if let Err(error) = local.start(container, Default::default()) {
        let mut failed = Report::new(&task.id, TaskState::Failed);
        failed.err = error.message;
        return report(failed);
    }
    let mut running = Report::new(&task.id, TaskState::Running);
    if let Ok(inspect) = local.inspect(container) {
        running.pid = inspect["State"]["Pid"].as_i64().unwrap_or(0);
        running.ports = node_ports(&inspect, &task.targets);
    }
    report(running)
}

/// The host port each target port was published on (`-p 0:TARGET`).
fn node_ports(inspect: &Value, targets: &[u16]) -> Vec<(u16, u16)> {
    let ports = &inspect["NetworkSettings"]["Ports"];
    targets
        .iter()
        .filter_map(|target| {
            let host = ports[format!("{target}/tcp")][0]["HostPort"].as_str()?.parse().ok()?;
            Some((*target, host))
        })
        .collect()
}

/// Stop with the grace period, then report shutdown.
fn stop(local: &Local, task: &Assignment, container: &str, report: &dyn Fn(Report)) {
    let grace = spec::stop_grace(&task.spec).as_secs();
    let _ = local.stop(container, Some(grace));
    let exit = local.state_of(container).ok().and_then(|s| s.exit_code).map(i64::from);
    report(state_report(&task.id, TaskState::Shutdown, exit))
}

// ANCHOR: container_body
/// The task's container: the ContainerSpec, the swarm labels, and each
/// target port published on a free node port (the mesh's backend).
pub fn container_body(task: &Assignment, node: &str) -> ContainerCreateBody {
    let container = &task.spec["ContainerSpec"];
    let mut labels = container["Labels"].as_object().cloned().unwrap_or_default();
    let name = format!("{}.{}.{}", task.service_name, task.slot, task.id);
    for (key, value) in [
        ("com.docker.swarm.task", ""),
        (TASK_LABEL, task.id.as_str()),
        ("com.docker.swarm.task.name", name.as_str()),
        (NODE_LABEL, node),
        ("com.docker.swarm.service.id", task.service_id.as_str()),
        ("com.docker.swarm.service.name", task.service_name.as_str()),
    ] {
        labels.insert(key.into(), json!(value));
    }
    let published: serde_json::Map<String, Value> = task
        .targets
        .iter()
        .map(|t| (format!("{t}/tcp"), json!([{"HostIp": "", "HostPort": ""}])))
        .collect();
    let exposed: serde_json::Map<String, Value> =
        task.targets.iter().map(|t| (format!("{t}/tcp"), json!({}))).collect();
    let body = json!({
        "Image": strip_digest(container["Image"].as_str().unwrap_or_default()),
        "Entrypoint": container["Command"],
        "Cmd": container["Args"],
        "Env": container["Env"],
        "WorkingDir": container["Dir"].as_str().unwrap_or_default(),
        "User": container["User"].as_str().unwrap_or_default(),
        "Hostname": container["Hostname"].as_str().unwrap_or_default(),
        "Labels": labels,
        "ExposedPorts": exposed,
        "HostConfig": { "PortBindings": published, "Init": container["Init"] },
    });
    serde_json::from_value(body).expect("our own body deserializes")
}
// ANCHOR_END: container_body

/// `busybox:latest@sha256:…` (what `docker service create` pins) → `busybox:latest`:
/// the engine finds local images by name.
fn strip_digest(image: &str) -> &str {
    match image.split_once('@') {
        Some((name, _)) if !name.is_empty() => name,
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TaskState::*;

    fn c(running: bool, exit_code: Option<i64>) -> Container {
        Container { id: "c".into(), running, exit_code }
    }

    #[test]
    fn each_situation_has_one_step() {
        assert_eq!(decide(Running, Assigned, None), Action::Prepare);
        assert_eq!(decide(Ready, Ready, Some(&c(false, None))), Action::Nothing, "waits at ready");
        assert_eq!(decide(Ready, Preparing, Some(&c(false, None))), Action::Report(Ready, None));
        assert_eq!(decide(Running, Ready, Some(&c(false, None))), Action::Start);
        assert_eq!(decide(Running, Starting, Some(&c(true, None))), Action::Report(Running, None));
        assert_eq!(decide(Running, Running, Some(&c(true, None))), Action::Nothing);
        assert_eq!(
            decide(Running, Running, Some(&c(false, Some(137)))),
            Action::Report(Failed, Some(137))
        );
        assert_eq!(
            decide(Running, Running, Some(&c(false, Some(0)))),
            Action::Report(Complete, Some(0))
        );
        assert_eq!(
            decide(Running, Running, None),
            Action::Report(Failed, None),
            "removed behind our back"
        );
        assert_eq!(decide(Shutdown, Running, Some(&c(true, None))), Action::Stop);
        assert_eq!(
            decide(Remove, Running, Some(&c(false, Some(0)))),
            Action::Report(Shutdown, None)
        );
        assert_eq!(
            decide(Shutdown, Failed, Some(&c(false, Some(1)))),
            Action::Nothing,
            "already told"
        );
    }

    #[test]
    fn a_task_becomes_a_labelled_container_with_its_ports_published() {
        let task = Assignment {
            id: "t1".into(),
            service_id: "s1".into(),
            service_name: "web".into(),
            slot: 2,
            spec: json!({"ContainerSpec": {"Image": "busybox:latest@sha256:abc", "Args": ["httpd", "-f"],
                                           "Env": ["A=1"]}}),
            targets: vec![80],
            desired: Running,
            state: Assigned,
        };
        let body = container_body(&task, "n1");
        assert_eq!(body.image, "busybox:latest");
        assert_eq!(body.cmd, Some(vec!["httpd".to_string(), "-f".to_string()]));
        assert_eq!(body.entrypoint, None);
        assert_eq!(body.env, Some(vec!["A=1".to_string()]));
        let labels = body.labels.unwrap();
        assert_eq!(labels["com.docker.swarm.task.name"], "web.2.t1");
        assert_eq!(labels[NODE_LABEL], "n1");
        let bindings = body.host_config.port_bindings.unwrap();
        assert_eq!(bindings["80/tcp"].as_ref().unwrap()[0].host_port, "");
    }
}
