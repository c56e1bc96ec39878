//! The store's objects as the Engine API shows them (moby's
//! `api/types/swarm`): what `docker node ls`, `service ls/ps/inspect` read.

use serde_json::{json, Value};

use crate::node::NodeConfig;
use crate::store::{Cluster, Meta, Node, Service, Store, Task};
use crate::{orchestrator, spec};

fn version(meta: &Meta) -> Value {
    json!({"Index": meta.version})
}

pub fn node(node: &Node, manager_listen: &str) -> Value {
    let mut value = json!({
        "ID": node.id,
        "Version": version(&node.meta),
        "CreatedAt": node.meta.created_at,
        "UpdatedAt": node.meta.updated_at,
        "Spec": {"Labels": {}, "Role": node.role, "Availability": node.availability},
        "Description": {
            "Hostname": node.hostname,
            "Platform": {"Architecture": std::env::consts::ARCH, "OS": "linux"},
            "Resources": {"NanoCPUs": 0, "MemoryBytes": 0},
            "Engine": {"EngineVersion": ch09_engine::system::ENGINE_VERSION, "Plugins": []},
            "TLSInfo": {},
        },
        "Status": {"State": node.state, "Message": node.message, "Addr": node.addr},
    });
    if node.role == "manager" {
        value["ManagerStatus"] =
            json!({"Leader": true, "Reachability": "reachable", "Addr": manager_listen});
    }
    value
}

fn cluster_fields(cluster: &Cluster) -> Value {
    json!({
        "ID": cluster.id,
        "Version": version(&cluster.meta),
        "CreatedAt": cluster.meta.created_at,
        "UpdatedAt": cluster.meta.updated_at,
        "Spec": cluster.spec,
        "TLSInfo": {"TrustRoot": "", "CertIssuerSubject": "", "CertIssuerPublicKey": ""},
        "RootRotationInProgress": false,
        "DataPathPort": 4789,
        "DefaultAddrPool": ["10.0.0.0/8"],
        "SubnetSize": 24,
    })
}

/// `GET /swarm`: the cluster and its join tokens.
pub fn swarm(cluster: &Cluster) -> Value {
    let mut value = cluster_fields(cluster);
    value["JoinTokens"] = json!({"Worker": cluster.worker_token, "Manager": cluster.manager_token});
    value
}

/// `info.Swarm` as dockerd reports it (the counts on a manager only).
pub fn info(config: Option<&NodeConfig>, store: Option<&Store>) -> Value {
    let Some(config) = config else {
        return json!({"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive",
                      "ControlAvailable": false, "Error": "", "RemoteManagers": null});
    };
    let mut value = json!({
        "NodeID": config.node_id,
        "NodeAddr": config.addr,
        "LocalNodeState": "active",
        "ControlAvailable": config.is_manager(),
        "Error": "",
        "RemoteManagers": [{"NodeID": "", "Addr": config.manager}],
    });
    if let Some(store) = store {
        let manager = store.nodes.values().find(|n| n.role == "manager");
        value["RemoteManagers"][0]["NodeID"] = json!(manager.map(|n| n.id.clone()));
        value["Nodes"] = json!(store.nodes.len());
        value["Managers"] = json!(store.nodes.values().filter(|n| n.role == "manager").count());
        if let Some(cluster) = &store.cluster {
            value["Cluster"] = cluster_fields(cluster);
        }
    }
    value
}

// ANCHOR: service
pub fn service(store: &Store, service: &Service, with_status: bool) -> Value {
    let ports: Vec<Value> = service
        .ports
        .iter()
        .map(|p| json!({"Protocol": p.protocol, "TargetPort": p.target, "PublishedPort": p.published, "PublishMode": "ingress"}))
        .collect();
    let endpoint_spec = match service.spec.get("EndpointSpec") {
        Some(spec) if spec.is_object() => spec.clone(),
        _ => json!({"Mode": "vip"}),
    };
    let mut value = json!({
        "ID": service.id,
        "Version": version(&service.meta),
        "CreatedAt": service.meta.created_at,
        "UpdatedAt": service.meta.updated_at,
        "Spec": service.spec,
        "Endpoint": {"Spec": endpoint_spec, "Ports": ports, "VirtualIPs": []},
    });
    if let Some(previous) = &service.previous_spec {
        value["PreviousSpec"] = previous.clone();
    }
    if let Some(update) = &service.update {
        value["UpdateStatus"] = json!({"State": update.state, "StartedAt": update.started_at, "Message": update.message});
        if let Some(done) = &update.completed_at {
            value["UpdateStatus"]["CompletedAt"] = json!(done);
        }
    }
    if with_status {
        value["ServiceStatus"] = status(store, service);
    }
    value
}
// ANCHOR_END: service

/// `ServiceStatus`: running tasks on live nodes, and the replica count.
fn status(store: &Store, service: &Service) -> Value {
    let running = store
        .tasks_of(&service.id)
        .filter(|t| orchestrator::runnable(t) && t.status.state == crate::state::TaskState::Running)
        .filter(|t| store.node_is_up(t.node_id.as_ref()))
        .count();
    json!({"RunningTasks": running, "DesiredTasks": spec::replicas(&service.spec), "CompletedTasks": 0})
}

pub fn task(store: &Store, task: &Task) -> Value {
    let status = &task.status;
    let mut value = json!({
        "ID": task.id,
        "Version": version(&task.meta),
        "CreatedAt": task.meta.created_at,
        "UpdatedAt": task.meta.updated_at,
        "Labels": {},
        "Spec": task.spec,
        "ServiceID": task.service_id,
        "Slot": task.slot,
        "Status": {
            "Timestamp": status.timestamp,
            "State": status.state.name(),
            "Message": status.message,
            "ContainerStatus": {"ContainerID": status.container_id, "PID": status.pid,
                                "ExitCode": status.exit_code.unwrap_or(0)},
            "PortStatus": {},
        },
        "DesiredState": task.desired.name(),
    });
    if let Some(node) = &task.node_id {
        value["NodeID"] = json!(node);
    }
    if !status.err.is_empty() {
        value["Status"]["Err"] = json!(status.err);
    }
    if let Some(service) = store.services.get(&task.service_id) {
        value["ServiceAnnotations"] = json!({"Name": service.spec["Name"]});
    }
    value
}
