//! The spawn protocol: clone into new namespaces, let the parent prepare the
//! child while it waits, then let the child prepare itself and exec.
//!
//! ```text
//!  parent (mini-docker)                     child (new namespaces)
//!  ─────────────────────                    ──────────────────────
//!  clone(CLONE_NEW*) ────────────────────▶  read(sync) … blocks
//!  background hooks start (e.g. a cgroup move)
//!  parent hooks (veth, uid_map)
//!  write(sync) ──────────────────────────▶  sethostname, child hooks
//!  background hooks done                     (rootfs, pivot_root, addresses)
//!  write(sync) ──────────────────────────▶  read(sync), then execve(command)
//!  read(errors) … blocks
//!       ◀──────── EOF on exec (CLOEXEC) or an error message
//!  waitpid(child) → exit code
//! ```
//!
//! Later chapters plug into this protocol with [`ParentHook`]s, [`ChildHook`]s
//! and [`BackgroundHook`]s.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{clone, CloneFlags};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{pipe2, ForkResult, Pid};
use thiserror::Error;

use crate::background::{Background, BackgroundHook};
use crate::exec::{self, ExecFailure};
use crate::explain::{self, Step};
use crate::hostname::{validate_hostname, HostnameError};
use crate::into_cgroup::{self, Cloned};
use crate::namespaces::{clone_flags, flag_names, names, unshare_command, Namespaces};
use crate::{init, signals};

// ANCHOR: clone
/// The stack the cloned child runs on before it execs. It is only touched
/// page by page, so the untouched part costs nothing.
const CHILD_STACK_SIZE: usize = 8 * 1024 * 1024;
// ANCHOR_END: clone

// ANCHOR: hooks
/// Work the parent does on the child while the child waits: it gets the
/// child's pid (as seen from the host). Chapter 2 joins the cgroup here,
/// chapter 6 moves a veth into the child's network namespace.
pub struct ParentHook {
    pub name: String,
    pub run: Box<dyn FnMut(Pid) -> anyhow::Result<()>>,
}

/// Work the child does on itself, inside its namespaces, before it execs.
/// Chapter 3 sets up the root filesystem and pivots into it here.
pub struct ChildHook {
    pub name: String,
    pub run: Box<dyn FnMut() -> anyhow::Result<()>>,
}
// ANCHOR_END: hooks

impl ParentHook {
    pub fn new(
        name: impl Into<String>,
        run: impl FnMut(Pid) -> anyhow::Result<()> + 'static,
    ) -> Self {
        ParentHook { name: name.into(), run: Box::new(run) }
    }
}

impl ChildHook {
    pub fn new(name: impl Into<String>, run: impl FnMut() -> anyhow::Result<()> + 'static) -> Self {
        ChildHook { name: name.into(), run: Box::new(run) }
    }
}

/// The command to run in the container.
#[derive(Debug, Clone, Default)]
pub struct Process {
    /// `argv[0]` is looked up in the container's `PATH` when it has no `/`.
    pub argv: Vec<String>,
    /// `KEY=VALUE` pairs: the whole environment, nothing is inherited.
    pub env: Vec<String>,
    /// Working directory inside the container; `/` when `None`.
    pub cwd: Option<PathBuf>,
}

/// Everything needed to start one container process.
pub struct Spawn {
    pub namespaces: Namespaces,
    pub hostname: Option<String>,
    pub process: Process,
    /// Run a minimal init as PID 1 with the command as its child (`--init`).
    pub init: bool,
    /// Kill the container when the process that spawned it dies.
    pub die_with_parent: bool,
    /// Finish the background hooks before the child is released, not only
    /// before it execs: for a child hook that needs their work done.
    pub background_before_release: bool,
    parent_hooks: Vec<ParentHook>,
    child_hooks: Vec<ChildHook>,
    background_hooks: Vec<BackgroundHook>,
    /// A v2 cgroup to create the child in, and the move to do if we cannot.
    into_cgroup: Option<(OwnedFd, BackgroundHook)>,
}

#[derive(Debug, Error)]
pub enum SpawnError {
    #[error("needs root: run with sudo (or use a user namespace)")]
    NeedsRoot,
    #[error("no command given")]
    NoCommand,
    #[error(transparent)]
    Hostname(#[from] HostnameError),
    #[error("creating the namespaces failed: {0}")]
    Clone(Errno),
    #[error("{0}")]
    Pipe(Errno),
    #[error("{name}: {error:#}")]
    ParentHook { name: String, error: anyhow::Error },
    /// The child reported a failure before exec; `exit_code` is Docker's.
    #[error("{message}")]
    Child { message: String, exit_code: i32 },
}

impl SpawnError {
    /// The exit code `docker run` uses for this failure: 127 command not
    /// found, 126 not executable, 125 anything else of the tool's own.
    pub fn exit_code(&self) -> i32 {
        match self {
            SpawnError::Child { exit_code, .. } => *exit_code,
            _ => 125,
        }
    }
}

/// How the container's main process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Exited(i32),
    Signaled(Signal),
}

impl ExitStatus {
    /// The shell's convention, which Docker follows: 128+N for signal N.
    pub fn code(&self) -> i32 {
        match self {
            ExitStatus::Exited(code) => *code,
            ExitStatus::Signaled(signal) => 128 + *signal as i32,
        }
    }
}

/// A started container process.
#[derive(Debug)]
pub struct Child {
    pid: Pid,
}

impl Child {
    /// The pid as the host sees it (inside, the process is PID 1).
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Wait for the container process to end.
    pub fn wait(&self) -> Result<ExitStatus, Errno> {
        loop {
            match waitpid(self.pid, None) {
                Ok(WaitStatus::Exited(_, code)) => return Ok(ExitStatus::Exited(code)),
                Ok(WaitStatus::Signaled(_, signal, _)) => return Ok(ExitStatus::Signaled(signal)),
                Ok(_) | Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Forward our signals to the container while we wait, then stop.
    pub fn wait_forwarding_signals(&self) -> Result<ExitStatus, Errno> {
        signals::forward_signals_to(self.pid);
        let status = self.wait();
        signals::stop_forwarding();
        status
    }
}

/// The two pipes of the protocol, both close-on-exec.
struct Pipes {
    /// Parent writes one byte when its hooks are done and one when its
    /// background hooks are; child blocks on each.
    sync_read: OwnedFd,
    sync_write: OwnedFd,
    /// Child writes an error here; a successful exec closes it (CLOEXEC).
    error_read: OwnedFd,
    error_write: OwnedFd,
}

impl Pipes {
    fn new() -> Result<Pipes, SpawnError> {
        let (sync_read, sync_write) = pipe2(OFlag::O_CLOEXEC).map_err(SpawnError::Pipe)?;
        let (error_read, error_write) = pipe2(OFlag::O_CLOEXEC).map_err(SpawnError::Pipe)?;
        Ok(Pipes { sync_read, sync_write, error_read, error_write })
    }
}

impl Spawn {
    pub fn new(process: Process) -> Spawn {
        Spawn {
            namespaces: Namespaces::default(),
            hostname: None,
            process,
            init: false,
            die_with_parent: true,
            background_before_release: false,
            parent_hooks: Vec::new(),
            child_hooks: Vec::new(),
            background_hooks: Vec::new(),
            into_cgroup: None,
        }
    }

    /// Add work for the parent to do while the child waits; hooks run in the order added.
    pub fn parent_hook(&mut self, hook: ParentHook) -> &mut Self {
        self.parent_hooks.push(hook);
        self
    }

    /// Add work for the child to do on itself before exec; hooks run in the order added.
    pub fn child_hook(&mut self, hook: ChildHook) -> &mut Self {
        self.child_hooks.push(hook);
        self
    }

    /// Add work for the parent to do beside the rest, done before the child execs.
    pub fn background_hook(&mut self, hook: BackgroundHook) -> &mut Self {
        self.background_hooks.push(hook);
        self
    }

    /// Create the child inside the cgroup v2 directory `cgroup` (open), with
    /// `clone3(CLONE_INTO_CGROUP)`; where the kernel cannot, `otherwise`
    /// (the move into it) runs as the first background hook.
    pub fn clone_into_cgroup(&mut self, cgroup: OwnedFd, otherwise: BackgroundHook) -> &mut Self {
        self.into_cgroup = Some((cgroup, otherwise));
        self
    }

    // ANCHOR: spawn
    /// Start the container process. When this returns `Ok`, the command has
    /// been exec'd: every hook ran and nothing failed before exec.
    ///
    /// The calling process must have only one thread: the child is a copy of
    /// it, and a lock held by another thread at clone time would stay locked.
    pub fn spawn(mut self) -> Result<Child, SpawnError> {
        self.check()?;
        let pipes = Pipes::new()?;
        let child = self.clone_child(&pipes)?;
        // Close our copies of the child's ends, or we would never see EOF.
        let Pipes { sync_read, sync_write, error_read, error_write } = pipes;
        drop((sync_read, error_write));
        let mut background = Background::start(std::mem::take(&mut self.background_hooks), child);
        let mut sync = File::from(sync_write);
        if let Err(failure) = self.parents_part(child, &mut background, &mut sync) {
            let _ = background.finish();
            return Err(give_up(child, error_read, failure));
        }
        release_child(&mut sync); // the second byte: go on and exec
        drop(sync);
        match read_child_error(error_read) {
            None => Ok(Child { pid: child }),
            Some(failure) => {
                let _ = waitpid(child, None);
                Err(failure)
            }
        }
    }
    // ANCHOR_END: spawn

    fn check(&self) -> Result<(), SpawnError> {
        if self.process.argv.is_empty() {
            return Err(SpawnError::NoCommand);
        }
        if let Some(name) = &self.hostname {
            validate_hostname(name)?;
        }
        if !nix::unistd::geteuid().is_root() && !self.namespaces.user {
            return Err(SpawnError::NeedsRoot);
        }
        Ok(())
    }

    fn clone_child(&mut self, pipes: &Pipes) -> Result<Pid, SpawnError> {
        let flags = clone_flags(&self.namespaces);
        if let Some((cgroup, otherwise)) = self.into_cgroup.take() {
            match self.clone_in_cgroup(flags, &cgroup, pipes) {
                Ok(child) => return Ok(child),
                Err(_) => self.background_hooks.insert(0, otherwise), // move it, then
            }
        }
        explain::step(Step {
            what: &format!(
                "create the child in new namespaces: {}",
                names(&self.namespaces).join(", ")
            ),
            syscall: &format!("clone({} | SIGCHLD)", flag_names(flags)),
            shell: &unshare_command(&self.namespaces),
            book: "ch01-namespaces.md#the-spawn-protocol",
        });
        // ANCHOR: clone
        let mut stack = vec![0u8; CHILD_STACK_SIZE];
        let child_main = Box::new(|| child_main(self, pipes));
        // SAFETY: without CLONE_VM the child gets its own copy of our memory,
        // like fork(); we are single-threaded (see `spawn`), and the child
        // leaves only through execve or _exit.
        let result = unsafe { clone(child_main, &mut stack, flags, Some(libc::SIGCHLD)) };
        result.map_err(|errno| match errno {
            Errno::EPERM => SpawnError::NeedsRoot,
            other => SpawnError::Clone(other),
        })
        // ANCHOR_END: clone
    }

    /// `clone3` into the cgroup; any error leaves the plain `clone` to try.
    fn clone_in_cgroup(
        &mut self,
        flags: CloneFlags,
        cgroup: &OwnedFd,
        pipes: &Pipes,
    ) -> Result<Pid, Errno> {
        explain::step(Step {
            what: &format!(
                "create the child in new namespaces ({}), born inside its cgroup",
                names(&self.namespaces).join(", ")
            ),
            syscall: &format!(
                "clone3({{ {} | CLONE_INTO_CGROUP, cgroup: <its directory> }})",
                flag_names(flags)
            ),
            shell: "echo $$ > <its directory>/cgroup.procs; exec unshare … (a shell moves itself first)",
            book: "ch02-cgroups.md#why-the-join-runs-beside-the-rest",
        });
        // SAFETY: as for `clone` below: one thread, and the child leaves
        // only through execve or _exit.
        match unsafe { into_cgroup::clone_into(flags, cgroup) }? {
            Cloned::Parent(child) => Ok(child),
            Cloned::Child => {
                child_main(self, pipes);
                unsafe { libc::_exit(125) }
            }
        }
    }

    /// The parent's part before the child may exec: its hooks, the first
    /// byte, and the background hooks (before that byte, when asked).
    fn parents_part(
        &mut self,
        child: Pid,
        background: &mut Background,
        sync: &mut File,
    ) -> Result<(), SpawnError> {
        self.run_parent_hooks(child)?;
        if self.background_before_release {
            background.finish()?;
        }
        release_child(sync);
        background.finish()
    }

    fn run_parent_hooks(&mut self, child: Pid) -> Result<(), SpawnError> {
        for hook in &mut self.parent_hooks {
            (hook.run)(child)
                .map_err(|error| SpawnError::ParentHook { name: hook.name.clone(), error })?;
        }
        Ok(())
    }
}

/// Let the child go on: one byte down the sync pipe. A child that already
/// gave up is not an error here: its report on the error pipe says why.
fn release_child(sync: &mut File) {
    let _ = sync.write_all(b"1");
}

/// A parent hook failed: the child must not run. Closing the sync pipe
/// without a byte would make it exit, but SIGKILL is simpler and certain.
/// If the child had failed first, its own report is the better reason.
fn give_up(child: Pid, error_read: OwnedFd, failure: SpawnError) -> SpawnError {
    let _ = kill(child, Signal::SIGKILL);
    let _ = waitpid(child, None);
    read_child_error(error_read).unwrap_or(failure)
}

/// Wait for the child's verdict: EOF means the exec succeeded (the pipe is
/// close-on-exec); anything else is `<exit code> <message>`.
fn read_child_error(error_read: OwnedFd) -> Option<SpawnError> {
    let mut report = String::new();
    let _ = File::from(error_read).read_to_string(&mut report);
    if report.is_empty() {
        return None;
    }
    let (code, message) = report.split_once(' ').unwrap_or(("125", report.as_str()));
    Some(SpawnError::Child { message: message.to_string(), exit_code: code.parse().unwrap_or(125) })
}

// ---------------------------------------------------------------- the child

// ANCHOR: child_main
/// Why the child stopped before exec, with Docker's exit code for it.
struct ChildFailure {
    exit_code: i32,
    message: String,
}

impl From<ExecFailure> for ChildFailure {
    fn from(failure: ExecFailure) -> Self {
        ChildFailure { exit_code: failure.exit_code(), message: failure.message().to_string() }
    }
}

/// The child's side of the protocol. It never returns: it execs or exits.
fn child_main(spawn: &mut Spawn, pipes: &Pipes) -> isize {
    // The child has copies of all four pipe ends: close the parent's two,
    // or a dead parent would never be noticed (the pipe would not hit EOF).
    close_raw(&pipes.sync_write);
    close_raw(&pipes.error_read);
    let failure = match prepare_child(spawn, &pipes.sync_read) {
        Ok(()) => exec_command(spawn),
        Err(failure) => failure,
    };
    report_and_exit(&pipes.error_write, failure)
}

// ANCHOR_END: child_main

// ANCHOR: prepare_child
/// Everything between "released by the parent" and exec.
fn prepare_child(spawn: &mut Spawn, sync_read: &OwnedFd) -> Result<(), ChildFailure> {
    if spawn.die_with_parent {
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    }
    wait_for_parent(sync_read);
    if let Some(name) = &spawn.hostname {
        set_hostname(name).map_err(|e| setup_failure(format!("setting the hostname: {e}")))?;
    }
    for hook in &mut spawn.child_hooks {
        (hook.run)().map_err(|e| setup_failure(format!("{}: {e:#}", hook.name)))?;
    }
    // The parent's background hooks are done too (a cgroup move, say).
    wait_for_parent(sync_read);
    close_inherited_fds();
    signals::reset_for_exec();
    Ok(())
}
// ANCHOR_END: prepare_child

fn setup_failure(message: String) -> ChildFailure {
    ChildFailure { exit_code: 125, message }
}

/// Send `<exit code> <message>` to the parent and exit with that code.
fn report_and_exit(error_write: &OwnedFd, failure: ChildFailure) -> ! {
    let report = format!("{} {}", failure.exit_code, failure.message);
    let _ = nix::unistd::write(error_write, report.as_bytes());
    // SAFETY: _exit skips atexit handlers that belong to the parent's copy.
    unsafe { libc::_exit(failure.exit_code) }
}

fn close_raw(fd: &OwnedFd) {
    // The OwnedFd is the parent's; in the child we close its copy by number
    // and never drop the OwnedFd (the child leaves through exec or _exit).
    unsafe { libc::close(fd.as_raw_fd()) };
}

/// Block until the parent's hooks are done (the first byte) or its
/// background hooks (the second). EOF instead of a byte means the parent
/// gave up (or died): exit quietly.
fn wait_for_parent(sync_read: &OwnedFd) {
    let mut byte = [0u8; 1];
    match nix::unistd::read(sync_read, &mut byte) {
        Ok(1) => {}
        _ => unsafe { libc::_exit(125) },
    }
}

fn set_hostname(name: &str) -> nix::Result<()> {
    explain::step(Step {
        what: &format!("set the hostname to {name:?} in the new UTS namespace"),
        syscall: &format!("sethostname({name:?})"),
        shell: &format!("hostname {name}"),
        book: "ch01-namespaces.md#uts-your-own-hostname",
    });
    nix::unistd::sethostname(name)
}

// ANCHOR: close_fds
/// Mark every descriptor above stderr close-on-exec, so nothing the host
/// opened — a directory on the host, a socket — leaks into the container.
/// (CVE-2024-21626 was a leaked fd to the host's /sys/fs/cgroup in runc.)
fn close_inherited_fds() {
    // SAFETY: close_range with CLOEXEC only sets a flag on our own fds.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
}
// ANCHOR_END: close_fds

/// Change directory, find the program and exec it (via our init if asked).
fn exec_command(spawn: &Spawn) -> ChildFailure {
    let process = &spawn.process;
    let cwd = process.cwd.clone().unwrap_or_else(|| PathBuf::from("/"));
    if let Err(e) = nix::unistd::chdir(&cwd) {
        let message = format!("chdir to {}: {}", cwd.display(), e.desc().to_lowercase());
        return ChildFailure { exit_code: 126, message };
    }
    if let Err(message) = check_cwd_inside_root() {
        return ChildFailure { exit_code: 126, message };
    }
    let path = match exec::resolve(&process.argv[0], exec::path_from_env(&process.env)) {
        Ok(path) => path,
        Err(failure) => return failure.into(),
    };
    if spawn.init {
        return exec_under_init(&path, process);
    }
    exec::execve(&path, &process.argv, &process.env).into()
}

// ANCHOR: check_cwd
/// runc's fix for CVE-2024-21626: `-w /proc/self/fd/N`, with N a leaked
/// directory of the host, would chdir *outside* the container's root. The
/// kernel knows: getcwd(2) then answers "(unreachable)/…" (glibc: ENOENT).
fn check_cwd_inside_root() -> Result<(), String> {
    match nix::unistd::getcwd() {
        Ok(cwd) if cwd.is_absolute() => Ok(()),
        _ => Err("current working directory is outside of the container's root: possible container breakout detected".into()),
    }
}
// ANCHOR_END: check_cwd

/// Fork: the command becomes PID 2 and execs; we stay as PID 1 and reap.
fn exec_under_init(path: &Path, process: &Process) -> ChildFailure {
    explain::step(Step {
        what: "start a minimal init as PID 1; the command runs as its child",
        syscall: "fork(); waitpid(-1) in a loop",
        shell: "docker run --init (tini)",
        book: "ch01-namespaces.md#pid-1-and-orphans",
    });
    // SAFETY: the child process is single-threaded.
    match unsafe { nix::unistd::fork() } {
        Ok(ForkResult::Child) => exec::execve(path, &process.argv, &process.env).into(),
        Ok(ForkResult::Parent { child }) => {
            // The init holds no files: in particular its copy of the error
            // pipe must close, so that only the command's exec ends the wait.
            unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
            unsafe { libc::_exit(init::supervise(child)) }
        }
        Err(e) => setup_failure(format!("fork for --init: {e}")),
    }
}
