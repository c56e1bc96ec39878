//! The packet filter: forwarding, masquerade, published ports, isolation.
//!
//! Everything lives in chains of our own, jumped to from the built-in
//! ones, and every rule carries a comment `mini-docker:<bridge>` (or
//! `mini-docker:<bridge>/<container>` for a published port), so cleanup
//! deletes exactly our rules and nothing of Docker's or the admin's.
//!
//! ```text
//! nat     PREROUTING  --dst-type LOCAL ───────────────▶ MINI-DOCKER  (DNAT per port)
//!         OUTPUT      ! -d 127/8 --dst-type LOCAL ────▶ MINI-DOCKER
//!         POSTROUTING ────────────────────────────────▶ MINI-DOCKER-POSTROUTING (MASQUERADE)
//! filter  FORWARD ────────────────────────────────────▶ MINI-DOCKER-FORWARD
//!                                                         ├▶ MINI-DOCKER-ISOLATION-1 ─▶ -2 (DROP)
//!                                                         └  ACCEPT what our bridges send or await
//! ```

use std::fs::{File, OpenOptions};
use std::net::Ipv4Addr;

use nix::fcntl::{Flock, FlockArg};

use crate::command::{argv, output, run, run_with_input, shell_line, succeeds};
use crate::error::NetError;
use crate::network::Network;
use crate::ports::PortMapping;

pub const DNAT_CHAIN: &str = "MINI-DOCKER";
pub const POSTROUTING_CHAIN: &str = "MINI-DOCKER-POSTROUTING";
pub const FORWARD_CHAIN: &str = "MINI-DOCKER-FORWARD";
pub const ISOLATION_1: &str = "MINI-DOCKER-ISOLATION-1";
pub const ISOLATION_2: &str = "MINI-DOCKER-ISOLATION-2";
/// The comment on the jumps into our chains; networks add `:<bridge>`.
pub const TAG: &str = "mini-docker";

const CHAINS: [(&str, &str); 5] = [
    ("nat", DNAT_CHAIN),
    ("nat", POSTROUTING_CHAIN),
    ("filter", FORWARD_CHAIN),
    ("filter", ISOLATION_1),
    ("filter", ISOLATION_2),
];
/// Every host in this kernel shares the packet filter: one lock for all roots.
const LOCK_DIR: &str = "/run/mini-docker";
const IP_FORWARD: &str = "/proc/sys/net/ipv4/ip_forward";
const BOOK: &str = "ch06-networking.md#routing-and-nat";
const BOOK_PORTS: &str = "ch06-networking.md#publishing-a-port";

/// One iptables rule: where it goes, what it matches, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub table: &'static str,
    pub chain: &'static str,
    /// Insert at the top (`-I`) rather than append (`-A`).
    pub first: bool,
    pub spec: Vec<String>,
    pub tag: String,
    pub why: String,
}

impl Rule {
    fn new(table: &'static str, chain: &'static str, spec: &[&str], tag: &str, why: &str) -> Rule {
        Rule {
            table,
            chain,
            first: false,
            spec: argv(spec),
            tag: tag.to_string(),
            why: why.to_string(),
        }
    }

    /// The iptables command that adds (`-A`/`-I`), checks (`-C`) or deletes (`-D`) it.
    pub fn command(&self, action: &str) -> Vec<String> {
        let mut words = argv(&["iptables", "-w", "-t", self.table, action, self.chain]);
        words.extend(self.spec.iter().cloned());
        words.extend(argv(&["-m", "comment", "--comment", &self.tag]));
        words
    }
}

pub fn network_tag(bridge: &str) -> String {
    format!("{TAG}:{bridge}")
}

pub fn container_tag(bridge: &str, container_id: &str) -> String {
    format!("{TAG}:{bridge}/{}", &container_id[..container_id.len().min(12)])
}

// ANCHOR: base_rules
/// The jumps from the kernel's built-in chains into ours, made once.
pub fn base_rules() -> Vec<Rule> {
    let mut to_forward = Rule::new(
        "filter",
        "FORWARD",
        &["-j", FORWARD_CHAIN],
        TAG,
        "send forwarded packets through our chain first",
    );
    to_forward.first = true;
    let mut isolation = Rule::new(
        "filter",
        FORWARD_CHAIN,
        &["-j", ISOLATION_1],
        TAG,
        "check isolation between networks before accepting anything",
    );
    isolation.first = true;
    vec![
        Rule::new("nat", "PREROUTING", &["-m", "addrtype", "--dst-type", "LOCAL", "-j", DNAT_CHAIN], TAG, "packets arriving for one of the host's addresses may be for a published port"),
        Rule::new("nat", "OUTPUT", &["!", "-d", "127.0.0.0/8", "-m", "addrtype", "--dst-type", "LOCAL", "-j", DNAT_CHAIN], TAG, "so may the host's own connections to its addresses (not loopback: the proxy serves that)"),
        Rule::new("nat", "POSTROUTING", &["-j", POSTROUTING_CHAIN], TAG, "outgoing packets go through our masquerade chain"),
        to_forward,
        isolation,
    ]
}
// ANCHOR_END: base_rules

// ANCHOR: network_rules
/// A network's rules: masquerade its traffic to the outside, accept what
/// it sends and the replies it awaits, and keep it apart from our others.
pub fn network_rules(network: &Network) -> Vec<Rule> {
    let (br, subnet, tag) =
        (network.bridge.as_str(), network.subnet.to_string(), network_tag(&network.bridge));
    vec![
        Rule::new("nat", POSTROUTING_CHAIN, &["-s", &subnet, "!", "-o", br, "-j", "MASQUERADE"], &tag, "leaving the host, containers' packets take the host's address (masquerade)"),
        Rule::new("nat", DNAT_CHAIN, &["-i", br, "-j", "RETURN"], &tag, "containers reaching the host's addresses are not port-forwarded back (the proxy serves them)"),
        Rule::new("filter", ISOLATION_1, &["-i", br, "!", "-o", br, "-j", ISOLATION_2], &tag, "packets leaving this network for another interface are checked..."),
        Rule::new("filter", ISOLATION_2, &["-o", br, "-j", "DROP"], &tag, "...and dropped if they come from another of our networks"),
        Rule::new("filter", FORWARD_CHAIN, &["-o", br, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"], &tag, "accept replies to connections the containers opened"),
        Rule::new("filter", FORWARD_CHAIN, &["-i", br, "-j", "ACCEPT"], &tag, "accept what the containers send (to each other and out)"),
    ]
}
// ANCHOR_END: network_rules

// ANCHOR: port_rules
/// A published port: DNAT the host port to the container's address and
/// port (Docker's `setPerPortNAT`), and let those packets through.
pub fn port_rules(
    network: &Network,
    container_id: &str,
    ip: Ipv4Addr,
    port: &PortMapping,
) -> Vec<Rule> {
    let (br, proto) = (network.bridge.as_str(), port.proto.name());
    let tag = container_tag(&network.bridge, container_id);
    let (host_port, to) = (port.host_port, format!("{ip}:{}", port.container_port));
    let mut dnat = format!(
        "! -i {br} -p {proto} -m {proto} --dport {host_port} -j DNAT --to-destination {to}"
    );
    if !port.host_ip.is_unspecified() {
        dnat = format!("-d {}/32 {dnat}", port.host_ip);
    }
    let accept = format!(
        "-d {ip}/32 ! -i {br} -o {br} -p {proto} -m {proto} --dport {} -j ACCEPT",
        port.container_port
    );
    let why_dnat = format!("connections to host port {host_port} go to {to}");
    let why_accept = format!("let the forwarded connections reach {to}");
    vec![
        Rule::new("nat", DNAT_CHAIN, &words(&dnat), &tag, &why_dnat),
        Rule::new("filter", FORWARD_CHAIN, &words(&accept), &tag, &why_accept),
    ]
}

/// A rule written as iptables' own words (a bridge's name has no spaces).
fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}
// ANCHOR_END: port_rules

// ANCHOR: ensure_network_rules
/// Make sure the network's rules (and our chains) are there. Checking them
/// costs a dozen `iptables` processes, so, as dockerd does when it creates
/// a network, we check once and leave a note in /run (gone at reboot, with
/// the rules): the next `run` on this network reads the note and starts none.
pub fn ensure_network_rules(network: &Network) -> Result<(), NetError> {
    let rules = network_rules(network);
    let note = rules_note(&network.bridge);
    let expected = note_text(&rules);
    if std::fs::read_to_string(&note).is_ok_and(|text| text == expected) {
        return enable_ip_forward();
    }
    with_host_lock(|| {
        ensure_base()?;
        add_missing(&rules, BOOK)?;
        std::fs::create_dir_all(format!("{LOCK_DIR}/rules"))
            .and_then(|_| std::fs::write(&note, expected))
            .map_err(NetError::io(format!("writing {note}")))
    })
}
// ANCHOR_END: ensure_network_rules

/// `/run/mini-docker/rules/<bridge>`: "this network's rules are in".
fn rules_note(bridge: &str) -> String {
    format!("{LOCK_DIR}/rules/{bridge}")
}

/// What the note holds: the rules themselves, so a changed rule set (a
/// newer mini-docker) is checked again.
fn note_text(rules: &[Rule]) -> String {
    rules.iter().map(|r| shell_line(&r.command("-A")) + "\n").collect()
}

// ANCHOR: port_batch
/// Add a container's published ports: all its rules in one
/// `iptables-restore --noflush` (a batch that adds to the tables instead
/// of replacing them, applied at once or not at all), not one `iptables`
/// process per rule.
pub fn add_port_rules(
    network: &Network,
    container_id: &str,
    ip: Ipv4Addr,
    ports: &[PortMapping],
) -> Result<(), NetError> {
    let rules = published_rules(network, container_id, ip, ports);
    if rules.is_empty() {
        return Ok(());
    }
    let what = format!("publish {} of the container at {ip}", port_list(ports));
    with_host_lock(|| restore(&what, &batch(&rules, "-A"), BOOK_PORTS))
}
// ANCHOR_END: port_batch

// ANCHOR: port_batch_remove

/// Every rule of every published port of one container.
fn published_rules(
    network: &Network,
    container_id: &str,
    ip: Ipv4Addr,
    ports: &[PortMapping],
) -> Vec<Rule> {
    ports.iter().flat_map(|p| port_rules(network, container_id, ip, p)).collect()
}

/// Remove a container's published ports: the same batch with `-D`. If a
/// rule is missing (removed by hand, or a crash before they were all
/// added), the batch fails as a whole, and we delete whatever is tagged.
pub fn remove_port_rules(
    network: &Network,
    container_id: &str,
    ip: Ipv4Addr,
    ports: &[PortMapping],
) -> Result<(), NetError> {
    let rules = published_rules(network, container_id, ip, ports);
    if rules.is_empty() {
        return Ok(());
    }
    let what = format!("unpublish {} of the container at {ip}", port_list(ports));
    let tag = container_tag(&network.bridge, container_id);
    with_host_lock(|| {
        restore(&what, &batch(&rules, "-D"), BOOK_PORTS).or_else(|_| remove_tagged(|t| t == tag))
    })
}
// ANCHOR_END: port_batch_remove

// ANCHOR: port_batch_remove_2
/// `127.0.0.1:8080->80/tcp, 0.0.0.0:53->53/udp`, as `docker port` shows them.
fn port_list(ports: &[PortMapping]) -> String {
    let shown: Vec<String> = ports
        .iter()
        .map(|p| format!("{}:{}->{}/{}", p.host_ip, p.host_port, p.container_port, p.proto.name()))
        .collect();
    shown.join(", ")
}

/// `iptables-restore` input: per table, `*table`, the rules, `COMMIT`;
/// each rule after a `#` line that says why.
pub fn batch(rules: &[Rule], action: &str) -> String {
    let mut text = String::new();
    for table in ["nat", "filter"] {
        let mine: Vec<&Rule> = rules.iter().filter(|r| r.table == table).collect();
        if mine.is_empty() {
            continue;
        }
        text.push_str(&format!("*{table}\n"));
        for rule in mine {
            let words = &rule.command(action)[4..]; // without "iptables -w -t TABLE"
            text.push_str(&format!("# {}\n{}\n", rule.why, words.join(" ")));
        }
        text.push_str("COMMIT\n");
    }
    text
}
// ANCHOR_END: port_batch_remove_2

fn restore(what: &str, batch: &str, book: &str) -> Result<(), NetError> {
    let argv = argv(&["iptables-restore", "-w", "--noflush"]);
    let kernel = "nf_tables netlink batch (iptables-nft): one transaction";
    run_with_input(what, kernel, &argv, batch, book)?;
    Ok(())
}

/// Remove a network's rules and its containers' ports; when no network of
/// ours is left on this host, remove our chains too and restore ip_forward.
pub fn remove_network_rules(network: &Network) -> Result<(), NetError> {
    let tag = network_tag(&network.bridge);
    let prefix = format!("{tag}/");
    with_host_lock(|| {
        let note = rules_note(&network.bridge);
        std::fs::remove_file(&note)
            .or_else(|e| if e.kind() == std::io::ErrorKind::NotFound { Ok(()) } else { Err(e) })
            .map_err(NetError::io(format!("removing {note}")))?;
        remove_tagged(|t| t == tag || t.starts_with(&prefix))?;
        remove_base_if_unused()
    })
}

fn add_missing(rules: &[Rule], book: &str) -> Result<(), NetError> {
    for rule in rules {
        if !succeeds(&rule.command("-C")) {
            let action = if rule.first { "-I" } else { "-A" };
            run(
                &rule.why,
                "nf_tables netlink batch (iptables-nft), or setsockopt(IPT_SO_SET_REPLACE)",
                &rule.command(action),
                book,
            )?;
        }
    }
    Ok(())
}

// ANCHOR: ensure_base
/// Our chains, the jumps into them, and forwarding: made once per host.
fn ensure_base() -> Result<(), NetError> {
    for (table, chain) in CHAINS {
        if !succeeds(&argv(&["iptables", "-w", "-t", table, "-S", chain])) {
            run(
                &format!("create our own chain {chain} in table {table}"),
                "nf_tables netlink NFT_MSG_NEWCHAIN",
                &argv(&["iptables", "-w", "-t", table, "-N", chain]),
                BOOK,
            )?;
        }
    }
    add_missing(&base_rules(), BOOK)?;
    enable_ip_forward()
}

/// Routing between interfaces is off by default; the original value is kept
/// in /run/mini-docker so that the last cleanup can put it back.
fn enable_ip_forward() -> Result<(), NetError> {
    let current = std::fs::read_to_string(IP_FORWARD)
        .map_err(NetError::io(format!("reading {IP_FORWARD}")))?;
    if current.trim() == "1" {
        return Ok(());
    }
    std::fs::write(format!("{LOCK_DIR}/ip_forward.orig"), current.trim())
        .map_err(NetError::io("saving ip_forward"))?;
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: "let the kernel route packets between interfaces (bridge <-> outside)",
        syscall: &format!("write(\"{IP_FORWARD}\", \"1\")"),
        shell: "sysctl -w net.ipv4.ip_forward=1",
        book: BOOK,
    });
    std::fs::write(IP_FORWARD, "1").map_err(NetError::io(format!("writing {IP_FORWARD}")))
}
// ANCHOR_END: ensure_base

/// Undo [`ensure_base`] when no rule of any network of ours remains.
fn remove_base_if_unused() -> Result<(), NetError> {
    let any_ours = ["nat", "filter"]
        .iter()
        .flat_map(|t| saved_rules(t))
        .any(|(_, words)| comment_of(&words).is_some_and(|c| c.starts_with(&format!("{TAG}:"))));
    if any_ours {
        return Ok(());
    }
    remove_tagged(|t| t == TAG)?;
    for (table, chain) in CHAINS {
        if succeeds(&argv(&["iptables", "-w", "-t", table, "-S", chain])) {
            run(
                &format!("delete our chain {chain}: no network of ours is left"),
                "nf_tables netlink NFT_MSG_DELCHAIN",
                &argv(&["iptables", "-w", "-t", table, "-X", chain]),
                BOOK,
            )?;
        }
    }
    let saved = format!("{LOCK_DIR}/ip_forward.orig");
    if let Ok(original) = std::fs::read_to_string(&saved) {
        ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
            what: "put ip_forward back as it was before mini-docker",
            syscall: &format!("write(\"{IP_FORWARD}\", \"{original}\")"),
            shell: &format!("sysctl -w net.ipv4.ip_forward={original}"),
            book: BOOK,
        });
        std::fs::write(IP_FORWARD, original.trim())
            .map_err(NetError::io(format!("writing {IP_FORWARD}")))?;
        let _ = std::fs::remove_file(saved);
    }
    Ok(())
}

// ANCHOR: remove_tagged
/// Delete every rule whose comment `matches`, found in `iptables-save`:
/// we delete what is there, not what we think we added, so a crash
/// between two rules leaves nothing behind either.
fn remove_tagged(matches: impl Fn(&str) -> bool) -> Result<(), NetError> {
    for table in ["nat", "filter"] {
        for (_, words) in
            saved_rules(table).into_iter().filter(|(_, w)| comment_of(w).is_some_and(&matches))
        {
            let mut command = argv(&["iptables", "-w", "-t", table, "-D"]);
            command.extend(words);
            run("delete our rule", "nf_tables netlink NFT_MSG_DELRULE", &command, BOOK)?;
        }
    }
    Ok(())
}
// ANCHOR_END: remove_tagged

/// `-A CHAIN words...` lines of `iptables-save -t table`, split into words
/// (our rules never contain spaces inside a word; quotes are dropped).
fn saved_rules(table: &str) -> Vec<(String, Vec<String>)> {
    let text = output(&argv(&["iptables-save", "-t", table])).unwrap_or_default();
    parse_saved(&text)
}

fn parse_saved(text: &str) -> Vec<(String, Vec<String>)> {
    text.lines()
        .filter_map(|line| line.strip_prefix("-A "))
        .map(|rule| {
            let words: Vec<String> =
                rule.split_whitespace().map(|w| w.trim_matches('"').to_string()).collect();
            (words[0].clone(), words)
        })
        .collect()
}

fn comment_of(words: &[String]) -> Option<&str> {
    words.iter().position(|w| w == "--comment").and_then(|i| words.get(i + 1)).map(String::as_str)
}

/// Every rule of ours on this host whose comment contains `marker`
/// (`iptables-save | grep marker`), for leftover checks.
pub fn rules_mentioning(marker: &str) -> Vec<String> {
    ["nat", "filter"]
        .iter()
        .flat_map(|t| {
            saved_rules(t).into_iter().map(move |(_, w)| format!("{t}: -A {}", w.join(" ")))
        })
        .filter(|line| line.contains(marker))
        .collect()
}

fn with_host_lock<T>(work: impl FnOnce() -> Result<T, NetError>) -> Result<T, NetError> {
    std::fs::create_dir_all(LOCK_DIR).map_err(NetError::io(format!("creating {LOCK_DIR}")))?;
    let path = format!("{LOCK_DIR}/iptables.lock");
    let file: File = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(NetError::io(format!("opening {path}")))?;
    let _lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| NetError::Io { what: format!("locking {path}"), error: e.into() })?;
    work()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network() -> Network {
        Network {
            name: "web".into(),
            id: "ab".repeat(32),
            subnet: "10.5.0.0/24".parse().unwrap(),
            gateway: "10.5.0.1".parse().unwrap(),
            bridge: "mdbr-web".into(),
            created: "0".into(),
        }
    }

    #[test]
    fn port_rules_are_dockers_dnat_and_accept() {
        let port: PortMapping = "127.0.0.1:8080:80".parse().unwrap();
        let rules = port_rules(&network(), &"c".repeat(64), "10.5.0.2".parse().unwrap(), &port);
        let commands: Vec<String> =
            rules.iter().map(|r| crate::command::shell_line(&r.command("-A"))).collect();
        assert_eq!(
            commands,
            [
                "iptables -w -t nat -A MINI-DOCKER -d 127.0.0.1/32 ! -i mdbr-web -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.5.0.2:80 -m comment --comment mini-docker:mdbr-web/cccccccccccc",
                "iptables -w -t filter -A MINI-DOCKER-FORWARD -d 10.5.0.2/32 ! -i mdbr-web -o mdbr-web -p tcp -m tcp --dport 80 -j ACCEPT -m comment --comment mini-docker:mdbr-web/cccccccccccc",
            ]
        );
    }

    #[test]
    fn network_rules_carry_the_bridge_tag() {
        let rules = network_rules(&network());
        assert!(rules.iter().all(|r| r.tag == "mini-docker:mdbr-web"));
        let masquerade = crate::command::shell_line(&rules[0].command("-A"));
        assert_eq!(masquerade, "iptables -w -t nat -A MINI-DOCKER-POSTROUTING -s 10.5.0.0/24 ! -o mdbr-web -j MASQUERADE -m comment --comment mini-docker:mdbr-web");
    }

    #[test]
    fn saved_rules_are_split_and_their_comment_found() {
        let saved = "*nat\n:MINI-DOCKER - [0:0]\n-A MINI-DOCKER -i mdbr0 -m comment --comment \"mini-docker:mdbr0\" -j RETURN\n-A POSTROUTING -j X\nCOMMIT\n";
        let rules = parse_saved(saved);
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].0, "MINI-DOCKER");
        assert_eq!(comment_of(&rules[0].1), Some("mini-docker:mdbr0"));
        assert_eq!(comment_of(&rules[1].1), None);
    }
}
