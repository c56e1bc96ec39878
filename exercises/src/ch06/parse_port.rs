//! Exercise `parse_port` (medium). Book: ch06-networking.md, "Publishing a port".
//!
//! Write `PortMapping::from_str` as a free function: one `-p` value,
//! `[HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]`, as Docker reads it:
//! - `/tcp` or `/udp` at the end picks the protocol (tcp when absent);
//!   any other `/...` is an error;
//! - then one, two or three `:`-separated parts: `80`, `8080:80`,
//!   `127.0.0.1:8080:80`, `127.0.0.1::80` (host port left empty);
//! - a missing host address is `0.0.0.0` (every address), a missing host
//!   port is `0` ("any free port", chosen at start);
//! - a port is 1 to 65535 in plain digits (no sign, no spaces);
//!   `0` written out is an error, not "any".
//!
//! Every error is `NetError::InvalidPort(spec)` with the whole spec.

use std::net::Ipv4Addr;

use ch06_networking::{NetError, PortMapping, Proto};

/// Parse one `-p` value.
pub fn from_str(spec: &str) -> Result<PortMapping, NetError> {
    todo!("split off the protocol, then the ':' parts; check each port")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: anything after the `/` taken as tcp: `80/sctp`
    // or `80/tpc` is accepted instead of refused. Checked by pasting it into the reference
    // implementation: it fails `bad_specs_are_invalid_port_with_the_whole_spec`.
    //
    //     let (ports, proto) = match spec.rsplit_once('/') {
    //         Some((ports, "udp")) => (ports, Proto::Udp),
    //         Some((ports, _)) => (ports, Proto::Tcp),
    //         None => (spec, Proto::Tcp),
    //     };

    #[cfg(feature = "reference")]
    mod solution {
        use ch06_networking::{NetError, PortMapping};

        /// The real function is `FromStr for PortMapping`; this only forwards to it.
        pub fn from_str(spec: &str) -> Result<PortMapping, NetError> {
            spec.parse()
        }
    }
    #[cfg(not(feature = "reference"))]
    use super as solution;

    use std::net::Ipv4Addr;

    use ch06_networking::{NetError, PortMapping, Proto};

    fn port(spec: &str) -> PortMapping {
        solution::from_str(spec).unwrap_or_else(|e| panic!("{spec}: {e}"))
    }

    fn mapping(host_ip: &str, host_port: u16, container_port: u16, proto: Proto) -> PortMapping {
        PortMapping {
            host_ip: host_ip.parse::<Ipv4Addr>().unwrap(),
            host_port,
            container_port,
            proto,
        }
    }

    #[test]
    fn dockers_three_forms() {
        assert_eq!(port("80"), mapping("0.0.0.0", 0, 80, Proto::Tcp));
        assert_eq!(port("8080:80"), mapping("0.0.0.0", 8080, 80, Proto::Tcp));
        assert_eq!(port("127.0.0.1:8080:80"), mapping("127.0.0.1", 8080, 80, Proto::Tcp));
        assert_eq!(port("127.0.0.1::80"), mapping("127.0.0.1", 0, 80, Proto::Tcp));
        assert_eq!(port("65535:1"), mapping("0.0.0.0", 65535, 1, Proto::Tcp));
    }

    #[test]
    fn the_protocol_comes_last() {
        assert_eq!(port("53:53/udp"), mapping("0.0.0.0", 53, 53, Proto::Udp));
        assert_eq!(port("10.0.0.1:5353:53/udp"), mapping("10.0.0.1", 5353, 53, Proto::Udp));
        assert_eq!(port("443/tcp"), mapping("0.0.0.0", 0, 443, Proto::Tcp));
        assert_eq!(port("443/tcp").to_string(), "0.0.0.0:0->443/tcp");
    }

    #[test]
    fn bad_specs_are_invalid_port_with_the_whole_spec() {
        let bad = [
            "",
            "0",
            "0:80",
            "8080:0",
            "70000:80",
            "80:65536",
            "80/sctp",
            "80/",
            "a:80",
            "80:b",
            "1.2.3:80:80",
            "1:2:3:4",
            "-1:80",
            "+80",
            " 80",
            "127.0.0.1:80",
        ];
        for spec in bad {
            match solution::from_str(spec) {
                Err(NetError::InvalidPort(given)) => assert_eq!(given, spec),
                other => {
                    panic!("{spec:?} gave {other:?}, want Err(NetError::InvalidPort({spec:?}))")
                }
            }
        }
    }
}
