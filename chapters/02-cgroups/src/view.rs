//! The container's own view of its cgroup, as Docker gives it: inside,
//! `/sys/fs/cgroup` shows the container's cgroup — its limits, its
//! counters — read-only. Runtimes that size themselves from it (the JVM's
//! heap, Go's GOMAXPROCS, .NET, Node) then see their limits, not the host.
//!
//! ```text
//! v2, private cgroup namespace         v1 or hybrid, the host's namespace
//! /sys/fs/cgroup        cgroup2 (ro)   /sys/fs/cgroup          tmpfs (ro)
//!   memory.max  cpu.max  pids.max        memory/     bind of …/memory/mini-docker/<id>
//!   (its root is the container's          cpu,cpuacct/ bind of …/cpu,cpuacct/mini-docker/<id>
//!    cgroup: the namespace's root)        cpu -> cpu,cpuacct   cpuacct -> cpu,cpuacct
//! ```
//!
//! A cgroup namespace (`--cgroupns private`, Docker's default on v2) makes
//! the container's cgroup the root of every cgroup path it sees: in
//! `/proc/self/cgroup` (`0::/`) and in any cgroup filesystem it mounts.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::ChildHook;
use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::mount::MsFlags;
use nix::sched::CloneFlags;
use nix::sys::stat::Mode;
use thiserror::Error;

use crate::cgroup::{Cgroup, Version};
use crate::detect::{Layout, Mount};

pub const BOOK_VIEW: &str = "ch02-cgroups.md#the-containers-view-of-its-cgroup";
pub const BOOK_CGROUPNS: &str = "ch02-cgroups.md#cgroup-namespaces";

#[derive(Debug, Error)]
pub enum ViewError {
    /// Docker's own words for a bad `--cgroupns`.
    #[error("--cgroupns: invalid CGROUP mode")]
    Mode,
    #[error("{what}: {errno}")]
    Mount { what: String, errno: Errno },
    #[error("creating {path}: {error}", path = path.display())]
    Create { path: PathBuf, error: std::io::Error },
}

// ANCHOR: cgroupns
/// `--cgroupns`: whether the container gets a cgroup namespace of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupNs {
    /// Its own: its cgroup is the root of everything it sees.
    Private,
    /// The host's: it sees the host's cgroup paths.
    Host,
}

impl CgroupNs {
    /// Docker's default: private on a cgroup v2 host; on v1 and hybrid
    /// hosts the host's, as before cgroup namespaces existed.
    pub fn default_for(layout: &Layout) -> CgroupNs {
        if layout.uses_v2() {
            CgroupNs::Private
        } else {
            CgroupNs::Host
        }
    }
}
// ANCHOR_END: cgroupns

impl CgroupNs {
    /// As `docker inspect` shows it in `HostConfig.CgroupnsMode`.
    pub fn name(&self) -> &'static str {
        match self {
            CgroupNs::Private => "private",
            CgroupNs::Host => "host",
        }
    }
}

impl FromStr for CgroupNs {
    type Err = ViewError;
    fn from_str(text: &str) -> Result<CgroupNs, ViewError> {
        match text {
            "private" => Ok(CgroupNs::Private),
            "host" => Ok(CgroupNs::Host),
            _ => Err(ViewError::Mode),
        }
    }
}

// ANCHOR: unshare_hook
/// The child hook that gives the container its own cgroup namespace. A new
/// cgroup namespace is rooted at the cgroup its creator is in *right then*,
/// so this runs in the child after the parent has put it in the container's
/// cgroup (parent hooks run before the child is released) and before any
/// mount. As a `clone` flag it would root the namespace at mini-docker's
/// own cgroup instead; runc's nsexec waits for the same reason.
pub fn unshare_hook() -> ChildHook {
    ChildHook::new("creating the cgroup namespace", || {
        explain::step(Step {
            what: "enter a new cgroup namespace: the container's cgroup becomes its root (/)",
            syscall: "unshare(CLONE_NEWCGROUP)",
            shell: "unshare --cgroup",
            book: BOOK_CGROUPNS,
        });
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)?;
        Ok(())
    })
}
// ANCHOR_END: unshare_hook

// ANCHOR: view
/// What to mount at the container's `/sys/fs/cgroup`, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct View {
    pub steps: Vec<ViewStep>,
    /// Docker's default; only `--privileged` makes the view writable.
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewStep {
    /// A new cgroup2 mount: its root is the cgroup namespace's root.
    Cgroup2,
    /// A small tmpfs to hold one directory per v1 hierarchy.
    Tmpfs,
    /// A new mount of the v1 hierarchy with `options` (`cpu,cpuacct`) on
    /// `dir`; in a private cgroup namespace its root is the container's cgroup.
    Hierarchy { dir: String, options: String },
    /// The container's own directory `source` of a v1 hierarchy, bound on `dir`.
    Bind { dir: String, source: PathBuf },
    /// `name -> target` for controllers sharing a hierarchy: `cpu -> cpu,cpuacct`.
    Symlink { name: String, target: String },
    /// Make the tmpfs read-only once it holds everything.
    SealTmpfs,
}
// ANCHOR_END: view

// ANCHOR: plan
impl View {
    /// The view of `cgroup` for a container in the cgroup namespace `ns`.
    pub fn plan(layout: &Layout, cgroup: &Cgroup, ns: CgroupNs, writable: bool) -> View {
        let mut steps = Vec::new();
        if cgroup.version == Version::V2 {
            // Private: the namespace's root, the container's cgroup. Host:
            // the host's whole tree, as runc shows it too.
            steps.push(ViewStep::Cgroup2);
        } else {
            steps.push(ViewStep::Tmpfs);
            for dir in &cgroup.dirs {
                let Some(mount) = dir.controllers.first().and_then(|c| layout.v1.get(c)) else {
                    continue;
                };
                let name = hierarchy_name(mount);
                steps.push(match ns {
                    CgroupNs::Private => {
                        let options = mount.controllers.join(",");
                        ViewStep::Hierarchy { dir: name.clone(), options }
                    }
                    CgroupNs::Host => {
                        ViewStep::Bind { dir: name.clone(), source: dir.path.clone() }
                    }
                });
                for controller in mount.controllers.iter().filter(|c| **c != name) {
                    let link = ViewStep::Symlink { name: controller.clone(), target: name.clone() };
                    steps.push(link);
                }
            }
            if !writable {
                steps.push(ViewStep::SealTmpfs);
            }
        }
        View { steps, read_only: !writable }
    }
}
// ANCHOR_END: plan

impl View {
    /// `--privileged`: the same view, writable, as Docker gives it (a
    /// container that runs systemd or dockerd makes cgroups below its own).
    pub fn make_writable(&mut self) {
        self.read_only = false;
        self.steps.retain(|step| *step != ViewStep::SealTmpfs);
    }
}

/// The directory a v1 hierarchy gets in the view: its name on the host
/// (`memory`, `cpu,cpuacct`).
fn hierarchy_name(mount: &Mount) -> String {
    let name = mount.mount_point.file_name().map(|n| n.to_string_lossy().into_owned());
    name.unwrap_or_else(|| mount.controllers.join(","))
}

// ANCHOR: mount_at
impl View {
    /// Mount the view on `target` (`<new root>/sys/fs/cgroup`, or the
    /// host's own `/sys/fs/cgroup` in the chapter 2 demo, which keeps the
    /// host's filesystem). Bind sources are opened first: the tmpfs would
    /// hide them when `target` is where they live.
    pub fn mount_at(&self, target: &Path) -> Result<(), ViewError> {
        cover_a_cgroup2_mount(target)?;
        let mut sources = Vec::new();
        for step in &self.steps {
            if let ViewStep::Bind { source, .. } = step {
                sources.push(open_path(source)?);
            }
        }
        let mut sources = sources.into_iter();
        for step in &self.steps {
            match step {
                ViewStep::Bind { dir, source } => {
                    let fd = sources.next().expect("one descriptor per bind");
                    self.bind(&fd, source, &make_dir(target, dir)?)?;
                }
                ViewStep::Symlink { name, target: to } => symlink(to, &target.join(name))?,
                other => self.mount_one(other, target)?,
            }
        }
        Ok(())
    }
}
// ANCHOR_END: mount_at

impl View {
    /// The flags of every mount in the view: Docker's `nosuid,nodev,noexec`, and `ro`.
    fn flags(&self) -> MsFlags {
        let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        if self.read_only {
            flags | MsFlags::MS_RDONLY
        } else {
            flags
        }
    }

    fn mount_one(&self, step: &ViewStep, target: &Path) -> Result<(), ViewError> {
        let ro = if self.read_only { "ro," } else { "" };
        let base = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
        match step {
            ViewStep::Cgroup2 => narrated_mount(
                "mount the cgroup2 filesystem: the container's cgroup namespace decides its root",
                (Some("cgroup2"), target, Some("cgroup2"), self.flags(), None),
                &format!(
                    "mount -t cgroup2 -o {ro}nosuid,nodev,noexec cgroup2 {}",
                    target.display()
                ),
            ),
            ViewStep::Tmpfs => narrated_mount(
                "mount a tmpfs to hold one directory per v1 hierarchy",
                (Some("tmpfs"), target, Some("tmpfs"), base, Some("mode=755")),
                &format!(
                    "mount -t tmpfs -o nosuid,nodev,noexec,mode=755 tmpfs {}",
                    target.display()
                ),
            ),
            ViewStep::Hierarchy { dir, options } => {
                let path = make_dir(target, dir)?;
                narrated_mount(
                    &format!("mount the v1 hierarchy {options}: its root is the namespace's root"),
                    (Some("cgroup"), &path, Some("cgroup"), self.flags(), Some(options)),
                    &format!(
                        "mount -t cgroup -o {ro}nosuid,nodev,noexec,{options} cgroup {}",
                        path.display()
                    ),
                )
            }
            ViewStep::SealTmpfs => narrated_mount(
                "make the tmpfs of the v1 hierarchies read-only",
                (None, target, None, MsFlags::MS_REMOUNT | MsFlags::MS_BIND | self.flags(), None),
                &format!("mount -o remount,bind,ro {}", target.display()),
            ),
            ViewStep::Bind { .. } | ViewStep::Symlink { .. } => Ok(()),
        }
    }

    /// Bind the container's directory of one v1 hierarchy, then remount it
    /// with the view's flags (a bind mount ignores flags but `MS_REC`).
    fn bind(&self, fd: &OwnedFd, source: &Path, path: &Path) -> Result<(), ViewError> {
        let by_fd = format!("/proc/self/fd/{}", fd.as_raw_fd());
        narrated_mount(
            &format!("bind the container's own cgroup {}", source.display()),
            (Some(by_fd.as_str()), path, None, MsFlags::MS_BIND, None),
            &format!("mount --bind {} {}", source.display(), path.display()),
        )?;
        let ro = if self.read_only { "ro," } else { "" };
        narrated_mount(
            "give the bound cgroup the view's flags",
            (None, path, None, MsFlags::MS_REMOUNT | MsFlags::MS_BIND | self.flags(), None),
            &format!("mount -o remount,bind,{ro}nosuid,nodev,noexec {}", path.display()),
        )
    }
}

/// The demo's `target` is the host's own cgroup2 mount point on a v2 host,
/// and the kernel refuses (EBUSY) to mount a filesystem on a mount point
/// where the same one is mounted. An empty tmpfs over it first fixes that.
fn cover_a_cgroup2_mount(target: &Path) -> Result<(), ViewError> {
    let is_cgroup2 = nix::sys::statfs::statfs(target)
        .is_ok_and(|fs| fs.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    if !is_cgroup2 {
        return Ok(());
    }
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    narrated_mount(
        "cover the host's cgroup2 mount: the kernel will not mount it again on itself",
        (Some("tmpfs"), target, Some("tmpfs"), flags, Some("mode=755")),
        &format!("mount -t tmpfs -o nosuid,nodev,noexec,mode=755 tmpfs {}", target.display()),
    )
}

/// What `mount(2)` takes: source, target, filesystem type, flags, data.
type MountArgs<'a> = (Option<&'a str>, &'a Path, Option<&'a str>, MsFlags, Option<&'a str>);

fn narrated_mount(what: &str, args: MountArgs<'_>, shell: &str) -> Result<(), ViewError> {
    let (source, target, fstype, flags, data) = args;
    // As C would show the arguments: strings quoted, or NULL.
    let c = |arg: Option<&str>| arg.map(|a| format!("{a:?}")).unwrap_or_else(|| "NULL".into());
    let names: Vec<&str> = flags.iter_names().map(|(name, _)| name).collect();
    explain::step(Step {
        what,
        syscall: &format!(
            "mount({}, {target:?}, {}, {}, {})",
            c(source),
            c(fstype),
            names.join(" | "),
            c(data)
        ),
        shell,
        book: BOOK_VIEW,
    });
    nix::mount::mount(source, target, fstype, flags, data).map_err(|errno| ViewError::Mount {
        what: format!("{what} (on {})", target.display()),
        errno,
    })
}

fn open_path(path: &Path) -> Result<OwnedFd, ViewError> {
    let flags = OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
    open(path, flags, Mode::empty()).map_err(|errno| ViewError::Mount {
        what: format!("opening the container's cgroup {}", path.display()),
        errno,
    })
}

fn make_dir(target: &Path, dir: &str) -> Result<PathBuf, ViewError> {
    let path = target.join(dir);
    std::fs::create_dir_all(&path)
        .map_err(|error| ViewError::Create { path: path.clone(), error })?;
    Ok(path)
}

fn symlink(to: &str, link: &Path) -> Result<(), ViewError> {
    explain::step(Step {
        what: &format!("link {} to the hierarchy it shares", link.display()),
        syscall: &format!("symlink({to:?}, {link:?})"),
        shell: &format!("ln -s {to} {}", link.display()),
        book: BOOK_VIEW,
    });
    std::os::unix::fs::symlink(to, link)
        .map_err(|error| ViewError::Create { path: link.to_path_buf(), error })
}

// ANCHOR: view_hook
/// The chapter 2 demo's child hook: it keeps the host's filesystem, so the
/// view goes over `/sys/fs/cgroup` in the container's own mount namespace
/// (after chapter 1's hook made the mounts private). Chapter 3 mounts the
/// view inside the container's new root instead.
pub fn view_hook(view: View) -> ChildHook {
    ChildHook::new("mounting the cgroup view", move || {
        Ok(view.mount_at(Path::new("/sys/fs/cgroup"))?)
    })
}
// ANCHOR_END: view_hook

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Dir;
    use crate::detect::parse_mountinfo;
    use crate::limits::Limits;

    const V1: &str = "\
30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
32 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
";
    const V2: &str = "29 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";

    fn v1_cgroup() -> Cgroup {
        let dir = |path: &str, controllers: &[&str]| Dir {
            path: PathBuf::from(path),
            controllers: controllers.iter().map(|c| c.to_string()).collect(),
        };
        let dirs = vec![
            dir("/sys/fs/cgroup/memory/mini-docker/c1", &["memory"]),
            dir("/sys/fs/cgroup/cpu,cpuacct/mini-docker/c1", &["cpu", "cpuacct"]),
        ];
        Cgroup::from_parts(Version::V1, dirs, Limits::default())
    }

    fn v2_cgroup() -> Cgroup {
        let dir = Dir { path: "/sys/fs/cgroup/mini-docker/c1".into(), controllers: vec![] };
        Cgroup::from_parts(Version::V2, vec![dir], Limits::default())
    }

    #[test]
    fn v2_is_one_cgroup2_mount_read_only_unless_privileged() {
        let layout = parse_mountinfo(V2);
        let view = View::plan(&layout, &v2_cgroup(), CgroupNs::Private, false);
        assert_eq!(view, View { steps: vec![ViewStep::Cgroup2], read_only: true });
        assert!(view.flags().contains(MsFlags::MS_RDONLY));
        let privileged = View::plan(&layout, &v2_cgroup(), CgroupNs::Private, true);
        assert!(!privileged.read_only && !privileged.flags().contains(MsFlags::MS_RDONLY));
    }

    #[test]
    fn v1_host_namespace_binds_the_containers_own_directories() {
        let view = View::plan(&parse_mountinfo(V1), &v1_cgroup(), CgroupNs::Host, false);
        let link =
            |name: &str| ViewStep::Symlink { name: name.into(), target: "cpu,cpuacct".into() };
        assert_eq!(
            view.steps,
            [
                ViewStep::Tmpfs,
                ViewStep::Bind {
                    dir: "memory".into(),
                    source: "/sys/fs/cgroup/memory/mini-docker/c1".into()
                },
                ViewStep::Bind {
                    dir: "cpu,cpuacct".into(),
                    source: "/sys/fs/cgroup/cpu,cpuacct/mini-docker/c1".into()
                },
                link("cpu"),
                link("cpuacct"),
                ViewStep::SealTmpfs,
            ]
        );
    }

    #[test]
    fn v1_private_namespace_mounts_each_hierarchy_anew() {
        let view = View::plan(&parse_mountinfo(V1), &v1_cgroup(), CgroupNs::Private, true);
        let hierarchy = |dir: &str| ViewStep::Hierarchy { dir: dir.into(), options: dir.into() };
        assert_eq!(
            view.steps[..3],
            [ViewStep::Tmpfs, hierarchy("memory"), hierarchy("cpu,cpuacct")]
        );
        // Writable (--privileged): the tmpfs is not sealed.
        assert!(!view.steps.contains(&ViewStep::SealTmpfs));
    }

    #[test]
    fn a_read_only_view_made_writable_is_the_privileged_plan() {
        let layout = parse_mountinfo(V1);
        let mut view = View::plan(&layout, &v1_cgroup(), CgroupNs::Host, false);
        assert!(view.read_only && view.steps.contains(&ViewStep::SealTmpfs));
        view.make_writable();
        assert_eq!(view, View::plan(&layout, &v1_cgroup(), CgroupNs::Host, true));
    }

    #[test]
    fn dockers_defaults_and_words() {
        assert_eq!(CgroupNs::default_for(&parse_mountinfo(V2)), CgroupNs::Private);
        assert_eq!(CgroupNs::default_for(&parse_mountinfo(V1)), CgroupNs::Host);
        assert_eq!("host".parse::<CgroupNs>().unwrap(), CgroupNs::Host);
        assert_eq!("private".parse::<CgroupNs>().unwrap().name(), "private");
        let error = "shared".parse::<CgroupNs>().unwrap_err();
        assert_eq!(error.to_string(), "--cgroupns: invalid CGROUP mode");
    }
}
