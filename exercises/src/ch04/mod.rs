//! Chapter 4: images. Book: `book/src/ch04-image-pull.md`.

use crate::catalog::{Exercise, Level};

pub mod chain_id;
pub mod choose_platform;
pub mod clean_path;
pub mod parse_challenge;
pub mod parse_reference;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "chain_id",
        chapter: "ch04",
        reference: "ch04_image_pull::digest::chain_id",
        level: Level::Easy,
        root: false,
        book: "ch04-image-pull.md#the-content-store",
        task: "the ChainID of a stack of layers, from their DiffIDs",
    },
    Exercise {
        name: "clean_path",
        chapter: "ch04",
        reference: "ch04_image_pull::unpack::clean_path",
        level: Level::Easy,
        root: false,
        book: "ch04-image-pull.md#safe-unpacking",
        task: "split a tar entry's name into clean components; refuse the .. that climbs out",
    },
    Exercise {
        name: "parse_challenge",
        chapter: "ch04",
        reference: "ch04_image_pull::auth::parse_challenge",
        level: Level::Medium,
        root: false,
        book: "ch04-image-pull.md#authentication-401-challenge-retry",
        task: "parse a WWW-Authenticate header, commas inside quotes included",
    },
    Exercise {
        name: "choose_platform",
        chapter: "ch04",
        reference: "ch04_image_pull::platform::choose",
        level: Level::Medium,
        root: false,
        book: "ch04-image-pull.md#the-pull-conversation",
        task: "pick the manifest for a platform from an image index",
    },
    Exercise {
        name: "parse_reference",
        chapter: "ch04",
        reference: "ch04_image_pull::Reference::parse",
        level: Level::Hard,
        root: false,
        book: "ch04-image-pull.md#image-references",
        task: "parse and normalise an image reference as docker pull does",
    },
];
