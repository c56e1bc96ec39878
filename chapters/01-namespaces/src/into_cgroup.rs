//! `clone3(CLONE_INTO_CGROUP)`: a child born in its cgroup (Linux 5.7,
//! cgroup v2 only). Moving a process into a cgroup afterwards waits for an
//! RCU grace period; a child created inside it needs no move at all. crun
//! starts containers this way on cgroup v2 hosts.

use std::os::fd::{AsRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::unistd::Pid;

/// `CLONE_INTO_CGROUP` from `<linux/sched.h>`: clone3 only, its flags are 64 bits.
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

// ANCHOR: clone_args
/// The kernel's `struct clone_args` (`<linux/sched.h>`), version 2: the
/// size is how the kernel knows which fields we know of.
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}
// ANCHOR_END: clone_args

/// Who we are after [`clone_into`]: the parent (with the child's pid) or the child.
pub(crate) enum Cloned {
    Parent(Pid),
    Child,
}

// ANCHOR: clone_into
/// Clone like `fork` (no new stack: the child goes on from this very call,
/// on its copy of our stack) into new namespaces `flags`, and into the v2
/// cgroup whose directory `cgroup` is open. An error is the kernel's: ENOSYS
/// before Linux 5.3, EINVAL or E2BIG before 5.7 or for a v1 directory.
///
/// # Safety
/// As for `fork`: the caller has one thread, and the child only execs or exits.
pub(crate) unsafe fn clone_into(flags: CloneFlags, cgroup: &OwnedFd) -> Result<Cloned, Errno> {
    let args = CloneArgs {
        flags: flags.bits() as u64 | CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    let size = std::mem::size_of::<CloneArgs>();
    match libc::syscall(libc::SYS_clone3, &args as *const CloneArgs, size) {
        -1 => Err(Errno::last()),
        0 => Ok(Cloned::Child),
        pid => Ok(Cloned::Parent(Pid::from_raw(pid as i32))),
    }
}
// ANCHOR_END: clone_into

#[cfg(test)]
mod tests {
    #[test]
    fn the_struct_is_the_kernels_version_2() {
        // CLONE_ARGS_SIZE_VER2 in <linux/sched.h>: the cgroup field ends at 88.
        assert_eq!(std::mem::size_of::<super::CloneArgs>(), 88);
    }
}
