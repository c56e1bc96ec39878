//! # Chapter 9 — the engine as a daemon
//!
//! Docker is client–server: a long-running daemon (dockerd) behind a REST
//! API, and the `docker` CLI as one of its clients. This chapter puts the
//! engine of chapters 1–8 behind the same API.
//!
//! - [`types`], [`error`]: the Engine API's request bodies and error classes.
//! - [`api`]: the interface every CLI command is written against.
//! - [`local`]: that interface in this process, over chapter 5's engine.
//! - `server` (feature `http`): `mini-dockerd`'s routes over hyper.

pub mod api;
#[cfg(feature = "http")]
pub mod client;
pub mod error;
pub mod lifecycle;
pub mod local;
pub mod manage;
pub mod objects;
#[cfg(feature = "http")]
pub mod server;
pub mod settings;
pub mod system;
pub mod types;

pub use api::{Api, Attached, LogsOptions, Output, WaitCondition};
#[cfg(feature = "http")]
pub use client::Remote;
pub use error::{ApiError, ApiResult};
pub use local::Local;
pub use objects::{ImageApi, ImageArchive, NetworkApi, SystemApi, VolumeApi};
