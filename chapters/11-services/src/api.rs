//! The Engine API's swarm, node, service and task endpoints, plugged into
//! chapter 9's router through its `Routes` seam. Every handler is a read
//! or a write of the manager's store: none of them runs a container.

use std::sync::Arc;

use bytes::Bytes;
use ch09_engine::server::http::{self, Body};
use ch09_engine::server::router::{Handled, Routed, Routes};
use ch09_engine::server::{blocking, Daemon};
use ch09_engine::types::parse_filters;
use ch09_engine::{ApiError, ApiResult};
use hyper::body::Incoming;
use hyper::{Request, Response};
use serde_json::{json, Value};

use crate::manager::{allocate_ports, Manager};
use crate::node::Swarm;
use crate::state::TaskState;
use crate::store::{Service, Store};
use crate::{orchestrator, render, spec, updater};

/// Chapter 11's routes.
pub struct SwarmRoutes(pub Arc<Swarm>);

type Query = std::collections::BTreeMap<String, String>;

// ANCHOR: table
impl Routes for SwarmRoutes {
    fn handle(&self, _daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
        let Routed { method, segments, request } = routed;
        let path: Vec<&str> = segments.iter().map(String::as_str).collect();
        let (s, q) = (Arc::clone(&self.0), http::query(&request));
        let one = segments.get(1).cloned().unwrap_or_default();
        let request = *request;
        Ok(match (method.as_str(), path.as_slice()) {
            ("POST", ["swarm", "init"]) => Box::pin(init(s, request)),
            ("POST", ["swarm", "join"]) => Box::pin(join(s, request)),
            ("POST", ["swarm", "leave"]) => Box::pin(leave(s, http::truthy(&q, "force"))),
            ("GET", ["swarm"]) => Box::pin(read(s, |m, _| swarm_inspect(m))),
            ("GET", ["nodes"]) => Box::pin(read(s, move |m, c| nodes(m, c, &q))),
            ("GET", ["nodes", _]) => Box::pin(read(s, move |m, c| node(m, c, &one))),
            ("GET", ["services"]) => Box::pin(read(s, move |m, _| services(m, &q))),
            ("GET", ["services", _]) => Box::pin(read(s, move |m, _| service(m, &one))),
            ("POST", ["services", "create"]) => Box::pin(create(s, request)),
            ("POST", ["services", _, "update"]) => Box::pin(update(s, one, q, request)),
            ("DELETE", ["services", _]) => Box::pin(read(s, move |m, _| remove(m, &one))),
            ("GET", ["services", _, "logs"]) => Box::pin(logs(s, one, q)),
            ("GET", ["tasks"]) => Box::pin(read(s, move |m, _| tasks(m, &q))),
            ("GET", ["tasks", _]) => Box::pin(read(s, move |m, _| task(m, &one))),
            ("GET", ["tasks", _, "logs"]) => Box::pin(logs(s, one, q)),
            _ => return Err(Routed { method, segments, request: Box::new(request) }),
        })
    }
    // ANCHOR_END: table

    fn swarm_header(&self) -> Option<String> {
        let config = self.0.config()?;
        Some(format!("active/{}", config.role))
    }

    fn amend_info(&self, info: &mut Value) {
        let config = self.0.config();
        let manager = self.0.manager().ok();
        let store = manager.as_ref().map(|m| m.store());
        info["Swarm"] = render::info(config.as_ref(), store.as_deref());
    }
}

fn answer(result: ApiResult<(u16, Value)>) -> Response<Body> {
    match result {
        Ok((status, value)) => http::json(status, &value),
        Err(error) => http::error(&error),
    }
}

/// A handler that needs the manager (`503` on a worker or outside a swarm).
async fn read(
    swarm: Arc<Swarm>,
    work: impl FnOnce(&Manager, &str) -> ApiResult<(u16, Value)> + Send + 'static,
) -> Response<Body> {
    let listen = swarm.config().map(|c| c.listen).unwrap_or_default();
    answer(swarm.manager().and_then(|m| work(&m, &listen)))
}

async fn init(swarm: Arc<Swarm>, request: Request<Incoming>) -> Response<Body> {
    let body: Value = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    answer(blocking(move || swarm.init(&body).map(|id| (200, json!(id)))).await)
}

async fn join(swarm: Arc<Swarm>, request: Request<Incoming>) -> Response<Body> {
    let body: Value = match http::body_json(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    match blocking(move || swarm.join(&body)).await {
        Ok(()) => http::empty(200),
        Err(error) => http::error(&error),
    }
}

async fn leave(swarm: Arc<Swarm>, force: bool) -> Response<Body> {
    match blocking(move || swarm.leave(force)).await {
        Ok(()) => http::empty(200),
        Err(error) => http::error(&error),
    }
}

fn swarm_inspect(manager: &Manager) -> ApiResult<(u16, Value)> {
    let store = manager.store();
    let cluster =
        store.cluster.as_ref().ok_or_else(|| ApiError::new(503, crate::node::NOT_MANAGER))?;
    Ok((200, render::swarm(cluster)))
}

/// A filter's values: `{"name": {"web": true}}` or `{"name": ["web"]}`.
fn filters(query: &Query) -> ApiResult<ch09_engine::types::Filters> {
    parse_filters(query.get("filters").map_or("", String::as_str)).map_err(ApiError::bad_request)
}

fn nodes(manager: &Manager, listen: &str, query: &Query) -> ApiResult<(u16, Value)> {
    let filters = filters(query)?;
    let store = manager.store();
    let listed: Vec<Value> = store
        .nodes
        .values()
        .filter(|n| pass(&filters, "id", |v| n.id.starts_with(v)))
        .filter(|n| pass(&filters, "name", |v| n.hostname == v))
        .filter(|n| pass(&filters, "role", |v| n.role == v))
        .map(|n| render::node(n, listen))
        .collect();
    Ok((200, json!(listed)))
}

/// No values for `key`, or one that `test` accepts.
fn pass(filters: &ch09_engine::types::Filters, key: &str, test: impl Fn(&str) -> bool) -> bool {
    filters.get(key).is_none_or(|values| values.iter().any(|v| test(v)))
}

fn node(manager: &Manager, listen: &str, wanted: &str) -> ApiResult<(u16, Value)> {
    let store = manager.store();
    let found = store.nodes.get(wanted).or_else(|| {
        let by_name: Vec<_> = store.nodes.values().filter(|n| n.hostname == wanted).collect();
        let by_prefix: Vec<_> = store.nodes.values().filter(|n| n.id.starts_with(wanted)).collect();
        match (by_name.as_slice(), by_prefix.as_slice()) {
            ([one], _) | ([], [one]) => Some(*one),
            _ => None,
        }
    });
    let node = found.ok_or_else(|| ApiError::not_found(format!("node {wanted} not found")))?;
    Ok((200, render::node(node, listen)))
}

/// A service by full id, then name, then unique id prefix (as dockerd looks).
pub fn find_service<'a>(store: &'a Store, wanted: &str) -> ApiResult<&'a Service> {
    let named = |s: &&Service| s.spec["Name"].as_str() == Some(wanted);
    let prefixed: Vec<&Service> =
        store.services.values().filter(|s| s.id.starts_with(wanted)).collect();
    store
        .services
        .get(wanted)
        .or_else(|| store.services.values().find(named))
        .or_else(|| (prefixed.len() == 1).then(|| prefixed[0]))
        .ok_or_else(|| ApiError::not_found(format!("service {wanted} not found")))
}

fn services(manager: &Manager, query: &Query) -> ApiResult<(u16, Value)> {
    let filters = filters(query)?;
    let with_status = http::truthy(query, "status");
    let store = manager.store();
    let listed: Vec<Value> = store
        .services
        .values()
        .filter(|s| pass(&filters, "id", |v| s.id.starts_with(v)))
        .filter(|s| {
            pass(&filters, "name", |v| s.spec["Name"].as_str().is_some_and(|n| n.starts_with(v)))
        })
        .map(|s| render::service(&store, s, with_status))
        .collect();
    Ok((200, json!(listed)))
}

fn service(manager: &Manager, wanted: &str) -> ApiResult<(u16, Value)> {
    let store = manager.store();
    Ok((200, render::service(&store, find_service(&store, wanted)?, false)))
}

// ANCHOR: create
/// `POST /services/create`: check the spec, choose its ports, store it.
/// That is all: the loop notices a service with no tasks.
async fn create(swarm: Arc<Swarm>, request: Request<Incoming>) -> Response<Body> {
    let manager = match swarm.manager() {
        Ok(manager) => manager,
        Err(error) => return http::error(&error),
    };
    let mut spec: Value = match http::body_json(request).await {
        Ok(spec) => spec,
        Err(error) => return http::error(&error),
    };
    answer(manager.write(|store| {
        spec::check(&spec).map_err(ApiError::bad_request)?;
        spec::normalize(&mut spec);
        if spec["Name"].as_str().is_none_or(str::is_empty) {
            spec["Name"] = json!(crate::names::random_name());
        }
        let name = spec["Name"].as_str().unwrap_or_default().to_string();
        if store.services.values().any(|s| s.spec["Name"].as_str() == Some(&name)) {
            return Err(ApiError::conflict(
                "rpc error: code = AlreadyExists desc = name conflicts with an existing object",
            ));
        }
        let id = crate::store::new_id();
        let ports =
            allocate_ports(store, &id, &spec::ports(&spec)).map_err(ApiError::bad_request)?;
        let meta = store.new_meta();
        let service =
            Service { id: id.clone(), meta, spec, previous_spec: None, ports, update: None };
        store.services.insert(id.clone(), service);
        Ok((201, json!({"ID": id, "Warnings": null})))
    }))
}
// ANCHOR_END: create

/// `POST /services/{id}/update?version=N`: the new spec replaces the old
/// one if N is still the service's version; a new TaskTemplate starts a
/// rolling update, a new replica count is only a new count.
async fn update(
    swarm: Arc<Swarm>,
    wanted: String,
    query: Query,
    request: Request<Incoming>,
) -> Response<Body> {
    let manager = match swarm.manager() {
        Ok(manager) => manager,
        Err(error) => return http::error(&error),
    };
    let mut spec: Value = match http::body_json(request).await {
        Ok(spec) => spec,
        Err(error) => return http::error(&error),
    };
    // ANCHOR: update
    let version: Option<u64> = query.get("version").and_then(|v| v.parse().ok());
    answer(manager.write(|store| {
        let service = find_service(store, &wanted)?.clone();
        if version != Some(service.meta.version) {
            return Err(ApiError::new(
                500,
                "rpc error: code = Unknown desc = update out of sequence",
            ));
        }
        spec::check(&spec).map_err(ApiError::bad_request)?;
        spec::normalize(&mut spec);
        let ports = allocate_ports(store, &service.id, &spec::ports(&spec))
            .map_err(ApiError::bad_request)?;
        let new_template = spec["TaskTemplate"] != service.spec["TaskTemplate"];
        let mut meta = service.meta.clone();
        store.touch(&mut meta);
        let stored = store.services.get_mut(&service.id).expect("found above");
        (stored.previous_spec, stored.spec, stored.ports, stored.meta) =
            (Some(service.spec.clone()), spec, ports, meta);
        if new_template {
            updater::begin(store, &service.id);
        }
        Ok((200, json!({"Warnings": null})))
    }))
}
// ANCHOR_END: update

/// `DELETE /services/{id}`: the service goes now; its tasks are removed
/// (the workers stop them, the reaper forgets them).
fn remove(manager: &Manager, wanted: &str) -> ApiResult<(u16, Value)> {
    manager.write(|store| {
        let id = find_service(store, wanted)?.id.clone();
        store.services.remove(&id);
        let tasks: Vec<String> = store.tasks_of(&id).map(|t| t.id.clone()).collect();
        for task in tasks {
            orchestrator::set_desired(store, &task, TaskState::Remove);
        }
        store.index += 1;
        Ok((200, Value::Null))
    })
}

fn tasks(manager: &Manager, query: &Query) -> ApiResult<(u16, Value)> {
    let filters = filters(query)?;
    let store = manager.store();
    let services: Vec<String> = match filters.get("service") {
        None => store.services.keys().cloned().collect(),
        Some(wanted) => wanted
            .iter()
            .filter_map(|w| find_service(&store, w).ok())
            .map(|s| s.id.clone())
            .collect(),
    };
    let up_to_date = |t: &&crate::store::Task| {
        !filters.contains_key("_up-to-date")
            || store.services.get(&t.service_id).is_some_and(|s| s.spec["TaskTemplate"] == t.spec)
    };
    let listed: Vec<Value> = store
        .tasks
        .values()
        .filter(|t| services.contains(&t.service_id))
        .filter(|t| pass(&filters, "id", |v| t.id.starts_with(v)))
        .filter(|t| {
            pass(&filters, "node", |v| t.node_id.as_deref() == Some(v) || node_named(&store, t, v))
        })
        .filter(|t| pass(&filters, "desired-state", |v| desired_matches(t.desired, v)))
        .filter(up_to_date)
        .map(|t| render::task(&store, t))
        .collect();
    Ok((200, json!(listed)))
}

fn node_named(store: &Store, task: &crate::store::Task, name: &str) -> bool {
    task.node_id.as_ref().and_then(|id| store.nodes.get(id)).is_some_and(|n| n.hostname == name)
}

/// `desired-state=running` also matches tasks waiting at ready, as dockerd's filter does.
fn desired_matches(desired: TaskState, wanted: &str) -> bool {
    match wanted {
        "running" => desired <= TaskState::Running,
        "shutdown" => desired >= TaskState::Shutdown,
        "accepted" => desired == TaskState::Accepted,
        _ => false,
    }
}

fn task(manager: &Manager, wanted: &str) -> ApiResult<(u16, Value)> {
    let store = manager.store();
    let found: Vec<_> = store.tasks.values().filter(|t| t.id.starts_with(wanted)).collect();
    let task = match (store.tasks.get(wanted), found.as_slice()) {
        (Some(task), _) => task,
        (None, [task]) => *task,
        _ => return Err(ApiError::not_found(format!("task {wanted} not found"))),
    };
    Ok((200, render::task(&store, task)))
}

/// `GET /services/{id}/logs` (and a task's): each task's log is asked of
/// the node that runs it, and every line goes out framed, after the
/// details `docker service logs` reads to name the task.
async fn logs(swarm: Arc<Swarm>, wanted: String, query: Query) -> Response<Body> {
    let manager = match swarm.manager() {
        Ok(manager) => manager,
        Err(error) => return http::error(&error),
    };
    let timestamps = http::truthy(&query, "timestamps");
    let tail = query.get("tail").filter(|t| *t != "all").cloned();
    let sources = match log_sources(&manager.store(), &wanted) {
        Ok(sources) => sources,
        Err(error) => return http::error(&error),
    };
    // ANCHOR: logs
    let (tx, body) = http::channel();
    tokio::task::spawn_blocking(move || {
        for source in sources {
            let mut path = format!(
                "{}?container={}&secret={}",
                crate::protocol::LOGS,
                source.container,
                source.secret
            );
            path += if timestamps { "&timestamps=1" } else { "" };
            if let Some(tail) = &tail {
                path += &format!("&tail={tail}");
            }
            let lines: Vec<(u8, String)> =
                crate::client::get(&source.node_addr, &path).unwrap_or_default();
            for (stream, text) in lines {
                let line = with_details(&text, &source.details, timestamps);
                let kind = if stream == 2 {
                    ch05_run::attach::Kind::Stderr
                } else {
                    ch05_run::attach::Kind::Stdout
                };
                if tx
                    .blocking_send(Bytes::from(ch05_run::attach::frame(kind, line.as_bytes())))
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    let mut response = http::response(200, Some("application/vnd.docker.multiplexed-stream"), body);
    // ANCHOR_END: logs
    response.headers_mut().remove("Content-Length");
    response
}

struct LogSource {
    node_addr: String,
    /// The node's secret: its node server gives logs to the manager only.
    secret: String,
    container: String,
    details: String,
}

/// The tasks (of a service, or one task) that have a container, and where.
fn log_sources(store: &Store, wanted: &str) -> ApiResult<Vec<LogSource>> {
    let tasks: Vec<&crate::store::Task> = match find_service(store, wanted) {
        Ok(service) => store.tasks_of(&service.id).collect(),
        Err(_) => store
            .tasks
            .values()
            .filter(|t| t.id == wanted || t.id.starts_with(wanted))
            .take(1)
            .collect(),
    };
    if tasks.is_empty() && find_service(store, wanted).is_err() {
        return Err(ApiError::not_found(format!("service {wanted} not found")));
    }
    let mut sorted = tasks;
    sorted.sort_by_key(|t| (t.slot, t.meta.created_at.clone()));
    Ok(sorted
        .into_iter()
        .filter(|t| !t.status.container_id.is_empty())
        .filter_map(|t| {
            let node = store.nodes.get(t.node_id.as_ref()?)?;
            Some(LogSource {
                node_addr: node.listen.clone(),
                secret: node.secret.clone(),
                container: t.status.container_id.clone(),
                details: format!(
                    "com.docker.swarm.node.id={},com.docker.swarm.service.id={},com.docker.swarm.task.id={}",
                    node.id, t.service_id, t.id
                ),
            })
        })
        .collect())
}

/// `details message`, or `timestamp details message`.
fn with_details(line: &str, details: &str, timestamps: bool) -> String {
    match (timestamps, line.split_once(' ')) {
        (true, Some((time, rest))) => format!("{time} {details} {rest}"),
        _ => format!("{details} {line}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_carry_the_details_the_cli_reads() {
        let details =
            "com.docker.swarm.node.id=n,com.docker.swarm.service.id=s,com.docker.swarm.task.id=t";
        assert_eq!(with_details("hello\n", details, false), format!("{details} hello\n"));
        assert_eq!(
            with_details("2024-01-01T00:00:00Z hello\n", details, true),
            format!("2024-01-01T00:00:00Z {details} hello\n")
        );
    }

    #[test]
    fn desired_state_filters() {
        assert!(desired_matches(TaskState::Ready, "running"));
        assert!(desired_matches(TaskState::Remove, "shutdown"));
        assert!(!desired_matches(TaskState::Running, "shutdown"));
    }
}
