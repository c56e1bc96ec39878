//! Exercise `allocate` (medium). Book: ch06-networking.md, "Subnets and addresses".
//!
//! IP address management without a daemon or a lock. A lease is a file in
//! `dir` named after the address (`dir/10.77.0.2`), holding what
//! `record(address)` returns. To take an address:
//! - create `dir` if needed;
//! - try the subnet's host addresses (`subnet.hosts()`) lowest first,
//!   skipping `reserved` (the gateway, the bridge's own address);
//! - create the lease with `O_CREAT | O_EXCL` (`OpenOptions::create_new`):
//!   the kernel creates a name at most once, so when twenty `run`s race,
//!   each address still goes to exactly one of them; `AlreadyExists` means
//!   "taken, try the next one";
//! - write the record into it and return `Some(address)`; if writing
//!   fails, remove the lease again and return the error;
//! - no address left: `Ok(None)`. Any other error: `Err`.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;

use ch06_networking::Subnet;

/// Take the lowest free address of `subnet` (never `reserved`) and write
/// `record(address)` into its lease.
pub fn allocate(
    dir: &Path,
    subnet: &Subnet,
    reserved: Ipv4Addr,
    record: impl Fn(Ipv4Addr) -> Vec<u8>,
) -> io::Result<Option<Ipv4Addr>> {
    todo!("create_new each candidate's lease until one succeeds")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: look first, then create: `path.exists()` to skip
    // a taken address and an ordinary `create(true)` open, so two allocations racing between the
    // look and the open get the same address. Checked by pasting it into the reference
    // implementation: it fails `racing_allocations_never_share_an_address` (8 runs out of 8; with
    // one round and no barrier the test caught it only 2 runs out of 6).
    //
    //     if path.exists() {
    //         continue;
    //     }
    //     let mut file = OpenOptions::new().write(true).create(true).open(&path)?;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch06_networking::ipam as solution;

    use std::collections::HashSet;
    use std::net::Ipv4Addr;
    use std::sync::Arc;

    use ch06_networking::Subnet;

    fn ip(text: &str) -> Ipv4Addr {
        text.parse().unwrap()
    }

    fn subnet(text: &str) -> Subnet {
        text.parse().unwrap()
    }

    fn tagged(ip: Ipv4Addr) -> Vec<u8> {
        format!("lease of {ip}").into_bytes()
    }

    #[test]
    fn lowest_free_first_skipping_the_reserved_one() {
        let dir = testkit::temp_dir();
        let leases = dir.path().join("net/leases");
        let net = subnet("10.9.0.0/29");
        assert_eq!(
            solution::allocate(&leases, &net, ip("10.9.0.1"), tagged).unwrap(),
            Some(ip("10.9.0.2"))
        );
        assert_eq!(
            solution::allocate(&leases, &net, ip("10.9.0.1"), tagged).unwrap(),
            Some(ip("10.9.0.3"))
        );
        assert_eq!(std::fs::read_to_string(leases.join("10.9.0.2")).unwrap(), "lease of 10.9.0.2");
        assert_eq!(std::fs::read_to_string(leases.join("10.9.0.3")).unwrap(), "lease of 10.9.0.3");
        assert!(!leases.join("10.9.0.1").exists(), "the reserved address gets no lease");

        let other = dir.path().join("other");
        assert_eq!(
            solution::allocate(&other, &net, ip("10.9.0.2"), tagged).unwrap(),
            Some(ip("10.9.0.1"))
        );
        assert_eq!(
            solution::allocate(&other, &net, ip("10.9.0.2"), tagged).unwrap(),
            Some(ip("10.9.0.3"))
        );
    }

    #[test]
    fn taken_addresses_are_skipped_and_released_ones_reused() {
        let dir = testkit::temp_dir();
        let net = subnet("10.9.0.0/29");
        std::fs::write(dir.path().join("10.9.0.2"), "someone else").unwrap();
        assert_eq!(
            solution::allocate(dir.path(), &net, ip("10.9.0.1"), tagged).unwrap(),
            Some(ip("10.9.0.3"))
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("10.9.0.2")).unwrap(),
            "someone else",
            "another's lease is never overwritten"
        );
        std::fs::remove_file(dir.path().join("10.9.0.2")).unwrap();
        assert_eq!(
            solution::allocate(dir.path(), &net, ip("10.9.0.1"), tagged).unwrap(),
            Some(ip("10.9.0.2"))
        );
    }

    #[test]
    fn a_full_subnet_gives_none() {
        let dir = testkit::temp_dir();
        let net = subnet("10.9.0.0/30"); // hosts: .1 (reserved) and .2
        assert_eq!(
            solution::allocate(dir.path(), &net, ip("10.9.0.1"), tagged).unwrap(),
            Some(ip("10.9.0.2"))
        );
        assert_eq!(solution::allocate(dir.path(), &net, ip("10.9.0.1"), tagged).unwrap(), None);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn errors_are_returned() {
        let dir = testkit::temp_dir();
        let file = dir.path().join("not-a-dir");
        std::fs::write(&file, "").unwrap();
        assert!(solution::allocate(
            &file.join("leases"),
            &subnet("10.9.0.0/29"),
            ip("10.9.0.1"),
            tagged
        )
        .is_err());
    }

    #[test]
    fn racing_allocations_never_share_an_address() {
        // Many rounds, each with 16 threads let go at once by a barrier: a
        // look-then-create allocator loses the race in some round, every time.
        for _ in 0..20 {
            racing_round();
        }
    }

    fn racing_round() {
        let dir = Arc::new(testkit::temp_dir());
        let net = subnet("10.9.0.0/24");
        let start = Arc::new(std::sync::Barrier::new(16));
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let (dir, start) = (dir.clone(), start.clone());
                std::thread::spawn(move || {
                    let record = move |ip: Ipv4Addr| format!("{ip} for thread {t}").into_bytes();
                    start.wait();
                    (0..8)
                        .map(|_| {
                            (
                                t,
                                solution::allocate(dir.path(), &net, ip("10.9.0.1"), record)
                                    .unwrap()
                                    .unwrap(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let all: Vec<(i32, Ipv4Addr)> =
            threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
        let distinct: HashSet<Ipv4Addr> = all.iter().map(|(_, ip)| *ip).collect();
        assert_eq!((all.len(), distinct.len()), (128, 128), "an address was handed out twice");
        for (t, ip) in all {
            assert_eq!(
                std::fs::read_to_string(dir.path().join(ip.to_string())).unwrap(),
                format!("{ip} for thread {t}")
            );
        }
        let expected: HashSet<Ipv4Addr> = (2..130).map(|n| Ipv4Addr::new(10, 9, 0, n)).collect();
        assert_eq!(distinct, expected, "the 128 lowest addresses after the reserved one");
    }
}
