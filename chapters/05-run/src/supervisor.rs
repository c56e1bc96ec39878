//! The supervisor (our conmon / containerd-shim): it starts the container
//! through chapter 1's spawn protocol, copies its output into the log,
//! waits for it, records how it ended and releases what it held. With
//! `run -d` it is a process of its own; without `-d`, the command you typed
//! is the supervisor.

use std::cell::RefCell;
use std::io::{BufRead, Write};
use std::rc::Rc;
use std::time::Duration;

use anyhow::bail;
use ch01_namespaces::{Child, Namespaces, Process, Spawn, SpawnError};
use ch02_cgroups::{join_at_spawn, Cgroup};
use ch03_union_fs::{etc_files, Driver, RootfsSetup};
use nix::sys::signal::{kill, Signal};

use crate::attach::AttachServer;
use crate::container::ContainerConfig;
use crate::extension::{ChildSteps, Running, Starting};
use crate::ids::short_id;
use crate::lifecycle::{Engine, StartFailed};
use crate::logs::LogWriter;
use crate::state::{now, State, Status};
use crate::stdio::{self, RawMode, StdioMode};
use crate::user::switch_user_hook;

/// A container that runs: its process, our side of its stdio, the attach
/// socket, and what each extension holds until it exits.
pub(crate) struct Started {
    pub(crate) child: Child,
    pub(crate) stdio: stdio::ParentSide,
    pub(crate) attach: AttachServer,
    pub(crate) held: Vec<Box<dyn Running>>,
}

/// How to start a container.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StartOptions {
    /// Someone attached before the start (`docker run` through a daemon):
    /// the container is released only once a first client is connected to
    /// its attach socket, so that no byte of its output is missed.
    pub wait_for_attach: bool,
}

impl Engine {
    // ANCHOR: start_detached
    /// Start the container with a supervisor of its own, and return once it
    /// runs (or failed to start). The double fork makes the supervisor a
    /// child of init, in a session of its own: it outlives this command and
    /// no terminal's hang-up reaches it.
    pub fn start_detached(&self, id: &str) -> anyhow::Result<()> {
        self.start_detached_with(id, StartOptions::default())
    }

    /// [`Engine::start_detached`], with `options`. The supervisor tells us
    /// how the start went on a pipe: no polling, and a failure is told even
    /// when `--rm` removed the container at once.
    pub fn start_detached_with(&self, id: &str, options: StartOptions) -> anyhow::Result<()> {
        let state = self.state(id)?;
        if state.is_running() {
            return Ok(());
        }
        self.reset_state(&state, id)?;
        let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        // SAFETY: we are single-threaded here; the first child only forks
        // and exits, the second is a whole copy of us and runs on.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => {
                drop(read_end);
                let _ = nix::unistd::setsid();
                if let Ok(nix::unistd::ForkResult::Child) = unsafe { nix::unistd::fork() } {
                    detach_stdio();
                    let report = Report(Some(write_end.into()));
                    let _ = self.supervise_reporting(id, false, options, report);
                }
                unsafe { libc::_exit(0) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                drop(write_end);
                nix::sys::wait::waitpid(child, None)?;
            }
        }
        read_report(read_end)
    }
    // ANCHOR_END: start_detached

    /// Start the container with this process as its supervisor, attached to
    /// our terminal, and return its exit code (`run` without `-d`, `start -a`).
    pub fn start_attached(&self, id: &str) -> anyhow::Result<i32> {
        let state = self.state(id)?;
        if state.is_running() {
            bail!("container {} is already running", short_id(id));
        }
        self.reset_state(&state, id)?;
        self.supervise(id, true, StartOptions::default())
    }

    /// Back to "created" before a start — unless it is that already (a
    /// fresh `run`: one write of `state.json` less).
    fn reset_state(&self, state: &State, id: &str) -> anyhow::Result<()> {
        if *state != State::created() {
            self.update_state(id, |s| *s = State::created())?;
        }
        Ok(())
    }

    pub fn supervise(
        &self,
        id: &str,
        attached: bool,
        options: StartOptions,
    ) -> anyhow::Result<i32> {
        self.supervise_reporting(id, attached, options, Report(None))
    }

    // ANCHOR: supervise
    /// The supervisor: cgroup, spawn, then relay output, wait, record, release.
    fn supervise_reporting(
        &self,
        id: &str,
        attached: bool,
        options: StartOptions,
        mut report: Report,
    ) -> anyhow::Result<i32> {
        let config = self.config(id)?;
        let cgroup = match create_cgroup(&config) {
            Ok(cgroup) => cgroup,
            Err(error) => return self.failed_to_start(&config, format!("{error:#}"), 125, report),
        };
        let started = match self.spawn_container(&config, &cgroup, options) {
            Ok(started) => started,
            Err(error) => {
                let _ = cgroup.remove();
                let code = error.downcast_ref::<SpawnError>().map_or(125, |e| e.exit_code());
                return self.failed_to_start(&config, format!("{error:#}"), code, report);
            }
        };
        self.record_running(id, started.child.pid().as_raw())?;
        // A daemon's helper narrates to a pipe the daemon reads to its end.
        ch01_namespaces::explain::close_sink();
        // Detached, this process becomes the small shim, which tells the
        // start: past here only if it cannot.
        let started = match attached {
            true => started,
            false => self.become_shim(&config, started, &mut report, options),
        };
        report.started();
        let (exit, attach) = self.relay_and_wait(&config, started, attached);
        self.finish(&config, Some(&cgroup), exit, Some(attach))
    }
    // ANCHOR_END: supervise

    // ANCHOR: finish
    /// After the exit: the cgroup goes, the attach clients are told, the
    /// state records it, and `--rm` removes the container. Both the
    /// in-process supervisor and the shim's exit command end here.
    pub(crate) fn finish(
        &self,
        config: &ContainerConfig,
        cgroup: Option<&Cgroup>,
        exit: i32,
        attach: Option<AttachServer>,
    ) -> anyhow::Result<i32> {
        // Only a SIGKILL (137) can be the OOM killer's: no cgroup files read otherwise.
        let oom_killed = exit == 137 && cgroup.is_some_and(|c| c.oom_kills() > 0);
        let _ = cgroup.map(Cgroup::remove);
        // The exit is told, and the socket gone, before the state says
        // "exited": whoever connects after that reads the state instead,
        // and no one connects to an old supervisor meaning a new one.
        if let Some(mut attach) = attach {
            attach.broadcast_exit(exit);
        }
        self.record_exit(config, exit, oom_killed)?;
        if config.auto_remove {
            self.remove_files(&config.id, true)?;
        }
        Ok(exit)
    }
    // ANCHOR_END: finish

    fn record_running(&self, id: &str, pid: i32) -> anyhow::Result<()> {
        let supervisor = std::process::id() as i32;
        self.update_state(id, |s| {
            *s = State {
                status: Status::Running,
                pid: Some(pid),
                supervisor_pid: Some(supervisor),
                started_at: Some(now()),
                ..State::created()
            }
        })?;
        Ok(())
    }

    pub(crate) fn log_path(&self, id: &str) -> std::path::PathBuf {
        self.store.container_dir(id).join("container.log")
    }

    fn record_exit(&self, config: &ContainerConfig, exit: i32, oom: bool) -> anyhow::Result<()> {
        self.update_state(&config.id, |s| {
            s.status = Status::Exited;
            s.exit_code = Some(exit);
            s.oom_killed = oom;
            s.paused = false;
            s.pid = None;
            s.supervisor_pid = None;
            s.finished_at = Some(now());
        })?;
        Ok(())
    }

    fn failed_to_start(
        &self,
        config: &ContainerConfig,
        message: String,
        exit_code: i32,
        mut report: Report,
    ) -> anyhow::Result<i32> {
        report.failed(exit_code, &message);
        self.update_state(&config.id, |s| {
            s.status = Status::Exited;
            s.exit_code = Some(exit_code);
            s.error = Some(message.clone());
            s.finished_at = Some(now());
        })?;
        if config.auto_remove {
            self.remove_files(&config.id, true)?;
        }
        Err(StartFailed { message, exit_code }.into())
    }

    // ANCHOR: spawn_container
    /// Put the spawn together: chapter 5's own steps, each extension's,
    /// then start it. What the extensions took is given back on failure.
    fn spawn_container(
        &self,
        config: &ContainerConfig,
        cgroup: &Cgroup,
        options: StartOptions,
    ) -> anyhow::Result<Started> {
        let dir = self.store.container_dir(&config.id);
        let attach = Rc::new(RefCell::new(AttachServer::listen(&dir)?));
        let driver: Driver = config.driver.parse().map_err(anyhow::Error::msg)?;
        let mut rootfs =
            RootfsSetup::new(ch03_union_fs::reopen(driver, &config.layers, &dir)?, None);
        let mut spawn = spawn_of(config, cgroup);
        let mut steps = ChildSteps::default();
        let mut starting = Starting {
            root: &self.root,
            dir: &dir,
            config,
            cgroup,
            spawn: &mut spawn,
            rootfs: &mut rootfs,
            address: None,
            steps: &mut steps,
        };
        let mut held = Vec::new();
        let prepared = self.start_extensions(&mut starting, &mut held);
        let address = starting.address;
        let spawned = prepared.and_then(|()| {
            rootfs.etc = Some(etc_files::write_etc_files(&dir, &config.hostname, address)?);
            if options.wait_for_attach {
                spawn.parent_hook(wait_for_attach_hook(&attach));
            }
            spawn_with_steps(spawn, rootfs, steps, config)
        });
        let attach =
            Rc::try_unwrap(attach).map_err(|_| anyhow::anyhow!("attach socket still shared"));
        tell_extensions(spawned.and_then(|s| Ok((s, attach?.into_inner()))), held)
    }
    // ANCHOR_END: spawn_container

    fn start_extensions(
        &self,
        starting: &mut Starting,
        held: &mut Vec<Box<dyn Running>>,
    ) -> anyhow::Result<()> {
        for extension in self.extensions() {
            held.push(extension.start(starting)?);
        }
        Ok(())
    }

    fn relay_and_wait(
        &self,
        config: &ContainerConfig,
        started: Started,
        attached: bool,
    ) -> (i32, AttachServer) {
        let Started { child, stdio: mut side, mut attach, mut held } = started;
        held.iter_mut().for_each(|h| h.started(child.pid()));
        let log_path = self.log_path(&config.id);
        let _raw = (attached && config.tty).then(RawMode::enable).flatten();
        if attached {
            side.forward_window_size();
            side.feed_stdin();
            ch01_namespaces::signals::forward_signals_to(child.pid());
        }
        let _ = side.relay(&mut LogWriter::open(&log_path), attached, Some(&mut attach));
        let status = child.wait().map(|s| s.code()).unwrap_or(125);
        ch01_namespaces::signals::stop_forwarding();
        held.into_iter().for_each(|h| h.stopped());
        (status, attach)
    }
}

// ANCHOR: spawn_with_steps
/// The child's steps in their order: the extensions' first ones, chapter
/// 3's root, stdio, the extensions' before-user ones, the user switch, the
/// extensions' last ones. Then clone, and wait for the exec.
fn spawn_with_steps(
    mut spawn: Spawn,
    rootfs: RootfsSetup,
    steps: ChildSteps,
    config: &ContainerConfig,
) -> anyhow::Result<(Child, stdio::ParentSide)> {
    // Attached, stdin is our terminal's; detached, it is the attach clients'.
    let interactive = config.interactive;
    let mode = StdioMode { tty: config.tty, interactive, size: config.console_size };
    let (stdio_hook, mut side) = stdio::prepare(mode)?;
    add_steps(&mut spawn, steps.first);
    spawn.child_hook(ch03_union_fs::rootfs_hook(rootfs));
    spawn.child_hook(stdio_hook);
    add_steps(&mut spawn, steps.before_user);
    if !config.user.is_root() {
        spawn.child_hook(switch_user_hook(config.user.to_exec_user()));
    }
    add_steps(&mut spawn, steps.last);
    let child = spawn.spawn()?;
    if let Err(error) = side.receive_terminal() {
        let _ = kill(child.pid(), Signal::SIGKILL);
        let _ = child.wait();
        return Err(error);
    }
    Ok((child, side))
}
// ANCHOR_END: spawn_with_steps

/// The last parent hook, when a client attached before the start: the
/// child waits (on the sync pipe) until that client is connected.
fn wait_for_attach_hook(attach: &Rc<RefCell<AttachServer>>) -> ch01_namespaces::ParentHook {
    let attach = Rc::clone(attach);
    ch01_namespaces::ParentHook::new("waiting for the attached client", move |_| {
        Ok(attach.borrow_mut().wait_for_client(Duration::from_secs(30))?)
    })
}

/// The container runs, with what each extension holds for it (told
/// `started` where this process relays); or its start failed, and each
/// extension gives back what it took.
fn tell_extensions(
    spawned: anyhow::Result<((Child, stdio::ParentSide), AttachServer)>,
    held: Vec<Box<dyn Running>>,
) -> anyhow::Result<Started> {
    match spawned {
        Ok(((child, stdio), attach)) => Ok(Started { child, stdio, attach, held }),
        Err(error) => {
            held.into_iter().for_each(|h| h.stopped());
            Err(error)
        }
    }
}

fn add_steps(spawn: &mut Spawn, hooks: Vec<ch01_namespaces::ChildHook>) {
    for hook in hooks {
        spawn.child_hook(hook);
    }
}

/// Chapter 5's own spawn: every namespace new, the hostname, `--init`,
/// and chapter 2's cgroup join (at the clone on v2, the child's own first
/// step on v1).
fn spawn_of(config: &ContainerConfig, cgroup: &Cgroup) -> Spawn {
    let cwd = Some(config.working_dir.clone().into());
    let mut spawn = Spawn::new(Process { argv: config.argv.clone(), env: config.env.clone(), cwd });
    spawn.namespaces = Namespaces::default();
    spawn.hostname = Some(config.hostname.clone());
    spawn.init = config.init;
    join_at_spawn(&mut spawn, cgroup);
    spawn
}

/// How the supervisor tells the command that started it how the start
/// went: one line on a pipe, `0` or `CODE MESSAGE`.
pub(crate) struct Report(pub(crate) Option<std::fs::File>);

impl Report {
    pub(crate) fn started(&mut self) {
        if let Some(mut pipe) = self.0.take() {
            let _ = writeln!(pipe, "0");
        }
    }

    fn failed(&mut self, code: i32, message: &str) {
        if let Some(mut pipe) = self.0.take() {
            let _ = pipe.write_all(failure_line(code, message).as_bytes());
        }
    }
}

/// A failed start's line: `CODE MESSAGE`, the message on one line.
pub fn failure_line(code: i32, message: &str) -> String {
    format!("{code} {}\n", message.replace('\n', " "))
}

/// A start's line read back: `0`, or `CODE MESSAGE` as a [`StartFailed`];
/// `None` for no line at all (the one who was to say died first).
pub fn parse_report(line: &str) -> Option<Result<(), StartFailed>> {
    let line = line.trim_end();
    match line.split_once(' ') {
        _ if line == "0" => Some(Ok(())),
        _ if line.is_empty() => None,
        found => {
            let (code, message) = found.unwrap_or((line, ""));
            let exit_code = code.parse().unwrap_or(125);
            Some(Err(StartFailed { message: message.to_string(), exit_code }))
        }
    }
}

/// The starting command's side: the supervisor's one line, or its silence
/// (it died before it could say).
fn read_report(read_end: std::os::fd::OwnedFd) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::from(read_end)).read_line(&mut line)?;
    match parse_report(&line) {
        Some(said) => Ok(said?),
        None => bail!("the container's supervisor died before the container started"),
    }
}

fn create_cgroup(config: &ContainerConfig) -> anyhow::Result<Cgroup> {
    let layout = ch02_cgroups::detect_once()?;
    let limits = config.limits.to_limits();
    Ok(Cgroup::create(&layout, &config.cgroup_parent, &config.id, &limits)?)
}

/// The supervisor's stdio: /dev/null, so no terminal is held open.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_start_s_line_is_read_back_as_it_was_written() {
        assert!(matches!(parse_report("0\n"), Some(Ok(()))));
        let line = failure_line(127, "exec \"/nope\":\nno such file");
        assert_eq!(line, "127 exec \"/nope\": no such file\n", "one line, whatever the message");
        let Some(Err(failed)) = parse_report(&line) else { panic!("{line:?} is a failure") };
        assert_eq!(
            (failed.exit_code, failed.message.as_str()),
            (127, "exec \"/nope\": no such file")
        );
        let Some(Err(bare)) = parse_report("126") else { panic!("a bare code is a failure") };
        assert_eq!((bare.exit_code, bare.message.as_str()), (126, ""));
        assert!(parse_report("").is_none(), "no line: whoever was to say died first");
    }
}
