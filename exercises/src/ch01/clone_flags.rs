//! Exercise `clone_flags` (easy). Book: ch01-namespaces.md, "What a namespace is".
//!
//! Each namespace the container gets is one `CLONE_NEW*` flag of clone(2).
//! Return the flags for the namespaces switched on in `ns`, and no other.

use ch01_namespaces::Namespaces;
use nix::sched::CloneFlags;

// ANCHOR: stub
/// The `clone(2)` flags that create the namespaces in `ns`.
pub fn clone_flags(ns: &Namespaces) -> CloneFlags {
    todo!("combine one CloneFlags::CLONE_NEW* per namespace that is on")
}
// ANCHOR_END: stub

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the five namespaces Docker uses by default, and
    // not `user` or `cgroup`. Checked by pasting it into the stub: it fails
    // `each_namespace_adds_exactly_its_flag`.
    //
    //     let mut flags = CloneFlags::empty();
    //     for (on, flag) in [
    //         (ns.uts, CloneFlags::CLONE_NEWUTS),
    //         (ns.pid, CloneFlags::CLONE_NEWPID),
    //         (ns.mount, CloneFlags::CLONE_NEWNS),
    //         (ns.ipc, CloneFlags::CLONE_NEWIPC),
    //         (ns.net, CloneFlags::CLONE_NEWNET),
    //     ] {
    //         if on {
    //             flags |= flag;
    //         }
    //     }
    //     flags

    // ANCHOR: solution
    // The same tests run against the chapter's real function (`--features
    // reference`, what CI does) or against the stub above (what you do).
    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch01_namespaces::namespaces as solution;
    // ANCHOR_END: solution

    use ch01_namespaces::Namespaces;
    use nix::sched::CloneFlags;

    const NONE: Namespaces = Namespaces {
        uts: false,
        pid: false,
        mount: false,
        ipc: false,
        net: false,
        user: false,
        cgroup: false,
    };

    #[test]
    fn defaults_are_dockers_five() {
        assert_eq!(
            solution::clone_flags(&Namespaces::default()),
            CloneFlags::CLONE_NEWUTS
                | CloneFlags::CLONE_NEWPID
                | CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWNET
        );
    }

    #[test]
    fn each_namespace_adds_exactly_its_flag() {
        assert!(solution::clone_flags(&NONE).is_empty());
        let one = [
            (Namespaces { uts: true, ..NONE }, CloneFlags::CLONE_NEWUTS),
            (Namespaces { pid: true, ..NONE }, CloneFlags::CLONE_NEWPID),
            (Namespaces { mount: true, ..NONE }, CloneFlags::CLONE_NEWNS),
            (Namespaces { ipc: true, ..NONE }, CloneFlags::CLONE_NEWIPC),
            (Namespaces { net: true, ..NONE }, CloneFlags::CLONE_NEWNET),
            (Namespaces { user: true, ..NONE }, CloneFlags::CLONE_NEWUSER),
            (Namespaces { cgroup: true, ..NONE }, CloneFlags::CLONE_NEWCGROUP),
        ];
        for (ns, flag) in one {
            assert_eq!(solution::clone_flags(&ns), flag, "{ns:?}");
        }
    }

    #[test]
    fn switching_one_off_removes_only_its_flag() {
        let net_off = Namespaces { net: false, ..Namespaces::default() };
        let flags = solution::clone_flags(&net_off);
        assert!(!flags.contains(CloneFlags::CLONE_NEWNET));
        assert!(flags.contains(CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS));
    }
}
