//! One container's cgroup: create it under a parent, set its limits, put
//! the container in it before exec, read its counters, remove it.
//!
//! ```text
//! v1 / hybrid: one directory per controller    v2: one directory, all controllers
//! /sys/fs/cgroup/memory/mini-docker/<id>/       /sys/fs/cgroup/mini-docker/<id>/
//! /sys/fs/cgroup/cpu/mini-docker/<id>/            memory.max  cpu.max  pids.max
//! /sys/fs/cgroup/cpuacct/mini-docker/<id>/        cgroup.procs
//! /sys/fs/cgroup/pids/mini-docker/<id>/
//! ```

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ch01_namespaces::explain::{self, Step};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use thiserror::Error;

use crate::detect::{v2_controllers, Kind, Layout};
use crate::files::{make_dir, read_pids, read_value, remove_dir, write_value, FileError};
use crate::knobs::{self, Knob, WhenMissing};
use crate::limits::Limits;
use crate::missing;
use crate::usage::{self, Usage};

/// The parent cgroup of our containers: ours, never Docker's `/docker`.
pub const DEFAULT_PARENT: &str = "mini-docker";

/// The v1 controllers we put a container in: the three we limit, plus
/// `cpuacct`, which counts CPU time (a separate hierarchy on many hosts),
/// `devices`, whose rules chapter 8 writes (which device nodes open), and
/// `freezer`, which pauses it. Each is used where it is mounted.
pub const V1_CONTROLLERS: [&str; 6] = ["memory", "cpu", "cpuacct", "pids", "devices", "freezer"];
/// The v2 controllers we enable for the children of the parent.
pub const V2_CONTROLLERS: [&str; 3] = ["memory", "cpu", "pids"];

/// How long removal waits for the last tasks to die.
const REMOVE_TIMEOUT: Duration = Duration::from_secs(10);

const BOOK_CREATE: &str = "ch02-cgroups.md#creating-the-cgroup";
const BOOK_LIMITS: &str = "ch02-cgroups.md#setting-the-limits";
const BOOK_JOIN: &str = "ch02-cgroups.md#joining-before-exec";
pub(crate) const BOOK_REMOVE: &str = "ch02-cgroups.md#removing-the-cgroup";

#[derive(Debug, Error)]
pub enum CgroupError {
    #[error(
        "no cgroup filesystem is mounted: mount one with `mount -t cgroup2 none /sys/fs/cgroup`"
    )]
    NotMounted,
    #[error("cgroup v1 {controller} controller not mounted: {needed_by} needs it; {fix}")]
    MissingV1 { controller: &'static str, needed_by: &'static str, fix: String },
    #[error("cgroup v2 {controller} controller not available (not in {listed}): {needed_by} needs it; {fix}", listed = listed.display())]
    MissingV2 { controller: &'static str, needed_by: &'static str, listed: PathBuf, fix: String },
    #[error("{flag} cannot be enforced: this kernel has no {path} (swap accounting is off; boot with swapaccount=1)")]
    KnobMissing { flag: &'static str, path: PathBuf },
    #[error("invalid {what} {name:?}: use letters, digits, '-', '_' and '.' only")]
    BadName { what: &'static str, name: String },
    #[error("cgroup {0} already exists: a container with this name is running, pick another")]
    Exists(PathBuf),
    #[error("cgroup {0} holds processes itself: on cgroup v2 a cgroup with processes cannot hand controllers to its children (no internal processes); choose another --cgroup-parent")]
    ParentHasProcesses(PathBuf),
    #[error("cgroup {path} still has tasks {pids:?} after {seconds}s: kill them, then rmdir it")]
    StillBusy { path: PathBuf, pids: Vec<i32>, seconds: u64 },
    #[error("removing the cgroup {path}: {error}")]
    Remove { path: PathBuf, error: io::Error },
    #[error("no cgroup {name:?} under {parent:?}: no such container is running")]
    NotFound { parent: String, name: String },
    #[error("pause needs {0} (Linux 5.2 and later): this kernel has no cgroup v2 freezer")]
    NoV2Freezer(PathBuf),
    #[error("{path} did not say {wanted} within {seconds}s (still {state}): try again", path = path.display())]
    FreezeTimeout { path: PathBuf, wanted: String, state: String, seconds: u64 },
    #[error(transparent)]
    File(#[from] FileError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The container's directory in one hierarchy, and the controllers it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dir {
    pub path: PathBuf,
    pub controllers: Vec<String>,
}

// ANCHOR: cgroup
/// A container's cgroup: one directory per v1 hierarchy, or one v2 directory.
#[derive(Debug, Clone)]
pub struct Cgroup {
    pub version: Version,
    pub dirs: Vec<Dir>,
    /// The parent directory in each hierarchy (`.../mini-docker`).
    pub parents: Vec<PathBuf>,
    pub limits: Limits,
    /// Parents that `create` made, removed again if `create` fails.
    made_parents: Vec<PathBuf>,
}
// ANCHOR_END: cgroup

// ANCHOR: create
impl Cgroup {
    /// Create the cgroup `parent/name` and apply `limits`. On any error,
    /// whatever was created is removed again before the error is returned.
    pub fn create(
        layout: &Layout,
        parent: &str,
        name: &str,
        limits: &Limits,
    ) -> Result<Cgroup, CgroupError> {
        check_name(parent, "--cgroup-parent")?;
        check_name(name, "cgroup name")?;
        for (controller, flag) in knobs::required_controllers(limits) {
            require(layout, controller, flag)?;
        }
        let (version, hierarchies) = hierarchies(layout)?;
        let knobs = match version {
            Version::V1 => knobs::v1(limits),
            Version::V2 => knobs::v2(limits),
        };
        let mut cgroup = Cgroup {
            version,
            dirs: Vec::new(),
            parents: Vec::new(),
            limits: limits.clone(),
            made_parents: Vec::new(),
        };
        let made = cgroup.make_dirs(&hierarchies, parent, name).and_then(|()| cgroup.apply(&knobs));
        if let Err(error) = made {
            cgroup.undo();
            return Err(error);
        }
        Ok(cgroup)
    }
    // ANCHOR_END: create

    // ANCHOR: make_dirs
    /// `mkdir` the parent (if needed) and the container's directory in each hierarchy.
    fn make_dirs(
        &mut self,
        hierarchies: &[Hierarchy],
        parent: &str,
        name: &str,
    ) -> Result<(), CgroupError> {
        for (mount, controllers) in hierarchies {
            let parent_dir = mount.join(parent);
            if self.version == Version::V2 {
                enable_controllers(mount, controllers)?;
            }
            if !parent_dir.is_dir() {
                match make_dir(&parent_dir, BOOK_CREATE) {
                    Ok(()) => self.made_parents.push(parent_dir.clone()),
                    // Another container, started at the same moment, made it first.
                    Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e.into()),
                }
            }
            self.parents.push(parent_dir.clone());
            if self.version == Version::V2 {
                if !read_pids(&parent_dir.join("cgroup.procs")).is_empty() {
                    return Err(CgroupError::ParentHasProcesses(parent_dir));
                }
                enable_controllers(&parent_dir, controllers)?;
            }
            let dir = parent_dir.join(name);
            if dir.exists() {
                return Err(CgroupError::Exists(dir));
            }
            make_dir(&dir, BOOK_CREATE)?;
            self.dirs.push(Dir { path: dir, controllers: controllers.clone() });
        }
        Ok(())
    }
    // ANCHOR_END: make_dirs

    // ANCHOR: apply
    /// Write every limit into its file.
    fn apply(&self, knobs: &[Knob]) -> Result<(), CgroupError> {
        for knob in knobs {
            let Some(dir) = self.dir_of(knob.controller) else { continue };
            let path = dir.join(knob.file);
            if !path.exists() {
                match knob.when_missing {
                    WhenMissing::Write => {}
                    WhenMissing::Skip => continue,
                    WhenMissing::Refuse(flag) => {
                        return Err(CgroupError::KnobMissing { flag, path })
                    }
                }
            }
            write_value(&path, &knob.value, BOOK_LIMITS)?;
        }
        Ok(())
    }
    // ANCHOR_END: apply
}

/// A hierarchy's mount point and the controllers we use in it.
type Hierarchy = (PathBuf, Vec<String>);

/// The hierarchies a container's cgroup has directories in, each with
/// the controllers it serves there: v1 puts each controller we use in its
/// own hierarchy (`cpu,cpuacct` share one); v2 has a single tree.
fn hierarchies(layout: &Layout) -> Result<(Version, Vec<Hierarchy>), CgroupError> {
    match layout.kind() {
        Kind::None => Err(CgroupError::NotMounted),
        Kind::Unified => {
            let mount = layout.v2.as_ref().map(|m| m.mount_point.clone());
            let mount = mount.ok_or(CgroupError::NotMounted)?;
            let available = v2_controllers(&mount);
            let used = V2_CONTROLLERS.iter().filter(|c| available.iter().any(|a| a == *c));
            Ok((Version::V2, vec![(mount, used.map(|c| c.to_string()).collect())]))
        }
        Kind::Legacy | Kind::Hybrid => {
            let mut found: Vec<Hierarchy> = Vec::new();
            for controller in V1_CONTROLLERS {
                let Some(mount) = layout.v1_root(controller) else { continue };
                match found.iter_mut().find(|(m, _)| m == mount) {
                    Some((_, controllers)) => controllers.push(controller.to_string()),
                    None => found.push((mount.to_path_buf(), vec![controller.to_string()])),
                }
            }
            Ok((Version::V1, found))
        }
    }
}

// ANCHOR: require
/// Refuse, before anything is made, when `controller` is missing and
/// `needed_by` (a flag, or `pause`) cannot work without it. The error says
/// how to get it on this host ([`missing::how_to_get`]).
pub fn require(
    layout: &Layout,
    controller: &'static str,
    needed_by: &'static str,
) -> Result<(), CgroupError> {
    let fix = || missing::how_to_get(layout, controller);
    match layout.kind() {
        Kind::None => Err(CgroupError::NotMounted),
        Kind::Legacy | Kind::Hybrid if layout.v1_root(controller).is_none() => {
            Err(CgroupError::MissingV1 { controller, needed_by, fix: fix() })
        }
        Kind::Unified => {
            let mount =
                layout.v2.as_ref().map(|m| m.mount_point.as_path()).unwrap_or(Path::new(""));
            if v2_controllers(mount).iter().any(|c| c == controller) {
                return Ok(());
            }
            let listed = mount.join("cgroup.controllers");
            Err(CgroupError::MissingV2 { controller, needed_by, listed, fix: fix() })
        }
        _ => Ok(()),
    }
}
// ANCHOR_END: require

// ANCHOR: enable_controllers
/// v2: let the children of `dir` use `controllers`, by writing `+memory
/// +cpu +pids` into its `cgroup.subtree_control`. Top-down: a cgroup can
/// only enable what its own parent enabled for it.
fn enable_controllers(dir: &Path, controllers: &[String]) -> Result<(), CgroupError> {
    let file = dir.join("cgroup.subtree_control");
    let enabled = read_value(&file).unwrap_or_default();
    let missing: Vec<String> = controllers
        .iter()
        .filter(|c| !enabled.split_whitespace().any(|e| e == c.as_str()))
        .map(|c| format!("+{c}"))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    write_value(&file, &missing.join(" "), BOOK_CREATE)?;
    Ok(())
}
// ANCHOR_END: enable_controllers

/// A cgroup name is one path component we create ourselves.
fn check_name(name: &str, what: &'static str) -> Result<(), CgroupError> {
    let fine = !name.is_empty()
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if fine {
        Ok(())
    } else {
        Err(CgroupError::BadName { what, name: name.to_string() })
    }
}

impl Cgroup {
    /// The cgroup `parent/name` that a running container already has, for
    /// work from another process: `pause`, `unpause`, cleaning up after a
    /// crash. Its limits are not read back (`limits` stays empty).
    pub fn open(layout: &Layout, parent: &str, name: &str) -> Result<Cgroup, CgroupError> {
        check_name(parent, "--cgroup-parent")?;
        check_name(name, "cgroup name")?;
        let (version, hierarchies) = hierarchies(layout)?;
        let mut cgroup = Cgroup {
            version,
            dirs: Vec::new(),
            parents: Vec::new(),
            limits: Limits::default(),
            made_parents: Vec::new(),
        };
        for (mount, controllers) in hierarchies {
            let path = mount.join(parent).join(name);
            if path.is_dir() {
                cgroup.parents.push(mount.join(parent));
                cgroup.dirs.push(Dir { path, controllers });
            }
        }
        if cgroup.dirs.is_empty() {
            return Err(CgroupError::NotFound { parent: parent.into(), name: name.into() });
        }
        Ok(cgroup)
    }

    /// A cgroup value for directories that already exist (unit tests).
    #[cfg(test)]
    pub(crate) fn from_parts(version: Version, dirs: Vec<Dir>, limits: Limits) -> Cgroup {
        Cgroup { version, dirs, parents: Vec::new(), limits, made_parents: Vec::new() }
    }

    /// The container's directory for `controller`.
    pub fn dir_of(&self, controller: &str) -> Option<&Path> {
        self.dirs
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .map(|d| d.path.as_path())
    }

    /// Every directory of this cgroup, one per hierarchy.
    pub fn paths(&self) -> Vec<&Path> {
        self.dirs.iter().map(|d| d.path.as_path()).collect()
    }

    // ANCHOR: add_pid
    /// Move the process `pid` (and with it, its future children) into the
    /// cgroup: write it into `cgroup.procs` of every hierarchy.
    pub fn add_pid(&self, pid: Pid) -> Result<(), CgroupError> {
        for dir in &self.dirs {
            write_value(&dir.path.join("cgroup.procs"), &pid.to_string(), BOOK_JOIN)?;
        }
        Ok(())
    }
    // ANCHOR_END: add_pid

    /// The v2 directory, open for `clone3(CLONE_INTO_CGROUP)` (which takes a
    /// directory opened for reading, not `O_PATH`); `None` on cgroup v1.
    pub fn open_for_clone(&self) -> Option<OwnedFd> {
        let dir = self.dirs.first().filter(|_| self.version == Version::V2)?;
        crate::join::open_for_clone(&dir.path)
    }

    // ANCHOR: update
    /// `docker update`: write `limits` into the cgroup of a container that
    /// runs — the same files as at create, read by the kernel at once.
    pub fn update(&mut self, limits: &Limits) -> Result<(), CgroupError> {
        let knobs = match self.version {
            Version::V1 => knobs::v1(limits),
            Version::V2 => knobs::v2(limits),
        };
        self.apply(&knobs)?;
        self.limits = limits.clone();
        Ok(())
    }
    // ANCHOR_END: update

    /// The processes in the cgroup (`cgroup.procs` of its first directory).
    pub fn pids(&self) -> Vec<i32> {
        let Some(dir) = self.dirs.first() else { return Vec::new() };
        read_pids(&dir.path.join("cgroup.procs"))
    }

    /// What the container used so far.
    pub fn usage(&self) -> Usage {
        match self.version {
            Version::V1 => {
                usage::read_v1(|controller| self.dir_of(controller).map(Path::to_path_buf))
            }
            Version::V2 => self.dirs.first().map(|d| usage::read_v2(&d.path)).unwrap_or_default(),
        }
    }

    /// How many tasks the OOM killer killed in this cgroup (0 if unknown).
    pub fn oom_kills(&self) -> u64 {
        self.usage().oom_kills.unwrap_or(0)
    }

    // ANCHOR: remove
    /// Kill whatever still runs in the cgroup, wait until it is empty, then
    /// `rmdir` each directory. Works after the container was SIGKILLed too.
    /// The parent stays (other containers may use it): see [`remove_parent`].
    pub fn remove(&self) -> Result<(), CgroupError> {
        let deadline = Instant::now() + REMOVE_TIMEOUT;
        // A paused container's tasks cannot die while frozen (v1): thaw first.
        let _ = self.thaw_for_removal();
        for dir in &self.dirs {
            kill_all(&dir.path, self.version, deadline)?;
            remove_when_empty(&dir.path, deadline)?;
        }
        Ok(())
    }
    // ANCHOR_END: remove

    /// `create` failed half-way: remove what it made, children first.
    fn undo(&self) {
        for dir in &self.dirs {
            let _ = remove_dir(&dir.path, BOOK_REMOVE);
        }
        for parent in &self.made_parents {
            let _ = remove_dir(parent, BOOK_REMOVE);
        }
    }
}

/// End every task in the cgroup and the cgroups below it (a container
/// allowed to write its view may have made some): `cgroup.kill` where the
/// kernel has it (v2, Linux 5.14+), else SIGKILL each pid in `cgroup.procs`.
fn kill_all(dir: &Path, version: Version, deadline: Instant) -> Result<(), CgroupError> {
    let procs = dir.join("cgroup.procs");
    if tasks_below(dir).is_empty() {
        return Ok(());
    }
    let kill_file = dir.join("cgroup.kill");
    if version == Version::V2 && kill_file.exists() {
        write_value(&kill_file, "1", BOOK_REMOVE)?;
    }
    loop {
        let pids = tasks_below(dir);
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(CgroupError::StillBusy {
                path: dir.to_path_buf(),
                pids,
                seconds: REMOVE_TIMEOUT.as_secs(),
            });
        }
        explain::step(Step {
            what: &format!("kill the tasks left in {}: {pids:?}", dir.display()),
            syscall: "kill(pid, SIGKILL) for each pid in cgroup.procs",
            shell: &format!("kill -9 $(cat {})", procs.display()),
            book: BOOK_REMOVE,
        });
        for pid in pids {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pids in `dir`'s `cgroup.procs` and in those of every cgroup below it.
fn tasks_below(dir: &Path) -> Vec<i32> {
    let mut pids = read_pids(&dir.join("cgroup.procs"));
    for child in child_cgroups(dir) {
        pids.extend(tasks_below(&child));
    }
    pids
}

/// The cgroups directly below `dir` (its subdirectories).
fn child_cgroups(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).into_iter().flatten().flatten();
    entries.filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).map(|e| e.path()).collect()
}

/// `rmdir`, children first, retried while the kernel still says busy: a
/// task that just died can linger in the cgroup for a moment.
fn remove_when_empty(dir: &Path, deadline: Instant) -> Result<(), CgroupError> {
    for child in child_cgroups(dir) {
        remove_when_empty(&child, deadline)?;
    }
    loop {
        match remove_dir(dir, BOOK_REMOVE) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => return Err(CgroupError::Remove { path: dir.to_path_buf(), error }),
        }
    }
}

/// The parent directory `parent` in every hierarchy we use on this host.
pub fn parent_dirs(layout: &Layout, parent: &str) -> Vec<PathBuf> {
    let hierarchies = hierarchies(layout).map(|(_, found)| found).unwrap_or_default();
    hierarchies.into_iter().map(|(mount, _)| mount.join(parent)).collect()
}

/// Remove the cgroup `parent/name` left behind when its owner died before
/// it could call [`Cgroup::remove`] (a supervisor killed with SIGKILL):
/// the same kill-then-rmdir, found by name instead of by a `Cgroup` value.
pub fn remove_leftover(layout: &Layout, parent: &str, name: &str) -> Result<(), CgroupError> {
    match Cgroup::open(layout, parent, name) {
        Ok(cgroup) => cgroup.remove(),
        Err(CgroupError::NotFound { .. }) => Ok(()),
        Err(error) => Err(error),
    }
}

/// Remove the parent cgroup `parent` where it is empty (tests do this with
/// their unique parents). One still used by a container is left alone.
pub fn remove_parent(layout: &Layout, parent: &str) -> Result<(), CgroupError> {
    check_name(parent, "--cgroup-parent")?;
    for dir in parent_dirs(layout, parent) {
        match remove_dir(&dir, BOOK_REMOVE) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::ENOTEMPTY)) => {}
            Err(error) => return Err(CgroupError::Remove { path: dir, error }),
        }
    }
    Ok(())
}

/// A fresh container id: 12 hex digits, like Docker's short ids.
pub fn new_id() -> String {
    let mut bytes = [0u8; 6];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| io::Read::read_exact(&mut f, &mut bytes));
    if filled.is_err() {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes.copy_from_slice(&(seed as u64 ^ u64::from(std::process::id())).to_le_bytes()[..6]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::parse_mountinfo;
    use crate::limits::Swap;

    fn v1_layout(root: &Path, controllers: &[&str]) -> Layout {
        let text: String = controllers
            .iter()
            .enumerate()
            .map(|(i, c)| {
                format!("{} 1 0:{i} / {}/{c} rw - cgroup cgroup rw,{c}\n", 30 + i, root.display())
            })
            .collect();
        for c in controllers {
            std::fs::create_dir_all(root.join(c)).unwrap();
        }
        parse_mountinfo(&text)
    }

    fn v2_layout(root: &Path, controllers: &str) -> Layout {
        std::fs::write(root.join("cgroup.controllers"), controllers).unwrap();
        std::fs::write(root.join("cgroup.subtree_control"), "").unwrap();
        parse_mountinfo(&format!("29 1 0:26 / {} rw - cgroup2 cgroup2 rw\n", root.display()))
    }

    /// Every file and directory under `root`, relative, sorted.
    fn tree(root: &Path) -> Vec<String> {
        let mut found = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                let rel = path.strip_prefix(root).unwrap().display().to_string();
                if path.is_dir() {
                    stack.push(path);
                    found.push(format!("{rel}/"));
                } else {
                    found.push(format!("{rel} = {}", std::fs::read_to_string(&path).unwrap()));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn missing_v1_controller_is_refused_before_anything_is_made() {
        let root = tempfile::tempdir().unwrap();
        let layout = v1_layout(root.path(), &["memory", "cpu"]);
        let limits = Limits { pids: Some(20), ..Limits::default() };
        let error = Cgroup::create(&layout, "mdparent", "c1", &limits).unwrap_err();
        let mount = root.path().join("pids");
        assert_eq!(
            error.to_string(),
            format!(
                "cgroup v1 pids controller not mounted: --pids-limit needs it; mount it: \
                 mkdir -p {0} && mount -t cgroup -o pids cgroup {0}",
                mount.display()
            )
        );
        assert_eq!(tree(root.path()), ["cpu/", "memory/"]);
    }

    #[test]
    fn missing_v2_controller_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let layout = v2_layout(root.path(), "cpu pids");
        let limits = Limits { memory: Some(64 << 20), ..Limits::default() };
        let error = Cgroup::create(&layout, "mdparent", "c1", &limits).unwrap_err();
        assert!(
            error.to_string().starts_with("cgroup v2 memory controller not available"),
            "{error}"
        );
        assert!(!root.path().join("mdparent").exists());
    }

    #[test]
    fn v2_writes_to_a_fake_tree() {
        let root = tempfile::tempdir().unwrap();
        let layout = v2_layout(root.path(), "cpuset cpu io memory pids");
        let limits = Limits {
            memory: Some(64 << 20),
            cpu_quota_us: Some(50_000),
            pids: Some(20),
            ..Limits::default()
        };
        let cgroup = Cgroup::create(&layout, "mdparent", "c1", &limits).unwrap();
        cgroup.add_pid(Pid::from_raw(4242)).unwrap();
        assert_eq!(
            tree(root.path()),
            [
                "cgroup.controllers = cpuset cpu io memory pids",
                "cgroup.subtree_control = +memory +cpu +pids",
                "mdparent/",
                "mdparent/c1/",
                "mdparent/c1/cgroup.procs = 4242",
                "mdparent/c1/cpu.max = 50000 100000",
                "mdparent/c1/memory.max = 67108864",
                "mdparent/c1/pids.max = 20",
                "mdparent/cgroup.subtree_control = +memory +cpu +pids",
            ]
        );
    }

    #[test]
    fn explicit_swap_without_swap_accounting_is_refused_and_undone() {
        let root = tempfile::tempdir().unwrap();
        let layout = v2_layout(root.path(), "cpu memory pids");
        let limits = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(Swap::Unlimited),
            ..Limits::default()
        };
        let error = Cgroup::create(&layout, "mdparent", "c1", &limits).unwrap_err();
        assert!(error.to_string().starts_with("--memory-swap cannot be enforced"), "{error}");
        // The fake tree's files are plain files, so rmdir of c1 fails here
        // (memory.max was written); on a real cgroupfs rmdir always works.
        assert!(!root.path().join("mdparent/c1/memory.swap.max").exists());
    }

    #[test]
    fn v1_comounted_controllers_share_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let mountinfo = format!(
            "30 1 0:1 / {0}/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n",
            root.path().display()
        );
        std::fs::create_dir_all(root.path().join("cpu,cpuacct")).unwrap();
        let layout = parse_mountinfo(&mountinfo);
        let limits = Limits { cpu_quota_us: Some(50_000), ..Limits::default() };
        let cgroup = Cgroup::create(&layout, "mdparent", "c1", &limits).unwrap();
        assert_eq!(cgroup.dirs.len(), 1);
        assert_eq!(cgroup.dir_of("cpuacct"), cgroup.dir_of("cpu"));
        assert_eq!(
            tree(root.path()),
            [
                "cpu,cpuacct/",
                "cpu,cpuacct/mdparent/",
                "cpu,cpuacct/mdparent/c1/",
                "cpu,cpuacct/mdparent/c1/cpu.cfs_period_us = 100000",
                "cpu,cpuacct/mdparent/c1/cpu.cfs_quota_us = 50000",
            ]
        );
    }

    #[test]
    fn names_are_single_components() {
        let layout = Layout::default();
        for bad in ["", "..", "a/b", "/docker", "x y"] {
            let error = Cgroup::create(&layout, bad, "c1", &Limits::default()).unwrap_err();
            assert!(matches!(error, CgroupError::BadName { .. }), "{bad:?}: {error}");
        }
        assert!(matches!(
            Cgroup::create(&layout, "ok", "c1", &Limits::default()),
            Err(CgroupError::NotMounted)
        ));
    }

    #[test]
    fn ids_are_twelve_hex_digits() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 12);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
