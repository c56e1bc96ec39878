//! Exercise `port_rules` (medium). Book: ch06-networking.md, "The rules".
//!
//! `-p 127.0.0.1:8080:80` for a container at 10.5.0.2 on bridge `mdbr-web`
//! takes two iptables rules, the ones Docker writes (`setPerPortNAT`):
//!
//! ```text
//! nat    MINI-DOCKER          [-d HOSTIP/32] ! -i BRIDGE -p PROTO -m PROTO --dport HOSTPORT
//!                             -j DNAT --to-destination IP:CONTAINERPORT
//! filter MINI-DOCKER-FORWARD  -d IP/32 ! -i BRIDGE -o BRIDGE -p PROTO -m PROTO
//!                             --dport CONTAINERPORT -j ACCEPT
//! ```
//!
//! The first rewrites where packets for the host port go; the second lets
//! the rewritten packets through the forward filter. `-d HOSTIP/32` only
//! when the host address is not `0.0.0.0`. Return them in that order, each
//! a `Rule` with `first: false`, `spec` the words above, `tag` the
//! container's (`nat::container_tag(bridge, container_id)`: cleanup finds
//! them by it) and a `why` of your own words. `Rule::command("-A")` then
//! adds `iptables -w -t TABLE -A CHAIN` before and the comment after.

use std::net::Ipv4Addr;

use ch06_networking::command::argv;
use ch06_networking::nat::{container_tag, Rule, DNAT_CHAIN, FORWARD_CHAIN};
use ch06_networking::{Network, PortMapping};

/// A published port: DNAT the host port to the container, and let it through.
pub fn port_rules(
    network: &Network,
    container_id: &str,
    ip: Ipv4Addr,
    port: &PortMapping,
) -> Vec<Rule> {
    todo!("build the two specs with argv(&[..]), then the two Rules")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the host address of `-p 127.0.0.1:8080:80`
    // ignored: the DNAT rule has no `-d 127.0.0.1/32`, and the port opens on every address.
    // Checked by pasting it into the reference implementation: it fails `a_host_address_and_udp`.
    //
    //     // dnat built without: if !port.host_ip.is_unspecified() { dnat.splice(0..0, argv(&["-d", ..])) }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch06_networking::nat as solution;

    use ch06_networking::command::shell_line;
    use ch06_networking::{Network, PortMapping};

    fn network(bridge: &str) -> Network {
        Network {
            name: "web".into(),
            id: "ab".repeat(32),
            subnet: "10.5.0.0/24".parse().unwrap(),
            gateway: "10.5.0.1".parse().unwrap(),
            bridge: bridge.into(),
            created: "0".into(),
        }
    }

    fn commands(bridge: &str, container_id: &str, ip: &str, spec: &str) -> Vec<String> {
        let port: PortMapping = spec.parse().unwrap();
        let rules =
            solution::port_rules(&network(bridge), container_id, ip.parse().unwrap(), &port);
        assert!(
            rules.iter().all(|r| !r.first && !r.why.is_empty()),
            "appended (-A), each with a reason: {rules:?}"
        );
        rules.iter().map(|r| shell_line(&r.command("-A"))).collect()
    }

    #[test]
    fn a_port_on_every_host_address() {
        let id = format!("0123456789ab{}", "f".repeat(52));
        assert_eq!(
            commands("mdbr-web", &id, "10.5.0.2", "8080:80"),
            [
                "iptables -w -t nat -A MINI-DOCKER ! -i mdbr-web -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.5.0.2:80 -m comment --comment mini-docker:mdbr-web/0123456789ab",
                "iptables -w -t filter -A MINI-DOCKER-FORWARD -d 10.5.0.2/32 ! -i mdbr-web -o mdbr-web -p tcp -m tcp --dport 80 -j ACCEPT -m comment --comment mini-docker:mdbr-web/0123456789ab",
            ]
        );
    }

    #[test]
    fn a_host_address_and_udp() {
        assert_eq!(
            commands("mdbr0", &"c".repeat(64), "10.5.0.9", "127.0.0.1:5353:53/udp"),
            [
                "iptables -w -t nat -A MINI-DOCKER -d 127.0.0.1/32 ! -i mdbr0 -p udp -m udp --dport 5353 -j DNAT --to-destination 10.5.0.9:53 -m comment --comment mini-docker:mdbr0/cccccccccccc",
                "iptables -w -t filter -A MINI-DOCKER-FORWARD -d 10.5.0.9/32 ! -i mdbr0 -o mdbr0 -p udp -m udp --dport 53 -j ACCEPT -m comment --comment mini-docker:mdbr0/cccccccccccc",
            ]
        );
    }

    #[test]
    fn each_container_and_port_gets_its_own_rules() {
        let a = commands("mdbr0", &"a".repeat(64), "10.5.0.2", "8080:80");
        let b = commands("mdbr0", &"b".repeat(64), "10.5.0.3", "8081:80");
        assert!(
            a[0].contains("--dport 8080")
                && a[0].contains("10.5.0.2:80")
                && a[0].ends_with("mdbr0/aaaaaaaaaaaa")
        );
        assert!(
            b[0].contains("--dport 8081")
                && b[0].contains("10.5.0.3:80")
                && b[0].ends_with("mdbr0/bbbbbbbbbbbb")
        );
        assert!(b[1].starts_with("iptables -w -t filter -A MINI-DOCKER-FORWARD -d 10.5.0.3/32"));
    }
}
