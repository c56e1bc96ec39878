//! # Chapter 5 — run
//!
//! The container lifecycle, from `mini-docker run` to `rm`: chapters 1–4 put
//! together into the commands a Docker user types.

pub mod container;
pub mod env;
pub mod exec;
pub mod ids;
pub mod image;
pub mod inspect;
pub mod layers;
pub mod lifecycle;
pub mod logs;
pub mod merge;
pub mod state;
pub mod stdio;
pub mod store;
pub mod user;

pub use lifecycle::{CreateRequest, Engine, StartFailed};
