//! Chapter 9: the engine as a daemon. Book: `book/src/ch09-engine.md`.

use crate::catalog::{Exercise, Level};

pub mod glob;
pub mod reference_matches;
pub mod unix_seconds;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "glob",
        chapter: "ch09",
        reference: "ch09_engine::local::objects::image_filters::glob",
        level: Level::Medium,
        root: false,
        book: "ch09-engine.md#images-networks-and-volumes-over-the-api",
        task: "Go's path.Match for `images --filter reference=`: `*` and `?`, never across a `/`",
    },
    Exercise {
        name: "reference_matches",
        chapter: "ch09",
        reference: "ch09_engine::local::objects::image_filters::reference_matches",
        level: Level::Easy,
        root: false,
        book: "ch09-engine.md#images-networks-and-volumes-over-the-api",
        task: "does a `reference=` pattern match a tag's repository, or the whole repository:tag?",
    },
    Exercise {
        name: "unix_seconds",
        chapter: "ch09",
        reference: "ch09_engine::local::objects::images::unix_seconds",
        level: Level::Medium,
        root: false,
        book: "ch09-engine.md#images-networks-and-volumes-over-the-api",
        task: "an image's RFC 3339 `created` as the unix seconds `GET /images/json` lists",
    },
];
