//! Networks: what `network create` records, and where.
//!
//! ```text
//! <root>/networks/
//!     .lock               flock: held while networks and leases change
//!     bridge.json         the default network, made on first use
//!     web.json            a user-defined network
//!     web/leases/<ip>     its addresses in use (see `ipam`)
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::cidr::Subnet;
use crate::command::{argv, output};
use crate::error::NetError;
use crate::{link, nat};

/// The default network's name, as in Docker.
pub const DEFAULT_NETWORK: &str = "bridge";

// ANCHOR: defaults
/// Our default bridge and subnet: not Docker's `docker0` and 172.17.0.0/16
/// (nor podman's 10.88.0.0/16), so all three can live on one host.
pub const DEFAULT_BRIDGE: &str = "mdbr0";
pub const DEFAULT_SUBNET: &str = "10.77.0.0/16";
/// Where user networks get a /24 when `--subnet` is not given.
pub const USER_POOL: &str = "10.78.0.0/16";

/// The default network's bridge and subnet, from `MINI_DOCKER_BRIDGE` and
/// `MINI_DOCKER_SUBNET` when set (tests give each run its own).
#[derive(Debug, Clone)]
pub struct DefaultNetwork {
    pub bridge: String,
    pub subnet: Subnet,
}

impl DefaultNetwork {
    pub fn from_env() -> Result<DefaultNetwork, NetError> {
        let bridge =
            std::env::var("MINI_DOCKER_BRIDGE").unwrap_or_else(|_| DEFAULT_BRIDGE.to_string());
        let subnet =
            std::env::var("MINI_DOCKER_SUBNET").unwrap_or_else(|_| DEFAULT_SUBNET.to_string());
        validate_bridge_name(&bridge)?;
        Ok(DefaultNetwork { bridge, subnet: subnet.parse()? })
    }
}
// ANCHOR_END: defaults

// ANCHOR: network
/// `<root>/networks/<name>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub subnet: Subnet,
    /// The bridge's own address, the containers' default route.
    pub gateway: Ipv4Addr,
    /// The Linux bridge that the containers' veths plug into.
    pub bridge: String,
    pub created: String,
}
// ANCHOR_END: network

/// The networks part of the state root.
#[derive(Debug, Clone)]
pub struct Networks {
    dir: PathBuf,
}

/// An exclusive lock, released when dropped.
pub struct NetworksLock(#[allow(dead_code)] Flock<File>);

impl Networks {
    pub fn new(state_root: &Path) -> Networks {
        Networks { dir: state_root.join("networks") }
    }

    /// Hold the lock of all networks of this root.
    pub fn lock(&self) -> Result<NetworksLock, NetError> {
        fs::create_dir_all(&self.dir)
            .map_err(NetError::io(format!("creating {}", self.dir.display())))?;
        let path = self.dir.join(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(NetError::io(format!("opening {}", path.display())))?;
        Flock::lock(file, FlockArg::LockExclusive).map(NetworksLock).map_err(|(_, errno)| {
            NetError::Io { what: format!("locking {}", path.display()), error: errno.into() }
        })
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// The directory of `name`'s leases.
    pub fn leases_dir(&self, name: &str) -> PathBuf {
        self.dir.join(name).join("leases")
    }

    /// A network by name, full id or unique id prefix.
    pub fn get(&self, wanted: &str) -> Result<Network, NetError> {
        let path = self.record_path(wanted);
        if valid_name(wanted) && path.is_file() {
            return read_record(&path);
        }
        let all = self.list()?;
        let mut by_id = all.into_iter().filter(|n| wanted.len() >= 3 && n.id.starts_with(wanted));
        match (by_id.next(), by_id.next()) {
            (Some(one), None) => Ok(one),
            _ => Err(NetError::NotFound(wanted.to_string())),
        }
    }

    pub fn list(&self) -> Result<Vec<Network>, NetError> {
        let Ok(entries) = fs::read_dir(&self.dir) else { return Ok(Vec::new()) };
        let mut all = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                all.push(read_record(&path)?);
            }
        }
        all.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(all)
    }

    // ANCHOR: create
    /// `network create`: check the name, choose or check the subnet, write
    /// the record and bring the bridge up. On failure nothing is left.
    pub fn create(
        &self,
        name: &str,
        subnet: Option<Subnet>,
        bridge: Option<String>,
    ) -> Result<Network, NetError> {
        if ["bridge", "host", "none", "default"].contains(&name) {
            return Err(NetError::Predefined(name.to_string()));
        }
        if !valid_name(name) {
            return Err(NetError::InvalidName(name.to_string()));
        }
        let _lock = self.lock()?;
        if self.record_path(name).exists() {
            return Err(NetError::Exists(name.to_string()));
        }
        let id = random_id();
        let bridge = bridge.unwrap_or_else(|| format!("mdbr-{}", &id[..8]));
        self.add(name, &id, subnet, &bridge)
    }
    // ANCHOR_END: create

    /// The default network, created on first use (the lock must be held).
    pub fn ensure_default(&self, defaults: &DefaultNetwork) -> Result<Network, NetError> {
        match read_record(&self.record_path(DEFAULT_NETWORK)) {
            Ok(network) => Ok(network),
            Err(NetError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => {
                self.add(DEFAULT_NETWORK, &random_id(), Some(defaults.subnet), &defaults.bridge)
            }
            Err(other) => Err(other),
        }
    }

    fn add(
        &self,
        name: &str,
        id: &str,
        subnet: Option<Subnet>,
        bridge: &str,
    ) -> Result<Network, NetError> {
        validate_bridge_name(bridge)?;
        let others = self.list()?;
        let subnet = match subnet {
            Some(subnet) => self.check_subnet(subnet, &others, bridge)?,
            None => self.free_subnet(&others)?,
        };
        if let Some(taken) = others.iter().find(|n| n.bridge == bridge) {
            return Err(NetError::Exists(format!(
                "{} (bridge {bridge} is used by network {})",
                name, taken.name
            )));
        }
        let gateway = subnet.hosts().next().ok_or(NetError::TooSmall(subnet))?;
        let network = Network {
            name: name.to_string(),
            id: id.to_string(),
            subnet,
            gateway,
            bridge: bridge.to_string(),
            created: now(),
        };
        write_record(&self.record_path(name), &network)?;
        if let Err(error) = bring_up(&network) {
            let _ = tear_down(&network);
            let _ = fs::remove_file(self.record_path(name));
            return Err(error);
        }
        Ok(network)
    }

    /// `bridge`: the bridge the network will use. A host route through that
    /// very bridge is ours (left by another state root, or by a crash), and
    /// is adopted rather than refused.
    fn check_subnet(
        &self,
        subnet: Subnet,
        others: &[Network],
        bridge: &str,
    ) -> Result<Subnet, NetError> {
        if subnet.prefix() > 30 {
            return Err(NetError::TooSmall(subnet));
        }
        if let Some(other) = others.iter().find(|n| n.subnet.overlaps(&subnet)) {
            return Err(NetError::Overlaps {
                subnet,
                other: other.name.clone(),
                other_subnet: other.subnet,
            });
        }
        let ours: Vec<&str> = others.iter().map(|n| n.bridge.as_str()).chain([bridge]).collect();
        if let Some(route) = host_routes()
            .into_iter()
            .find(|(route, dev)| route.overlaps(&subnet) && !ours.contains(&dev.as_str()))
        {
            return Err(NetError::OverlapsHostRoute {
                subnet,
                route: format!("{} dev {}", route.0, route.1),
            });
        }
        Ok(subnet)
    }

    /// The first /24 of [`USER_POOL`] that overlaps nothing.
    fn free_subnet(&self, others: &[Network]) -> Result<Subnet, NetError> {
        let pool: Subnet = USER_POOL.parse().expect("USER_POOL is a valid CIDR");
        let base = u32::from(pool.network());
        (0..256u32)
            .filter_map(|n| Subnet::new(Ipv4Addr::from(base + (n << 8)), 24).ok())
            .find(|candidate| self.check_subnet(*candidate, others, "").is_ok())
            .ok_or(NetError::NoFreeSubnet(pool))
    }

    /// Delete the record and what it made on the host (the caller checked
    /// that no container uses it and holds the lock).
    pub fn remove(&self, network: &Network) -> Result<(), NetError> {
        tear_down(network)?;
        let _ = fs::remove_dir_all(self.dir.join(&network.name));
        fs::remove_file(self.record_path(&network.name))
            .map_err(NetError::io(format!("removing network {}", network.name)))
    }
}

// ANCHOR: bring_up
/// Make the network exist on the host: its bridge with the gateway
/// address, the NAT and forwarding rules. Safe to call again (after a
/// reboot the bridge is gone, the record is not).
pub fn bring_up(network: &Network) -> Result<(), NetError> {
    link::ensure_bridge(&network.bridge, network.gateway, network.subnet.prefix())?;
    nat::ensure_network_rules(network)?;
    Ok(())
}

/// Undo [`bring_up`]: the network's rules and its bridge.
pub fn tear_down(network: &Network) -> Result<(), NetError> {
    nat::remove_network_rules(network)?;
    link::delete_link_if_present(&network.bridge, "delete the network's bridge")?;
    Ok(())
}
// ANCHOR_END: bring_up

/// Docker's rule for names: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && name.len() <= 64
}

/// Linux allows 15 bytes for an interface name (IFNAMSIZ is 16 with the NUL).
pub fn validate_bridge_name(name: &str) -> Result<(), NetError> {
    let bad = name.is_empty()
        || name.len() > 15
        || name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace());
    if bad || name == "." || name == ".." {
        return Err(NetError::InvalidBridgeName(name.to_string()));
    }
    Ok(())
}

/// The host's IPv4 routes other than the default: `(subnet, device)`.
fn host_routes() -> Vec<(Subnet, String)> {
    let text = output(&argv(&["ip", "-4", "route", "show"])).unwrap_or_default();
    parse_routes(&text)
}

fn parse_routes(text: &str) -> Vec<(Subnet, String)> {
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let destination = words.next()?;
            let subnet: Subnet = if destination.contains('/') {
                destination.parse().ok()?
            } else {
                format!("{destination}/32").parse().ok()?
            };
            let dev = line
                .split_whitespace()
                .skip_while(|w| *w != "dev")
                .nth(1)
                .unwrap_or("")
                .to_string();
            Some((subnet, dev))
        })
        .collect()
}

fn read_record(path: &Path) -> Result<Network, NetError> {
    let text = fs::read(path).map_err(NetError::io(format!("reading {}", path.display())))?;
    serde_json::from_slice(&text)
        .map_err(|error| NetError::Json { path: path.display().to_string(), error })
}

/// Written to a temporary name and renamed, so no reader sees half a record.
fn write_record(path: &Path, network: &Network) -> Result<(), NetError> {
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let json = serde_json::to_vec_pretty(network).expect("a network always serializes");
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(&json).and_then(|_| f.sync_all()))
        .and_then(|_| fs::rename(&tmp, path));
    written.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        NetError::Io { what: format!("writing {}", path.display()), error: e }
    })
}

/// 64 hex digits from the kernel's random pool, like Docker's ids.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    let _ =
        File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now() -> String {
    let since_epoch =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}", since_epoch.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        for good in ["web", "a", "my_net-1.2", "9lives"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "-x", ".x", "a/b", "a b", "ü"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn bridge_names_fit_in_ifnamsiz() {
        assert!(validate_bridge_name("mdbr-0123456789").is_ok());
        assert!(validate_bridge_name("mdbr-01234567890").is_err());
        assert!(validate_bridge_name("a/b").is_err());
    }

    #[test]
    fn routes_are_parsed_with_their_device() {
        let routes = parse_routes("default via 192.0.2.1 dev eth0\n192.0.2.0/24 dev eth0 proto kernel scope link src 192.0.2.2\n10.1.1.1 dev tun0\n");
        assert_eq!(
            routes,
            [
                ("192.0.2.0/24".parse().unwrap(), "eth0".to_string()),
                ("10.1.1.1/32".parse().unwrap(), "tun0".to_string())
            ]
        );
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let networks = Networks::new(dir.path());
        fs::create_dir_all(&networks.dir).unwrap();
        let net = Network {
            name: "web".into(),
            id: random_id(),
            subnet: "10.5.0.0/24".parse().unwrap(),
            gateway: "10.5.0.1".parse().unwrap(),
            bridge: "mdbr-x".into(),
            created: now(),
        };
        write_record(&networks.record_path("web"), &net).unwrap();
        assert_eq!(networks.get("web").unwrap(), net);
        assert_eq!(networks.get(&net.id[..6]).unwrap(), net);
        assert!(matches!(networks.get("nope"), Err(NetError::NotFound(_))));
        assert_eq!(networks.list().unwrap(), std::slice::from_ref(&net));
        let overlap = networks
            .check_subnet("10.5.0.0/16".parse().unwrap(), std::slice::from_ref(&net), "")
            .unwrap_err();
        assert_eq!(
            overlap.to_string(),
            "subnet 10.5.0.0/16 overlaps with network web (10.5.0.0/24): choose another --subnet"
        );
        assert!(matches!(
            networks.check_subnet("10.6.0.0/31".parse().unwrap(), &[], ""),
            Err(NetError::TooSmall(_))
        ));
    }
}
