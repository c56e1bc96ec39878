//! The JSON `inspect` shows, with `docker inspect`'s field names.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::attach::{endpoints, endpoints_of, same_network, Endpoint, NetworkMode};
use crate::extension::NetworkSettings;
use crate::network::{Network, Networks, DEFAULT_NETWORK};
use crate::ports::PortMapping;

/// A container's `NetworkSettings`: every network it is on, with its
/// address there while it runs (empty fields while it does not, as dockerd).
pub fn network_settings(root: &Path, container_id: &str, settings: &NetworkSettings) -> Value {
    let attached = endpoints_of(root, container_id);
    let mut networks = Map::new();
    for name in settings.networks() {
        networks.insert(name, json!({ "NetworkID": "", "EndpointID": "", "Gateway": "", "IPAddress": "", "IPPrefixLen": 0, "MacAddress": "" }));
    }
    if !matches!(settings.mode, NetworkMode::Bridge(_)) {
        networks.insert(settings.mode.to_string(), json!({ "IPAddress": "", "Gateway": "" }));
    }
    let (mut ip, mut gateway, mut prefix, mut ports) =
        (String::new(), String::new(), 0, Map::new());
    let mut mac = String::new();
    for (network, endpoint) in &attached {
        networks.retain(|name, _| !same_network(name, network));
        networks.insert(network.name.clone(), endpoint_settings(network, endpoint));
        ports.extend(port_map(&endpoint.ports));
        // Like Docker, the top-level fields describe the default bridge only.
        if network.name == DEFAULT_NETWORK {
            (ip, gateway, prefix) =
                (endpoint.ip.to_string(), network.gateway.to_string(), network.subnet.prefix());
            mac = crate::link::mac_text(endpoint.ip);
        }
    }
    json!({
        "Bridge": attached.first().map(|(n, _)| n.bridge.clone()).unwrap_or_default(),
        "IPAddress": ip,
        "Gateway": gateway,
        "IPPrefixLen": prefix,
        "MacAddress": mac,
        "Ports": ports,
        "Networks": networks,
    })
}

/// One entry of `NetworkSettings.Networks` for a live endpoint.
fn endpoint_settings(network: &Network, endpoint: &Endpoint) -> Value {
    json!({
        "NetworkID": network.id,
        "EndpointID": endpoint.veth,
        "Gateway": network.gateway.to_string(),
        "IPAddress": endpoint.ip.to_string(),
        "IPPrefixLen": network.subnet.prefix(),
        "MacAddress": crate::link::mac_text(endpoint.ip),
        "Aliases": Some(&endpoint.aliases).filter(|a| !a.is_empty()),
    })
}

/// `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}`.
pub fn port_map(ports: &[PortMapping]) -> Map<String, Value> {
    let mut map = Map::new();
    for port in ports {
        let key = format!("{}/{}", port.container_port, port.proto.name());
        let binding =
            json!({ "HostIp": port.host_ip.to_string(), "HostPort": port.host_port.to_string() });
        match map.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(list) => list.push(binding),
            _ => unreachable!("only arrays are inserted"),
        }
    }
    map
}

/// `network inspect NAME`: the network and the containers on it.
pub fn describe_network(networks: &Networks, network: &Network) -> Value {
    let containers: Map<String, Value> = endpoints(networks, network)
        .into_iter()
        .map(|e| (e.container_id.clone(), json!({ "Name": e.container_name, "EndpointID": e.veth, "IPv4Address": format!("{}/{}", e.ip, network.subnet.prefix()) })))
        .collect();
    json!({
        "Name": network.name,
        "Id": network.id,
        "Created": network.created,
        "Scope": "local",
        "Driver": "bridge",
        "IPAM": { "Driver": "default", "Config": [{ "Subnet": network.subnet.to_string(), "Gateway": network.gateway.to_string() }] },
        "Containers": containers,
        "Options": { "com.docker.network.bridge.name": network.bridge },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_group_by_container_port() {
        let ports: Vec<PortMapping> = ["8080:80", "127.0.0.1:8081:80", "53:53/udp"]
            .iter()
            .map(|p| p.parse().unwrap())
            .collect();
        let map = Value::Object(port_map(&ports));
        assert_eq!(map["80/tcp"][1], json!({"HostIp": "127.0.0.1", "HostPort": "8081"}));
        assert_eq!(map["53/udp"][0]["HostPort"], "53");
    }
}
