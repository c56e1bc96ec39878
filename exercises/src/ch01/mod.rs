//! Chapter 1: namespaces. Book: `book/src/ch01-namespaces.md`.

use crate::catalog::{Exercise, Level};

pub mod clone_flags;
pub mod id_map_line;
pub mod resolve;
pub mod supervise;
pub mod validate_hostname;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "clone_flags",
        chapter: "ch01",
        reference: "ch01_namespaces::namespaces::clone_flags",
        level: Level::Easy,
        root: false,
        book: "ch01-namespaces.md#what-a-namespace-is",
        task: "turn a Namespaces into the clone(2) flags that create them",
    },
    Exercise {
        name: "id_map_line",
        chapter: "ch01",
        reference: "ch01_namespaces::userns::id_map_line",
        level: Level::Easy,
        root: false,
        book: "ch01-namespaces.md#user-root-inside-nobody-outside",
        task: "write one line of /proc/PID/uid_map",
    },
    Exercise {
        name: "validate_hostname",
        chapter: "ch01",
        reference: "ch01_namespaces::hostname::validate_hostname",
        level: Level::Easy,
        root: false,
        book: "ch01-namespaces.md#uts-your-own-hostname",
        task: "accept RFC 1123 hostnames, refuse the rest with the right error",
    },
    Exercise {
        name: "resolve",
        chapter: "ch01",
        reference: "ch01_namespaces::exec::resolve",
        level: Level::Medium,
        root: false,
        book: "ch01-namespaces.md#the-spawn-protocol",
        task: "find a program in PATH, with Docker's 126/127 distinction",
    },
    Exercise {
        name: "supervise",
        chapter: "ch01",
        reference: "ch01_namespaces::init::supervise",
        level: Level::Hard,
        root: false,
        book: "ch01-namespaces.md#pid-1-and-orphans",
        task:
            "the init loop: reap every child, return the command's exit code (128+N for a signal)",
    },
];
