//! Chapter 11: services. Book: `book/src/ch11-services.md`.

use crate::catalog::{Exercise, Level};

pub mod advance;
pub mod decide;
pub mod pick_node;
pub mod round_robin;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "advance",
        chapter: "ch11",
        reference: "ch11_services::state::advance",
        level: Level::Easy,
        root: false,
        book: "ch11-services.md#the-task-state-machine",
        task: "apply a reported task state only if it is later than the recorded one",
    },
    Exercise {
        name: "decide",
        chapter: "ch11",
        reference: "ch11_services::agent::decide",
        level: Level::Medium,
        root: false,
        book: "ch11-services.md#the-agent",
        task: "the agent's one step for a task: prepare, start, stop, report or nothing",
    },
    Exercise {
        name: "pick_node",
        chapter: "ch11",
        reference: "ch11_services::scheduler::pick_node",
        level: Level::Medium,
        root: false,
        book: "ch11-services.md#the-scheduler-spreading",
        task: "spread scheduling: a ready, active node with the fewest tasks of the service",
    },
    Exercise {
        name: "round_robin",
        chapter: "ch11",
        reference: "ch11_services::mesh::round_robin",
        level: Level::Easy,
        root: false,
        book: "ch11-services.md#the-routing-mesh",
        task: "the mesh's choice: the backend whose turn it is, in a list that may have changed",
    },
];
