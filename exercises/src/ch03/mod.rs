//! Chapter 3: the union filesystem. Book: `book/src/ch03-union-fs.md`.

use crate::catalog::{Exercise, Level};

pub mod is_whiteout;
pub mod mount_data;
pub mod pivot_into;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "mount_data",
        chapter: "ch03",
        reference: "ch03_union_fs::overlay::mount_data",
        level: Level::Easy,
        root: false,
        book: "ch03-union-fs.md#overlayfs",
        task: "the overlay mount options: lowerdir top-most first, separators escaped, at most one page",
    },
    Exercise {
        name: "is_whiteout",
        chapter: "ch03",
        reference: "ch03_union_fs::layer::is_whiteout",
        level: Level::Medium,
        root: true,
        book: "ch03-union-fs.md#our-layer-format",
        task: "recognise overlayfs's mark for a deleted file (tested on real device nodes)",
    },
    Exercise {
        name: "pivot_into",
        chapter: "ch03",
        reference: "ch03_union_fs::pivot::pivot_into",
        level: Level::Hard,
        root: true,
        book: "ch03-union-fs.md#pivot_root-not-chroot",
        task: "the pivot_root dance: make a directory the root and detach the host's",
    },
];
