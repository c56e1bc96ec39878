//! What can go wrong, each as one line saying what failed and what to do.

use std::net::Ipv4Addr;

use thiserror::Error;

use crate::cidr::{CidrError, Subnet};
use crate::command::CommandError;
use crate::netlink::NetlinkError;

/// A field shown in the message is named `error`, not `source`: thiserror
/// would make a `source` the error's cause too, and `{:#}` (the CLI prints
/// the whole chain) would then say the reason twice.
#[derive(Debug, Error)]
pub enum NetError {
    #[error(transparent)]
    Cidr(#[from] CidrError),
    #[error("network {0} not found: create it with `mini-docker network create {0}` (see `mini-docker network ls`)")]
    NotFound(String),
    #[error("network with name {0} already exists")]
    Exists(String),
    #[error("invalid network name {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    InvalidName(String),
    #[error("{0} is a pre-defined network and cannot be created or removed")]
    Predefined(String),
    #[error(
        "subnet {subnet} overlaps with network {other} ({other_subnet}): choose another --subnet"
    )]
    Overlaps { subnet: Subnet, other: String, other_subnet: Subnet },
    #[error("subnet {subnet} overlaps with the host's route {route}: choose another --subnet")]
    OverlapsHostRoute { subnet: Subnet, route: String },
    #[error("subnet {0} is too small for a network: use a prefix of /30 or shorter")]
    TooSmall(Subnet),
    #[error("no free subnet left in {0} for a new network: give one with --subnet")]
    NoFreeSubnet(Subnet),
    #[error("no available IPv4 addresses on network {network} ({subnet}): remove a container or use a larger subnet")]
    Exhausted { network: String, subnet: Subnet },
    #[error("error while removing network {network}: it has active endpoints ({containers}): stop or remove them first")]
    InUse { network: String, containers: String },
    #[error("endpoint with name {container} already exists in network {network}")]
    EndpointExists { container: String, network: String },
    #[error("container {container} is not connected to network {network}")]
    NotConnected { container: String, network: String },
    #[error("container cannot be disconnected from host network or connected to host network")]
    HostNetwork,
    #[error("container cannot be connected to multiple networks with one of the networks in private (none) mode")]
    NoneNetwork,
    #[error("network connect {0} is not supported here: the container gets the network's next free address")]
    ConnectOption(&'static str),
    #[error("network-scoped alias is supported only for containers in user defined networks")]
    AliasOnDefault,
    #[error("invalid alias {0:?}: use letters, digits, '_', '.' and '-', starting with a letter or digit")]
    InvalidAlias(String),
    #[error("container {0} has {1} networks: no more can be connected")]
    TooManyNetworks(String, usize),
    #[error("Bind for {ip}:{port} failed: port is already allocated")]
    PortInUse { ip: Ipv4Addr, port: u16 },
    #[error("invalid port specification {0:?}: use [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]")]
    InvalidPort(String),
    #[error("invalid --network {0:?}: use bridge, none, host or the name of a network")]
    InvalidMode(String),
    #[error("invalid option {0:?}: the only option is com.docker.network.bridge.name=NAME")]
    InvalidOption(String),
    #[error("invalid bridge name {0:?}: at most 15 characters, no '/', ':' or spaces")]
    InvalidBridgeName(String),
    #[error(transparent)]
    Command(#[from] CommandError),
    #[error("{what}: {error}")]
    Netlink { what: String, error: NetlinkError },
    #[error("{what}: {error}")]
    Io { what: String, error: std::io::Error },
    #[error("{path} is damaged: {error}")]
    Json { path: String, error: serde_json::Error },
}

impl NetError {
    pub fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> NetError {
        let what = what.into();
        move |error| NetError::Io { what, error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reason_is_said_once_in_the_whole_chain() {
        let errors = [
            NetError::io("binding 0.0.0.0:80/tcp")(std::io::Error::from_raw_os_error(libc::EACCES)),
            NetError::Json {
                path: "bridge.json".into(),
                error: serde_json::from_str::<u8>("x").unwrap_err(),
            },
        ];
        for error in errors {
            let mut text = error.to_string();
            let mut cause = std::error::Error::source(&error);
            while let Some(next) = cause {
                text.push_str(&format!(": {next}"));
                cause = next.source();
            }
            assert_eq!(text, error.to_string(), "a cause repeats the message: {text}");
        }
    }
}
