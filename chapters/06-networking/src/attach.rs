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

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ch01_namespaces::ParentHook;
use serde::{Deserialize, Serialize};

use crate::error::NetError;
use crate::ipam::{self, Holder};
use crate::link::Plug;
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
    /// Its other end, in the container: eth0 on the first network, eth1
    /// on the next (`network connect`), and so on.
    #[serde(default = "first_interface")]
    pub interface: String,
    /// The container's /etc/hosts on the host, rewritten as members come and go.
    pub hosts_file: Option<PathBuf>,
    pub ports: Vec<PortMapping>,
    /// More names on this network (`network connect --alias`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The supervisor: when it is gone, so is the container.
    pub holder: Holder,
}
// ANCHOR_END: endpoint

fn first_interface() -> String {
    "eth0".to_string()
}

/// What [`Attachment::prepare`] needs to know about the container.
pub struct AttachRequest<'a> {
    pub root: &'a Path,
    pub container_id: &'a str,
    pub name: &'a str,
    pub hostname: &'a str,
    /// Where chapter 3 writes the container's /etc/hosts.
    pub hosts_file: PathBuf,
    pub mode: &'a NetworkMode,
    /// The networks to join, in order: the first gets the ports and the
    /// default route (see `NetworkSettings::networks`).
    pub networks: &'a [String],
    /// The aliases on each network, by its name.
    pub aliases: &'a BTreeMap<String, Vec<String>>,
    pub ports: &'a [PortMapping],
}

/// A container's network while it runs (held by its supervisor).
pub struct Attachment {
    root: PathBuf,
    container_id: String,
    mode: NetworkMode,
    /// The networks joined, the default route's first.
    joined: Vec<(Network, Endpoint)>,
    bound: Vec<(Bound, PortMapping)>,
    proxies: Vec<Proxy>,
}

/// The host end of a container's veth: `mdv` and 12 characters of its id
/// (interface names have at most 15).
pub fn veth_name(container_id: &str) -> String {
    format!("mdv{}", &container_id[..container_id.len().min(12)])
}

/// The host end of the veth of the container's interface number `index`
/// (eth0, eth1, ...): [`veth_name`] for eth0, `md<index><11 of the id>`
/// for the others, which no eth0's name can be (a digit after `md`).
pub fn veth_name_for(container_id: &str, index: usize) -> String {
    match index {
        0 => veth_name(container_id),
        n => format!("md{n}{}", &container_id[..container_id.len().min(11)]),
    }
}

impl Attachment {
    // ANCHOR: prepare
    /// Everything that can fail before the container exists: the networks,
    /// the host ports, the addresses, the port rules. On error nothing is left.
    pub fn prepare(request: &AttachRequest<'_>) -> Result<Attachment, NetError> {
        let mut attachment = Attachment {
            root: request.root.to_path_buf(),
            container_id: request.container_id.to_string(),
            mode: request.mode.clone(),
            joined: Vec::new(),
            bound: Vec::new(),
            proxies: Vec::new(),
        };
        if !matches!(request.mode, NetworkMode::Bridge(_)) || request.networks.is_empty() {
            return Ok(attachment);
        }
        let networks = Networks::new(request.root);
        let _lock = networks.lock()?;
        for port in request.ports {
            attachment.bound.push(proxy::bind(port)?);
        }
        for (index, name) in request.networks.iter().enumerate() {
            if let Err(error) = attachment.join(&networks, request, index, name) {
                attachment.release_locked(&networks);
                return Err(error);
            }
        }
        Ok(attachment)
    }
    // ANCHOR_END: prepare

    // ANCHOR: join
    /// Join the network `name` as the container's interface number
    /// `index` (eth0, eth1, ...); the first takes the published ports.
    fn join(
        &mut self,
        networks: &Networks,
        request: &AttachRequest<'_>,
        index: usize,
        name: &str,
    ) -> Result<(), NetError> {
        let network = network_named(networks, name)?;
        network::bring_up(&network)?;
        let ports: Vec<PortMapping> =
            self.bound.iter().filter(|_| index == 0).map(|(_, p)| *p).collect();
        let endpoint = |ip| Endpoint {
            container_id: request.container_id.to_string(),
            container_name: request.name.to_string(),
            hostname: request.hostname.to_string(),
            network: network.name.clone(),
            ip,
            veth: veth_name_for(request.container_id, index),
            interface: format!("eth{index}"),
            hosts_file: Some(request.hosts_file.clone()),
            ports: ports.clone(),
            aliases: request.aliases.get(name).cloned().unwrap_or_default(),
            holder: Holder::me(),
        };
        let ip = lease(networks, &network, &endpoint)?;
        self.joined.push((network.clone(), endpoint(ip)));
        nat::add_port_rules(&network, request.container_id, ip, &ports)
    }
    // ANCHOR_END: join

    /// The container's address on its first network, for its /etc/hosts.
    pub fn ip(&self) -> Option<IpAddr> {
        self.joined.first().map(|(_, e)| IpAddr::V4(e.ip))
    }

    pub fn endpoint(&self) -> Option<&Endpoint> {
        self.joined.first().map(|(_, e)| e)
    }

    pub fn own_namespace(&self) -> bool {
        self.mode.own_namespace()
    }

    // ANCHOR: parent_hook
    /// The spawn protocol's parent hook: while the child waits, give it one
    /// end of a veth pair per network, their addresses, and the default
    /// route through the first network (`none`: only `lo`).
    pub fn parent_hook(&self) -> Option<ParentHook> {
        if self.mode == NetworkMode::Host {
            return None;
        }
        let plugs: Vec<Plug> = self.joined.iter().map(|(n, e)| plug_of(n, e)).collect();
        let Some((first, others)) = plugs.split_first() else {
            return Some(ParentHook::new("bringing up lo", |child| {
                Ok(link::configure_inside(child, None)?)
            }));
        };
        let (first, others) = (first.clone(), others.to_vec());
        Some(ParentHook::new("connecting the container to its networks", move |child| {
            for plug in std::iter::once(&first).chain(&others) {
                link::plug_veth_as(&plug.veth, &plug.bridge, child, &plug.interface)?;
            }
            link::configure_inside(child, Some((first.ip, first.prefix, first.gateway)))?;
            for plug in &others {
                link::configure_interface(child, plug)?;
            }
            Ok(())
        }))
    }
    // ANCHOR_END: parent_hook

    /// Tell every member of the container's user-defined networks (this
    /// container included) about the others, in their /etc/hosts. Call it
    /// after chapter 3 wrote this container's file.
    pub fn announce(&self) -> Result<(), NetError> {
        let networks = Networks::new(&self.root);
        let _lock = networks.lock()?;
        for (network, _) in &self.joined {
            update_members_hosts(&networks, network);
        }
        Ok(())
    }

    /// [`Attachment::announce`] as a parent hook: it runs once chapter 3
    /// wrote this container's /etc/hosts, while the child waits.
    pub fn announce_hook(&self) -> Option<ParentHook> {
        if self.joined.is_empty() {
            return None;
        }
        let root = self.root.clone();
        let joined: Vec<Network> = self.joined.iter().map(|(n, _)| n.clone()).collect();
        Some(ParentHook::new("announcing the container's name on its networks", move |_| {
            let networks = Networks::new(&root);
            let _lock = networks.lock()?;
            joined.iter().for_each(|network| update_members_hosts(&networks, network));
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
        let Some((_, endpoint)) = self.joined.first() else { return };
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

    /// Every endpoint of the container goes: those it started with, and
    /// those `network connect` gave it while it ran. The veths are left to
    /// the kernel: the container's processes are gone, so its network
    /// namespace dies, and with it both ends of each pair.
    fn release_locked(&mut self, networks: &Networks) {
        self.bound.clear();
        self.joined.clear();
        if matches!(self.mode, NetworkMode::Bridge(_)) {
            forget_container(networks, &self.container_id, Veth::LeftToTheKernel);
        }
    }
    // ANCHOR_END: release
}

/// A network by the name a container's settings give it: the default one
/// is made on first use (the networks lock is held).
pub fn network_named(networks: &Networks, name: &str) -> Result<Network, NetError> {
    if name == DEFAULT_NETWORK {
        networks.ensure_default(&DefaultNetwork::from_env()?)
    } else {
        networks.get(name)
    }
}

/// How the endpoint's veth goes into the container.
pub fn plug_of(network: &Network, endpoint: &Endpoint) -> Plug {
    Plug {
        veth: endpoint.veth.clone(),
        bridge: network.bridge.clone(),
        interface: endpoint.interface.clone(),
        ip: endpoint.ip,
        prefix: network.subnet.prefix(),
        gateway: network.gateway,
    }
}

/// Lease an address; when the subnet looks full, first reclaim the leases
/// of containers whose supervisor died, then try once more.
pub(crate) fn lease(
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
pub(crate) enum Veth {
    /// We do, now: its container may live on (a supervisor killed, `rm -f`).
    Delete,
    /// The kernel does, when the container's network namespace dies with
    /// its last process. Deleting it ourselves would make the stopping
    /// container wait for an RCU grace period (~20 ms) for nothing.
    LeftToTheKernel,
}

/// Undo everything a container's endpoint made (the networks lock is held).
pub(crate) fn forget_endpoint(
    networks: &Networks,
    network: &Network,
    endpoint: &Endpoint,
    veth: Veth,
) {
    let (id, ip) = (&endpoint.container_id, endpoint.ip);
    let _ = nat::remove_port_rules(network, id, ip, &endpoint.ports);
    if veth == Veth::Delete {
        let _ = link::delete_link_if_present(&endpoint.veth, "delete the container's veth pair");
    }
    let _ = ipam::release(&networks.leases_dir(&network.name), endpoint.ip);
    if let Some(own) = &endpoint.hosts_file {
        let _ = hosts::update_file(own, &network.name, &[]); // it no longer sees them
    }
    update_members_hosts(networks, network);
}

/// The containers on `network` now (lease files that parse).
pub fn endpoints(networks: &Networks, network: &Network) -> Vec<Endpoint> {
    ipam::leases(&networks.leases_dir(&network.name))
        .into_iter()
        .filter_map(|(_, record)| serde_json::from_slice(&record).ok())
        .collect()
}

pub(crate) fn update_members_hosts(networks: &Networks, network: &Network) {
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
            names.extend(e.aliases.iter().cloned());
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
    release_with(root, container_id, Veth::Delete)
}

/// The container exited under chapter 5's shim, which holds no
/// [`Attachment`]: what [`Attachment::release`] does, from the leases.
pub fn release_exited(root: &Path, container_id: &str) -> Result<(), NetError> {
    release_with(root, container_id, Veth::LeftToTheKernel)
}

fn release_with(root: &Path, container_id: &str, veth: Veth) -> Result<(), NetError> {
    let networks = Networks::new(root);
    let _lock = networks.lock()?;
    forget_container(&networks, container_id, veth);
    Ok(())
}

/// Forget every endpoint of `container_id`, on every network (the networks
/// lock is held).
fn forget_container(networks: &Networks, container_id: &str, veth: Veth) {
    for network in networks.list().unwrap_or_default() {
        for endpoint in
            endpoints(networks, &network).into_iter().filter(|e| e.container_id == container_id)
        {
            forget_endpoint(networks, &network, &endpoint, veth);
        }
    }
}
// ANCHOR_END: reap

/// Where `container_id` is attached, if anywhere: its eth0's network.
pub fn endpoint_of(root: &Path, container_id: &str) -> Option<(Network, Endpoint)> {
    endpoints_of(root, container_id).into_iter().next()
}

/// Every network `container_id` is attached to, in the order of its
/// interfaces (eth0 first).
pub fn endpoints_of(root: &Path, container_id: &str) -> Vec<(Network, Endpoint)> {
    let networks = Networks::new(root);
    let mut all: Vec<(Network, Endpoint)> = networks
        .list()
        .unwrap_or_default()
        .into_iter()
        .flat_map(|network| {
            let mine = endpoints(&networks, &network).into_iter();
            let mine = mine.filter(|e| e.container_id == container_id).collect::<Vec<_>>();
            mine.into_iter().map(move |e| (network.clone(), e))
        })
        .collect();
    all.sort_by_key(|(_, e)| interface_index(&e.interface));
    all
}

/// Is `name` (as the settings say it: a name, `default`, an id prefix) `network`?
pub fn same_network(name: &str, network: &Network) -> bool {
    let name = if name == "default" { DEFAULT_NETWORK } else { name };
    name == network.name || (name.len() >= 3 && network.id.starts_with(name))
}

/// 1 for eth1.
pub fn interface_index(interface: &str) -> usize {
    interface.trim_start_matches("eth").parse().unwrap_or(usize::MAX)
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
        let id = "0123456789abcdef".repeat(4);
        assert_eq!(veth_name_for(&id, 0), veth_name(&id));
        assert_eq!(veth_name_for(&id, 1), "md10123456789a");
        assert_eq!(veth_name_for(&id, 99).len(), 15);
        assert_eq!((interface_index("eth0"), interface_index("eth12")), (0, 12));
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
                    interface: "eth0".into(),
                    hosts_file: None,
                    ports: vec![],
                    aliases: vec![],
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
