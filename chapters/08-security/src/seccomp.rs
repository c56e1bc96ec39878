//! seccomp: a filter on system calls, written by hand in classic BPF.
//!
//! Capabilities decide what a system call may do; seccomp decides which
//! system calls may be made at all. The kernel runs our little program on
//! every call, with the call's number, architecture and arguments, and
//! does what it returns: allow, fail with an errno, or kill.
//!
//! Docker's default profile is an *allow-list*: 361 calls are allowed and
//! everything else fails with EPERM — so a call added to a future kernel
//! is blocked until someone has looked at it. We teach with a *deny-list*
//! of the calls Docker refuses (the same list, read the other way round):
//! forty lines you can read in one sitting, where every entry names the
//! attack it stops. The price: a brand-new dangerous call gets through.

use ch01_namespaces::explain::{self, Step};
use nix::errno::Errno;
use thiserror::Error;

use crate::caps::{Cap, CapSet};

pub const BOOK_SECCOMP: &str = "ch08-security.md#seccomp";

#[derive(Debug, Error)]
pub enum SeccompError {
    #[error("installing the seccomp filter: {0} (the kernel needs CONFIG_SECCOMP_FILTER)")]
    Install(Errno),
}

// ANCHOR: deny_list
/// A system call the container may not make, unless it holds `unless`.
#[derive(Debug, Clone, Copy)]
pub struct Denied {
    pub name: &'static str,
    pub nr: i64,
    /// The capability that makes Docker allow it (its profile's `includes.caps`).
    pub unless: Option<&'static str>,
    /// What it fails with: EPERM, except clone3 (see below).
    pub errno: i32,
}

const fn deny(name: &'static str, nr: i64, unless: Option<&'static str>) -> Denied {
    Denied { name, nr, unless, errno: libc::EPERM }
}
// ANCHOR_END: deny_list

// ANCHOR: deny_list_2
/// Docker's refusals, grouped by the attack they stop.
pub fn deny_list() -> Vec<Denied> {
    let mut list = [mounts_and_namespaces(), the_kernel(), host_wide_state()].concat();
    #[cfg(target_arch = "x86_64")]
    list.extend([
        deny("iopl", libc::SYS_iopl, Some("SYS_RAWIO")),
        deny("ioperm", libc::SYS_ioperm, Some("SYS_RAWIO")),
        deny("uselib", libc::SYS_uselib, None),
        deny("_sysctl", libc::SYS__sysctl, None),
    ]);
    list
}

/// Mounts and new namespaces.
fn mounts_and_namespaces() -> Vec<Denied> {
    use libc::*;
    let admin = Some("SYS_ADMIN");
    vec![
        // Mounting: remount something read-write, mount the host's disk, hide files.
        deny("mount", SYS_mount, admin),
        deny("umount2", SYS_umount2, admin),
        deny("pivot_root", SYS_pivot_root, None),
        deny("fsopen", SYS_fsopen, admin),
        deny("fsconfig", SYS_fsconfig, admin),
        deny("fsmount", SYS_fsmount, admin),
        deny("fspick", SYS_fspick, admin),
        deny("move_mount", SYS_move_mount, admin),
        deny("open_tree", SYS_open_tree, admin),
        deny("mount_setattr", SYS_mount_setattr, admin),
        // New namespaces: a new user namespace makes its creator "root" again,
        // and every kernel bug reachable from there becomes reachable here.
        deny("unshare", SYS_unshare, admin),
        deny("setns", SYS_setns, admin),
    ]
}
// ANCHOR_END: deny_list_2

// ANCHOR: deny_list_3
/// The kernel itself, its keyring, and its riskiest interfaces.
fn the_kernel() -> Vec<Denied> {
    use libc::*;
    let admin = Some("SYS_ADMIN");
    vec![
        // The kernel itself: load code into it, replace it, reboot it.
        deny("init_module", SYS_init_module, Some("SYS_MODULE")),
        deny("finit_module", SYS_finit_module, Some("SYS_MODULE")),
        deny("delete_module", SYS_delete_module, Some("SYS_MODULE")),
        deny("kexec_load", SYS_kexec_load, None),
        deny("kexec_file_load", SYS_kexec_file_load, None),
        deny("reboot", SYS_reboot, Some("SYS_BOOT")),
        deny("bpf", SYS_bpf, admin),
        deny("perf_event_open", SYS_perf_event_open, admin),
        // The kernel keyring is not namespaced: keys would be shared with the host.
        deny("keyctl", SYS_keyctl, None),
        deny("add_key", SYS_add_key, None),
        deny("request_key", SYS_request_key, None),
        // Kernel attack surface with a long history of exploits.
        deny("userfaultfd", SYS_userfaultfd, None),
        deny("io_uring_setup", SYS_io_uring_setup, None),
        deny("io_uring_enter", SYS_io_uring_enter, None),
        deny("io_uring_register", SYS_io_uring_register, None),
    ]
}
// ANCHOR_END: deny_list_3

// ANCHOR: deny_list_4
/// The host's clock, swap, accounting, quotas and log, and other processes' files.
fn host_wide_state() -> Vec<Denied> {
    use libc::*;
    let admin = Some("SYS_ADMIN");
    vec![
        // Host-wide state: the clock, swap, accounting, quotas, the kernel log.
        deny("settimeofday", SYS_settimeofday, Some("SYS_TIME")),
        deny("clock_settime", SYS_clock_settime, Some("SYS_TIME")),
        deny("clock_adjtime", SYS_clock_adjtime, Some("SYS_TIME")),
        deny("adjtimex", SYS_adjtimex, Some("SYS_TIME")),
        deny("swapon", SYS_swapon, admin),
        deny("swapoff", SYS_swapoff, admin),
        deny("acct", SYS_acct, Some("SYS_PACCT")),
        deny("quotactl", SYS_quotactl, admin),
        deny("syslog", SYS_syslog, admin),
        deny("vhangup", SYS_vhangup, Some("SYS_TTY_CONFIG")),
        // "Shocker" (2014): open any inode of the host's filesystem by its handle.
        deny("open_by_handle_at", SYS_open_by_handle_at, Some("DAC_READ_SEARCH")),
        // Peek into other processes' files.
        deny("kcmp", SYS_kcmp, Some("SYS_PTRACE")),
        deny("pidfd_getfd", SYS_pidfd_getfd, Some("SYS_PTRACE")),
        // clone3 passes its flags in memory, where a filter cannot look: answer
        // "not implemented" and the C library falls back to clone, which we check.
        Denied { name: "clone3", nr: SYS_clone3, unless: admin, errno: libc::ENOSYS },
    ]
}

/// The `CLONE_NEW*` flags (0x7E020000): clone may not make namespaces
/// without CAP_SYS_ADMIN — the same check as Docker's profile.
pub const CLONE_NAMESPACE_FLAGS: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;
// ANCHOR_END: deny_list_4

/// The calls denied for a container holding `caps`: an entry is dropped
/// when the container has the capability it needs anyway (Docker's rule).
pub fn denied_for(caps: CapSet) -> Vec<Denied> {
    deny_list()
        .into_iter()
        .filter(|d| !d.unless.and_then(Cap::by_name).is_some_and(|cap| caps.contains(cap)))
        .collect()
}

// ---------------------------------------------------------------- the BPF program

// ANCHOR: bpf
// Classic BPF opcodes (linux/bpf_common.h) and seccomp return values.
const BPF_LD: u16 = 0x00;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00; // a 32-bit word
const BPF_ABS: u16 = 0x20; // at an absolute offset in seccomp_data
const BPF_K: u16 = 0x00; // compare with the constant k
const BPF_JEQ: u16 = 0x10;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;
#[allow(clippy::eq_op, clippy::identity_op)]
const BPF_LD_W_ABS: u16 = BPF_LD | BPF_W | BPF_ABS;
#[allow(clippy::identity_op)]
const BPF_JEQ_K: u16 = BPF_JMP | BPF_JEQ | BPF_K;
#[allow(clippy::identity_op)]
const BPF_JGE_K: u16 = BPF_JMP | BPF_JGE | BPF_K;
#[allow(clippy::identity_op)]
const BPF_JSET_K: u16 = BPF_JMP | BPF_JSET | BPF_K;
#[allow(clippy::identity_op)]
const BPF_RET_K: u16 = BPF_RET | BPF_K;

pub const RET_KILL_PROCESS: u32 = 0x8000_0000;
pub const RET_ERRNO: u32 = 0x0005_0000;
pub const RET_ALLOW: u32 = 0x7fff_0000;

// Offsets in `struct seccomp_data`: nr, arch, instruction pointer, args[6].
const OFFSET_NR: u32 = 0;
const OFFSET_ARCH: u32 = 4;
const OFFSET_ARG0_LOW: u32 = 16; // the low 32 bits, on a little-endian machine

#[cfg(target_arch = "x86_64")]
pub const AUDIT_ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
pub const AUDIT_ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

// ANCHOR_END: bpf
// ANCHOR: bpf_2
/// One instruction: `struct sock_filter`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

const fn stmt(code: u16, k: u32) -> Instruction {
    Instruction { code, jt: 0, jf: 0, k }
}

const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Instruction {
    Instruction { code, jt, jf, k }
}
// ANCHOR_END: bpf_2

// ANCHOR: bpf_2_2
/// The whole filter. Jumps are relative: `jt`/`jf` say how many
/// instructions to skip when the test is true/false.
pub fn program(denied: &[Denied], check_clone_flags: bool) -> Vec<Instruction> {
    let mut p = vec![
        // 1. Wrong architecture? A 32-bit call number means another call
        //    entirely (on x86_64, 32-bit int 0x80 reaches a different table).
        stmt(BPF_LD_W_ABS, OFFSET_ARCH),
        jump(BPF_JEQ_K, AUDIT_ARCH, 1, 0),
        stmt(BPF_RET_K, RET_KILL_PROCESS),
        stmt(BPF_LD_W_ABS, OFFSET_NR),
    ];
    // 2. x86_64 also runs x32 calls: the same numbers with bit 30 set.
    //    Forgetting this is a classic way to slip past a deny-list.
    #[cfg(target_arch = "x86_64")]
    p.extend([jump(BPF_JGE_K, 0x4000_0000, 0, 1), stmt(BPF_RET_K, RET_ERRNO | libc::EPERM as u32)]);
    // 3. One test per denied call.
    for d in denied {
        p.push(jump(BPF_JEQ_K, d.nr as u32, 0, 1));
        p.push(stmt(BPF_RET_K, RET_ERRNO | d.errno as u32));
    }
    // 4. clone: look at its first argument, the flags.
    if check_clone_flags {
        p.extend([
            jump(BPF_JEQ_K, libc::SYS_clone as u32, 0, 3),
            stmt(BPF_LD_W_ABS, OFFSET_ARG0_LOW),
            jump(BPF_JSET_K, CLONE_NAMESPACE_FLAGS, 0, 1),
            stmt(BPF_RET_K, RET_ERRNO | libc::EPERM as u32),
        ]);
    }
    p.push(stmt(BPF_RET_K, RET_ALLOW));
    p
}
// ANCHOR_END: bpf_2_2

/// The filter for a container holding `caps`.
pub fn filter_for(caps: CapSet) -> Vec<Instruction> {
    let check_clone = !caps.contains(Cap::by_name("SYS_ADMIN").expect("known name"));
    program(&denied_for(caps), check_clone)
}

// ANCHOR: install
/// Install `filter` on this process; it is inherited by every child and
/// kept across execve, and it can never be removed.
pub fn install(filter: &[Instruction], denied: usize) -> Result<(), SeccompError> {
    explain::step(Step {
        what: &format!(
            "install the seccomp filter: {} BPF instructions, {denied} system calls refused",
            filter.len()
        ),
        syscall: "seccomp(SECCOMP_SET_MODE_FILTER, 0, &(struct sock_fprog){len, filter})",
        shell: "docker run --security-opt seccomp=profile.json (no shell command loads a filter)",
        book: BOOK_SECCOMP,
    });
    #[repr(C)]
    struct SockFprog {
        len: u16,
        filter: *const Instruction,
    }
    let prog = SockFprog { len: filter.len() as u16, filter: filter.as_ptr() };
    // SAFETY: prog points at `filter`, which outlives the call; the kernel copies it.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0u32,
            &prog as *const SockFprog,
        )
    };
    Errno::result(rc).map(drop).map_err(SeccompError::Install)
}
// ANCHOR_END: install

/// Run `filter` on a system call, the way the kernel would: a tiny
/// interpreter for the five instructions we use, so tests can check the
/// program without installing it.
pub fn evaluate(filter: &[Instruction], arch: u32, nr: u32, arg0: u64) -> u32 {
    let mut a: u32 = 0;
    let mut pc = 0;
    while let Some(ins) = filter.get(pc) {
        pc += 1;
        let taken = match ins.code {
            BPF_LD_W_ABS => {
                a = match ins.k {
                    OFFSET_NR => nr,
                    OFFSET_ARCH => arch,
                    OFFSET_ARG0_LOW => arg0 as u32,
                    _ => 0,
                };
                continue;
            }
            BPF_RET_K => return ins.k,
            BPF_JEQ_K => a == ins.k,
            BPF_JGE_K => a >= ins.k,
            BPF_JSET_K => a & ins.k != 0,
            _ => return RET_KILL_PROCESS,
        };
        pc += usize::from(if taken { ins.jt } else { ins.jf });
    }
    RET_KILL_PROCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::caps::final_set;

    fn default_filter() -> Vec<Instruction> {
        filter_for(final_set(&[], &[], 40).unwrap())
    }

    fn verdict(filter: &[Instruction], nr: i64, arg0: u64) -> u32 {
        evaluate(filter, AUDIT_ARCH, nr as u32, arg0)
    }

    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;

    #[test]
    fn denies_the_dangerous_and_allows_the_rest() {
        let f = default_filter();
        for nr in [
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_finit_module,
            libc::SYS_kexec_load,
            libc::SYS_bpf,
            libc::SYS_keyctl,
            libc::SYS_unshare,
        ] {
            assert_eq!(verdict(&f, nr, 0), EPERM, "syscall {nr}");
        }
        for nr in [
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_execve,
            libc::SYS_chdir,
            libc::SYS_capset,
            libc::SYS_getcwd,
        ] {
            assert_eq!(verdict(&f, nr, 0), RET_ALLOW, "syscall {nr}");
        }
        assert_eq!(verdict(&f, libc::SYS_clone3, 0), RET_ERRNO | libc::ENOSYS as u32);
    }

    #[test]
    fn clone_is_checked_by_its_flags() {
        let f = default_filter();
        let fork_flags =
            (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD) as u64;
        assert_eq!(verdict(&f, libc::SYS_clone, fork_flags), RET_ALLOW);
        assert_eq!(verdict(&f, libc::SYS_clone, fork_flags | libc::CLONE_NEWUSER as u64), EPERM);
        assert_eq!(verdict(&f, libc::SYS_clone, libc::CLONE_NEWNS as u64), EPERM);
    }

    #[test]
    fn wrong_architecture_is_killed() {
        assert_eq!(
            evaluate(&default_filter(), 0x4000_0003, libc::SYS_read as u32, 0),
            RET_KILL_PROCESS
        );
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_numbers_are_refused() {
        assert_eq!(verdict(&default_filter(), 0x4000_0000 | libc::SYS_read, 0), EPERM);
    }

    #[test]
    fn capabilities_reopen_their_calls() {
        let with_admin = filter_for(final_set(&["SYS_ADMIN".into()], &[], 40).unwrap());
        assert_eq!(verdict(&with_admin, libc::SYS_mount, 0), RET_ALLOW);
        assert_eq!(verdict(&with_admin, libc::SYS_clone, libc::CLONE_NEWNS as u64), RET_ALLOW);
        assert_eq!(verdict(&with_admin, libc::SYS_finit_module, 0), EPERM);
        assert_eq!(verdict(&with_admin, libc::SYS_keyctl, 0), EPERM, "keyctl is never allowed");
        let with_module = filter_for(final_set(&["SYS_MODULE".into()], &[], 40).unwrap());
        assert_eq!(verdict(&with_module, libc::SYS_finit_module, 0), RET_ALLOW);
    }

    /// The real kernel agrees with our interpreter: in a forked child (no
    /// privileges needed: no_new_privs allows anyone to install a filter),
    /// unshare(CLONE_NEWUSER) works before the filter and fails after.
    #[test]
    fn the_kernel_enforces_it() {
        // SAFETY: the child only makes raw system calls, then _exits.
        match unsafe { nix::unistd::fork() }.unwrap() {
            nix::unistd::ForkResult::Child => {
                let code = (|| {
                    let filter = default_filter();
                    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
                    if install(&filter, 0).is_err() {
                        return 2;
                    }
                    let rc = unsafe { libc::unshare(libc::CLONE_NEWUSER) };
                    if rc == -1 && Errno::last() == Errno::EPERM {
                        0
                    } else {
                        3
                    }
                })();
                unsafe { libc::_exit(code) }
            }
            nix::unistd::ForkResult::Parent { child } => {
                let status = nix::sys::wait::waitpid(child, None).unwrap();
                assert_eq!(status, nix::sys::wait::WaitStatus::Exited(child, 0));
            }
        }
    }
}
