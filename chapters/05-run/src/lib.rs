//! # Chapter 5 — run
//!
//! The container lifecycle, from `run` to `rm`: chapters 1–4 put together
//! into the commands a Docker user types, and the seam ([`extension`])
//! through which chapters 6, 7 and 8 add networks, volumes and walls.
//!
//! - [`create`]: a container's config and root; [`supervisor`]: start, relay, wait.
//! - [`lifecycle`]: the [`Engine`], stop, kill, rm, wait; [`exec`]: joining a container.
//! - [`extension`] and [`settings`]: what later chapters plug in, and where they keep it.
//! - [`inspect`], [`summary`], [`ps`]: what `inspect` and `ps` show.

pub mod attach;
pub mod cgroup_view;
pub mod cli;
pub mod container;
pub mod create;
pub mod env;
pub mod exec;
pub mod extension;
pub mod ids;
pub mod image;
pub mod inspect;
pub mod layers;
pub mod lifecycle;
pub mod logs;
pub mod merge;
pub mod pause;
pub mod ps;
pub mod relay;
pub mod settings;
pub mod shim;
pub mod state;
pub mod stdio;
pub mod store;
pub mod summary;
pub mod supervisor;
pub mod user;

pub use container::ContainerConfig;
pub use create::{CreateRequest, Created};
pub use extension::{ChildSteps, Creating, Execing, Extension, NothingHeld, Running, Starting};
pub use lifecycle::{Engine, StartFailed};
pub use settings::{Extensions, Settings};
pub use state::State;
pub use supervisor::StartOptions;
