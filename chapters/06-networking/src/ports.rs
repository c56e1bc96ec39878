//! `-p [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`: what to publish.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::NetError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

// ANCHOR: mapping
/// One published port. `host_port` 0 means "any free port", chosen when
/// the container starts (`-p 80`, like Docker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    pub host_ip: Ipv4Addr,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}
// ANCHOR_END: mapping

impl FromStr for PortMapping {
    type Err = NetError;

    fn from_str(spec: &str) -> Result<PortMapping, NetError> {
        let bad = || NetError::InvalidPort(spec.to_string());
        let (ports, proto) = match spec.rsplit_once('/') {
            Some((ports, "tcp")) => (ports, Proto::Tcp),
            Some((ports, "udp")) => (ports, Proto::Udp),
            Some(_) => return Err(bad()),
            None => (spec, Proto::Tcp),
        };
        let parts: Vec<&str> = ports.split(':').collect();
        let (host_ip, host_port, container_port) = match parts.as_slice() {
            [container] => ("", "", *container),
            [host, container] => ("", *host, *container),
            [ip, host, container] => (*ip, *host, *container),
            _ => return Err(bad()),
        };
        let host_ip = if host_ip.is_empty() {
            Ipv4Addr::UNSPECIFIED
        } else {
            host_ip.parse().map_err(|_| bad())?
        };
        let host_port =
            if host_port.is_empty() { 0 } else { port_number(host_port).ok_or_else(bad)? };
        let container_port = port_number(container_port).ok_or_else(bad)?;
        Ok(PortMapping { host_ip, host_port, container_port, proto })
    }
}

/// 1 to 65535, digits only.
fn port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u16>().ok().filter(|p| *p != 0)
}

impl fmt::Display for PortMapping {
    /// `docker ps`'s form: `0.0.0.0:8080->80/tcp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}->{}/{}",
            self.host_ip,
            self.host_port,
            self.container_port,
            self.proto.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(spec: &str) -> PortMapping {
        spec.parse().unwrap()
    }

    #[test]
    fn dockers_forms() {
        assert_eq!(parse("8080:80").to_string(), "0.0.0.0:8080->80/tcp");
        assert_eq!(parse("127.0.0.1:8080:80/udp").to_string(), "127.0.0.1:8080->80/udp");
        assert_eq!(parse("80").to_string(), "0.0.0.0:0->80/tcp");
        assert_eq!(parse("127.0.0.1::80").to_string(), "127.0.0.1:0->80/tcp");
        assert_eq!(parse("53:53/udp").proto, Proto::Udp);
    }

    #[test]
    fn bad_forms_are_one_clear_line() {
        for bad in [
            "",
            "0:80",
            "8080:0",
            "70000:80",
            "80/sctp",
            "a:80",
            "1.2.3:80:80",
            "1:2:3:4",
            "-1:80",
            "+80",
        ] {
            let err = bad.parse::<PortMapping>().unwrap_err();
            assert!(err.to_string().starts_with("invalid port specification"), "{bad}: {err}");
        }
    }
}
