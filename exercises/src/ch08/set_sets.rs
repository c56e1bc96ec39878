//! Exercise `set_sets` (hard, root). Book: ch08-security.md, "Capabilities".
//!
//! Set this thread's effective, permitted and inheritable capability sets
//! with the raw `capset(2)` system call (`libc::syscall(libc::SYS_capset,
//! header, data)`; no crate), the last thing our child does before exec:
//! - the header is `struct __user_cap_header_struct { u32 version; i32 pid; }`
//!   with version 3 (`0x2008_0522`) and pid 0 (this thread);
//! - the data is an array of TWO `struct __user_cap_data_struct { u32
//!   effective; u32 permitted; u32 inheritable; }`: the first holds
//!   capabilities 0–31, the second 32–63 (both `#[repr(C)]`);
//! - a failure is `CapError::Syscall { what: "capset", errno }`. The kernel
//!   refuses (EPERM) to raise a capability that is not already permitted.
//!
//! The tests call your function in a forked child (never in the tests' own
//! process), then check `/proc/self/status` and what the child may still do.

use ch08_security::caps::{CapError, CapSet};
use nix::errno::Errno;

/// Set this thread's effective, permitted and inheritable sets.
pub fn set_sets(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> Result<(), CapError> {
    todo!("fill a version-3 header and two data structs, then call SYS_capset")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: only the first 32-bit word filled: capabilities
    // 32 and above (CAP_SYSLOG, CAP_BPF...) are silently dropped. Checked by pasting it into the
    // reference implementation: it fails `capabilities_above_31_are_in_the_second_struct`.
    //
    //     let word = |set: CapSet, i: usize| if i == 0 { set.0 as u32 } else { 0 };

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::caps as solution;

    use ch08_security::caps::{Cap, CapError, CapSet};
    use nix::errno::Errno;
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};

    /// What a child's exit code means.
    const PANICKED: i32 = 99;
    const REFUSED: i32 = 10;
    const WRONG_EFFECTIVE: i32 = 11;
    const WRONG_PERMITTED: i32 = 12;
    const WRONG_INHERITABLE: i32 = 13;
    const UNSHARE: i32 = 14;
    const NOT_REFUSED: i32 = 15;

    /// Run `body` in a forked child (its capabilities are its own) and
    /// explain its exit code.
    fn in_child(body: impl FnOnce() -> i32) {
        // SAFETY: the child runs `body` and _exits: it never returns into
        // the test harness.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(PANICKED);
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
                WaitStatus::Exited(_, 0) => {}
                WaitStatus::Exited(_, PANICKED) => panic!("set_sets panicked (is the todo!() still there?)"),
                WaitStatus::Exited(_, REFUSED) => panic!("set_sets returned an error for sets the kernel accepts"),
                WaitStatus::Exited(_, WRONG_EFFECTIVE) => panic!("CapEff in /proc/self/status is not the effective set asked for"),
                WaitStatus::Exited(_, WRONG_PERMITTED) => panic!("CapPrm in /proc/self/status is not the permitted set asked for"),
                WaitStatus::Exited(_, WRONG_INHERITABLE) => panic!("CapInh in /proc/self/status is not the inheritable set asked for"),
                WaitStatus::Exited(_, UNSHARE) => panic!("unshare(CLONE_NEWNS) did not do what CAP_SYS_ADMIN (or its absence) says"),
                WaitStatus::Exited(_, NOT_REFUSED) => panic!("raising what is not permitted must fail with CapError::Syscall {{ what: \"capset\", errno: EPERM }}"),
                other => panic!("the child ended with {other:?}"),
            },
        }
    }

    /// A `CapXxx:` line of /proc/self/status, as a set.
    fn status_set(field: &str) -> CapSet {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let hex = status.lines().find_map(|l| l.strip_prefix(field)).map(str::trim).unwrap_or("");
        CapSet(u64::from_str_radix(hex, 16).unwrap_or(u64::MAX))
    }

    /// Set the sets, read them back, then try to make a mount namespace
    /// (it dies with the child): it must work exactly when SYS_ADMIN is effective.
    fn set_and_check(effective: CapSet, permitted: CapSet, inheritable: CapSet) -> i32 {
        if solution::set_sets(effective, permitted, inheritable).is_err() {
            return REFUSED;
        }
        if status_set("CapEff:") != effective {
            return WRONG_EFFECTIVE;
        }
        if status_set("CapPrm:") != permitted {
            return WRONG_PERMITTED;
        }
        if status_set("CapInh:") != inheritable {
            return WRONG_INHERITABLE;
        }
        let unshared = unsafe { libc::unshare(libc::CLONE_NEWNS) } == 0;
        let admin = effective.contains(Cap::by_name("SYS_ADMIN").expect("known"));
        if unshared != admin || (!unshared && Errno::last() != Errno::EPERM) {
            return UNSHARE;
        }
        0
    }

    #[test]
    fn dockers_fourteen_and_no_mount_namespace() {
        crate::needs_root();
        let defaults = CapSet::docker_defaults();
        in_child(|| set_and_check(defaults, defaults, CapSet(0)));
    }

    #[test]
    fn capabilities_above_31_are_in_the_second_struct() {
        crate::needs_root();
        // SYS_ADMIN (21) in the first word; SYSLOG (34) and AUDIT_READ (37) in the second.
        let set = CapSet::from_caps(
            ["SYS_ADMIN", "SYSLOG", "AUDIT_READ", "CHOWN"].map(|n| Cap::by_name(n).expect("known")),
        );
        let permitted = CapSet(set.0 | 1 << Cap::by_name("BPF").expect("known").0);
        in_child(|| set_and_check(set, permitted, set));
    }

    #[test]
    fn what_is_gone_cannot_come_back() {
        crate::needs_root();
        let defaults = CapSet::docker_defaults();
        let admin = CapSet(defaults.0 | 1 << Cap::by_name("SYS_ADMIN").expect("known").0);
        in_child(|| {
            if solution::set_sets(defaults, defaults, CapSet(0)).is_err() {
                return REFUSED;
            }
            let eperm = Err(CapError::Syscall { what: "capset", errno: Errno::EPERM });
            // Raising SYS_ADMIN again, or making effective what is not permitted: both refused.
            if solution::set_sets(admin, admin, CapSet(0)) != eperm
                || solution::set_sets(admin, defaults, CapSet(0)) != eperm
            {
                return NOT_REFUSED;
            }
            set_and_check(defaults, defaults, CapSet(0))
        });
    }
}
