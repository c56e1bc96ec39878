//! # Chapter 11 — services: desired state across several daemons
//!
//! A service says what should be running ("three replicas of this image,
//! port 8080 published"); the swarm makes it so and keeps it so. One
//! daemon is the manager: it keeps the desired state in a store and runs a
//! reconciliation loop over it. Every daemon (the manager too) is a
//! worker: its agent runs the tasks it is given as containers, through
//! chapter 9's engine, and reports what happens to them.
//!
//! - [`state`]: the task state machine.
//! - [`store`], [`spec`]: the manager's objects, persisted.
//! - [`orchestrator`], [`scheduler`], [`updater`], [`manager`]: the loop.
//! - [`protocol`], [`server`], [`client`]: managers and workers talking.
//! - [`agent`]: a worker running its tasks.
//! - [`mesh`]: every node's published ports, balanced over every replica.
//! - [`node`], [`api`]: swarm mode in the daemon and its Engine API routes.

pub mod agent;
pub mod api;
pub mod cli;
pub mod client;
pub mod manager;
pub mod mesh;
pub mod names;
pub mod node;
pub mod orchestrator;
pub mod protocol;
pub mod render;
pub mod scheduler;
pub mod server;
pub mod spec;
pub mod state;
pub mod store;
pub mod updater;

use std::path::Path;
use std::sync::Arc;

pub use api::SwarmRoutes;
pub use node::Swarm;

// ANCHOR: routes
/// Swarm mode for the daemon at `root`, as routes for chapter 9's router.
pub fn routes(root: &Path, local: ch09_engine::Local) -> Arc<SwarmRoutes> {
    Arc::new(SwarmRoutes(Swarm::open(root, local)))
}
// ANCHOR_END: routes
