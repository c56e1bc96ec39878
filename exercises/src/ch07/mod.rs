//! Chapter 7: volumes. Book: `book/src/ch07-volumes.md`.

use crate::catalog::{Exercise, Level};

pub mod bind_mount;
pub mod clean_target;
pub mod containers_using;
pub mod copy_tree;
pub mod parse_volume_flag;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "clean_target",
        chapter: "ch07",
        reference: "ch07_volumes::spec::clean",
        level: Level::Easy,
        root: false,
        book: "ch07-volumes.md#parsing-the-flags-as-docker-does",
        task: "Go's path.Clean for absolute paths: /a/../../b/./c// is /b/c",
    },
    Exercise {
        name: "containers_using",
        chapter: "ch07",
        reference: "ch07_volumes::in_use::containers_using",
        level: Level::Medium,
        root: false,
        book: "ch07-volumes.md#removing-volumes",
        task: "which containers' config.json mount a volume: the check before volume rm",
    },
    Exercise {
        name: "copy_tree",
        chapter: "ch07",
        reference: "ch07_volumes::seed::copy_tree",
        level: Level::Medium,
        root: true,
        book: "ch07-volumes.md#seeding-a-volume-from-the-image",
        task: "cp -a: files, directories, symlinks, device nodes, FIFOs, with owners and modes",
    },
    Exercise {
        name: "parse_volume_flag",
        chapter: "ch07",
        reference: "ch07_volumes::spec::parse_volume_flag",
        level: Level::Hard,
        root: false,
        book: "ch07-volumes.md#parsing-the-flags-as-docker-does",
        task: "parse -v: bind, named or anonymous volume, modes, and Docker's error messages",
    },
    Exercise {
        name: "bind_mount",
        chapter: "ch07",
        reference: "ch07_volumes::mount::bind",
        level: Level::Hard,
        root: true,
        book: "ch07-volumes.md#read-only-that-holds",
        task: "bind a volume into the container's root; :ro remounts it read-only, keeping nosuid/nodev/noexec",
    },
];
