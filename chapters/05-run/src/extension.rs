//! The seam later chapters plug into: a container's life, with a named
//! moment wherever chapters 6, 7 and 8 have something to add.
//!
//! ```text
//!  create   Extension::create      check and record this chapter's settings
//!  start    Extension::start       add parent hooks, child steps, before-pivot steps;
//!             Running::started       the container runs (threads may start now)
//!             Running::stopped       it exited: free what the run held
//!           Extension::exited      … or so, after a run under the shim (`run -d`)
//!  exec     Extension::exec        the same walls for a process that joins it
//!  rm       Extension::release     free what the container holds outside its directory
//!           Extension::remove      `rm -v`: also what was made for it alone
//!  inspect  Extension::inspect     this chapter's fields of `docker inspect`
//!  ps       Extension::summarize   this chapter's fields of the container list
//! ```
//!
//! Chapter 5 knows none of its extensions: it calls every registered one,
//! in the order they were registered (the composition point decides).

use std::path::Path;

use ch01_namespaces::{ChildHook, Spawn};
use ch02_cgroups::Cgroup;
use ch03_union_fs::RootfsSetup;
use nix::unistd::Pid;
use serde_json::Value;

use crate::container::ContainerConfig;
use crate::image::ImageInfo;
use crate::settings::Extensions;
use crate::state::State;

// ANCHOR: extension
/// What a later chapter adds to every container. Each method has a default
/// that does nothing, so a chapter implements only the moments it needs.
#[allow(unused_variables)]
pub trait Extension: Send + Sync {
    /// `create`, before anything is made: check the request's settings of
    /// this chapter and record what `start` will need in `creating.config`.
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        Ok(())
    }
    /// `start`, in the supervisor, before the spawn.
    fn start(&self, starting: &mut Starting) -> anyhow::Result<Box<dyn Running>> {
        Ok(Box::new(NothingHeld))
    }
    /// `exec`: a new process joins the running container.
    fn exec(&self, execing: &mut Execing) -> anyhow::Result<()> {
        Ok(())
    }
    /// The container exited under the shim, which keeps no [`Running`]:
    /// do what `Running::stopped` would, from what this chapter keeps on disk.
    fn exited(&self, root: &Path, config: &ContainerConfig) {
        self.release(root, config)
    }
    /// The container is removed, or its supervisor died: free what it
    /// holds outside its own directory.
    fn release(&self, root: &Path, config: &ContainerConfig) {}
    /// `rm -v` and `--rm`: also remove what was made for this container alone.
    fn remove(&self, root: &Path, config: &ContainerConfig) -> anyhow::Result<()> {
        Ok(())
    }
    /// `inspect`: add this chapter's fields to `described`.
    fn inspect(&self, root: &Path, config: &ContainerConfig, state: &State, described: &mut Value) {
    }
    /// `ps`: add this chapter's fields to the container's summary.
    fn summarize(&self, root: &Path, config: &ContainerConfig, summary: &mut Value) {}
}
// ANCHOR_END: extension

// ANCHOR: running
/// What one start of a container holds for an extension until it exits.
#[allow(unused_variables)]
pub trait Running {
    /// The command was exec'd; the supervisor may start threads now.
    fn started(&mut self, pid: Pid) {}
    /// The container exited (or its start failed).
    fn stopped(self: Box<Self>) {}
    /// Does what `started` starts (threads: chapter 6's port proxies)
    /// need a process that lives as long as the container? A detached
    /// supervisor becomes the shim, which runs no extension's code: such
    /// runs get a process of their own, the *keeper* (Docker: `docker-proxy`).
    fn needs_a_process(&self) -> bool {
        false
    }
}
// ANCHOR_END: running

/// For extensions that hold nothing while the container runs.
pub struct NothingHeld;
impl Running for NothingHeld {}

// ANCHOR: creating
/// `create` as an extension sees it.
pub struct Creating<'a> {
    /// The state root (volumes and networks live under it too).
    pub root: &'a Path,
    /// The container's directory, not made yet.
    pub dir: &'a Path,
    pub image: &'a ImageInfo,
    /// What the user asked of the later chapters, each under its own key.
    pub request: &'a Extensions,
    /// The config being made: record settings in `config.extensions`.
    pub config: &'a mut ContainerConfig,
    /// Make the root filesystem another way than chapter 3's `prepare`
    /// (chapter 8's copy owned by a user namespace's range).
    pub prepare_rootfs: Option<PrepareRootfs>,
    /// What to undo if `create` fails after this extension's part
    /// succeeded (chapter 7 removes the volumes it just made).
    pub undo: Vec<Box<dyn FnOnce()>>,
    /// One line each, printed by the client (`docker run` prints the
    /// daemon's create warnings as `WARNING: …`).
    pub warnings: Vec<String>,
}

/// Prepare the container's root in its directory, from the image's layers.
pub type PrepareRootfs = Box<dyn FnOnce(&ContainerConfig, &Path) -> anyhow::Result<()>>;
// ANCHOR_END: creating

// ANCHOR: starting
/// `start` as an extension sees it: the spawn being put together.
pub struct Starting<'a> {
    pub root: &'a Path,
    pub dir: &'a Path,
    pub config: &'a ContainerConfig,
    pub cgroup: &'a Cgroup,
    /// Namespaces to create, and parent hooks (chapter 2's cgroup join is
    /// already there: at the clone, or as the child's first step).
    pub spawn: &'a mut Spawn,
    /// Chapter 3's root setup: `before_pivot` steps, masked paths.
    pub rootfs: &'a mut RootfsSetup,
    /// The address `/etc/hosts` gives the container's name (chapter 6).
    pub address: Option<std::net::IpAddr>,
    /// Child steps, placed among chapter 5's own.
    pub steps: &'a mut ChildSteps,
}
// ANCHOR_END: starting

/// `exec` as an extension sees it.
pub struct Execing<'a> {
    pub root: &'a Path,
    pub config: &'a ContainerConfig,
    pub steps: &'a mut ChildSteps,
}

// ANCHOR: child_steps
/// The child's steps before exec. Chapter 5's own come in this order:
/// (the root filesystem, at start) → stdio → the user switch. Extensions
/// add theirs at three places around them.
#[derive(Default)]
pub struct ChildSteps {
    /// Before everything else (chapter 8 becomes root of its user namespace).
    pub first: Vec<ChildHook>,
    /// After stdio, still as root (chapter 8 lowers the bounding set).
    pub before_user: Vec<ChildHook>,
    /// After the user switch, just before exec (chapter 8's seccomp).
    pub last: Vec<ChildHook>,
}
// ANCHOR_END: child_steps
