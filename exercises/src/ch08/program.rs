//! Exercise `program` (hard). Book: ch08-security.md, "seccomp".
//!
//! Write the seccomp filter in classic BPF: a list of `Instruction`s the
//! kernel runs on every system call, with an accumulator `A` that a load
//! fills from `struct seccomp_data` (the call's number, its architecture,
//! its arguments). The filter must return:
//! 1. `RET_KILL_PROCESS` when the architecture is not `AUDIT_ARCH` (this
//!    check comes first: another architecture numbers its calls differently);
//! 2. on x86_64 only, `RET_ERRNO | EPERM` for a call number with bit 30 set
//!    (`>= 0x4000_0000`, the x32 calls: the same calls by other numbers);
//! 3. `RET_ERRNO | d.errno` for each call `d` of `denied` (match `d.nr`);
//! 4. when `check_clone_flags`: for `clone`, `RET_ERRNO | EPERM` if its
//!    first argument (the low 32 bits) has any of `CLONE_NAMESPACE_FLAGS`;
//! 5. `RET_ALLOW` for everything else.
//!
//! Jumps are relative: a jump instruction `{ code, jt, jf, k }` compares `A`
//! with `k`, then skips `jt` instructions when true, `jf` when false. The
//! tests run your program in `seccomp::evaluate` (an interpreter of the
//! instructions below, as the kernel would run them), and one test installs
//! it on the real kernel in a forked child.

use ch08_security::seccomp::{
    Denied, Instruction, AUDIT_ARCH, CLONE_NAMESPACE_FLAGS, RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS,
};

// Given: the only instructions `evaluate` knows (linux/bpf_common.h).
/// `A = seccomp_data[k]`: a 32-bit load at offset `k`.
pub const LOAD_WORD: u16 = 0x20;
/// Jump if `A == k`.
pub const JUMP_IF_EQUAL: u16 = 0x15;
/// Jump if `A >= k`.
pub const JUMP_IF_AT_LEAST: u16 = 0x35;
/// Jump if `A & k != 0`.
pub const JUMP_IF_ANY_BIT: u16 = 0x45;
/// Return `k`: the verdict.
pub const RETURN: u16 = 0x06;
// Offsets in `struct seccomp_data` (linux/seccomp.h).
pub const OFFSET_NR: u32 = 0;
pub const OFFSET_ARCH: u32 = 4;
/// The low 32 bits of the first argument, on a little-endian machine.
pub const OFFSET_ARG0_LOW: u32 = 16;

/// The whole filter.
pub fn program(denied: &[Denied], check_clone_flags: bool) -> Vec<Instruction> {
    todo!("load the arch and check it, load the number, then one jump + return per denied call")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: no x32 check: on x86_64 the same call numbers
    // with bit 30 set slip past the deny-list. Checked by pasting it into the reference
    // implementation: it fails `x32_numbers_are_refused`.
    //
    //     // after the arch check and the load of the number, straight to the per-call jumps

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::seccomp as solution;

    use ch08_security::seccomp::{
        self, deny_list, evaluate, Denied, Instruction, AUDIT_ARCH, CLONE_NAMESPACE_FLAGS,
        RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS,
    };
    use nix::sys::wait::{waitpid, WaitStatus};
    use nix::unistd::{fork, ForkResult};

    const EPERM: u32 = RET_ERRNO | libc::EPERM as u32;
    const AUDIT_ARCH_I386: u32 = 0x4000_0003;

    fn denied(name: &'static str, nr: i64, errno: i32) -> Denied {
        Denied { name, nr, unless: None, errno }
    }

    fn verdict(filter: &[Instruction], nr: i64, arg0: u64) -> u32 {
        evaluate(filter, AUDIT_ARCH, nr as u32, arg0)
    }

    fn small_list() -> Vec<Denied> {
        vec![
            denied("mount", libc::SYS_mount, libc::EPERM),
            denied("unshare", libc::SYS_unshare, libc::EPERM),
            denied("clone3", libc::SYS_clone3, libc::ENOSYS),
        ]
    }

    #[test]
    fn listed_calls_fail_with_their_errno_and_others_pass() {
        let f = solution::program(&small_list(), false);
        assert_eq!(verdict(&f, libc::SYS_mount, 0), EPERM, "mount");
        assert_eq!(verdict(&f, libc::SYS_unshare, 0), EPERM, "unshare");
        assert_eq!(
            verdict(&f, libc::SYS_clone3, 0),
            RET_ERRNO | libc::ENOSYS as u32,
            "clone3 fails with its own errno"
        );
        for nr in
            [libc::SYS_read, libc::SYS_write, libc::SYS_execve, libc::SYS_umount2, libc::SYS_clone]
        {
            assert_eq!(verdict(&f, nr, 0), RET_ALLOW, "syscall {nr} is not in the list");
        }
        let open = solution::program(&[], false);
        assert_eq!(
            verdict(&open, libc::SYS_mount, 0),
            RET_ALLOW,
            "an empty list allows every call"
        );
    }

    #[test]
    fn another_architecture_is_killed_first() {
        for f in [solution::program(&[], false), solution::program(&small_list(), true)] {
            assert_eq!(evaluate(&f, AUDIT_ARCH_I386, libc::SYS_read as u32, 0), RET_KILL_PROCESS);
            assert_eq!(
                evaluate(&f, AUDIT_ARCH_I386, libc::SYS_mount as u32, 0),
                RET_KILL_PROCESS,
                "check the arch before the number"
            );
            assert_eq!(evaluate(&f, AUDIT_ARCH_I386, 11, 0), RET_KILL_PROCESS);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn x32_numbers_are_refused() {
        let f = solution::program(&small_list(), false);
        assert_eq!(verdict(&f, 0x4000_0000 | libc::SYS_read, 0), EPERM);
        assert_eq!(verdict(&f, 0x4000_0000 | libc::SYS_mount, 0), EPERM);
        assert_eq!(
            verdict(&f, 0x3fff_ffff, 0),
            RET_ALLOW,
            "bit 30 clear: an ordinary (unknown) number"
        );
    }

    #[test]
    fn clone_is_judged_by_its_flags_when_asked() {
        let fork_flags =
            (libc::CLONE_CHILD_SETTID | libc::CLONE_CHILD_CLEARTID | libc::SIGCHLD) as u64;
        let checked = solution::program(&small_list(), true);
        assert_eq!(verdict(&checked, libc::SYS_clone, fork_flags), RET_ALLOW, "a plain fork");
        for bit in (0..32).map(|i| 1u32 << i).filter(|b| CLONE_NAMESPACE_FLAGS & b != 0) {
            assert_eq!(
                verdict(&checked, libc::SYS_clone, fork_flags | u64::from(bit)),
                EPERM,
                "clone with flag {bit:#x}"
            );
        }
        assert_eq!(
            verdict(&checked, libc::SYS_read, libc::CLONE_NEWNS as u64),
            RET_ALLOW,
            "only clone's flags are checked"
        );
        assert_eq!(verdict(&checked, libc::SYS_mount, 0), EPERM, "the list still applies");
        let unchecked = solution::program(&small_list(), false);
        assert_eq!(verdict(&unchecked, libc::SYS_clone, libc::CLONE_NEWUSER as u64), RET_ALLOW);
    }

    #[test]
    fn the_whole_deny_list() {
        let list = deny_list();
        let f = solution::program(&list, true);
        for d in &list {
            assert_eq!(verdict(&f, d.nr, 0), RET_ERRNO | d.errno as u32, "{}", d.name);
        }
        for nr in [libc::SYS_read, libc::SYS_openat, libc::SYS_getpid, libc::SYS_exit_group] {
            assert_eq!(verdict(&f, nr, 0), RET_ALLOW, "syscall {nr}");
        }
    }

    /// The kernel checks the program when it is installed (EINVAL for a
    /// bad one), then runs it: here in a forked child, never in the tests'
    /// own process (a filter cannot be removed). no_new_privs lets any
    /// user install a filter: no root needed.
    #[test]
    fn the_kernel_accepts_and_enforces_it() {
        let list = [denied("getppid", libc::SYS_getppid, libc::EACCES)];
        let filter = solution::program(&list, true);
        // SAFETY: the child only makes system calls, then _exits.
        match unsafe { fork() }.expect("fork") {
            ForkResult::Child => {
                let code = (|| {
                    unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) };
                    if seccomp::install(&filter, list.len()).is_err() {
                        return 10;
                    }
                    let rc = unsafe { libc::syscall(libc::SYS_getppid) };
                    if rc != -1 || nix::errno::Errno::last() != nix::errno::Errno::EACCES {
                        return 11;
                    }
                    if unsafe { libc::syscall(libc::SYS_getpid) } <= 0 {
                        return 12;
                    }
                    0
                })();
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => match waitpid(child, None).expect("waitpid") {
                WaitStatus::Exited(_, 0) => {}
                WaitStatus::Exited(_, 10) => panic!("the kernel refused the program (EINVAL): check the jump distances and opcodes"),
                WaitStatus::Exited(_, 11) => panic!("getppid was not refused with EACCES by the installed filter"),
                WaitStatus::Exited(_, 12) => panic!("getpid was refused: the filter must allow what is not listed"),
                other => panic!("the child ended with {other:?} (killed by SIGSYS: the filter returned RET_KILL for a call it should allow)"),
            },
        }
    }
}
