//! Capabilities: root's powers, cut into 41 pieces.
//!
//! A process has five capability sets. *Effective* is what the kernel
//! checks; *permitted* is what it may make effective; *inheritable* and
//! *ambient* are what survives an `execve`; the *bounding* set is the
//! ceiling nothing can rise above again — not even a setuid-root binary.
//! Docker keeps 14 of them for a container's root; we do the same, by hand
//! with `prctl(2)` and `capset(2)` (no crate: the system calls are the lesson).

use std::collections::BTreeSet;

use ch01_namespaces::explain::{self, Step};
use nix::errno::Errno;
use thiserror::Error;

pub const BOOK_CAPS: &str = "ch08-security.md#capabilities";

/// Every capability the kernel knows, by number (`linux/capability.h`).
pub const ALL_NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

// ANCHOR: names
/// Docker's default set for a container (moby `oci/caps/defaults.go`).
pub const DOCKER_DEFAULTS: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];
// ANCHOR_END: names

/// A capability, by its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cap(pub u8);

impl Cap {
    pub fn name(self) -> &'static str {
        ALL_NAMES[self.0 as usize]
    }

    pub fn by_name(name: &str) -> Option<Cap> {
        ALL_NAMES.iter().position(|n| *n == name).map(|i| Cap(i as u8))
    }
}

impl std::fmt::Display for Cap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CAP_{}", self.name())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum CapError {
    #[error("unknown capability {0:?}: use a name like NET_ADMIN or CAP_NET_ADMIN, or ALL (see `man 7 capabilities`)")]
    Unknown(String),
    #[error("{what}: {errno}")]
    Syscall { what: &'static str, errno: Errno },
}

/// A set of capabilities; bit N is capability N, as the kernel stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapSet(pub u64);

impl CapSet {
    pub fn from_caps(caps: impl IntoIterator<Item = Cap>) -> CapSet {
        CapSet(caps.into_iter().fold(0, |bits, cap| bits | 1 << cap.0))
    }

    /// Every capability up to `last` (the kernel's `cap_last_cap`).
    pub fn all(last: u8) -> CapSet {
        CapSet::from_caps((0..=last).map(Cap))
    }

    pub fn docker_defaults() -> CapSet {
        CapSet::from_caps(DOCKER_DEFAULTS.iter().filter_map(|n| Cap::by_name(n)))
    }

    pub fn contains(self, cap: Cap) -> bool {
        self.0 & (1 << cap.0) != 0
    }

    pub fn caps(self) -> Vec<Cap> {
        (0..64u8).filter(|i| self.0 & (1 << i) != 0).map(Cap).collect()
    }

    pub fn names(self) -> Vec<String> {
        self.caps()
            .into_iter()
            .filter(|c| (c.0 as usize) < ALL_NAMES.len())
            .map(|c| c.to_string())
            .collect()
    }
}

/// One name of `--cap-add`/`--cap-drop`: with or without `CAP_`, any case.
/// `None` is `ALL`.
pub fn parse_name(text: &str) -> Result<Option<Cap>, CapError> {
    let upper = text.trim().to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    if bare == "ALL" {
        return Ok(None);
    }
    Cap::by_name(bare).map(Some).ok_or_else(|| CapError::Unknown(text.to_string()))
}

// ANCHOR: final_set
/// The container's set from Docker's defaults and the user's flags, with
/// Docker's rules: `--cap-add ALL` starts from every capability,
/// `--cap-drop ALL` from none; then drops are taken away and adds put in.
pub fn final_set(cap_add: &[String], cap_drop: &[String], last: u8) -> Result<CapSet, CapError> {
    let adds = parse_all(cap_add)?;
    let drops = parse_all(cap_drop)?;
    let mut set: BTreeSet<Cap> = if adds.contains(&None) {
        (0..=last).map(Cap).collect()
    } else if drops.contains(&None) {
        BTreeSet::new()
    } else {
        CapSet::docker_defaults().caps().into_iter().collect()
    };
    for cap in drops.iter().flatten() {
        set.remove(cap);
    }
    set.extend(adds.iter().flatten().filter(|c| c.0 <= last));
    Ok(CapSet::from_caps(set))
}
// ANCHOR_END: final_set

fn parse_all(names: &[String]) -> Result<Vec<Option<Cap>>, CapError> {
    names.iter().flat_map(|n| n.split(',')).filter(|n| !n.is_empty()).map(parse_name).collect()
}

/// The highest capability number this kernel knows.
pub fn last_cap() -> u8 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or((ALL_NAMES.len() - 1) as u8)
}

// ANCHOR: bounding
/// Lower the bounding set to `keep`: every other capability is gone for
/// good from this process and everything it will ever exec. Needs
/// CAP_SETPCAP, so it runs while we are still root.
pub fn drop_bounding(keep: CapSet, last: u8) -> Result<(), CapError> {
    let dropped: Vec<String> = CapSet(CapSet::all(last).0 & !keep.0).names();
    explain::step(Step {
        what: &format!(
            "lower the bounding set: drop {} capabilities, keep {}",
            dropped.len(),
            keep.caps().len()
        ),
        syscall: "prctl(PR_CAPBSET_DROP, cap) for each dropped cap",
        shell: &format!("capsh --drop={}", dropped.join(",").to_lowercase()),
        book: BOOK_CAPS,
    });
    for cap in (0..=last).map(Cap).filter(|c| !keep.contains(*c)) {
        // SAFETY: prctl with integer arguments only.
        let rc = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap.0 as libc::c_ulong, 0, 0, 0) };
        Errno::result(rc)
            .map_err(|errno| CapError::Syscall { what: "prctl(PR_CAPBSET_DROP)", errno })?;
    }
    Ok(())
}
// ANCHOR_END: bounding

// ANCHOR: capset
/// `struct __user_cap_header_struct` and `__user_cap_data_struct`
/// (version 3: two 32-bit words per set, for 64 capabilities).
#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
// ANCHOR_END: capset

// ANCHOR: capset_2
/// Set this thread's effective, permitted and inheritable sets.
pub fn set_sets(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> Result<(), CapError> {
    let mut header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let word = |set: CapSet, i: usize| (set.0 >> (32 * i)) as u32;
    let data: [CapData; 2] = [0, 1].map(|i| CapData {
        effective: word(effective, i),
        permitted: word(permitted, i),
        inheritable: word(inheritable, i),
    });
    // SAFETY: header and two data structs, as capset(2) version 3 expects.
    let rc =
        unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut CapHeader, data.as_ptr()) };
    Errno::result(rc).map(drop).map_err(|errno| CapError::Syscall { what: "capset", errno })
}

/// This thread's (effective, permitted) sets.
pub fn current_sets() -> Result<(CapSet, CapSet), CapError> {
    let mut header = CapHeader { version: LINUX_CAPABILITY_VERSION_3, pid: 0 };
    let mut data = [CapData::default(); 2];
    // SAFETY: as above; the kernel fills the two data structs.
    let rc = unsafe {
        libc::syscall(libc::SYS_capget, &mut header as *mut CapHeader, data.as_mut_ptr())
    };
    Errno::result(rc).map_err(|errno| CapError::Syscall { what: "capget", errno })?;
    let join =
        |f: fn(&CapData) -> u32| CapSet(u64::from(f(&data[0])) | u64::from(f(&data[1])) << 32);
    Ok((join(|d| d.effective), join(|d| d.permitted)))
}
// ANCHOR_END: capset_2

/// Empty the ambient set: no capability is handed to a non-root exec.
pub fn clear_ambient() -> Result<(), CapError> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe {
        libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_CLEAR_ALL as libc::c_ulong, 0, 0, 0)
    };
    Errno::result(rc)
        .map(drop)
        .map_err(|errno| CapError::Syscall { what: "prctl(PR_CAP_AMBIENT_CLEAR_ALL)", errno })
}

/// Keep the permitted set across `setuid` from root to another user (the
/// kernel would empty it): chapter 5's user switch runs between our hooks.
pub fn keep_caps_across_setuid(on: bool) -> Result<(), CapError> {
    // SAFETY: prctl with integer arguments only.
    let rc = unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(on), 0, 0, 0) };
    Errno::result(rc)
        .map(drop)
        .map_err(|errno| CapError::Syscall { what: "prctl(PR_SET_KEEPCAPS)", errno })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(set: CapSet) -> Vec<String> {
        set.names()
    }

    #[test]
    fn defaults_are_dockers_fourteen() {
        let set = final_set(&[], &[], 40).unwrap();
        assert_eq!(set.caps().len(), 14);
        // The CapEff Docker's containers show in /proc/self/status.
        assert_eq!(format!("{:016x}", set.0), "00000000a80425fb");
    }

    #[test]
    fn names_in_any_spelling() {
        assert_eq!(parse_name("net_admin").unwrap(), Cap::by_name("NET_ADMIN"));
        assert_eq!(parse_name("CAP_NET_ADMIN").unwrap(), Cap::by_name("NET_ADMIN"));
        assert_eq!(parse_name("Cap_Sys_Admin").unwrap(), Some(Cap(21)));
        assert_eq!(parse_name("all").unwrap(), None);
        assert_eq!(parse_name("CAP_FLY"), Err(CapError::Unknown("CAP_FLY".into())));
    }

    #[test]
    fn add_and_drop() {
        let set =
            final_set(&["SYS_ADMIN".into()], &["net_raw".into(), "CAP_MKNOD".into()], 40).unwrap();
        assert!(set.contains(Cap(21)));
        assert!(!set.contains(Cap::by_name("NET_RAW").unwrap()));
        assert!(!set.contains(Cap::by_name("MKNOD").unwrap()));
        assert_eq!(set.caps().len(), 13);
    }

    #[test]
    fn all_rules() {
        assert_eq!(final_set(&[], &["ALL".into()], 40).unwrap(), CapSet(0));
        assert_eq!(
            names(final_set(&["chown".into()], &["ALL".into()], 40).unwrap()),
            ["CAP_CHOWN"]
        );
        let everything_but_admin = final_set(&["ALL".into()], &["SYS_ADMIN".into()], 40).unwrap();
        assert_eq!(everything_but_admin.caps().len(), 40);
        assert!(!everything_but_admin.contains(Cap(21)));
        // A kernel that knows fewer capabilities gets no bits it cannot set.
        assert_eq!(final_set(&["ALL".into()], &[], 37).unwrap(), CapSet::all(37));
    }

    #[test]
    fn comma_lists_and_unknown_names() {
        let set = final_set(&["NET_ADMIN,SYS_TIME".into()], &[], 40).unwrap();
        assert_eq!(set.caps().len(), 16);
        assert!(
            matches!(final_set(&["NET_ADMINN".into()], &[], 40), Err(CapError::Unknown(n)) if n == "NET_ADMINN")
        );
    }
}
