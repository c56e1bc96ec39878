//! `network connect` and `network disconnect`: a container's networks
//! after `create`, as Docker changes them.
//!
//! ```text
//! created, exited   the change is recorded in the container's settings:
//!                   its next start joins the networks they list
//! running           and it happens now: a lease held by the container's
//!                   supervisor, a veth pair whose other end is born as
//!                   eth1 (eth2, ...) in its network namespace, the address;
//!                   no second default route: that stays with the first network
//! disconnect        the veth deleted (both ends go), the address released;
//!                   if the default route went with it, the next network's takes over
//! ```

use anyhow::Context;
use ch05_run::{ContainerConfig, Engine, State};
use nix::unistd::Pid;

use crate::attach::{
    endpoints, endpoints_of, forget_endpoint, interface_index, lease, network_named, plug_of,
    same_network, update_members_hosts, veth_name_for, Endpoint, NetworkMode, Veth,
};
use crate::error::NetError;
use crate::extension::NetworkSettings;
use crate::ipam::Holder;
use crate::link;
use crate::network::{self, Network, Networks, DEFAULT_NETWORK};

/// Interfaces eth0 to eth99: what the host ends' names have room for.
const MAX_INTERFACES: usize = 100;

/// Which network and which container a connect or disconnect concerned
/// (the daemon's `network connect` event names both).
#[derive(Debug, Clone)]
pub struct Changed {
    pub network: Network,
    pub container_id: String,
}

// ANCHOR: connect
/// `network connect [--alias NAME] NETWORK CONTAINER`: record the network
/// in the container's settings and, if it runs, join it now.
pub fn connect(
    engine: &Engine,
    network: &str,
    container: &str,
    aliases: &[String],
) -> anyhow::Result<Changed> {
    let id = engine.find(container)?;
    let (config, state) = (engine.config(&id)?, engine.state(&id)?);
    let settings: NetworkSettings = config.extensions.get()?;
    refuse(&settings.mode, network, aliases)?;
    let networks = Networks::new(&engine.root);
    let _lock = networks.lock()?;
    let network =
        network_named(&networks, if network == "default" { DEFAULT_NETWORK } else { network })?;
    if network.name == DEFAULT_NETWORK && !aliases.is_empty() {
        return Err(NetError::AliasOnDefault.into());
    }
    if settings.networks().iter().any(|name| same_network(name, &network)) {
        let (container, network) = (config.name.clone(), network.name.clone());
        return Err(NetError::EndpointExists { container, network }.into());
    }
    if state.is_running() {
        join_running(engine, &networks, (&network, aliases), &config, &state)?;
    }
    change_settings(engine, &id, |s| {
        s.connected.push(network.name.clone());
        if !aliases.is_empty() {
            s.aliases.insert(network.name.clone(), aliases.to_vec());
        }
    })?;
    Ok(Changed { network, container_id: id })
}
// ANCHOR_END: connect

/// What no network connect can do: the host's stack and `none` have no
/// networks to add, and an alias must be a name for /etc/hosts.
fn refuse(mode: &NetworkMode, network: &str, aliases: &[String]) -> Result<(), NetError> {
    match (mode, network) {
        (NetworkMode::Host, _) | (_, "host") => return Err(NetError::HostNetwork),
        (NetworkMode::None, _) | (_, "none") => return Err(NetError::NoneNetwork),
        _ => {}
    }
    match aliases.iter().find(|alias| !network::valid_name(alias)) {
        Some(bad) => Err(NetError::InvalidAlias(bad.clone())),
        None => Ok(()),
    }
}

// ANCHOR: join_running
/// Join `network` now: the next free interface, an address leased for the
/// supervisor (so it goes when the container does), the veth, the address.
fn join_running(
    engine: &Engine,
    networks: &Networks,
    (network, aliases): (&Network, &[String]),
    config: &ContainerConfig,
    state: &State,
) -> anyhow::Result<()> {
    let (Some(pid), Some(supervisor)) = (state.pid, state.supervisor_pid) else { return Ok(()) };
    let used: Vec<usize> = endpoints_of(&engine.root, &config.id)
        .iter()
        .map(|(_, e)| interface_index(&e.interface))
        .collect();
    let index = (0..MAX_INTERFACES)
        .find(|i| !used.contains(i))
        .ok_or_else(|| NetError::TooManyNetworks(config.name.clone(), used.len()))?;
    network::bring_up(network)?;
    let start_time = ch01_namespaces::process::start_time(supervisor).unwrap_or(0);
    let endpoint = |ip| Endpoint {
        container_id: config.id.clone(),
        container_name: config.name.clone(),
        hostname: config.hostname.clone(),
        network: network.name.clone(),
        ip,
        veth: veth_name_for(&config.id, index),
        interface: format!("eth{index}"),
        hosts_file: Some(engine.store.container_dir(&config.id).join("hosts")),
        ports: Vec::new(),
        aliases: aliases.to_vec(),
        holder: Holder { pid: supervisor, start_time },
    };
    let endpoint = endpoint(lease(networks, network, &endpoint)?);
    if let Err(error) = plug_in(Pid::from_raw(pid), network, &endpoint, index == 0) {
        forget_endpoint(networks, network, &endpoint, Veth::Delete);
        return Err(error.into());
    }
    update_members_hosts(networks, network);
    Ok(())
}
// ANCHOR_END: join_running

/// The veth into the running container, its address, and the default
/// route when it is the container's only network.
fn plug_in(
    child: Pid,
    network: &Network,
    endpoint: &Endpoint,
    first: bool,
) -> Result<(), NetError> {
    let plug = plug_of(network, endpoint);
    link::plug_veth_as(&plug.veth, &plug.bridge, child, &plug.interface)?;
    link::configure_interface(child, &plug)?;
    if first {
        link::ensure_default_route(child, network.gateway)?;
    }
    Ok(())
}

// ANCHOR: disconnect
/// `network disconnect [--force] NETWORK CONTAINER`: off the network now
/// if it runs, and from its settings. With `force`, a container that is
/// gone loses the endpoints still named after it.
pub fn disconnect(
    engine: &Engine,
    network: &str,
    container: &str,
    force: bool,
) -> anyhow::Result<Changed> {
    if network == "host" {
        return Err(NetError::HostNetwork.into());
    }
    let id = match engine.find(container) {
        Err(error) if force => return forget_by_name(engine, network, container).ok_or(error),
        found => found?,
    };
    let (config, state) = (engine.config(&id)?, engine.state(&id)?);
    let settings: NetworkSettings = config.extensions.get()?;
    let networks = Networks::new(&engine.root);
    let _lock = networks.lock()?;
    let network = networks.get(if network == "default" { DEFAULT_NETWORK } else { network })?;
    let live: Vec<Endpoint> =
        endpoints(&networks, &network).into_iter().filter(|e| e.container_id == id).collect();
    if live.is_empty() && !settings.networks().iter().any(|name| same_network(name, &network)) {
        let (container, network) = (id.clone(), network.name.clone());
        return Err(NetError::NotConnected { container, network }.into());
    }
    for endpoint in &live {
        forget_endpoint(&networks, &network, endpoint, Veth::Delete);
    }
    if let Some(pid) = state.pid.filter(|_| state.is_running() && !live.is_empty()) {
        route_via_the_next_network(engine, &id, Pid::from_raw(pid))?;
    }
    change_settings(engine, &id, |s| leave(s, &network))?;
    Ok(Changed { network, container_id: id })
}
// ANCHOR_END: disconnect

/// The settings without `network`.
fn leave(settings: &mut NetworkSettings, network: &Network) {
    settings.connected.retain(|name| !same_network(name, network));
    settings.aliases.retain(|name, _| !same_network(name, network));
    if let NetworkMode::Bridge(name) = &settings.mode {
        if same_network(name, network) {
            settings.left_mode = true;
        }
    }
}

/// If the default route left with the network, the container's first
/// remaining network gives it (as dockerd moves the gateway).
fn route_via_the_next_network(engine: &Engine, id: &str, child: Pid) -> anyhow::Result<()> {
    let Some((network, _)) = endpoints_of(&engine.root, id).into_iter().next() else {
        return Ok(());
    };
    Ok(link::ensure_default_route(child, network.gateway)?)
}

/// `disconnect --force` of a container that is no more: forget the
/// endpoints on `network` still named after it. `None` when there are none.
fn forget_by_name(engine: &Engine, network: &str, container: &str) -> Option<Changed> {
    let networks = Networks::new(&engine.root);
    let _lock = networks.lock().ok()?;
    let network = networks.get(network).ok()?;
    let named: Vec<Endpoint> = endpoints(&networks, &network)
        .into_iter()
        .filter(|e| e.container_name == container || e.container_id == container)
        .collect();
    let container_id = named.first()?.container_id.clone();
    for endpoint in &named {
        forget_endpoint(&networks, &network, endpoint, Veth::Delete);
    }
    Some(Changed { network, container_id })
}

/// Change the container's network settings in its config.json, under its lock.
fn change_settings(
    engine: &Engine,
    id: &str,
    change: impl FnOnce(&mut NetworkSettings),
) -> anyhow::Result<()> {
    let _lock = engine.store.lock(id)?;
    let mut config = engine.config(id)?;
    let mut settings: NetworkSettings = config.extensions.get()?;
    change(&mut settings);
    config.extensions.set(&settings);
    engine.store.write(id, "config.json", &config).context("recording the container's networks")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(name: &str, id: &str) -> Network {
        Network {
            name: name.into(),
            id: id.into(),
            subnet: "10.5.0.0/24".parse().unwrap(),
            gateway: "10.5.0.1".parse().unwrap(),
            bridge: "mdtestnone0".into(),
            created: "0".into(),
        }
    }

    #[test]
    fn leaving_the_mode_network_is_remembered_and_connected_ones_are_dropped() {
        let mut settings = NetworkSettings {
            mode: NetworkMode::Bridge("front".into()),
            connected: vec!["back".into(), "db".into()],
            ..NetworkSettings::default()
        };
        assert_eq!(settings.networks(), ["front", "back", "db"]);
        leave(&mut settings, &network("back", "b4c"));
        assert_eq!(settings.networks(), ["front", "db"]);
        leave(&mut settings, &network("front", "f00"));
        assert_eq!(settings.networks(), ["db"]);
        assert!(settings.left_mode && settings.mode == NetworkMode::Bridge("front".into()));
        settings.connected.push("front".into());
        assert_eq!(settings.networks(), ["db", "front"], "a rejoined network comes last");
    }

    #[test]
    fn settings_written_before_connect_existed_still_read() {
        let old: NetworkSettings =
            serde_json::from_value(serde_json::json!({"mode": "bridge", "ports": []})).unwrap();
        assert_eq!(old.networks(), ["bridge"]);
        let none: NetworkSettings =
            serde_json::from_value(serde_json::json!({"mode": "none", "ports": []})).unwrap();
        assert!(none.networks().is_empty());
        let unchanged = serde_json::to_value(&old).unwrap();
        assert_eq!(unchanged, serde_json::json!({"mode": "bridge", "ports": []}));
    }
}
