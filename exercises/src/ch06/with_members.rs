//! Exercise `with_members` (easy). Book: ch06-networking.md, "Names in /etc/hosts".
//!
//! On a user-defined network every container's `/etc/hosts` ends with a
//! block listing the other members, so `ping web` works without DNS:
//!
//! ```text
//! 127.0.0.1 → localhost                       ← kept as it is
//! # mini-docker: containers on network lab    ← MARKER, a space, the network
//! 10.99.0.2 → web                             ← address, a TAB (→), the names
//! 10.99.0.3 → client 3f2a                        joined by spaces
//! ```
//!
//! A container on two networks (`network connect`) has a block for each.
//! Return `hosts` without `network`'s block (its marker line and the lines
//! up to the next marker line or the end), the other blocks kept, and the
//! new block at the end (every line ends with `\n`). No members: no block
//! at all, not even the marker line.

use std::net::Ipv4Addr;

use ch06_networking::hosts::MARKER;

/// `hosts` with its block of network members replaced by `members`.
pub fn with_members(hosts: &str, network: &str, members: &[(Ipv4Addr, Vec<String>)]) -> String {
    todo!("keep every line but those of network's block, then write the block")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the new block appended to the whole file: the
    // old block stays and every update adds another. Checked by pasting it into the reference
    // implementation: it fails `an_old_block_is_replaced_not_added_to`.
    //
    //     let mut text: String = hosts.lines().map(|l| format!("{l}\n")).collect();

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch06_networking::hosts as solution;

    use std::net::Ipv4Addr;

    use ch06_networking::hosts::MARKER;

    const BASE: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n10.99.0.3\t3f2a\n";

    fn member(ip: &str, names: &[&str]) -> (Ipv4Addr, Vec<String>) {
        (ip.parse().unwrap(), names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn the_block_is_appended_with_tabs_and_spaces() {
        let members = [member("10.99.0.2", &["web"]), member("10.99.0.3", &["client", "3f2a"])];
        let hosts = solution::with_members(BASE, "lab", &members);
        assert_eq!(hosts, format!("{BASE}{MARKER} lab\n10.99.0.2\tweb\n10.99.0.3\tclient 3f2a\n"));
    }

    #[test]
    fn an_old_block_is_replaced_not_added_to() {
        let old = format!("{BASE}{MARKER} lab\n10.99.0.2\tweb\n10.99.0.4\tgone\n");
        let hosts = solution::with_members(&old, "lab", &[member("10.99.0.5", &["db"])]);
        assert_eq!(hosts, format!("{BASE}{MARKER} lab\n10.99.0.5\tdb\n"));
        assert_eq!(
            solution::with_members(&hosts, "lab", &[member("10.99.0.5", &["db"])]),
            hosts,
            "the same members give the same file"
        );
    }

    #[test]
    fn no_members_no_block() {
        let old = format!("{BASE}{MARKER} lab\n10.99.0.2\tweb\n");
        assert_eq!(solution::with_members(&old, "lab", &[]), BASE);
        assert_eq!(solution::with_members(BASE, "lab", &[]), BASE);
    }

    #[test]
    fn the_blocks_of_other_networks_are_kept() {
        let back = format!("{MARKER} back\n10.98.0.2\tdb\n");
        let old = format!("{BASE}{MARKER} lab\n10.99.0.2\tweb\n{back}");
        let hosts = solution::with_members(&old, "lab", &[member("10.99.0.5", &["api"])]);
        assert_eq!(hosts, format!("{BASE}{back}{MARKER} lab\n10.99.0.5\tapi\n"));
        assert_eq!(solution::with_members(&hosts, "lab", &[]), format!("{BASE}{back}"));
        let labs = format!("{BASE}{MARKER} lab2\n10.97.0.2\tx\n");
        assert_eq!(solution::with_members(&labs, "lab", &[]), labs, "lab2 is not lab");
    }

    #[test]
    fn a_last_line_without_newline_gets_one() {
        let hosts =
            solution::with_members("127.0.0.1\tlocalhost", "n", &[member("10.1.0.2", &["a"])]);
        assert_eq!(hosts, format!("127.0.0.1\tlocalhost\n{MARKER} n\n10.1.0.2\ta\n"));
    }
}
