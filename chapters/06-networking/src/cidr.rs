//! IPv4 subnets in CIDR notation (`10.77.0.0/16`): parsing, membership,
//! overlap, and the addresses a network can hand out.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid CIDR address: {0} (write it as ADDRESS/PREFIX, e.g. 10.77.0.0/16)")]
pub struct CidrError(pub String);

// ANCHOR: subnet
/// A subnet: the first address and the prefix length (how many leading
/// bits are the network part).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Subnet {
    network: Ipv4Addr,
    prefix: u8,
}
// ANCHOR_END: subnet

// ANCHOR: subnet_2
impl Subnet {
    pub fn new(address: Ipv4Addr, prefix: u8) -> Result<Subnet, CidrError> {
        if prefix > 32 {
            return Err(CidrError(format!("{address}/{prefix}")));
        }
        Ok(Subnet { network: Ipv4Addr::from(u32::from(address) & mask(prefix)), prefix })
    }

    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == u32::from(self.network)
    }

    /// Two subnets overlap when one contains the other's first address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// The broadcast address: every host bit set.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask(self.prefix))
    }

    /// The addresses hosts may use: all but the network and broadcast
    /// addresses. The first one becomes the bridge's (the gateway).
    pub fn hosts(&self) -> impl Iterator<Item = Ipv4Addr> {
        let first = u32::from(self.network) + 1;
        let last = u32::from(self.broadcast()).saturating_sub(1);
        let last = if self.prefix >= 31 { first.saturating_sub(1) } else { last };
        (first..=last).map(Ipv4Addr::from)
    }
}
// ANCHOR_END: subnet_2

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

impl FromStr for Subnet {
    type Err = CidrError;

    /// `10.77.0.0/16`. Host bits must be zero, as Docker insists
    /// (`10.77.0.5/16` names an address, not a subnet).
    fn from_str(text: &str) -> Result<Subnet, CidrError> {
        let bad = || CidrError(text.to_string());
        let (address, prefix) = text.split_once('/').ok_or_else(bad)?;
        let address: Ipv4Addr = address.parse().map_err(|_| bad())?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let subnet = Subnet::new(address, prefix).map_err(|_| bad())?;
        if subnet.network != address {
            return Err(CidrError(format!(
                "{text}: the host part must be zero, did you mean {subnet}?"
            )));
        }
        Ok(subnet)
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TryFrom<String> for Subnet {
    type Error = CidrError;
    fn try_from(text: String) -> Result<Subnet, CidrError> {
        text.parse()
    }
}

impl From<Subnet> for String {
    fn from(subnet: Subnet) -> String {
        subnet.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(net("10.77.0.0/16").to_string(), "10.77.0.0/16");
        assert_eq!(net("10.77.0.0/16").prefix(), 16);
        assert_eq!(net("0.0.0.0/0").broadcast(), Ipv4Addr::BROADCAST);
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "10.77.0.0",
            "10.77.0.0/",
            "10.77.0.0/33",
            "10.77.0/16",
            "300.1.1.0/24",
            "x/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad} was accepted");
        }
        let err = "10.77.0.5/16".parse::<Subnet>().unwrap_err();
        assert!(err.to_string().contains("did you mean 10.77.0.0/16"), "{err}");
    }

    #[test]
    fn membership_and_overlap() {
        let big = net("10.77.0.0/16");
        assert!(big.contains("10.77.255.254".parse().unwrap()));
        assert!(!big.contains("10.78.0.1".parse().unwrap()));
        assert!(big.overlaps(&net("10.77.3.0/24")));
        assert!(net("10.77.3.0/24").overlaps(&big));
        assert!(!big.overlaps(&net("10.78.0.0/16")));
        assert!(net("0.0.0.0/0").overlaps(&big));
    }

    #[test]
    fn hosts_skip_network_and_broadcast() {
        let hosts: Vec<Ipv4Addr> = net("192.168.5.0/30").hosts().collect();
        assert_eq!(
            hosts,
            ["192.168.5.1".parse::<Ipv4Addr>().unwrap(), "192.168.5.2".parse().unwrap()]
        );
        assert_eq!(net("10.0.0.0/24").hosts().count(), 254);
        assert_eq!(net("10.0.0.0/31").hosts().count(), 0);
        assert_eq!(net("10.0.0.0/32").hosts().count(), 0);
    }

    #[test]
    fn json_is_the_cidr_text() {
        let json = serde_json::to_string(&net("10.1.2.0/24")).unwrap();
        assert_eq!(json, "\"10.1.2.0/24\"");
        assert_eq!(serde_json::from_str::<Subnet>(&json).unwrap(), net("10.1.2.0/24"));
        assert!(serde_json::from_str::<Subnet>("\"10.1.2.3/24\"").is_err());
    }
}
