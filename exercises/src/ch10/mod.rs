//! Chapter 10: making images. Book: `book/src/ch10-images.md`.

use crate::catalog::{Exercise, Level};

pub mod changes;
pub mod probe_config;
pub mod resolve_location;
pub mod split_line;
pub mod substitute;
pub mod whiteout_entry;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "resolve_location",
        chapter: "ch10",
        reference: "ch04_image_pull::registry::resolve_location",
        level: Level::Easy,
        root: false,
        book: "ch10-images.md#push-step-by-step",
        task:
            "resolve an upload Location (absolute, /path, or relative) against the URL that sent it",
    },
    Exercise {
        name: "whiteout_entry",
        chapter: "ch10",
        reference: "ch10_images::tarball::whiteout_entry",
        level: Level::Medium,
        root: false,
        book: "ch10-images.md#a-layer-is-a-diff",
        task: "turn an overlayfs whiteout or opaque directory into its layer tar entry",
    },
    Exercise {
        name: "substitute",
        chapter: "ch10",
        reference: "ch10_images::change::substitute",
        level: Level::Medium,
        root: false,
        book: "ch10-images.md#commit-a-config-a-layer-a-line-of-history",
        task: "${NAME:-default} and friends: the Dockerfile's variable modifiers",
    },
    Exercise {
        name: "split_line",
        chapter: "ch10",
        reference: "ch10_images::build::parser::split_line",
        level: Level::Easy,
        root: false,
        book: "ch10-images.md#building-from-a-dockerfile",
        task: "parse one Dockerfile line: its instruction, its --flags and its arguments",
    },
    Exercise {
        name: "probe_config",
        chapter: "ch10",
        reference: "ch10_images::build::cache::probe_config",
        level: Level::Easy,
        root: false,
        book: "ch10-images.md#building-from-a-dockerfile",
        task:
            "the classic builder's cache key: the config after a step, with the step as its command",
    },
    Exercise {
        name: "changes",
        chapter: "ch10",
        reference: "ch10_images::changes::changes",
        level: Level::Hard,
        root: false,
        book: "ch10-images.md#docker-diff-two-trees-compared",
        task: "docker diff: the A, C and D lines between an image's tree and a container's",
    },
];
