//! What a container *is* on disk: its config, written once at `create`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::settings::Extensions;
use crate::user::ExecUser;

// ANCHOR: config
/// `config.json`: everything needed to start (and restart) the container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerConfig {
    pub id: String,
    pub name: String,
    pub created: String,
    /// The image as the user named it (`busybox`), and its id (`sha256:…`).
    pub image: String,
    pub image_id: String,
    /// The image's layer directories, bottom to top (chapter 4 unpacked them).
    pub layers: Vec<PathBuf>,
    pub argv: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: UserIds,
    pub hostname: String,
    pub tty: bool,
    /// `-t`: the terminal's size at the start, rows and columns (the
    /// Engine API's `ConsoleSize`): the container's first `stty size` is
    /// right, before any resize can arrive.
    #[serde(default)]
    pub console_size: Option<[u16; 2]>,
    pub interactive: bool,
    /// `--rm`: remove the container when it exits.
    pub auto_remove: bool,
    /// `--init`: a minimal init as PID 1.
    pub init: bool,
    pub limits: LimitSettings,
    pub cgroup_parent: String,
    /// `overlay` or `vfs` (chapter 3).
    pub driver: String,
    /// The settings of later chapters (networks, mounts, walls), each
    /// under its own key, next to chapter 5's fields in `config.json`.
    #[serde(flatten)]
    pub extensions: Extensions,
}
// ANCHOR_END: config

/// The resolved `-u`: numbers only, resolved once against the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIds {
    pub uid: u32,
    pub gid: u32,
    pub supplementary_gids: Vec<u32>,
}

impl From<&ExecUser> for UserIds {
    fn from(u: &ExecUser) -> Self {
        UserIds { uid: u.uid, gid: u.gid, supplementary_gids: u.supplementary_gids.clone() }
    }
}

impl UserIds {
    pub fn is_root(&self) -> bool {
        self.uid == 0 && self.gid == 0 && self.supplementary_gids.is_empty()
    }

    pub fn to_exec_user(&self) -> ExecUser {
        ExecUser {
            uid: self.uid,
            gid: self.gid,
            supplementary_gids: self.supplementary_gids.clone(),
            home: String::new(),
        }
    }
}

/// The chapter 2 limits, as numbers (`-m 64m` is stored as 67108864).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitSettings {
    pub memory: Option<u64>,
    /// Memory plus swap in bytes; `Some(-1)` is unlimited.
    pub memory_swap: Option<i64>,
    pub cpu_quota_us: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub pids: Option<u64>,
}

impl LimitSettings {
    pub fn from_limits(l: &ch02_cgroups::Limits) -> LimitSettings {
        LimitSettings {
            memory: l.memory,
            memory_swap: l.memory_swap.map(|s| match s {
                ch02_cgroups::Swap::Unlimited => -1,
                ch02_cgroups::Swap::Total(bytes) => bytes as i64,
            }),
            cpu_quota_us: l.cpu_quota_us,
            cpu_shares: l.cpu_shares,
            pids: l.pids,
        }
    }

    pub fn to_limits(&self) -> ch02_cgroups::Limits {
        ch02_cgroups::Limits {
            memory: self.memory,
            memory_swap: self.memory_swap.map(|s| {
                if s < 0 {
                    ch02_cgroups::Swap::Unlimited
                } else {
                    ch02_cgroups::Swap::Total(s as u64)
                }
            }),
            cpu_quota_us: self.cpu_quota_us,
            cpu_shares: self.cpu_shares,
            pids: self.pids,
        }
    }
}
