//! Chapter 2: cgroups. Book: `book/src/ch02-cgroups.md`.

use crate::catalog::{Exercise, Level};

pub mod parse_cpus;
pub mod parse_mountinfo;
pub mod parse_size;
pub mod shares_to_weight;
pub mod v2_knobs;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "parse_size",
        chapter: "ch02",
        reference: "ch02_cgroups::limits::parse_size",
        level: Level::Easy,
        root: false,
        book: "ch02-cgroups.md#dockers-flags",
        task: "parse Docker's sizes: 64m, 64MiB, 1.5g, 4096 — and refuse 12x",
    },
    Exercise {
        name: "parse_cpus",
        chapter: "ch02",
        reference: "ch02_cgroups::limits::parse_cpus",
        level: Level::Easy,
        root: false,
        book: "ch02-cgroups.md#dockers-flags",
        task: "--cpus 0.5 becomes a quota of 50000 µs per 100000 µs period",
    },
    Exercise {
        name: "shares_to_weight",
        chapter: "ch02",
        reference: "ch02_cgroups::limits::shares_to_weight",
        level: Level::Easy,
        root: false,
        book: "ch02-cgroups.md#v1-and-v2-side-by-side",
        task: "map v1 cpu.shares to v2 cpu.weight the way runc does",
    },
    Exercise {
        name: "parse_mountinfo",
        chapter: "ch02",
        reference: "ch02_cgroups::detect::parse_mountinfo",
        level: Level::Medium,
        root: false,
        book: "ch02-cgroups.md#finding-the-hierarchies",
        task: "find the v1 controllers and the v2 tree in /proc/self/mountinfo",
    },
    Exercise {
        name: "v2_knobs",
        chapter: "ch02",
        reference: "ch02_cgroups::knobs::v2",
        level: Level::Medium,
        root: false,
        book: "ch02-cgroups.md#setting-the-limits",
        task: "which cgroup v2 file gets which value for the container's limits",
    },
];
