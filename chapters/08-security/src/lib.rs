//! # Chapter 8 — security
//!
//! Root in a container must not be root on the host. Each module is one
//! wall: [`caps`] (capabilities), [`seccomp`] (a BPF filter on system
//! calls), [`walls`] (the order they go up in, and no_new_privs),
//! [`devices`] (the device cgroup), [`seal`] (CVE-2019-5736), and
//! [`userns`] (root inside, an unprivileged uid outside). [`extension`]
//! plugs them all into chapter 5's engine.

pub mod caps;
pub mod devices;
pub mod extension;
pub mod options;
pub mod seal;
pub mod seccomp;
pub mod userns;
pub mod walls;

pub use extension::Security;
pub use options::{OptionError, Profile, SecurityOptions, WallFlags};
pub use walls::{hooks, WallHooks};
