//! Exercise `final_set` (medium). Book: ch08-security.md, "Capabilities".
//!
//! The capabilities of a container's root, from the user's `--cap-add` and
//! `--cap-drop` values, with Docker's rules:
//! - each value may hold several names separated by commas (empty pieces
//!   are ignored); every name is read by `caps::parse_name` (the first
//!   exercise), and the first bad one is the error;
//! - the starting set is Docker's 14 (`CapSet::docker_defaults()`), or every
//!   capability `0..=last` when `ALL` is among the adds, or none when `ALL`
//!   is among the drops;
//! - then the dropped capabilities are taken away, then the added ones put
//!   in (so `--cap-drop X --cap-add X` keeps X);
//! - `last` is this kernel's highest capability (`cap_last_cap`): a
//!   capability above it is never in the set.

use ch08_security::caps::{parse_name, Cap, CapError, CapSet};

/// The container's set from Docker's defaults and the user's flags.
pub fn final_set(cap_add: &[String], cap_drop: &[String], last: u8) -> Result<CapSet, CapError> {
    todo!("parse both lists, pick the starting set, remove the drops, insert the adds")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: `--cap-add` inserted without looking at `last`:
    // a capability the running kernel does not have ends up in the set. Checked by pasting it into
    // the reference implementation: it fails `nothing_above_the_kernels_last_capability`.
    //
    //     set.extend(adds.iter().flatten());

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::caps as solution;

    use ch08_security::caps::{Cap, CapError, CapSet};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn set(add: &[&str], drop: &[&str], last: u8) -> CapSet {
        solution::final_set(&strings(add), &strings(drop), last)
            .unwrap_or_else(|e| panic!("add {add:?} drop {drop:?}: {e}"))
    }

    fn cap(name: &str) -> Cap {
        Cap::by_name(name).expect("a known name")
    }

    #[test]
    fn no_flags_is_dockers_fourteen() {
        let defaults = set(&[], &[], 40);
        assert_eq!(defaults, CapSet::docker_defaults());
        // What `grep CapEff /proc/self/status` shows in a Docker container.
        assert_eq!(format!("{:016x}", defaults.0), "00000000a80425fb");
    }

    #[test]
    fn drops_then_adds() {
        let s = set(&["SYS_ADMIN"], &["net_raw", "CAP_MKNOD"], 40);
        assert!(s.contains(cap("SYS_ADMIN")));
        assert!(!s.contains(cap("NET_RAW")) && !s.contains(cap("MKNOD")));
        assert_eq!(s.caps().len(), 13);
        assert!(
            set(&["NET_RAW"], &["NET_RAW"], 40).contains(cap("NET_RAW")),
            "an add wins over a drop"
        );
        assert_eq!(
            set(&["CHOWN"], &[], 40),
            CapSet::docker_defaults(),
            "adding a default changes nothing"
        );
    }

    #[test]
    fn all_in_adds_or_drops() {
        assert_eq!(set(&[], &["ALL"], 40), CapSet(0));
        assert_eq!(set(&["chown"], &["all"], 40), CapSet::from_caps([cap("CHOWN")]));
        let all_but_admin = set(&["ALL"], &["SYS_ADMIN"], 40);
        assert_eq!(all_but_admin.caps().len(), 40);
        assert!(!all_but_admin.contains(cap("SYS_ADMIN")));
        assert_eq!(set(&["ALL"], &[], 40), CapSet::all(40));
    }

    #[test]
    fn nothing_above_the_kernels_last_capability() {
        assert_eq!(set(&["ALL"], &[], 37), CapSet::all(37));
        assert!(!set(&["CHECKPOINT_RESTORE", "BPF"], &[], 38).contains(cap("CHECKPOINT_RESTORE")));
        assert!(set(&["CHECKPOINT_RESTORE", "BPF"], &[], 39).contains(cap("BPF")));
    }

    #[test]
    fn comma_lists_and_bad_names() {
        let s = set(&["NET_ADMIN,SYS_TIME", ""], &["KILL,", ",CHOWN"], 40);
        assert!(s.contains(cap("NET_ADMIN")) && s.contains(cap("SYS_TIME")));
        assert!(!s.contains(cap("KILL")) && !s.contains(cap("CHOWN")));
        assert_eq!(s.caps().len(), 14);
        assert_eq!(
            solution::final_set(&strings(&["NET_ADMINN"]), &[], 40),
            Err(CapError::Unknown("NET_ADMINN".into()))
        );
        assert_eq!(
            solution::final_set(&[], &strings(&["KILL,FLY"]), 40),
            Err(CapError::Unknown("FLY".into()))
        );
    }
}
