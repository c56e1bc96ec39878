//! `exec`: run another process in a running container.
//!
//! Nothing new is created: the process *joins* the namespaces and the
//! cgroups of the container's PID 1, with `setns(2)`. It goes through the
//! same spawn protocol as the container itself, with no `CLONE_NEW*` flag.
//!
//! One namespace is different: joining a PID namespace only changes where
//! the caller's *children* go (the caller keeps its own pid). So the parent
//! joins the PID namespace first, then clones — the child is born inside.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use anyhow::Context;
use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::{BackgroundHook, ChildHook, Namespaces, Process, Spawn};
use ch02_cgroups::join::{join_self_hook, open_for_clone};
use nix::sched::{setns, CloneFlags};
use nix::unistd::Pid;

use crate::container::ContainerConfig;
use crate::extension::{ChildSteps, Execing};
use crate::lifecycle::Engine;

/// The namespaces `exec` joins in the child, in this order (mnt last: after
/// it, `/proc/<pid>` of the host is no longer reachable).
const JOINED_IN_CHILD: [(&str, CloneFlags); 4] = [
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

// ANCHOR: join_pid_namespace
/// Make our *future children* members of `target`'s PID namespace for the
/// time of `clone_child`, then come back: while a process's children go
/// elsewhere, the kernel refuses it new threads (`clone` says EINVAL).
pub fn in_pid_namespace_of<T>(target: Pid, clone_child: impl FnOnce() -> T) -> anyhow::Result<T> {
    let ours = File::open("/proc/self/ns/pid").context("opening /proc/self/ns/pid")?;
    let path = format!("/proc/{target}/ns/pid");
    explain::step(Step {
        what: "join the container's PID namespace (for our next child)",
        syscall: &format!("setns(open(\"{path}\"), CLONE_NEWPID)"),
        shell: &format!("nsenter --target {target} --pid"),
        book: "ch05-run.md#exec-joining-a-running-container",
    });
    let theirs = File::open(&path).with_context(|| format!("opening {path}"))?;
    setns(theirs.as_fd(), CloneFlags::CLONE_NEWPID).context("setns(pid)")?;
    let result = clone_child();
    setns(ours.as_fd(), CloneFlags::CLONE_NEWPID).context("setns back to our PID namespace")?;
    Ok(result)
}
// ANCHOR_END: join_pid_namespace

// ANCHOR: join_namespaces_hook
/// The child hook that joins the container's other namespaces. The files
/// are opened now, in the parent, while `/proc/<pid>` is still the host's.
/// A container in a user namespace of its own (chapter 8's remapping)
/// has it joined first: the others belong to it, and joining it gives the
/// capabilities needed to enter them — as the namespace's root. A private
/// cgroup namespace comes next: we are already in the container's cgroup
/// ([`join_cgroups`]), so `/proc/self/cgroup` reads `0::/` as for PID 1.
pub fn join_namespaces_hook(target: Pid) -> anyhow::Result<ChildHook> {
    let user = in_own_namespace(target, "user").then_some(("user", CloneFlags::CLONE_NEWUSER));
    let cgroup =
        in_own_namespace(target, "cgroup").then_some(("cgroup", CloneFlags::CLONE_NEWCGROUP));
    let mut namespaces = Vec::new();
    for (name, flag) in user.into_iter().chain(cgroup).chain(JOINED_IN_CHILD) {
        let path = format!("/proc/{target}/ns/{name}");
        let file = File::open(&path).with_context(|| format!("opening {path}"))?;
        namespaces.push((name, flag, file));
    }
    let mut become_root = user.map(|_| ch01_namespaces::userns::become_root_hook());
    Ok(ChildHook::new("joining the container's namespaces", move || {
        for (name, flag, file) in &namespaces {
            join(target, name, *flag, file)?;
        }
        become_root.as_mut().map_or(Ok(()), |hook| (hook.run)())
    }))
}

// ANCHOR_END: join_namespaces_hook

fn join(target: Pid, name: &str, flag: CloneFlags, file: &File) -> anyhow::Result<()> {
    explain::step(Step {
        what: &format!("join the container's {name} namespace"),
        syscall: &format!("setns(fd, {})", ch01_namespaces::namespaces::flag_names(flag)),
        shell: &format!("nsenter --target {target} --{}", nsenter_flag(name)),
        book: "ch05-run.md#exec-joining-a-running-container",
    });
    setns(file.as_fd(), flag).with_context(|| format!("setns({name})"))
}

/// Is `target` in another namespace of this `kind` than ours? (Same inode, same namespace.)
fn in_own_namespace(target: Pid, kind: &str) -> bool {
    let ours = std::fs::read_link(format!("/proc/self/ns/{kind}")).ok();
    ours.is_some() && ours != std::fs::read_link(format!("/proc/{target}/ns/{kind}")).ok()
}

fn nsenter_flag(name: &str) -> &str {
    if name == "mnt" {
        "mount"
    } else {
        name
    }
}

// ANCHOR: join_cgroups
/// Put the new process into every cgroup the container's PID 1 is in,
/// read from `/proc/<pid>/cgroup` — whatever the host's cgroup layout (v1,
/// v2 or hybrid) — the way the container's own start does (chapter 2's
/// `join`): it moves itself into the v1 hierarchies as its first step, and
/// is born in the v2 directory (`clone3`); the parent moves it only where
/// neither can be done.
pub fn join_cgroups(spawn: &mut Spawn, target: Pid) -> anyhow::Result<()> {
    let membership = std::fs::read_to_string(format!("/proc/{target}/cgroup"))?;
    let (v1, v2): (Vec<PathBuf>, Vec<PathBuf>) =
        cgroup_dirs(&membership).into_iter().partition(|dir| dir.join("tasks").exists());
    let mut by_the_parent = Vec::new();
    if !v1.is_empty() {
        match join_self_hook(&v1.iter().map(PathBuf::as_path).collect::<Vec<_>>()) {
            Some(own_move) => {
                spawn.child_hook(own_move);
            }
            None => by_the_parent.extend(v1),
        }
    }
    for dir in v2 {
        // At most one: the v2 tree.
        match open_for_clone(&dir) {
            Some(fd) => {
                spawn.clone_into_cgroup(fd, move_hook(vec![dir]));
            }
            None => by_the_parent.push(dir),
        }
    }
    if !by_the_parent.is_empty() {
        spawn.background_hook(move_hook(by_the_parent));
    }
    Ok(())
}
// ANCHOR_END: join_cgroups

/// The parent's move of the child into `dirs` (`cgroup.procs`), beside
/// the rest of the start: the kernel's slow path.
fn move_hook(dirs: Vec<PathBuf>) -> BackgroundHook {
    BackgroundHook::new("joining the container's cgroups", move |child| {
        for procs in dirs.iter().map(|dir| dir.join("cgroup.procs")) {
            explain::step(Step {
                what: "put the exec'd process in the container's cgroup",
                syscall: &format!("write(\"{}\", \"{child}\")", procs.display()),
                shell: &format!("echo {child} > {}", procs.display()),
                book: "ch05-run.md#exec-joining-a-running-container",
            });
            std::fs::write(&procs, child.to_string())
                .with_context(|| format!("writing {}", procs.display()))?;
        }
        Ok(())
    })
}

/// The cgroup directories of a `/proc/<pid>/cgroup` listing: lines are
/// `id:controllers:path`; v2's line is `0::path`, v1 lines name controllers.
pub fn cgroup_dirs(membership: &str) -> Vec<std::path::PathBuf> {
    let base = std::path::Path::new("/sys/fs/cgroup");
    membership
        .lines()
        .filter_map(|line| {
            let mut parts = line.splitn(3, ':');
            let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
            if path == "/" {
                return None; // the root: not a container's cgroup
            }
            let mount = match controllers {
                "" if base.join("unified").is_dir() => base.join("unified"),
                "" => base.to_path_buf(),
                c => base.join(c.trim_start_matches("name=")),
            };
            Some(mount.join(path.trim_start_matches('/')))
        })
        .collect()
}

/// Build the spawn for `exec`: no new namespaces; the child joins the
/// container's (the PID namespace is joined around the clone, by
/// [`in_pid_namespace_of`]), then runs `steps`.
pub fn exec_spawn(target: Pid, process: Process, steps: Vec<ChildHook>) -> anyhow::Result<Spawn> {
    let mut spawn = Spawn::new(process);
    spawn.namespaces = Namespaces {
        uts: false,
        pid: false,
        mount: false,
        ipc: false,
        net: false,
        user: false,
        cgroup: false,
    };
    join_cgroups(&mut spawn, target)?; // first: the child's own move comes before all
    spawn.child_hook(join_namespaces_hook(target)?);
    for hook in steps {
        spawn.child_hook(hook);
    }
    Ok(spawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_dirs_for_v1_and_v2_lines() {
        let listing = "9:name=systemd:/\n4:memory:/mini-docker/abc\n1:cpu:/mini-docker/abc\n0::/\n";
        let dirs = cgroup_dirs(listing);
        assert_eq!(
            dirs,
            [
                std::path::PathBuf::from("/sys/fs/cgroup/memory/mini-docker/abc"),
                std::path::PathBuf::from("/sys/fs/cgroup/cpu/mini-docker/abc")
            ]
        );
    }
}

/// What `exec` is asked to run.
#[derive(Debug)]
pub struct ExecRequest {
    pub target: Pid,
    pub argv: Vec<String>,
    /// Extra `KEY=VALUE`s on top of the container's environment.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    /// With `tty`: lines `ROWS COLS` to size the terminal by (a daemon
    /// relays its clients' resizes this way).
    pub sizes: Option<std::os::fd::OwnedFd>,
}

// ANCHOR: exec_run
/// Run `request` inside the running container, attached to our terminal,
/// and return its exit code. Output is not logged: like Docker, only the
/// container's main process goes to the log.
pub fn run(
    engine: &Engine,
    config: &ContainerConfig,
    mut request: ExecRequest,
) -> anyhow::Result<i32> {
    let mut env = config.env.clone();
    request.env.iter().for_each(|kv| crate::merge::replace_or_append(&mut env, kv));
    let cwd = request.workdir.clone().unwrap_or_else(|| config.working_dir.clone());
    let process = Process { argv: request.argv.clone(), env, cwd: Some(cwd.into()) };
    let mode =
        crate::stdio::StdioMode { tty: request.tty, interactive: request.interactive, size: None };
    let (stdio_hook, mut side) = crate::stdio::prepare(mode)?;
    let steps = exec_steps(engine, config, stdio_hook)?;
    let spawn = exec_spawn(request.target, process, steps)?;
    let child = in_pid_namespace_of(request.target, || spawn.spawn())??;
    side.receive_terminal()?;
    if let Some(sizes) = request.sizes.take() {
        side.follow_sizes_from(sizes);
    }
    let _raw = request.tty.then(crate::stdio::RawMode::enable).flatten();
    side.forward_window_size();
    side.feed_stdin();
    ch01_namespaces::signals::forward_signals_to(child.pid());
    let mut discard = crate::logs::LogWriter::discarding();
    let _ = side.relay(&mut discard, true, None);
    let status = child.wait()?;
    ch01_namespaces::signals::stop_forwarding();
    Ok(status.code())
}

// ANCHOR_END: exec_run

// ANCHOR: exec_steps
/// The child's steps after joining: the same order as the container's own
/// (stdio, the user switch), with each extension's steps around them —
/// the same walls as the container's PID 1 (docker exec does the same).
fn exec_steps(
    engine: &Engine,
    config: &ContainerConfig,
    stdio_hook: ChildHook,
) -> anyhow::Result<Vec<ChildHook>> {
    let mut steps = ChildSteps::default();
    let mut execing = Execing { root: &engine.root, config, steps: &mut steps };
    for extension in engine.extensions() {
        extension.exec(&mut execing)?;
    }
    let mut hooks = steps.first;
    hooks.push(stdio_hook);
    hooks.extend(steps.before_user);
    if !config.user.is_root() {
        hooks.push(crate::user::switch_user_hook(config.user.to_exec_user()));
    }
    hooks.extend(steps.last);
    Ok(hooks)
}
// ANCHOR_END: exec_steps
