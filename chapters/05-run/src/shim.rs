//! A detached container's supervisor becomes the shim ([`crate::relay`], our
//! conmon): once the container runs, this process `exec`s the small
//! program beside our binary, handing it the container (still its child:
//! the pid does not change), our ends of its stdio and the attach socket.
//! The shim relays and waits, then `exec`s our binary again as the *exit
//! command*, [`Engine::finish_exited`] — what conmon's `--exit-command`
//! does for Podman.
//!
//! ```text
//!  supervisor (4 MiB) ──execve──▶ mini-docker-shim (≈1 MiB) ──execve──▶ internal-exited
//!       └─fork─▶ keeper: only when an extension's `started` needs a process (port proxies)
//! ```
//!
//! A container that exited before the hand-over (`run --rm busybox true`)
//! is finished by the supervisor itself: a shim would only exec the exit
//! command at once. When a client is attached and waits for the exit
//! (`docker run` through a daemon), the supervisor tells the start first
//! and gives the container a short [`GRACE`] to exit before it hands over.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::relay::handover::{self, Handover};
use crate::relay::server::AttachServer;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{ForkResult, Pid};

use crate::container::ContainerConfig;
use crate::extension::Running;
use crate::lifecycle::Engine;
use crate::supervisor::{Report, StartOptions, Started};

/// Where a sealed copy (chapter 8) finds the binary it was copied from:
/// its `/proc/self/exe` is a memfd, not a path beside which the shim lies.
pub const BINARY_ENV: &str = "MINI_DOCKER_BINARY";

/// The shim's file name, beside our binary.
pub const SHIM: &str = "mini-docker-shim";

/// The binary this process runs, on disk.
pub fn own_binary() -> Option<PathBuf> {
    std::env::var_os(BINARY_ENV).map(PathBuf::from).or_else(|| std::env::current_exe().ok())
}

/// Our binary and the shim beside it, if the shim is installed.
fn programs() -> Option<(PathBuf, PathBuf)> {
    let binary = own_binary()?;
    let shim = binary.parent()?.join(SHIM);
    shim.is_file().then_some((binary, shim))
}

impl Engine {
    // ANCHOR: become_shim
    /// Become the shim, handing it `started` (and the pipe on which `run -d`
    /// waits to hear that the start went well, which the shim answers);
    /// returns it only when that cannot be (no shim installed, or the exec
    /// failed) or need not be (the container already exited: nothing is
    /// left to supervise for long, and two `execve`s are saved): then this
    /// process supervises on in full.
    pub(crate) fn become_shim(
        &self,
        config: &ContainerConfig,
        mut started: Started,
        report: &mut Report,
        options: StartOptions,
    ) -> Started {
        let Some((binary, shim)) = programs().filter(|_| self.uses_shim()) else { return started };
        if over_before_handover(started.child.pid(), report, options) {
            return started;
        }
        let mut handover = self.handover(config, &started, &binary);
        handover.report = report.0.as_ref().map(|pipe| pipe.as_raw_fd());
        if started.held.iter().any(|h| h.needs_a_process()) {
            let pid = started.child.pid();
            match spawn_keeper(&mut started.held, pid, &handover.descriptors()) {
                Ok(keeper) => handover.keeper = Some(keeper.as_raw()),
                Err(_) => return started,
            }
        }
        let fds = handover.descriptors();
        handover::inherit(&fds);
        let command = [shim.display().to_string()].into_iter().chain(handover.to_args());
        let _failed = handover::exec(&command.collect::<Vec<_>>());
        handover::close_on_exec(&fds);
        if let Some(keeper) = handover.keeper.map(Pid::from_raw) {
            let _ = kill(keeper, Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(keeper, None);
        }
        started
    }
    // ANCHOR_END: become_shim

    /// What the shim is handed: the container, our ends of its stdio, the
    /// attach socket with its clients, and the exit command.
    fn handover(&self, config: &ContainerConfig, started: &Started, binary: &Path) -> Handover {
        let (outputs, input) = started.stdio.descriptors();
        let (listener, clients) = started.attach.descriptors();
        Handover {
            pid: started.child.pid().as_raw(),
            log: self.log_path(&config.id),
            dir: self.store.container_dir(&config.id),
            outputs,
            input,
            listener,
            clients,
            keeper: None,
            report: None,
            exit_command: exit_command(binary, &self.root, &config.id),
        }
    }

    // ANCHOR: finish_exited
    /// `internal-exited`, the shim's exit command: the container `id`
    /// exited with `exit`; `attach_fds` are the attach socket and its
    /// clients, inherited from the shim. Each extension frees what the
    /// run held, then [`Engine::finish`] as the in-process supervisor does.
    pub fn finish_exited(&self, id: &str, exit: i32, attach_fds: &[RawFd]) -> anyhow::Result<i32> {
        let config = self.config(id)?;
        let dir = self.store.container_dir(id);
        let attach = attach_fds.split_first().map(|(listener, clients)| {
            let clients: Vec<_> = clients.iter().map(|&fd| (fd, true, false)).collect();
            // SAFETY: the shim handed these descriptors to this process alone.
            unsafe { AttachServer::adopt(&dir, *listener, &clients) }
        });
        for extension in self.extensions() {
            extension.exited(&self.root, &config);
        }
        let cgroup = ch02_cgroups::detect_once().ok().and_then(|layout| {
            ch02_cgroups::Cgroup::open(&layout, &config.cgroup_parent, &config.id).ok()
        });
        if attach.is_none() {
            let _ = std::fs::remove_file(dir.join(crate::relay::server::SOCKET));
        }
        self.finish(&config, cgroup.as_ref(), exit, attach)
    }
    // ANCHOR_END: finish_exited
}

// ANCHOR: grace
/// How long a supervisor with an attached client waits for a container to
/// exit before it becomes the shim: `docker run --rm busybox true` is over
/// by then, and two `execve`s (the shim, its exit command) are saved.
const GRACE: Duration = Duration::from_millis(50);

/// Has the container exited already, so that no shim is needed? With a
/// client attached (it waits for the exit anyway), the start is told first
/// and the container has a [`GRACE`] to exit in.
fn over_before_handover(pid: Pid, report: &mut Report, options: StartOptions) -> bool {
    if options.wait_for_attach {
        report.started();
        return exits_within(pid, GRACE);
    }
    has_exited(pid)
}

/// Does our child `pid` exit within `grace`? A pidfd (Linux 5.3) becomes
/// readable once the process has exited — before anyone reaps it.
fn exits_within(pid: Pid, grace: Duration) -> bool {
    // SAFETY: pidfd_open takes a pid and flags, and returns a new descriptor.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid.as_raw(), 0) };
    if fd < 0 {
        return has_exited(pid);
    }
    // SAFETY: the descriptor was just made, and is ours alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(fd as RawFd) };
    let mut polled = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
    let timeout = PollTimeout::try_from(grace).unwrap_or(PollTimeout::MAX);
    matches!(poll(&mut polled, timeout), Ok(1)) || has_exited(pid)
}
// ANCHOR_END: grace

/// Has our child `pid` exited? `WNOWAIT` leaves it a zombie, for the
/// `waitpid` that reads its status later.
fn has_exited(pid: Pid) -> bool {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
    matches!(waitid(Id::Pid(pid), flags), Ok(WaitStatus::Exited(..) | WaitStatus::Signaled(..)))
}

/// `BINARY --root ROOT internal-exited ID`: the shim adds the exit code
/// and the attach descriptors.
fn exit_command(binary: &Path, root: &Path, id: &str) -> Vec<String> {
    let words = [binary.display().to_string(), "--root".into(), root.display().to_string()];
    words.into_iter().chain(["internal-exited".into(), id.to_string()]).collect()
}

// ANCHOR: keeper
/// Fork the keeper: it tells the runs `started` (threads start in it),
/// then sleeps until the shim kills it once the container exited — or
/// until the shim dies, which kills it too. It closes `fds` (the container's
/// stdio, the attach socket): only the shim may hold them.
fn spawn_keeper(held: &mut [Box<dyn Running>], pid: Pid, fds: &[RawFd]) -> nix::Result<Pid> {
    let shim = nix::unistd::getpid();
    // SAFETY: this process has one thread; the child only calls `started`
    // (which may start threads of its own) and sleeps.
    match unsafe { nix::unistd::fork() }? {
        ForkResult::Parent { child } => Ok(child),
        ForkResult::Child => {
            // SAFETY: closing our copies of descriptors the shim keeps.
            fds.iter().for_each(|&fd| unsafe {
                libc::close(fd);
            });
            let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
            if nix::unistd::getppid() != shim {
                unsafe { libc::_exit(0) };
            }
            let _ = nix::sys::prctl::set_name(c"md-keeper");
            held.iter_mut().for_each(|h| h.started(pid));
            loop {
                nix::unistd::pause();
            }
        }
    }
}
// ANCHOR_END: keeper

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exited_child_is_seen_and_left_to_reap() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        // Not a sleep: waitid(WNOWAIT) blocks until it exits, and reaps nothing.
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        waitid(Id::Pid(pid), flags).unwrap();
        assert!(has_exited(pid));
        assert!(child.wait().unwrap().success(), "its status was still there to read");
        let mut running = std::process::Command::new("sleep").arg("10").spawn().unwrap();
        assert!(!has_exited(Pid::from_raw(running.id() as i32)));
        running.kill().unwrap();
        running.wait().unwrap();
    }

    #[test]
    fn a_quick_exit_is_seen_within_the_grace_and_left_to_reap() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        assert!(exits_within(pid, Duration::from_secs(10)));
        assert!(child.wait().unwrap().success(), "its status was still there to read");
    }

    #[test]
    fn a_container_that_stays_outlasts_the_grace() {
        let mut running = std::process::Command::new("sleep").arg("10").spawn().unwrap();
        let began = std::time::Instant::now();
        assert!(!exits_within(Pid::from_raw(running.id() as i32), Duration::from_millis(30)));
        assert!(began.elapsed() >= Duration::from_millis(30), "it waited the whole grace");
        running.kill().unwrap();
        running.wait().unwrap();
    }
}
