//! Names: on a user-defined network, every container's `/etc/hosts` lists
//! the others, so `ping web` works.
//!
//! We write `/etc/hosts` rather than run a DNS server: there is nothing
//! to keep running, a learner can `cat` the result, and the file is
//! already the container's own (chapter 3 bind-mounts it from the
//! container's directory). Docker's embedded DNS (127.0.0.11) also sees
//! containers that join later without touching any file; we get the same
//! by rewriting every member's file when a container joins or leaves.
//! The file is rewritten *in place* (same inode): a bind mount pins the
//! inode, so a new file renamed over it would stay invisible inside.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::path::Path;

/// Where a network's block starts; it runs to the next block or the end.
pub const MARKER: &str = "# mini-docker: containers on network";

// ANCHOR: with_members
/// `hosts` with its block of `network`'s members replaced by `members`
/// (address and names), or removed when there are none. The blocks of the
/// container's other networks are kept.
pub fn with_members(hosts: &str, network: &str, members: &[(Ipv4Addr, Vec<String>)]) -> String {
    let header = format!("{MARKER} {network}");
    let mut text = String::new();
    let mut in_ours = false;
    for line in hosts.lines() {
        if line.starts_with(MARKER) {
            in_ours = line == header;
        }
        if !in_ours {
            text.push_str(&format!("{line}\n"));
        }
    }
    if !members.is_empty() {
        text.push_str(&format!("{header}\n"));
        for (ip, names) in members {
            text.push_str(&format!("{ip}\t{}\n", names.join(" ")));
        }
    }
    text
}
// ANCHOR_END: with_members

/// Rewrite the file at `path` in place with the new member block.
pub fn update_file(
    path: &Path,
    network: &str,
    members: &[(Ipv4Addr, Vec<String>)],
) -> io::Result<()> {
    let current = std::fs::read_to_string(path)?;
    let updated = with_members(&current, network, members);
    if updated == current {
        return Ok(());
    }
    let mut file = OpenOptions::new().write(true).truncate(true).open(path)?;
    file.write_all(updated.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "127.0.0.1\tlocalhost\n10.5.0.2\tabc123\n";

    fn members() -> Vec<(Ipv4Addr, Vec<String>)> {
        vec![
            ("10.5.0.2".parse().unwrap(), vec!["web".into()]),
            ("10.5.0.3".parse().unwrap(), vec!["db".into(), "d8e1".into()]),
        ]
    }

    #[test]
    fn block_is_added_replaced_and_removed() {
        let with = with_members(BASE, "net1", &members());
        assert_eq!(with, format!("{BASE}{MARKER} net1\n10.5.0.2\tweb\n10.5.0.3\tdb d8e1\n"));
        let fewer = with_members(&with, "net1", &members()[..1]);
        assert_eq!(fewer, format!("{BASE}{MARKER} net1\n10.5.0.2\tweb\n"));
        assert_eq!(with_members(&fewer, "net1", &[]), BASE);
    }

    #[test]
    fn each_network_has_its_own_block() {
        let one = with_members(BASE, "front", &members()[..1]);
        let two = with_members(&one, "back", &members()[1..]);
        let back = format!("{MARKER} back\n10.5.0.3\tdb d8e1\n");
        assert_eq!(two, format!("{one}{back}"));
        let again = with_members(&two, "front", &members());
        assert!(again.starts_with(&format!("{BASE}{back}")), "{again}");
        assert_eq!(with_members(&with_members(&again, "front", &[]), "back", &[]), BASE);
    }

    #[test]
    fn file_keeps_its_inode() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, BASE).unwrap();
        let inode = std::fs::metadata(&path).unwrap().ino();
        update_file(&path, "net1", &members()).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
        assert!(std::fs::read_to_string(&path).unwrap().contains("10.5.0.3\tdb d8e1"));
    }
}
