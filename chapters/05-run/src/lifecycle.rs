//! The container lifecycle: create, start, stop, kill, rm, wait.
//!
//! Every command is a short-lived process that reads and writes the store.
//! The one long-lived process is the container's *supervisor* (our
//! conmon / containerd-shim): it starts the container, copies its output
//! into the log, waits for it, records how it ended and releases what it
//! held. With `run -d` it is a daemon of its own; without `-d`, the command
//! you typed is the supervisor.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use ch01_namespaces::{Namespaces, Process, Spawn};
use ch02_cgroups::{join_hook, Cgroup, Limits};
use ch03_union_fs::{etc_files, Driver, RootfsSetup};
use ch06_networking::{AttachRequest, Attachment};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use thiserror::Error;

use crate::container::{ContainerConfig, LimitSettings, UserIds};
use crate::ids::{new_id, random_name, short_id, validate_name};
use crate::logs::LogWriter;
use crate::merge::{merge, ImageDefaults, UserOverrides};
use crate::state::{now, State, Status};
use crate::stdio::{self, RawMode, StdioMode};
use crate::store::Store;
use crate::user::{resolve_user, switch_user_hook};

/// The state root and the containers in it.
#[derive(Debug, Clone)]
pub struct Engine {
    pub root: PathBuf,
    pub store: Store,
}

/// A failure that has its own exit code (Docker's 125, 126, 127).
#[derive(Debug, Error)]
#[error("{message}")]
pub struct StartFailed {
    pub message: String,
    pub exit_code: i32,
}

/// What `create` (and `run`) are asked for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub image: String,
    pub image_id: String,
    pub layers: Vec<PathBuf>,
    pub defaults: ImageDefaults,
    pub overrides: UserOverrides,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub tty: bool,
    pub interactive: bool,
    pub auto_remove: bool,
    pub init: bool,
    pub limits: Limits,
    pub cgroup_parent: String,
    pub driver: Driver,
    /// Chapter 7's mounts, already resolved (volumes exist, host dirs too).
    pub mounts: Vec<ch07_volumes::ContainerMount>,
    pub network: ch06_networking::NetworkMode,
    pub ports: Vec<ch06_networking::PortMapping>,
    pub security: ch08_security::SecurityOptions,
}

impl Engine {
    pub fn new(root: &Path) -> Engine {
        Engine { root: root.to_path_buf(), store: Store::new(root) }
    }

    pub fn config(&self, id: &str) -> anyhow::Result<ContainerConfig> {
        Ok(self.store.read(id, "config.json")?)
    }

    /// The state, repaired first if its supervisor died (see [`State::repair_if_supervisor_died`]).
    pub fn state(&self, id: &str) -> anyhow::Result<State> {
        let _lock = self.store.lock(id)?;
        let mut state: State = self.store.read(id, "state.json")?;
        if state.repair_if_supervisor_died() {
            self.store.write(id, "state.json", &state)?;
            let config = self.config(id)?;
            release_cgroup(&config);
            let _ = ch06_networking::release_container(&self.root, id);
            if config.auto_remove {
                drop(_lock);
                self.remove_files(id, true)?;
            }
        }
        Ok(state)
    }

    /// Find a container by id, name or unique id prefix.
    pub fn find(&self, wanted: &str) -> anyhow::Result<String> {
        Ok(self.store.find(wanted, |id| self.config(id).ok().map(|c| c.name))?)
    }

    fn update_state(&self, id: &str, change: impl FnOnce(&mut State)) -> anyhow::Result<State> {
        let _lock = self.store.lock(id)?;
        let mut state: State = self.store.read(id, "state.json")?;
        change(&mut state);
        self.store.write(id, "state.json", &state)?;
        Ok(state)
    }

    // ANCHOR: create
    /// Create a container: decide its id, name and process, and give it a
    /// writable layer. Nothing runs yet.
    pub fn create(&self, request: &CreateRequest) -> anyhow::Result<String> {
        request.security.check()?;
        if request.security.userns_remap.is_some()
            && request.network == ch06_networking::NetworkMode::Host
        {
            bail!("--network host cannot be combined with --userns-remap: the host's network namespace is not owned by the container's user namespace; use --userns=host for this container");
        }
        let _all = self.store.lock_all()?;
        if let ch06_networking::NetworkMode::Bridge(network) = &request.network {
            if network != ch06_networking::network::DEFAULT_NETWORK {
                ch06_networking::Networks::new(&self.root).get(network)?;
            }
        }
        let id = new_id();
        let name = self.pick_name(request.name.as_deref())?;
        let hostname = request.hostname.clone().unwrap_or_else(|| short_id(&id).to_string());
        let merged = merge(&request.defaults, &request.overrides, &hostname, request.tty)?;
        let passwd =
            crate::layers::read_through_layers(&request.layers, "etc/passwd").unwrap_or_default();
        let group =
            crate::layers::read_through_layers(&request.layers, "etc/group").unwrap_or_default();
        let user = resolve_user(&merged.user, &passwd, &group)?;
        let mut env = merged.env;
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", if user.home.is_empty() { "/" } else { &user.home }));
        }
        let config = ContainerConfig {
            id: id.clone(),
            name,
            created: now(),
            image: request.image.clone(),
            image_id: request.image_id.clone(),
            layers: request.layers.clone(),
            argv: merged.argv,
            env,
            working_dir: merged.working_dir,
            user: UserIds::from(&user),
            hostname,
            tty: request.tty,
            interactive: request.interactive,
            auto_remove: request.auto_remove,
            init: request.init,
            limits: LimitSettings::from_limits(&request.limits),
            cgroup_parent: request.cgroup_parent.clone(),
            driver: if request.security.userns_remap.is_some() {
                Driver::Vfs
            } else {
                request.driver
            }
            .name()
            .to_string(),
            mounts: request.mounts.clone(),
            network: request.network.clone(),
            ports: request.ports.clone(),
            security: request.security.clone(),
        };
        let dir = self.store.container_dir(&id);
        let made = std::fs::create_dir_all(&dir)
            .map_err(anyhow::Error::from)
            .and_then(|()| self.prepare_rootfs(request, &dir))
            .and_then(|()| Ok(self.store.write(&id, "state.json", &State::created())?))
            .and_then(|()| Ok(self.store.write(&id, "config.json", &config)?));
        if let Err(error) = made {
            let _ = ch03_union_fs::cleanup::remove_container_dir(&dir);
            return Err(error);
        }
        Ok(id)
    }
    // ANCHOR_END: create

    // ANCHOR: prepare_rootfs
    /// The container's root (chapter 3). With `--userns-remap` (chapter 8)
    /// it is a copy whose owners are moved into the range, and every path
    /// the container's root must walk to mount it and its volumes is made
    /// walkable: root inside is an ordinary uid outside.
    fn prepare_rootfs(&self, request: &CreateRequest, dir: &Path) -> anyhow::Result<()> {
        let Some(remap) = &request.security.userns_remap else {
            ch03_union_fs::prepare(request.driver, &request.layers, dir)?;
            return Ok(());
        };
        ch08_security::userns::make_reachable(&dir.join("rootfs"), &self.root, remap)?;
        ch03_union_fs::prepare_shifted(&request.layers, dir, remap.shift())?;
        for mount in &request.mounts {
            let Some(source) = mount.source.as_deref() else { continue };
            ch08_security::userns::make_reachable(source, &self.root, remap)?;
            let new_volume = mount.name.is_some() && ch07_volumes::seed::is_empty_dir(source);
            if new_volume && std::fs::metadata(source).is_ok_and(|m| m.uid() == 0) {
                ch08_security::userns::give_to_container_root(source, remap)?;
            }
        }
        Ok(())
    }
    // ANCHOR_END: prepare_rootfs

    fn pick_name(&self, wanted: Option<&str>) -> anyhow::Result<String> {
        let names: Vec<(String, String)> = self
            .store
            .ids()?
            .into_iter()
            .filter_map(|id| self.config(&id).ok().map(|c| (c.name, id)))
            .collect();
        let Some(name) = wanted else {
            return Ok(random_name(|n| names.iter().any(|(taken, _)| taken == n)));
        };
        let name = name.trim_start_matches('/');
        validate_name(name)?;
        if let Some((_, id)) = names.iter().find(|(taken, _)| taken == name) {
            bail!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". \
                 You have to remove (or rename) that container to be able to reuse that name."
            );
        }
        Ok(name.to_string())
    }

    // ANCHOR: start_detached
    /// Start the container with a supervisor of its own, and return once it
    /// runs (or failed to start). The double fork makes the supervisor a
    /// child of init, in a session of its own: it outlives this command and
    /// no terminal's hang-up reaches it.
    pub fn start_detached(&self, id: &str) -> anyhow::Result<()> {
        if self.state(id)?.is_running() {
            return Ok(());
        }
        self.update_state(id, |s| *s = State { status: Status::Created, ..State::created() })?;
        // SAFETY: we are single-threaded here; the children only call
        // async-signal-safe functions before they exec or _exit... except
        // the supervisor, which is a whole copy of us and runs on.
        match unsafe { nix::unistd::fork() }? {
            nix::unistd::ForkResult::Child => {
                let _ = nix::unistd::setsid();
                if let Ok(nix::unistd::ForkResult::Child) = unsafe { nix::unistd::fork() } {
                    detach_stdio();
                    let _ = self.supervise(id, false);
                }
                unsafe { libc::_exit(0) };
            }
            nix::unistd::ForkResult::Parent { child } => {
                nix::sys::wait::waitpid(child, None)?;
            }
        }
        self.wait_until_started(id)
    }
    // ANCHOR_END: start_detached

    fn wait_until_started(&self, id: &str) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let state = match self.state(id) {
                Ok(state) => state,
                Err(_) => return Ok(()), // --rm and already gone: it ran
            };
            match state.status {
                Status::Running => return Ok(()),
                Status::Exited => {
                    return match state.error {
                        Some(message) if state.started_at.is_none() => {
                            Err(StartFailed { message, exit_code: state.exit_code.unwrap_or(125) }
                                .into())
                        }
                        _ => Ok(()),
                    }
                }
                Status::Created if Instant::now() > deadline => {
                    bail!("the container did not start within 30 seconds")
                }
                Status::Created => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    /// Start the container with this process as its supervisor, attached to
    /// our terminal, and return its exit code (`run` without `-d`, `start -a`).
    pub fn start_attached(&self, id: &str) -> anyhow::Result<i32> {
        if self.state(id)?.is_running() {
            bail!("container {} is already running", short_id(id));
        }
        self.update_state(id, |s| *s = State { status: Status::Created, ..State::created() })?;
        self.supervise(id, true)
    }

    // ANCHOR: supervise
    /// The supervisor: cgroup, stdio, spawn (chapters 1–3 through the spawn
    /// protocol's hooks), then relay output, wait, record, release.
    pub fn supervise(&self, id: &str, attached: bool) -> anyhow::Result<i32> {
        let config = self.config(id)?;
        let cgroup = match create_cgroup(&config) {
            Ok(cgroup) => cgroup,
            Err(error) => return self.failed_to_start(&config, format!("{error:#}"), 125),
        };
        let started = self.spawn_container(&config, &cgroup, attached);
        let (child, stdio_side, network) = match started {
            Ok(started) => started,
            Err(error) => {
                let _ = cgroup.remove();
                let code = error
                    .downcast_ref::<ch01_namespaces::SpawnError>()
                    .map_or(125, |e| e.exit_code());
                return self.failed_to_start(&config, format!("{error:#}"), code);
            }
        };
        self.update_state(id, |s| {
            *s = State {
                status: Status::Running,
                pid: Some(child.pid().as_raw()),
                supervisor_pid: Some(std::process::id() as i32),
                started_at: Some(now()),
                ..State::created()
            }
        })?;
        let exit = self.relay_and_wait(&config, &child, stdio_side, attached);
        network.release();
        let oom_killed = cgroup.oom_kills() > 0 && exit == 137;
        let _ = cgroup.remove();
        self.update_state(id, |s| {
            s.status = Status::Exited;
            s.exit_code = Some(exit);
            s.oom_killed = oom_killed;
            s.pid = None;
            s.supervisor_pid = None;
            s.finished_at = Some(now());
        })?;
        if config.auto_remove {
            self.remove_files(id, true)?;
        }
        Ok(exit)
    }
    // ANCHOR_END: supervise

    fn failed_to_start(
        &self,
        config: &ContainerConfig,
        message: String,
        exit_code: i32,
    ) -> anyhow::Result<i32> {
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
    fn spawn_container(
        &self,
        config: &ContainerConfig,
        cgroup: &Cgroup,
        attached: bool,
    ) -> anyhow::Result<(ch01_namespaces::Child, stdio::ParentSide, Attachment)> {
        let dir = self.store.container_dir(&config.id);
        let driver: Driver = config.driver.parse().map_err(anyhow::Error::msg)?;
        let rootfs = ch03_union_fs::reopen(driver, &config.layers, &dir)?;
        let mut network = Attachment::prepare(&AttachRequest {
            root: &self.root,
            container_id: &config.id,
            name: &config.name,
            hostname: &config.hostname,
            hosts_file: dir.join("hosts"),
            mode: &config.network,
            ports: &config.ports,
        })?;
        let spawned = self.spawn_attached(config, cgroup, attached, rootfs, &network);
        match spawned {
            Ok((child, stdio_side)) => {
                network.start_proxies();
                Ok((child, stdio_side, network))
            }
            Err(error) => {
                network.release();
                Err(error)
            }
        }
    }

    fn spawn_attached(
        &self,
        config: &ContainerConfig,
        cgroup: &Cgroup,
        attached: bool,
        rootfs: ch03_union_fs::Rootfs,
        network: &Attachment,
    ) -> anyhow::Result<(ch01_namespaces::Child, stdio::ParentSide)> {
        let dir = self.store.container_dir(&config.id);
        let etc = etc_files::write_etc_files(&dir, &config.hostname, network.ip())?;
        network.announce()?;
        let interactive = config.interactive && attached;
        let (stdio_hook, stdio_side) = stdio::prepare(StdioMode { tty: config.tty, interactive })?;
        let process = Process {
            argv: config.argv.clone(),
            env: config.env.clone(),
            cwd: Some(config.working_dir.clone().into()),
        };
        let mut spawn = Spawn::new(process);
        spawn.namespaces = Namespaces { net: network.own_namespace(), ..Namespaces::default() };
        spawn.hostname = Some(config.hostname.clone());
        spawn.init = config.init;
        // ANCHOR: remap_hooks
        if let Some(remap) = &config.security.userns_remap {
            spawn.namespaces.user = true;
            spawn.parent_hook(ch08_security::userns::map_range_hook(remap));
            // First of the child's steps: everything after it, mounts
            // included, is done as the namespace's root, never the host's.
            spawn.child_hook(ch08_security::userns::become_namespace_root_hook());
            for (file, _) in etc.mounts() {
                ch08_security::userns::give_to_container_root(file, remap)?;
            }
        }
        // ANCHOR_END: remap_hooks
        let profile = config
            .security
            .profile(ch08_security::caps::last_cap(), cgroup.dir_of("devices").is_some())?;
        spawn.parent_hook(join_hook(cgroup));
        if let Some(hook) = network.parent_hook() {
            spawn.parent_hook(hook);
        }
        if profile.device_rules {
            spawn.parent_hook(ch08_security::devices::device_rules_hook(cgroup));
        }
        let mut setup = RootfsSetup::new(rootfs, Some(etc));
        setup.read_only_root = profile.read_only_root;
        setup.skip_masks = !profile.masks;
        if !config.mounts.is_empty() {
            setup.before_pivot.push(ch07_volumes::mount_hook(config.mounts.clone()));
        }
        spawn.child_hook(ch03_union_fs::rootfs_hook(setup));
        spawn.child_hook(stdio_hook);
        let walls = ch08_security::hooks(profile);
        spawn.child_hook(walls.before_user);
        if !config.user.is_root() {
            spawn.child_hook(switch_user_hook(config.user.to_exec_user()));
        }
        spawn.child_hook(walls.after_user);
        let child = spawn.spawn()?;
        let mut stdio_side = stdio_side;
        if let Err(error) = stdio_side.receive_terminal() {
            let _ = kill(child.pid(), Signal::SIGKILL);
            let _ = child.wait();
            return Err(error);
        }
        Ok((child, stdio_side))
    }
    // ANCHOR_END: spawn_container

    fn relay_and_wait(
        &self,
        config: &ContainerConfig,
        child: &ch01_namespaces::Child,
        mut side: stdio::ParentSide,
        attached: bool,
    ) -> i32 {
        let log_path = self.store.container_dir(&config.id).join("container.log");
        let _raw = (attached && config.tty).then(RawMode::enable).flatten();
        if attached {
            side.forward_window_size();
            side.feed_stdin();
            ch01_namespaces::signals::forward_signals_to(child.pid());
        }
        if let Ok(mut log) = LogWriter::open(&log_path) {
            let _ = side.relay(&mut log, attached);
        }
        let status = child.wait().map(|s| s.code()).unwrap_or(125);
        ch01_namespaces::signals::stop_forwarding();
        status
    }

    // ANCHOR: stop
    /// `stop`: SIGTERM (or the image's stop signal), then SIGKILL after
    /// `timeout` — PID 1 ignores signals it has no handler for (chapter 1).
    pub fn stop(&self, id: &str, timeout: Duration) -> anyhow::Result<()> {
        let Some(pid) = self.running_pid(id)? else { return Ok(()) };
        let _ = kill(pid, Signal::SIGTERM);
        if self.wait_for_exit(id, timeout)? {
            return Ok(());
        }
        let _ = kill(pid, Signal::SIGKILL);
        self.wait_for_exit(id, Duration::from_secs(30))?;
        Ok(())
    }
    // ANCHOR_END: stop

    /// `kill`: send `signal` to the container's main process.
    pub fn kill(&self, id: &str, signal: Signal) -> anyhow::Result<()> {
        let Some(pid) = self.running_pid(id)? else {
            bail!(
                "cannot kill container: {}: container {} is not running",
                short_id(id),
                short_id(id)
            )
        };
        kill(pid, signal).with_context(|| format!("sending {signal} to {pid}"))
    }

    fn running_pid(&self, id: &str) -> anyhow::Result<Option<Pid>> {
        let state = self.state(id)?;
        Ok(state.pid.filter(|_| state.is_running()).map(Pid::from_raw))
    }

    /// Wait until the container has exited; false when `timeout` passed first.
    pub fn wait_for_exit(&self, id: &str, timeout: Duration) -> anyhow::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.state(id) {
                Ok(state) if state.is_running() => {}
                Ok(_) => return Ok(true),
                Err(_) => return Ok(true), // removed (--rm): it has exited
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    // ANCHOR: remove
    /// `rm`: refuse a running container unless `force`, then release
    /// everything it holds and delete its directory.
    pub fn remove(&self, id: &str, force: bool) -> anyhow::Result<()> {
        self.remove_container(id, force, false)
    }

    /// `rm -v`: remove the container, then its anonymous volumes (chapter 7).
    pub fn remove_with_volumes(&self, id: &str, force: bool) -> anyhow::Result<()> {
        self.remove_container(id, force, true)
    }

    fn remove_container(&self, id: &str, force: bool, volumes: bool) -> anyhow::Result<()> {
        let state = self.state(id)?;
        if state.is_running() {
            if !force {
                let name = self.config(id)?.name;
                bail!("cannot remove container \"/{name}\": container is running: stop the container before removing or force remove");
            }
            if let Some(pid) = state.pid {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            if !self.wait_for_exit(id, Duration::from_secs(30))? {
                bail!("container {} did not exit after SIGKILL", short_id(id));
            }
        }
        self.remove_files(id, volumes)
    }
    // ANCHOR_END: remove

    /// Delete the container's files; with `volumes` (`rm -v`, `--rm`) also
    /// its anonymous volumes, once no config names them any more.
    fn remove_files(&self, id: &str, volumes: bool) -> anyhow::Result<()> {
        let _all = self.store.lock_all()?;
        let config = self.config(id).ok();
        if let Some(config) = &config {
            release_cgroup(config);
        }
        let _ = ch06_networking::release_container(&self.root, id);
        let dir = self.store.container_dir(id);
        ch03_union_fs::cleanup::remove_container_dir(&dir)
            .with_context(|| format!("removing {}", dir.display()))?;
        if let (true, Some(config)) = (volumes, config) {
            ch07_volumes::remove_anonymous_volumes(&self.root, &config.mounts)?;
        }
        Ok(())
    }

    /// `wait`: block until the container exits and return its exit code.
    pub fn wait(&self, id: &str) -> anyhow::Result<i32> {
        while !self.wait_for_exit(id, Duration::from_secs(3600))? {}
        Ok(self.state(id).ok().and_then(|s| s.exit_code).unwrap_or(0))
    }

    /// Ids of every container, with the running ones' supervisors checked.
    pub fn list(&self) -> anyhow::Result<Vec<(ContainerConfig, State)>> {
        let mut all = Vec::new();
        for id in self.store.ids()? {
            if let (Ok(config), Ok(state)) = (self.config(&id), self.state(&id)) {
                all.push((config, state));
            }
        }
        Ok(all)
    }
}

fn create_cgroup(config: &ContainerConfig) -> anyhow::Result<Cgroup> {
    let layout = ch02_cgroups::detect()?;
    Ok(Cgroup::create(&layout, &config.cgroup_parent, &config.id, &config.limits.to_limits())?)
}

/// Remove the container's cgroup if it is still there (after a crash).
fn release_cgroup(config: &ContainerConfig) {
    if let Ok(layout) = ch02_cgroups::detect() {
        let _ = ch02_cgroups::remove_leftover(&layout, &config.cgroup_parent, &config.id);
    }
}

/// The supervisor's stdio: /dev/null, so no terminal is held open.
fn detach_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdin(&null);
        let _ = nix::unistd::dup2_stdout(&null);
        let _ = nix::unistd::dup2_stderr(&null);
    }
}
