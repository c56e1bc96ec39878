//! IP address management: which address each container gets.
//!
//! A lease is a file named after the address, in the network's `leases/`
//! directory, created with `O_CREAT | O_EXCL`. The kernel creates a name
//! at most once, so two `run`s racing for the same address cannot both
//! win: the loser gets `EEXIST` and tries the next address. No lock, no
//! daemon, and a crash leaves a file that says who held it.
//!
//! ```text
//! <root>/networks/<name>/leases/
//!     10.77.0.2      {"container_id": "...", "holder": {"pid": 4242, ...}, ...}
//!     10.77.0.3
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cidr::Subnet;

// ANCHOR: allocate
/// Take the lowest free address of `subnet` (skipping `reserved`, the
/// gateway) and write `record(address)` into its lease. `None` when the
/// subnet is full.
pub fn allocate(
    dir: &Path,
    subnet: &Subnet,
    reserved: Ipv4Addr,
    record: impl Fn(Ipv4Addr) -> Vec<u8>,
) -> io::Result<Option<Ipv4Addr>> {
    fs::create_dir_all(dir)?;
    for ip in subnet.hosts().filter(|ip| *ip != reserved) {
        let path = lease_path(dir, ip);
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                // No fsync: a lease means something only while its holder
                // lives, and a crash of the machine ends every holder.
                if let Err(e) = file.write_all(&record(ip)) {
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
                return Ok(Some(ip));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}
// ANCHOR_END: allocate

/// Give the address back. Releasing twice is not an error.
pub fn release(dir: &Path, ip: Ipv4Addr) -> io::Result<()> {
    match fs::remove_file(lease_path(dir, ip)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Every lease: its address and what was written into it.
pub fn leases(dir: &Path) -> Vec<(Ipv4Addr, Vec<u8>)> {
    let Ok(entries) = fs::read_dir(dir) else { return Vec::new() };
    let mut all: Vec<(Ipv4Addr, Vec<u8>)> = entries
        .flatten()
        .filter_map(|e| {
            let ip: Ipv4Addr = e.file_name().to_str()?.parse().ok()?;
            Some((ip, fs::read(e.path()).unwrap_or_default()))
        })
        .collect();
    all.sort_by_key(|(ip, _)| *ip);
    all
}

pub fn lease_path(dir: &Path, ip: Ipv4Addr) -> PathBuf {
    dir.join(ip.to_string())
}

// ANCHOR: holder
/// The process that holds a lease: its pid and its start time (field 22
/// of `/proc/<pid>/stat`), because pids are reused — a new process with
/// the old number must not keep a dead container's address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: i32,
    pub start_time: u64,
}

impl Holder {
    pub fn me() -> Holder {
        let pid = std::process::id() as i32;
        Holder { pid, start_time: start_time(pid).unwrap_or(0) }
    }

    pub fn is_alive(&self) -> bool {
        start_time(self.pid) == Some(self.start_time)
    }
}
// ANCHOR_END: holder

/// Chapter 1's: field 22 of `/proc/<pid>/stat`.
fn start_time(pid: i32) -> Option<u64> {
    ch01_namespaces::process::start_time(pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    fn subnet(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    #[test]
    fn hands_out_lowest_free_address_skipping_the_gateway() {
        let dir = tempfile::tempdir().unwrap();
        let net = subnet("10.9.0.0/29");
        let gw: Ipv4Addr = "10.9.0.1".parse().unwrap();
        let a = allocate(dir.path(), &net, gw, |_| b"a".to_vec()).unwrap().unwrap();
        let b = allocate(dir.path(), &net, gw, |_| b"b".to_vec()).unwrap().unwrap();
        assert_eq!((a.to_string().as_str(), b.to_string().as_str()), ("10.9.0.2", "10.9.0.3"));
        release(dir.path(), a).unwrap();
        release(dir.path(), a).unwrap();
        assert_eq!(
            allocate(dir.path(), &net, gw, |_| b"c".to_vec()).unwrap(),
            Some(a),
            "a released address is reused"
        );
        assert_eq!(
            leases(dir.path()).iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
            [b"c".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn an_exhausted_subnet_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let net = subnet("10.9.0.0/30"); // hosts .1 (gateway) and .2
        let gw: Ipv4Addr = "10.9.0.1".parse().unwrap();
        assert!(allocate(dir.path(), &net, gw, |_| Vec::new()).unwrap().is_some());
        assert_eq!(allocate(dir.path(), &net, gw, |_| Vec::new()).unwrap(), None);
    }

    #[test]
    fn concurrent_allocations_never_share_an_address() {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let net = subnet("10.9.0.0/24");
        let gw: Ipv4Addr = "10.9.0.1".parse().unwrap();
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let dir = dir.clone();
                std::thread::spawn(move || {
                    (0..8)
                        .map(|_| {
                            allocate(dir.path(), &net, gw, |ip| ip.to_string().into_bytes())
                                .unwrap()
                                .unwrap()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let all: Vec<Ipv4Addr> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let distinct: HashSet<_> = all.iter().collect();
        assert_eq!((all.len(), distinct.len()), (128, 128));
    }

    #[test]
    fn a_holder_is_its_pid_and_start_time() {
        assert!(Holder::me().is_alive());
        assert!(!Holder { pid: std::process::id() as i32, start_time: 1 }.is_alive());
    }
}
