//! # Chapter 7 — volumes
//!
//! A container's writable layer is removed with the container. Data that
//! must outlive it lives outside: in a host directory (bind mount), in a
//! directory the engine owns (named or anonymous volume), or in memory
//! (tmpfs) when it must *not* last.
//!
//! - [`spec`]: parse `-v`, `--mount` and `--tmpfs` as Docker does.
//! - [`store`]: named volumes under `<root>/volumes/<name>/_data`.
//! - [`resolve`]: at `create`, turn the flags and the image's `VOLUME`s into
//!   [`ContainerMount`]s, creating volumes (and missing `-v` host dirs).
//! - [`seed`]: copy the image's files into a new, empty volume.
//! - [`mount`]: the mounts, in the child, just before pivot_root
//!   (through chapter 3's [`BeforePivot`](ch03_union_fs::BeforePivot) seam).
//! - [`in_use`]: which containers refer to a volume.
//! - [`prune`]: remove the volumes no container uses.
//! - [`extension`]: how all this plugs into chapter 5's engine.

pub mod extension;
pub mod in_use;
pub mod mount;
pub mod prune;
pub mod resolve;
pub mod seed;
pub mod spec;
pub mod store;

pub use extension::{MountRequest, Mounts, Volumes};
pub use in_use::containers_using;
pub use mount::mount_hook;
pub use resolve::{remove_anonymous_volumes, resolve, undo, ContainerMount, Made, Resolved};
pub use spec::{
    parse_mount_flag, parse_tmpfs_flag, parse_volume_flag, MountSpec, MountType, SpecError,
};
pub use store::{Volume, VolumeError, VolumeStore};

/// The three mount flags, as clap reads them: one declaration for the
/// chapter's demo and for `mini-docker run` and `create`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MountFlags {
    /// Bind mount or volume: HOSTPATH:CTRPATH[:ro], NAME:CTRPATH[:ro], or CTRPATH (anonymous).
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Attach a filesystem mount: type=bind|volume|tmpfs,source=…,target=…[,readonly].
    #[arg(long = "mount")]
    pub mounts: Vec<String>,
    /// Mount a tmpfs: PATH[:size=64m,mode=1777,…].
    #[arg(long)]
    pub tmpfs: Vec<String>,
}

impl MountFlags {
    /// Parse every `-v`, `--mount` and `--tmpfs`, in that order.
    pub fn specs(&self) -> Result<Vec<MountSpec>, SpecError> {
        let volumes = self.volumes.iter().map(|v| parse_volume_flag(v));
        let mounts = self.mounts.iter().map(|m| parse_mount_flag(m));
        let tmpfs = self.tmpfs.iter().map(|t| parse_tmpfs_flag(t));
        volumes.chain(mounts).chain(tmpfs).collect()
    }
}
