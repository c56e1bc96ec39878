//! A container on a network: what chapter 5 calls around the spawn.
//!
//! ```text
//! supervisor                                   (chapter 5)
//!   Attachment::prepare   bind host ports, lease an address, bridge + rules up
//!   write /etc/hosts      (chapter 3, with the leased address)
//!   Attachment::announce  every member's /etc/hosts lists the new name
//!   spawn ── parent hook: veth pair, eth0 in the child, address, route
//!   Attachment::start_proxies
//!   … the container runs …
//!   Attachment::release   proxies, port rules, veth, lease, others' /etc/hosts
//! ```
//! If the supervisor dies instead, [`release_container`] does the same from
//! whichever command notices (chapter 5's repair path).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ch01_namespaces::ParentHook;
use serde::{Deserialize, Serialize};

use crate::error::NetError;
use crate::ipam::{self, Holder};
use crate::network::{self, DefaultNetwork, Network, Networks, DEFAULT_NETWORK};
use crate::ports::PortMapping;
use crate::proxy::{self, Bound, Proxy};
use crate::{hosts, link, nat};

// ANCHOR: mode
/// `--network`: the default bridge, a user-defined network, no network
/// (only `lo`), or the host's own network stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum NetworkMode {
    Bridge(String),
    None,
    Host,
}
// ANCHOR_END: mode

impl Default for NetworkMode {
    fn default() -> Self {
        NetworkMode::Bridge(DEFAULT_NETWORK.to_string())
    }
}

impl NetworkMode {
    /// Does the container get a network namespace of its own?
    pub fn own_namespace(&self) -> bool {
        *self != NetworkMode::Host
    }
}

impl FromStr for NetworkMode {
    type Err = NetError;
    fn from_str(text: &str) -> Result<NetworkMode, NetError> {
        match text {
            "" | "default" | "bridge" => Ok(NetworkMode::default()),
            "none" => Ok(NetworkMode::None),
            "host" => Ok(NetworkMode::Host),
            name if network::valid_name(name) => Ok(NetworkMode::Bridge(name.to_string())),
            other => Err(NetError::InvalidMode(other.to_string())),
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::Bridge(name) => f.write_str(name),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Host => f.write_str("host"),
        }
    }
}

impl TryFrom<String> for NetworkMode {
    type Error = NetError;
    fn try_from(text: String) -> Result<NetworkMode, NetError> {
        text.parse()
    }
}

impl From<NetworkMode> for String {
    fn from(mode: NetworkMode) -> String {
        mode.to_string()
    }
}

// ANCHOR: endpoint
/// A container's place on a network: the content of its lease file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub container_id: String,
    pub container_name: String,
    pub hostname: String,
    pub network: String,
    pub ip: Ipv4Addr,
    /// The host end of the veth pair.
    pub veth: String,
    /// The container's /etc/hosts on the host, rewritten as members come and go.
    pub hosts_file: Option<PathBuf>,
    pub ports: Vec<PortMapping>,
    /// The supervisor: when it is gone, so is the container.
    pub holder: Holder,
}
// ANCHOR_END: endpoint

/// What [`Attachment::prepare`] needs to know about the container.
pub struct AttachRequest<'a> {
    pub root: &'a Path,
    pub container_id: &'a str,
    pub name: &'a str,
    pub hostname: &'a str,
    /// Where chapter 3 writes the container's /etc/hosts.
    pub hosts_file: PathBuf,
    pub mode: &'a NetworkMode,
    pub ports: &'a [PortMapping],
}

/// A container's network while it runs (held by its supervisor).
pub struct Attachment {
    root: PathBuf,
    mode: NetworkMode,
    joined: Option<(Network, Endpoint)>,
    bound: Vec<(Bound, PortMapping)>,
    proxies: Vec<Proxy>,
}

/// The host end of a container's veth: `mdv` and 12 characters of its id
/// (interface names have at most 15).
pub fn veth_name(container_id: &str) -> String {
    format!("mdv{}", &container_id[..container_id.len().min(12)])
}

impl Attachment {
    // ANCHOR: prepare
    /// Everything that can fail before the container exists: the network,
    /// the host ports, the address, the port rules. On error nothing is left.
    pub fn prepare(request: &AttachRequest<'_>) -> Result<Attachment, NetError> {
        let mut attachment = Attachment {
            root: request.root.to_path_buf(),
            mode: request.mode.clone(),
            joined: None,
            bound: Vec::new(),
            proxies: Vec::new(),
        };
        let NetworkMode::Bridge(name) = request.mode else { return Ok(attachment) };
        let networks = Networks::new(request.root);
        let _lock = networks.lock()?;
        let network = if name == DEFAULT_NETWORK {
            networks.ensure_default(&DefaultNetwork::from_env()?)?
        } else {
            networks.get(name)?
        };
        network::bring_up(&network)?;
        for port in request.ports {
            attachment.bound.push(proxy::bind(port)?);
        }
        let ports: Vec<PortMapping> = attachment.bound.iter().map(|(_, p)| *p).collect();
        let endpoint = |ip| Endpoint {
            container_id: request.container_id.to_string(),
            container_name: request.name.to_string(),
            hostname: request.hostname.to_string(),
            network: network.name.clone(),
            ip,
            veth: veth_name(request.container_id),
            hosts_file: Some(request.hosts_file.clone()),
            ports: ports.clone(),
            holder: Holder::me(),
        };
        let ip = lease(&networks, &network, &endpoint)?;
        attachment.joined = Some((network.clone(), endpoint(ip)));
        if let Err(error) = nat::add_port_rules(&network, request.container_id, ip, &ports) {
            attachment.release_locked(&networks);
            return Err(error);
        }
        Ok(attachment)
    }
    // ANCHOR_END: prepare

    /// The container's address, for its /etc/hosts.
    pub fn ip(&self) -> Option<IpAddr> {
        self.joined.as_ref().map(|(_, e)| IpAddr::V4(e.ip))
    }

    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.joined.as_ref().map(|(_, e)| e)
    }

    pub fn own_namespace(&self) -> bool {
        self.mode.own_namespace()
    }

    // ANCHOR: parent_hook
    /// The spawn protocol's parent hook: while the child waits, give it
    /// its end of the veth pair, an address and a route (`none`: only `lo`).
    pub fn parent_hook(&self) -> Option<ParentHook> {
        match (&self.mode, &self.joined) {
            (NetworkMode::Host, _) => None,
            (_, Some((network, endpoint))) => {
                let (bridge, veth) = (network.bridge.clone(), endpoint.veth.clone());
                let address = (endpoint.ip, network.subnet.prefix(), network.gateway);
                Some(ParentHook::new("connecting the container to its network", move |child| {
                    link::plug_veth(&veth, &bridge, child)?;
                    link::configure_inside(child, Some(address))?;
                    Ok(())
                }))
            }
            (_, None) => Some(ParentHook::new("bringing up lo", |child| {
                Ok(link::configure_inside(child, None)?)
            })),
        }
    }
    // ANCHOR_END: parent_hook

    /// Tell every member of a user-defined network (this container
    /// included) about the others, in their /etc/hosts. Call it after
    /// chapter 3 wrote this container's file.
    pub fn announce(&self) -> Result<(), NetError> {
        let Some((network, _)) = &self.joined else { return Ok(()) };
        let networks = Networks::new(&self.root);
        let _lock = networks.lock()?;
        update_members_hosts(&networks, network);
        Ok(())
    }

    /// [`Attachment::announce`] as a parent hook: it runs once chapter 3
    /// wrote this container's /etc/hosts, while the child waits.
    pub fn announce_hook(&self) -> Option<ParentHook> {
        let (network, _) = self.joined.as_ref()?;
        let (root, network) = (self.root.clone(), network.clone());
        Some(ParentHook::new("announcing the container's name on its network", move |_| {
            let networks = Networks::new(&root);
            let _lock = networks.lock()?;
            update_members_hosts(&networks, &network);
            Ok(())
        }))
    }

    /// Does it publish ports (whose proxies need a process)?
    pub fn publishes_ports(&self) -> bool {
        !self.bound.is_empty() || !self.proxies.is_empty()
    }

    /// Start relaying the published ports (threads: only after the spawn,
    /// which must happen while the supervisor has one thread).
    pub fn start_proxies(&mut self) {
        let Some((_, endpoint)) = &self.joined else { return };
        for (bound, port) in self.bound.drain(..) {
            self.proxies
                .push(Proxy::start(bound, SocketAddrV4::new(endpoint.ip, port.container_port)));
        }
    }

    // ANCHOR: release
    /// The container stopped: free what it held. Safe to call after a
    /// failed start.
    pub fn release(mut self) {
        for proxy in self.proxies.drain(..) {
            proxy.stop();
        }
        let networks = Networks::new(&self.root);
        let Ok(_lock) = networks.lock() else { return };
        self.release_locked(&networks);
    }

    fn release_locked(&mut self, networks: &Networks) {
        self.bound.clear();
        if let Some((network, endpoint)) = self.joined.take() {
            // The veth is left to the kernel: the container's processes are
            // gone, so its network namespace dies, and with it both ends.
            forget_endpoint(networks, &network, &endpoint, Veth::LeftToTheKernel);
        }
    }
    // ANCHOR_END: release
}

/// Lease an address; when the subnet looks full, first reclaim the leases
/// of containers whose supervisor died, then try once more.
fn lease(
    networks: &Networks,
    network: &Network,
    endpoint: &impl Fn(Ipv4Addr) -> Endpoint,
) -> Result<Ipv4Addr, NetError> {
    let dir = networks.leases_dir(&network.name);
    let record =
        |ip| serde_json::to_vec_pretty(&endpoint(ip)).expect("an endpoint always serializes");
    let io = NetError::io(format!("leasing an address in {}", dir.display()));
    if let Some(ip) = ipam::allocate(&dir, &network.subnet, network.gateway, record).map_err(io)? {
        return Ok(ip);
    }
    reap_stale(networks, network);
    let io = NetError::io(format!("leasing an address in {}", dir.display()));
    ipam::allocate(&dir, &network.subnet, network.gateway, record).map_err(io)?.ok_or_else(|| {
        NetError::Exhausted { network: network.name.clone(), subnet: network.subnet }
    })
}

/// Who removes a container's veth pair.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Veth {
    /// We do, now: its container may live on (a supervisor killed, `rm -f`).
    Delete,
    /// The kernel does, when the container's network namespace dies with
    /// its last process. Deleting it ourselves would make the stopping
    /// container wait for an RCU grace period (~20 ms) for nothing.
    LeftToTheKernel,
}

/// Undo everything a container's endpoint made (the networks lock is held).
fn forget_endpoint(networks: &Networks, network: &Network, endpoint: &Endpoint, veth: Veth) {
    let (id, ip) = (&endpoint.container_id, endpoint.ip);
    let _ = nat::remove_port_rules(network, id, ip, &endpoint.ports);
    if veth == Veth::Delete {
        let _ = link::delete_link_if_present(&endpoint.veth, "delete the container's veth pair");
    }
    let _ = ipam::release(&networks.leases_dir(&network.name), endpoint.ip);
    update_members_hosts(networks, network);
}

/// The containers on `network` now (lease files that parse).
pub fn endpoints(networks: &Networks, network: &Network) -> Vec<Endpoint> {
    ipam::leases(&networks.leases_dir(&network.name))
        .into_iter()
        .filter_map(|(_, record)| serde_json::from_slice(&record).ok())
        .collect()
}

fn update_members_hosts(networks: &Networks, network: &Network) {
    if network.name == DEFAULT_NETWORK {
        return; // as in Docker: no names on the default bridge
    }
    let members = endpoints(networks, network);
    let names: Vec<(Ipv4Addr, Vec<String>)> = members
        .iter()
        .map(|e| {
            let mut names = vec![e.container_name.clone()];
            if e.hostname != e.container_name {
                names.push(e.hostname.clone());
            }
            (e.ip, names)
        })
        .collect();
    for member in &members {
        if let Some(path) = &member.hosts_file {
            let _ = hosts::update_file(path, &network.name, &names);
        }
    }
}

// ANCHOR: reap
/// Release the endpoints whose supervisor is gone (killed, or the machine
/// rebooted): the repair path for leases. The networks lock must be held.
pub fn reap_stale(networks: &Networks, network: &Network) {
    for endpoint in endpoints(networks, network) {
        if !endpoint.holder.is_alive() {
            forget_endpoint(networks, network, &endpoint, Veth::Delete);
        }
    }
}

/// Release whatever `container_id` still holds on any network (chapter 5
/// calls this when it finds the supervisor died, and on `rm`).
pub fn release_container(root: &Path, container_id: &str) -> Result<(), NetError> {
    forget_container(root, container_id, Veth::Delete)
}

/// The container exited under chapter 5's shim, which holds no
/// [`Attachment`]: what [`Attachment::release`] does, from the leases.
pub fn release_exited(root: &Path, container_id: &str) -> Result<(), NetError> {
    forget_container(root, container_id, Veth::LeftToTheKernel)
}

fn forget_container(root: &Path, container_id: &str, veth: Veth) -> Result<(), NetError> {
    let networks = Networks::new(root);
    let _lock = networks.lock()?;
    for network in networks.list()? {
        for endpoint in
            endpoints(&networks, &network).into_iter().filter(|e| e.container_id == container_id)
        {
            forget_endpoint(&networks, &network, &endpoint, veth);
        }
    }
    Ok(())
}
// ANCHOR_END: reap

/// Where `container_id` is attached, if anywhere.
pub fn endpoint_of(root: &Path, container_id: &str) -> Option<(Network, Endpoint)> {
    let networks = Networks::new(root);
    networks.list().ok()?.into_iter().find_map(|network| {
        let endpoint =
            endpoints(&networks, &network).into_iter().find(|e| e.container_id == container_id)?;
        Some((network, endpoint))
    })
}

/// `network rm`: refuse while containers use it (after reaping the dead).
pub fn remove_network(root: &Path, wanted: &str) -> Result<Network, NetError> {
    if [DEFAULT_NETWORK, "host", "none", "default"].contains(&wanted) {
        return Err(NetError::Predefined(wanted.to_string()));
    }
    let networks = Networks::new(root);
    let network = networks.get(wanted)?;
    if network.name == DEFAULT_NETWORK {
        return Err(NetError::Predefined(network.name));
    }
    let _lock = networks.lock()?;
    remove_if_unused(&networks, &network)?;
    Ok(network)
}

fn remove_if_unused(networks: &Networks, network: &Network) -> Result<(), NetError> {
    reap_stale(networks, network);
    let users = endpoints(networks, network);
    if !users.is_empty() {
        let containers =
            users.iter().map(|e| e.container_name.as_str()).collect::<Vec<_>>().join(", ");
        return Err(NetError::InUse { network: network.name.clone(), containers });
    }
    networks.remove(network)
}

// ANCHOR: prune
/// `network prune`: remove every network no container uses — the default
/// one too, whose bridge and rules come back on the next `run`. With the
/// last network go our iptables chains, and ip_forward is restored.
pub fn prune(root: &Path) -> Result<Vec<String>, NetError> {
    let networks = Networks::new(root);
    let _lock = networks.lock()?;
    let mut removed = Vec::new();
    for network in networks.list()? {
        if remove_if_unused(&networks, &network).is_ok() {
            removed.push(network.name);
        }
    }
    Ok(removed)
}
// ANCHOR_END: prune

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_dockers() {
        assert_eq!("bridge".parse::<NetworkMode>().unwrap(), NetworkMode::Bridge("bridge".into()));
        assert_eq!("default".parse::<NetworkMode>().unwrap(), NetworkMode::default());
        assert_eq!("none".parse::<NetworkMode>().unwrap(), NetworkMode::None);
        assert_eq!("host".parse::<NetworkMode>().unwrap(), NetworkMode::Host);
        assert_eq!("web".parse::<NetworkMode>().unwrap(), NetworkMode::Bridge("web".into()));
        assert!("container:abc".parse::<NetworkMode>().is_err());
        assert_eq!(serde_json::to_string(&NetworkMode::None).unwrap(), "\"none\"");
        assert!(!NetworkMode::Host.own_namespace() && NetworkMode::None.own_namespace());
    }

    #[test]
    fn veth_names_fit() {
        assert_eq!(veth_name(&"0123456789abcdef".repeat(4)), "mdv0123456789ab");
        assert!(veth_name(&"f".repeat(64)).len() <= 15);
    }

    #[test]
    fn stale_leases_are_reaped_live_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let networks = Networks::new(root.path());
        let network = Network {
            name: "web".into(),
            id: "x".into(),
            subnet: "10.5.0.0/29".parse().unwrap(),
            gateway: "10.5.0.1".parse().unwrap(),
            bridge: "mdtestnone0".into(),
            created: "0".into(),
        };
        let record = |holder: Holder| {
            move |ip| {
                let e = Endpoint {
                    container_id: format!("c{ip}"),
                    container_name: "n".into(),
                    hostname: "h".into(),
                    network: "web".into(),
                    ip,
                    veth: "mdtestnonev".into(),
                    hosts_file: None,
                    ports: vec![],
                    holder,
                };
                serde_json::to_vec(&e).unwrap()
            }
        };
        let dir = networks.leases_dir("web");
        let live = ipam::allocate(&dir, &network.subnet, network.gateway, record(Holder::me()))
            .unwrap()
            .unwrap();
        let dead = Holder { pid: std::process::id() as i32, start_time: 1 };
        ipam::allocate(&dir, &network.subnet, network.gateway, record(dead)).unwrap().unwrap();
        assert_eq!(endpoints(&networks, &network).len(), 2);
        reap_stale(&networks, &network);
        let left: Vec<Ipv4Addr> = endpoints(&networks, &network).iter().map(|e| e.ip).collect();
        assert_eq!(left, [live]);
    }
}
