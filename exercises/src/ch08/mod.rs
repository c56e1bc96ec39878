//! Chapter 8: security. Book: `book/src/ch08-security.md`.

use crate::catalog::{Exercise, Level};

pub mod final_set;
pub mod parse_name;
pub mod parse_security_opt;
pub mod parse_subid;
pub mod program;
pub mod set_sets;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "parse_name",
        chapter: "ch08",
        reference: "ch08_security::caps::parse_name",
        level: Level::Easy,
        root: false,
        book: "ch08-security.md#capabilities",
        task: "one name of --cap-add/--cap-drop: NET_ADMIN, cap_net_admin or ALL",
    },
    Exercise {
        name: "parse_subid",
        chapter: "ch08",
        reference: "ch08_security::userns::parse_subid",
        level: Level::Easy,
        root: false,
        book: "ch08-security.md#user-namespaces",
        task: "find a user's range in the text of /etc/subuid (name:start:count)",
    },
    Exercise {
        name: "parse_security_opt",
        chapter: "ch08",
        reference: "ch08_security::options::parse_security_opt",
        level: Level::Medium,
        root: false,
        book: "ch08-security.md#the-flags",
        task: "one --security-opt: seccomp=unconfined, no-new-privileges[:true|false], or a clear error",
    },
    Exercise {
        name: "final_set",
        chapter: "ch08",
        reference: "ch08_security::caps::final_set",
        level: Level::Medium,
        root: false,
        book: "ch08-security.md#capabilities",
        task: "the container's capabilities: Docker's 14, then --cap-drop, then --cap-add (and ALL)",
    },
    Exercise {
        name: "program",
        chapter: "ch08",
        reference: "ch08_security::seccomp::program",
        level: Level::Hard,
        root: false,
        book: "ch08-security.md#seccomp",
        task: "write the seccomp deny-list filter in classic BPF, architecture check included",
    },
    Exercise {
        name: "set_sets",
        chapter: "ch08",
        reference: "ch08_security::caps::set_sets",
        level: Level::Hard,
        root: true,
        book: "ch08-security.md#capabilities",
        task: "set this thread's capability sets with capset(2), by hand",
    },
];
