//! # Chapter 2 — cgroups
//!
//! Limit what a container may use — memory, CPU time, number of processes —
//! and count what it used, with the kernel's control groups. Works on
//! cgroup v2 (unified), v1 and hybrid hosts, detected from
//! /proc/self/mountinfo ([`detect`]). The cgroup is joined through chapter
//! 1's spawn protocol before the child execs ([`join`]: born in it on v2,
//! the child's own first step on v1), so the command is limited from its
//! very first instruction.
//! The container sees its own cgroup at `/sys/fs/cgroup` ([`view`], with a
//! cgroup namespace where asked), and [`freezer`] pauses and thaws it.

pub mod cgroup;
pub mod detect;
pub mod files;
pub mod freezer;
pub mod join;
pub mod knobs;
pub mod limits;
pub mod missing;
pub mod needs;
pub mod usage;
pub mod view;

pub use cgroup::{
    new_id, parent_dirs, remove_leftover, remove_parent, require, Cgroup, CgroupError, Version,
    DEFAULT_PARENT,
};
pub use detect::{detect, detect_once, Kind, Layout};
pub use join::{join_at_spawn, join_hook, join_self_hook};
pub use limits::{LimitError, Limits, Swap};
pub use usage::Usage;
pub use view::{unshare_hook, CgroupNs, View};

/// One line about this host's cgroups, for `mini-docker doctor`, e.g.
/// `hybrid: v1 controllers cpu,cpuacct,memory,pids; v2 at /sys/fs/cgroup/unified (no controllers)`.
pub fn host_summary() -> String {
    match detect::detect() {
        Ok(layout) => detect::summary(&layout),
        Err(e) => format!("unknown: cannot read /proc/self/mountinfo: {e}"),
    }
}
