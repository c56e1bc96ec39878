//! This daemon as a swarm node: init, join, leave, and the threads a node
//! runs — the node server on its address (port 2377), the agent, and on
//! the manager the reconciliation loop. What the node is (its id, role,
//! addresses, secret) is kept in `<data-root>/swarm/node.json`, so a
//! restarted daemon is the same node again.

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use ch09_engine::{ApiError, Local};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::agent::Agent;
use crate::manager::Manager;
use crate::protocol::{Heartbeat, Register, Registered, LEAVE, REGISTER};
use crate::store::{new_id, random_base36, write_atomic, Cluster, Node, Store};
use crate::{client, mesh, server};

pub const DEFAULT_PORT: u16 = 2377;

/// What this daemon is in the swarm.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeConfig {
    pub node_id: String,
    pub secret: String,
    pub cluster_id: String,
    /// `manager` or `worker`.
    pub role: String,
    /// The advertised address (no port).
    pub addr: String,
    /// Where the node server listens (`ADDR:2377`).
    pub listen: String,
    /// The manager's node server (`ADDR:2377`).
    pub manager: String,
}

impl NodeConfig {
    fn path(root: &Path) -> PathBuf {
        root.join("swarm").join("node.json")
    }

    pub fn load(root: &Path) -> Option<NodeConfig> {
        serde_json::from_slice(&std::fs::read(NodeConfig::path(root)).ok()?).ok()
    }

    pub fn is_manager(&self) -> bool {
        self.role == "manager"
    }
}

/// A running node: its threads and how to stop them.
struct Running {
    config: NodeConfig,
    manager: Option<Arc<Manager>>,
    agent: Arc<Agent>,
    stop: Arc<AtomicBool>,
    server_stop: Option<tokio::sync::oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

/// Swarm mode of one daemon.
pub struct Swarm {
    pub root: PathBuf,
    pub local: Local,
    running: Mutex<Option<Running>>,
}

pub const NOT_IN_SWARM: &str = "This node is not part of a swarm";
pub const ALREADY: &str = "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm and join another one.";
pub const NOT_MANAGER: &str = "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to connect this node to swarm and try again.";
pub const WORKER: &str = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

impl Swarm {
    /// Swarm mode for the daemon at `root`: a node that was in a swarm
    /// before the restart is again (its manager's store is read back).
    pub fn open(root: &Path, local: Local) -> Arc<Swarm> {
        let swarm = Arc::new(Swarm { root: root.to_path_buf(), local, running: Mutex::new(None) });
        if let Some(config) = NodeConfig::load(root) {
            let store = match config.is_manager() {
                true => Store::load(root).ok().flatten(),
                false => None,
            };
            if let Err(error) = swarm.start(config, store) {
                eprintln!("mini-dockerd: swarm: {}", error.message);
            }
        }
        swarm
    }

    pub fn config(&self) -> Option<NodeConfig> {
        self.running.lock().unwrap().as_ref().map(|r| r.config.clone())
    }

    /// The manager, or the error a worker or a lone daemon answers.
    pub fn manager(&self) -> Result<Arc<Manager>, ApiError> {
        let running = self.running.lock().unwrap();
        match running.as_ref() {
            None => Err(ApiError::new(503, NOT_MANAGER)),
            Some(r) => r.manager.clone().ok_or_else(|| ApiError::new(503, WORKER)),
        }
    }

    // ANCHOR: init
    /// `POST /swarm/init`: a new cluster whose only node is this one, a manager.
    pub fn init(&self, request: &Value) -> Result<String, ApiError> {
        self.refuse_if_running()?;
        let addr = advertise_addr(request["AdvertiseAddr"].as_str().unwrap_or_default(), None)?;
        let port = listen_port(request["ListenAddr"].as_str().unwrap_or_default())?;
        let mut store = Store::default();
        let meta = store.new_meta();
        let digest = random_base36(50);
        let token = |secret: String| format!("SWMTKN-1-{digest}-{secret}");
        let cluster_id = new_id();
        let spec = cluster_spec(&request["Spec"]);
        let (worker_token, manager_token) = (token(random_base36(25)), token(random_base36(25)));
        store.cluster =
            Some(Cluster { id: cluster_id.clone(), meta, spec, worker_token, manager_token });
        // ANCHOR_END: init
        let meta = store.new_meta();
        let listen = format!("{addr}:{port}");
        let node = Node {
            id: new_id(),
            meta,
            hostname: hostname(),
            addr: addr.to_string(),
            listen: listen.clone(),
            role: "manager".into(),
            availability: request["Availability"]
                .as_str()
                .filter(|a| !a.is_empty())
                .unwrap_or("active")
                .into(),
            state: "ready".into(),
            message: String::new(),
            secret: random_base36(32),
            last_seen: Some(SystemTime::now()),
        };
        let config = NodeConfig {
            node_id: node.id.clone(),
            secret: node.secret.clone(),
            cluster_id,
            role: "manager".into(),
            addr: addr.to_string(),
            listen: listen.clone(),
            manager: listen,
        };
        store.nodes.insert(node.id.clone(), node);
        self.start(config.clone(), Some(store))?;
        Ok(config.node_id)
    }

    // ANCHOR: join
    /// `POST /swarm/join`: register with the manager, then run as a worker.
    pub fn join(&self, request: &Value) -> Result<(), ApiError> {
        self.refuse_if_running()?;
        let remote = request["RemoteAddrs"][0].as_str().unwrap_or_default();
        let manager = with_port(remote).ok_or_else(|| {
            ApiError::bad_request(format!("invalid remote address {remote:?}: use HOST:2377"))
        })?;
        let addr =
            advertise_addr(request["AdvertiseAddr"].as_str().unwrap_or_default(), Some(&manager))?;
        let port = listen_port(request["ListenAddr"].as_str().unwrap_or_default())?;
        let register = Register {
            token: request["JoinToken"].as_str().unwrap_or_default().to_string(),
            hostname: hostname(),
            addr: addr.to_string(),
            listen: format!("{addr}:{port}"),
        };
        let registered: Registered = client::post(&manager, REGISTER, &register).map_err(|e| {
            let e = if e == "invalid join token" {
                "A valid join token is necessary to join this cluster".to_string()
            } else {
                e
            };
            ApiError::bad_request(format!("rpc error: code = InvalidArgument desc = {e}"))
        })?;
        let config = NodeConfig {
            node_id: registered.node_id,
            secret: registered.secret,
            cluster_id: registered.cluster_id,
            role: registered.role,
            addr: addr.to_string(),
            listen: format!("{addr}:{port}"),
            manager,
        };
        self.start(config, None)
    }
    // ANCHOR_END: join

    /// `POST /swarm/leave[?force=1]`.
    pub fn leave(&self, force: bool) -> Result<(), ApiError> {
        let config = self.config().ok_or_else(|| ApiError::new(503, NOT_IN_SWARM))?;
        if config.is_manager() && !force {
            return Err(ApiError::new(503, "You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message."));
        }
        let running = self.running.lock().unwrap().take().expect("a config means running");
        if !config.is_manager() {
            let beat = Heartbeat {
                node_id: config.node_id.clone(),
                secret: config.secret.clone(),
                reports: vec![],
            };
            let _ = client::post::<Value>(&config.manager, LEAVE, &beat);
        }
        let agent = Arc::clone(&running.agent);
        stop(running);
        agent.remove_all();
        let _ = std::fs::remove_dir_all(self.root.join("swarm"));
        Ok(())
    }

    fn refuse_if_running(&self) -> Result<(), ApiError> {
        match self.running.lock().unwrap().is_some() {
            true => Err(ApiError::new(503, ALREADY)),
            false => Ok(()),
        }
    }

    // ANCHOR: start
    /// Run the node: its server, its agent, and (a manager) the loop.
    fn start(&self, config: NodeConfig, store: Option<Store>) -> Result<(), ApiError> {
        let listener = std::net::TcpListener::bind(&config.listen)
            .map_err(|e| ApiError::bad_request(format!("listening on {}: {e}", config.listen)))?;
        write_atomic(
            &NodeConfig::path(&self.root),
            &serde_json::to_vec_pretty(&config).map_err(internal)?,
        )
        .map_err(internal)?;
        if let Some(store) = &store {
            store.save(&self.root).map_err(internal)?;
        }
        let manager = store.map(|s| Arc::new(Manager::new(&self.root, s)));
        let stop = Arc::new(AtomicBool::new(false));
        let (handle, server_stop, server) =
            server::spawn(listener, manager.clone(), self.local.clone(), config.secret.clone())
                .map_err(internal)?;
        let mut threads = vec![server];
        let agent =
            Arc::new(Agent::new(self.local.clone(), config.clone(), mesh::Mesh::new(handle)));
        if let Some(manager) = manager.clone() {
            let stop = Arc::clone(&stop);
            threads.push(std::thread::spawn(move || reconcile_loop(&manager, &stop)));
        }
        let (beating, stopping) = (Arc::clone(&agent), Arc::clone(&stop));
        threads.push(std::thread::spawn(move || agent_loop(&beating, &stopping)));
        let running =
            Running { config, manager, agent, stop, server_stop: Some(server_stop), threads };
        *self.running.lock().unwrap() = Some(running);
        Ok(())
    }
    // ANCHOR_END: start
}

/// Stop a node's threads and wait for them.
fn stop(mut running: Running) {
    running.stop.store(true, Ordering::SeqCst);
    if let Some(server) = running.server_stop.take() {
        let _ = server.send(());
    }
    for thread in running.threads.drain(..) {
        let _ = thread.join();
    }
}

// ANCHOR: loops
/// The manager's loop: a turn every 200 ms.
fn reconcile_loop(manager: &Manager, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        manager.tick(SystemTime::now());
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The agent's loop: a heartbeat, then a pause (half the period at most).
fn agent_loop(agent: &Agent, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        let pause = agent.beat();
        let until = std::time::Instant::now() + pause;
        while !stop.load(Ordering::SeqCst) && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
// ANCHOR_END: loops

/// The SwarmSpec with the defaults dockerd fills in.
fn cluster_spec(asked: &Value) -> Value {
    let mut spec = if asked.is_object() { asked.clone() } else { json!({}) };
    if spec["Name"].as_str().is_none_or(str::is_empty) {
        spec["Name"] = json!("default");
    }
    if spec["Dispatcher"]["HeartbeatPeriod"].as_i64().is_none_or(|p| p <= 0) {
        spec["Dispatcher"] = json!({"HeartbeatPeriod": 5_000_000_000u64});
    }
    if spec["Orchestration"]["TaskHistoryRetentionLimit"].as_i64().is_none_or(|p| p <= 0) {
        spec["Orchestration"] = json!({"TaskHistoryRetentionLimit": 5});
    }
    for (key, value) in [
        ("Labels", json!({})),
        (
            "Raft",
            json!({"SnapshotInterval": 10000, "KeepOldSnapshots": 0, "LogEntriesForSlowFollowers": 500, "ElectionTick": 10, "HeartbeatTick": 1}),
        ),
        ("CAConfig", json!({"NodeCertExpiry": 7_776_000_000_000_000u64})),
        ("TaskDefaults", json!({})),
        ("EncryptionConfig", json!({"AutoLockManagers": false})),
    ] {
        if spec[key].is_null() {
            spec[key] = value;
        }
    }
    spec
}

/// `--advertise-addr`: an address (a port after it is ignored), or,
/// when empty, the address this host would reach the manager from, or its
/// only address.
fn advertise_addr(asked: &str, manager: Option<&str>) -> Result<Ipv4Addr, ApiError> {
    let host = asked.rsplit_once(':').map_or(asked, |(h, _)| h);
    if !host.is_empty() {
        return host.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "advertise address must be a non-zero IP address: {asked}"
            ))
        });
    }
    if let Some(manager) = manager {
        // Connecting a UDP socket sends nothing: it only asks the kernel for a route.
        let socket = UdpSocket::bind("0.0.0.0:0").map_err(internal)?;
        if socket.connect(manager).is_ok() {
            if let Ok(SocketAddr::V4(local)) = socket.local_addr() {
                return Ok(*local.ip());
            }
        }
    }
    match local_addresses().as_slice() {
        [one] => Ok(*one),
        [] => Err(ApiError::bad_request("could not find an IP address to advertise: use --advertise-addr")),
        many => Err(ApiError::bad_request(format!(
            "could not choose an IP address to advertise since this system has multiple addresses ({}): use --advertise-addr",
            many.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// The port of `--listen-addr` (default 2377).
fn listen_port(listen: &str) -> Result<u16, ApiError> {
    match listen.rsplit_once(':') {
        None if listen.is_empty() => Ok(DEFAULT_PORT),
        None => Ok(DEFAULT_PORT),
        Some((_, port)) => port
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid listen address {listen:?}"))),
    }
}

/// `HOST` or `HOST:PORT` → `HOST:PORT` (2377 when none).
fn with_port(remote: &str) -> Option<String> {
    if remote.is_empty() {
        return None;
    }
    match remote.rsplit_once(':') {
        Some((_, port)) if port.parse::<u16>().is_ok() => Some(remote.to_string()),
        _ => Some(format!("{remote}:{DEFAULT_PORT}")),
    }
}

/// The host's IPv4 addresses, loopback aside.
fn local_addresses() -> Vec<Ipv4Addr> {
    let mut found = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list` with a list we free below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return found;
    }
    let mut entry = list;
    while !entry.is_null() {
        // SAFETY: entries of the list getifaddrs returned, until its end.
        let e = unsafe { &*entry };
        if !e.ifa_addr.is_null() && unsafe { (*e.ifa_addr).sa_family } as i32 == libc::AF_INET {
            // SAFETY: an AF_INET address is a sockaddr_in.
            let sin = unsafe { &*(e.ifa_addr as *const libc::sockaddr_in) };
            let ip = Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr));
            if !ip.is_loopback() && !found.contains(&ip) {
                found.push(ip);
            }
        }
        entry = e.ifa_next;
    }
    // SAFETY: the list getifaddrs gave us, freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}

pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(500, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_ports() {
        assert_eq!(with_port("10.0.0.1").unwrap(), "10.0.0.1:2377");
        assert_eq!(with_port("10.0.0.1:4000").unwrap(), "10.0.0.1:4000");
        assert!(with_port("").is_none());
        assert_eq!(listen_port("0.0.0.0:2377").unwrap(), 2377);
        assert_eq!(listen_port("").unwrap(), 2377);
        assert_eq!(advertise_addr("10.1.2.3:2377", None).unwrap(), Ipv4Addr::new(10, 1, 2, 3));
        assert!(advertise_addr("eth9", None).unwrap_err().message.contains("non-zero IP"));
        assert_eq!(advertise_addr("", Some("127.0.0.1:2377")).unwrap(), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn the_cluster_spec_gets_dockers_defaults() {
        let spec = cluster_spec(&json!({"Dispatcher": {"HeartbeatPeriod": 1_000_000_000u64}}));
        assert_eq!(spec["Name"], "default");
        assert_eq!(spec["Dispatcher"]["HeartbeatPeriod"], 1_000_000_000u64);
        assert_eq!(spec["Orchestration"]["TaskHistoryRetentionLimit"], 5);
        assert_eq!(cluster_spec(&Value::Null)["Dispatcher"]["HeartbeatPeriod"], 5_000_000_000u64);
    }
}
