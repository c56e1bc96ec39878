//! The three files every container gets from its engine, not its image:
//! `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf`. They are written
//! into the container's directory on the host and bind-mounted over the
//! image's, as Docker does.

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Docker's fallback name servers when the host has none a container can
/// reach (moby `libnetwork/internal/resolvconf`). Docker adds its IPv6 pair
/// only on IPv6 networks, which mini-docker has none of.
pub const DEFAULT_NAMESERVERS: [&str; 2] = ["8.8.8.8", "8.8.4.4"];

/// Where systemd-resolved keeps the real upstream servers when
/// `/etc/resolv.conf` points at its local stub (127.0.0.53).
pub const SYSTEMD_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";

/// The container's copies, in its directory on the host.
#[derive(Debug, Clone)]
pub struct EtcFiles {
    pub hostname: PathBuf,
    pub hosts: PathBuf,
    pub resolv_conf: PathBuf,
}

impl EtcFiles {
    /// Where the three files of the container whose directory is `dir` are.
    pub fn in_dir(dir: &Path) -> EtcFiles {
        EtcFiles {
            hostname: dir.join("hostname"),
            hosts: dir.join("hosts"),
            resolv_conf: dir.join("resolv.conf"),
        }
    }

    /// Each host file with the path it is mounted on inside the container.
    pub fn mounts(&self) -> [(&Path, &'static str); 3] {
        [
            (&self.hostname, "etc/hostname"),
            (&self.hosts, "etc/hosts"),
            (&self.resolv_conf, "etc/resolv.conf"),
        ]
    }
}

// ANCHOR: hosts_file
/// Docker's `/etc/hosts` (libnetwork `etchosts`): the localhost lines, then
/// the container's own name. Until chapter 6 gives the container an address
/// its name points at the loopback address.
pub fn hosts_file(hostname: &str, ip: Option<IpAddr>) -> String {
    let own_address = ip.map(|ip| ip.to_string()).unwrap_or_else(|| "127.0.0.1".to_string());
    format!(
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::\tip6-localnet\n\
         ff00::\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n\
         {own_address}\t{hostname}\n"
    )
}
// ANCHOR_END: hosts_file

// ANCHOR: resolv_conf
/// The container's `resolv.conf`, derived from the host's: a name server on
/// the host's loopback (127.x, ::1) cannot be reached from the container's
/// own network namespace, so it is dropped; if none remain, Docker's
/// defaults are used. Search domains and options are kept.
pub fn resolv_conf_from(host: &str) -> String {
    let mut kept = Vec::new();
    let mut nameservers = 0;
    for line in host.lines() {
        match nameserver_of(line) {
            Some(Ok(ip)) if ip.is_loopback() => continue,
            Some(_) => nameservers += 1,
            None => {}
        }
        kept.push(line.to_string());
    }
    if nameservers == 0 {
        kept.extend(DEFAULT_NAMESERVERS.iter().map(|ns| format!("nameserver {ns}")));
    }
    kept.join("\n") + "\n"
}
// ANCHOR_END: resolv_conf

/// `Some(address)` when `line` is a `nameserver` line.
fn nameserver_of(line: &str) -> Option<Result<IpAddr, ()>> {
    let mut words = line.split_whitespace();
    if words.next() != Some("nameserver") {
        return None;
    }
    // An address may carry a zone: fe80::1%eth0.
    let address = words.next().unwrap_or("").split('%').next().unwrap_or("");
    Some(address.parse().map_err(|_| ()))
}

/// The host file to derive from: the systemd-resolved upstream list when
/// `/etc/resolv.conf` only names the local stub, as Docker does.
pub fn host_resolv_conf() -> String {
    let etc = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let only_loopback =
        etc.lines().filter_map(nameserver_of).all(|ns| matches!(ns, Ok(ip) if ip.is_loopback()));
    if only_loopback {
        if let Ok(upstream) = std::fs::read_to_string(SYSTEMD_RESOLV_CONF) {
            return upstream;
        }
    }
    etc
}

/// Write the three files into `dir` (the container's directory).
pub fn write_etc_files(dir: &Path, hostname: &str, ip: Option<IpAddr>) -> io::Result<EtcFiles> {
    let files = EtcFiles::in_dir(dir);
    std::fs::write(&files.hostname, format!("{hostname}\n"))?;
    std::fs::write(&files.hosts, hosts_file(hostname, ip))?;
    std::fs::write(&files.resolv_conf, resolv_conf_from(&host_resolv_conf()))?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_ends_with_the_containers_name() {
        let hosts = hosts_file("box", None);
        assert!(
            hosts.starts_with("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
        );
        assert!(hosts.ends_with("127.0.0.1\tbox\n"));
        let with_ip = hosts_file("web", Some("10.88.0.2".parse().unwrap()));
        assert!(with_ip.ends_with("10.88.0.2\tweb\n"));
        assert_eq!(with_ip.lines().count(), 7);
    }

    #[test]
    fn loopback_nameservers_are_dropped() {
        let host = "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.1\nnameserver ::1\nsearch lan\noptions edns0\n";
        assert_eq!(
            resolv_conf_from(host),
            "# generated\nnameserver 10.0.0.1\nsearch lan\noptions edns0\n"
        );
    }

    #[test]
    fn defaults_when_only_loopback_remains() {
        let out = resolv_conf_from("nameserver 127.0.0.1\nsearch example.org\n");
        assert_eq!(out, "search example.org\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n");
        assert_eq!(resolv_conf_from(""), "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }

    #[test]
    fn zoned_ipv6_nameserver_is_kept() {
        assert_eq!(resolv_conf_from("nameserver fe80::1%eth0"), "nameserver fe80::1%eth0\n");
    }
}
