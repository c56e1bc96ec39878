//! Chapter 6's networks as the Engine API shows them.

use ch04_image_pull::digest::{hex_part, sha256_of};
use ch06_networking::network::DEFAULT_NETWORK;
use ch06_networking::{Changed, NetError, Networks, Subnet};
use serde_json::{json, Value};

use super::super::Local;
use crate::error::{ApiError, ApiResult};

impl Local {
    /// `GET /networks`: ours, then the built-in `host` and `none`.
    pub fn networks(&self) -> ApiResult<Vec<Value>> {
        let networks = Networks::new(self.root());
        let mut all: Vec<Value> = networks
            .list()?
            .iter()
            .map(|n| moby_network(ch06_networking::inspect::describe_network(&networks, n)))
            .collect();
        all.push(builtin("host", "host"));
        all.push(builtin("none", "null"));
        Ok(all)
    }

    /// `GET /networks/{name}`: `default` is the default bridge, as in `--network default`.
    pub fn network(&self, name: &str) -> ApiResult<Value> {
        match name {
            "host" => return Ok(builtin("host", "host")),
            "none" => return Ok(builtin("none", "null")),
            _ => {}
        }
        let networks = Networks::new(self.root());
        let wanted = if name == "default" { DEFAULT_NETWORK } else { name };
        let network = networks.get(wanted)?;
        Ok(moby_network(ch06_networking::inspect::describe_network(&networks, &network)))
    }

    // ANCHOR: network_create
    /// `POST /networks/create`: a bridge with the subnet the body's IPAM
    /// asks for (or a free one), and the one driver option we know.
    pub fn create_network(&self, body: &Value) -> ApiResult<Value> {
        let name = body["Name"].as_str().unwrap_or_default();
        if name.is_empty() {
            return Err(ApiError::bad_request("network name is required"));
        }
        let driver = body["Driver"].as_str().filter(|d| !d.is_empty()).unwrap_or("bridge");
        if driver != "bridge" {
            return Err(ApiError::not_found(format!(
                "plugin \"{driver}\" not found: only the bridge driver exists here"
            )));
        }
        let mut bridge = None;
        for (key, value) in body["Options"].as_object().into_iter().flatten() {
            match (key.as_str(), value.as_str()) {
                ("com.docker.network.bridge.name", Some(name)) => bridge = Some(name.to_string()),
                _ => return Err(NetError::InvalidOption(format!("{key}={value}")).into()),
            }
        }
        let subnet = body["IPAM"]["Config"][0]["Subnet"].as_str();
        let subnet = subnet.map(str::parse::<Subnet>).transpose().map_err(NetError::from)?;
        let network = Networks::new(self.root()).create(name, subnet, bridge)?;
        Ok(json!({ "Id": network.id, "Warning": "" }))
    }
    // ANCHOR_END: network_create

    // ANCHOR: network_connect
    /// `POST /networks/{name}/connect`: `{"Container": …, "EndpointConfig": {…}}`.
    pub fn connect_network(&self, name: &str, body: &Value) -> ApiResult<Changed> {
        let container = container_of(body)?;
        let config = &body["EndpointConfig"];
        refuse_endpoint_options(config)?;
        let aliases: Vec<String> = config["Aliases"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a.as_str().map(str::to_string))
            .collect();
        Ok(ch06_networking::connect(&self.engine, name, container, &aliases)?)
    }

    /// `POST /networks/{name}/disconnect`: `{"Container": …, "Force": false}`.
    pub fn disconnect_network(&self, name: &str, body: &Value) -> ApiResult<Changed> {
        let (container, force) = (container_of(body)?, body["Force"].as_bool().unwrap_or(false));
        Ok(ch06_networking::disconnect(&self.engine, name, container, force)?)
    }
    // ANCHOR_END: network_connect

    pub fn remove_network(&self, name: &str) -> ApiResult<()> {
        ch06_networking::remove_network(self.root(), name)?;
        Ok(())
    }

    pub fn prune_networks(&self) -> ApiResult<Value> {
        let removed = ch06_networking::prune(self.root())?;
        let removed = if removed.is_empty() { Value::Null } else { json!(removed) };
        Ok(json!({ "NetworksDeleted": removed }))
    }
}

fn container_of(body: &Value) -> ApiResult<&str> {
    match body["Container"].as_str() {
        Some(container) if !container.is_empty() => Ok(container),
        _ => Err(ApiError::bad_request("no container given: the body needs {\"Container\": NAME}")),
    }
}

/// What `docker network connect` may ask of an endpoint beyond joining
/// and aliases: chapter 6 gives the next free address.
fn refuse_endpoint_options(config: &Value) -> ApiResult<()> {
    let given = |v: &Value| match v {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    };
    let options = [
        (&config["IPAMConfig"]["IPv4Address"], "--ip"),
        (&config["IPAMConfig"]["IPv6Address"], "--ip6"),
        (&config["IPAMConfig"]["LinkLocalIPs"], "--link-local-ip"),
        (&config["Links"], "--link"),
        (&config["DriverOpts"], "--driver-opt"),
    ];
    match options.iter().find(|(value, _)| given(value)) {
        Some((_, flag)) => Err(NetError::ConnectOption(flag).into()),
        None => Ok(()),
    }
}

/// Chapter 6's description, with the fields moby's `Network` has and ours
/// does not set (the `docker` CLI reads them).
fn moby_network(mut network: Value) -> Value {
    if let Some(seconds) = network["Created"].as_str().and_then(|c| c.parse::<u64>().ok()) {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        network["Created"] = json!(humantime::format_rfc3339_seconds(time).to_string());
    }
    let defaults = json!({
        "EnableIPv6": false, "EnableIPv4": true, "Internal": false, "Attachable": false,
        "Ingress": false, "ConfigFrom": { "Network": "" }, "ConfigOnly": false, "Labels": {},
    });
    if let (Value::Object(fields), Value::Object(defaults)) = (&mut network, defaults) {
        for (key, value) in defaults {
            fields.entry(key).or_insert(value);
        }
    }
    network
}

/// `host` and `none`: no bridge, no subnet; their ids are stable digests of their names.
fn builtin(name: &str, driver: &str) -> Value {
    moby_network(json!({
        "Name": name,
        "Id": hex_part(&sha256_of(name.as_bytes())),
        "Created": "0001-01-01T00:00:00Z",
        "Scope": "local",
        "Driver": driver,
        "IPAM": { "Driver": "default", "Options": null, "Config": [] },
        "Containers": {},
        "Options": {},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_have_the_fields_the_docker_cli_reads() {
        let host = builtin("host", "host");
        assert_eq!(host["Id"].as_str().unwrap().len(), 64);
        assert_eq!(
            (host["Driver"].as_str(), host["Internal"].as_bool()),
            (Some("host"), Some(false))
        );
        let ours = moby_network(json!({ "Name": "web", "Created": "86400", "Internal": true }));
        assert_eq!(ours["Created"], "1970-01-02T00:00:00Z");
        assert_eq!(ours["Internal"], true, "what chapter 6 says is kept");
        assert_eq!(ours["Labels"], json!({}));
    }
}
