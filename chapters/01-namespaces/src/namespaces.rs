//! Which namespaces a container gets, and the `clone(2)` flags that make them.

use nix::sched::CloneFlags;

// ANCHOR: namespaces
/// The namespaces a new container process is created in.
///
/// Docker's defaults are the first five; a user namespace is optional
/// (`dockerd --userns-remap`), because it changes what root in the container
/// may do on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Namespaces {
    /// Own hostname and domain name.
    pub uts: bool,
    /// Own process numbers: the command is PID 1.
    pub pid: bool,
    /// Own mount table: mounts made inside never show on the host.
    pub mount: bool,
    /// Own System V IPC objects and POSIX message queues.
    pub ipc: bool,
    /// Own network stack: only `lo` until someone adds an interface.
    pub net: bool,
    /// Own user and group ids: root inside maps to an ordinary user outside.
    pub user: bool,
    /// Own view of the cgroup tree: `/proc/self/cgroup` shows `/`.
    pub cgroup: bool,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            uts: true,
            pid: true,
            mount: true,
            ipc: true,
            net: true,
            user: false,
            cgroup: false,
        }
    }
}
// ANCHOR_END: namespaces

// ANCHOR: clone_flags
/// The `clone(2)` flags that create the namespaces in `ns`.
pub fn clone_flags(ns: &Namespaces) -> CloneFlags {
    let wanted = [
        (ns.uts, CloneFlags::CLONE_NEWUTS),
        (ns.pid, CloneFlags::CLONE_NEWPID),
        (ns.mount, CloneFlags::CLONE_NEWNS),
        (ns.ipc, CloneFlags::CLONE_NEWIPC),
        (ns.net, CloneFlags::CLONE_NEWNET),
        (ns.user, CloneFlags::CLONE_NEWUSER),
        (ns.cgroup, CloneFlags::CLONE_NEWCGROUP),
    ];
    wanted
        .into_iter()
        .filter(|(on, _)| *on)
        .fold(CloneFlags::empty(), |flags, (_, flag)| flags | flag)
}
// ANCHOR_END: clone_flags

/// The flags as C would spell them: `CLONE_NEWUTS | CLONE_NEWPID | ...`.
pub fn flag_names(flags: CloneFlags) -> String {
    flags.iter_names().map(|(name, _)| name).collect::<Vec<_>>().join(" | ")
}

/// Short names of the namespaces in `ns`, as `lsns` and `/proc/PID/ns/` name them.
pub fn names(ns: &Namespaces) -> Vec<&'static str> {
    let all = [
        (ns.uts, "uts"),
        (ns.pid, "pid"),
        (ns.mount, "mnt"),
        (ns.ipc, "ipc"),
        (ns.net, "net"),
        (ns.user, "user"),
        (ns.cgroup, "cgroup"),
    ];
    all.into_iter().filter(|(on, _)| *on).map(|(_, name)| name).collect()
}

/// The `unshare(1)` command line that creates the same namespaces.
pub fn unshare_command(ns: &Namespaces) -> String {
    let options = [
        (ns.uts, "--uts"),
        (ns.pid, "--pid --fork --mount-proc"),
        (ns.mount, "--mount"),
        (ns.ipc, "--ipc"),
        (ns.net, "--net"),
        (ns.user, "--user --map-root-user"),
        (ns.cgroup, "--cgroup"),
    ];
    let mut cmd = String::from("unshare");
    for (_, opt) in options.into_iter().filter(|(on, _)| *on) {
        cmd.push(' ');
        cmd.push_str(opt);
    }
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_dockers_five() {
        let flags = clone_flags(&Namespaces::default());
        assert_eq!(
            flags,
            CloneFlags::CLONE_NEWUTS
                | CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWNET
        );
        assert_eq!(names(&Namespaces::default()), ["uts", "pid", "mnt", "ipc", "net"]);
    }

    #[test]
    fn each_namespace_adds_exactly_its_flag() {
        let none = Namespaces {
            uts: false,
            pid: false,
            mount: false,
            ipc: false,
            net: false,
            user: false,
            cgroup: false,
        };
        assert!(clone_flags(&none).is_empty());
        let user_only = Namespaces { user: true, ..none };
        assert_eq!(clone_flags(&user_only), CloneFlags::CLONE_NEWUSER);
        let net_off = Namespaces { net: false, ..Namespaces::default() };
        assert!(!clone_flags(&net_off).contains(CloneFlags::CLONE_NEWNET));
    }

    #[test]
    fn flags_print_as_c_would() {
        let ns = Namespaces {
            uts: true,
            pid: true,
            mount: false,
            ipc: false,
            net: false,
            user: false,
            cgroup: false,
        };
        assert_eq!(flag_names(clone_flags(&ns)), "CLONE_NEWUTS | CLONE_NEWPID");
    }

    #[test]
    fn unshare_equivalent() {
        assert_eq!(
            unshare_command(&Namespaces::default()),
            "unshare --uts --pid --fork --mount-proc --mount --ipc --net"
        );
    }
}
