//! # Chapter 1 — namespaces
//!
//! Run a command in new UTS, PID, mount, IPC and network namespaces (and
//! optionally a user namespace), with the spawn protocol every later chapter
//! plugs into: see [`spawn`].

pub mod background;
pub mod exec;
pub mod explain;
pub mod hostname;
pub mod init;
mod into_cgroup;
pub mod namespaces;
pub mod proc_mount;
pub mod process;
pub mod signals;
pub mod spawn;
pub mod userns;

pub use background::BackgroundHook;
pub use namespaces::Namespaces;
pub use spawn::{Child, ChildHook, ExitStatus, ParentHook, Process, Spawn, SpawnError};
