//! # Chapter 6 — networking
//!
//! Give each container a network of its own and connect it: a bridge per
//! network, a veth pair per container, addresses from a lease directory,
//! NAT to the outside and published ports from the host.
//!
//! - [`cidr`] / [`ipam`]: subnets, and addresses handed out exactly once.
//! - [`network`]: network records (`network create/ls/rm/inspect`), the default network.
//! - [`link`]: bridge, veth, the container's eth0, address and route.
//! - [`netlink`]: the rtnetlink messages behind [`link`], written by us.
//! - [`nat`]: ip_forward, masquerade, DNAT per published port, isolation (with `iptables`).
//! - [`proxy`]: the userland proxy for connections to 127.0.0.1.
//! - [`hosts`]: the other containers' names in /etc/hosts.
//! - [`attach`]: a container on its networks: prepare, parent hook, release.
//! - [`connect`]: `network connect` and `disconnect`, running or not.
//! - [`extension`]: how all this plugs into chapter 5's engine.

pub mod attach;
pub mod cidr;
pub mod command;
pub mod connect;
pub mod error;
pub mod extension;
pub mod hosts;
pub mod inspect;
pub mod ipam;
pub mod link;
pub mod nat;
pub mod netlink;
pub mod network;
pub mod ports;
pub mod proxy;

pub use attach::{
    endpoint_of, endpoints_of, prune, release_container, remove_network, AttachRequest, Attachment,
    Endpoint, NetworkMode,
};
pub use cidr::Subnet;
pub use connect::{connect, disconnect, Changed};
pub use error::NetError;
pub use extension::{NetworkSettings, Networking};
pub use network::{DefaultNetwork, Network, Networks};
pub use ports::{PortMapping, Proto};
