//! Chapter 5: run. Book: `book/src/ch05-run.md`.

use crate::catalog::{Exercise, Level};

pub mod argv;
pub mod environment;
pub mod parse_env;
pub mod read_through_layers;
pub mod resolve_user;
pub mod validate_name;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "validate_name",
        chapter: "ch05",
        reference: "ch05_run::ids::validate_name",
        level: Level::Easy,
        root: false,
        book: "ch05-run.md",
        task: "Docker's rule for --name: [a-zA-Z0-9][a-zA-Z0-9_.-]+",
    },
    Exercise {
        name: "parse_env",
        chapter: "ch05",
        reference: "ch05_run::env::parse_env",
        level: Level::Easy,
        root: false,
        book: "ch05-run.md",
        task: "one -e value: KEY=VALUE as it is, a bare KEY from the host",
    },
    Exercise {
        name: "argv",
        chapter: "ch05",
        reference: "ch05_run::merge::argv",
        level: Level::Medium,
        root: false,
        book: "ch05-run.md",
        task: "combine the image's Entrypoint and Cmd with the run arguments and --entrypoint",
    },
    Exercise {
        name: "environment",
        chapter: "ch05",
        reference: "ch05_run::merge::environment",
        level: Level::Medium,
        root: false,
        book: "ch05-run.md",
        task: "the container's environment: Docker's defaults, then the image's, then the user's",
    },
    Exercise {
        name: "resolve_user",
        chapter: "ch05",
        reference: "ch05_run::user::resolve_user",
        level: Level::Hard,
        root: false,
        book: "ch05-run.md",
        task: "resolve -u USER[:GROUP] against the image's /etc/passwd and /etc/group",
    },
    Exercise {
        name: "read_through_layers",
        chapter: "ch05",
        reference: "ch05_run::layers::read_through_layers",
        level: Level::Hard,
        root: true,
        book: "ch03-union-fs.md#our-layer-format",
        task:
            "read a file of an image through its layers, whiteouts and opaque directories included",
    },
];
