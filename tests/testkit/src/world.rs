//! A test's own world for driving the `mini-docker` binary: its own state
//! root, cgroup parent, default bridge and subnet, so tests run in
//! parallel. On drop, every container is removed (`rm -f -v`), the
//! networks are pruned, and nothing of the world may be left on the host.
//!
//! With `MINI_DOCKER_TEST_MODE=daemon`, each world starts its own
//! `mini-dockerd` on a socket in its root, and every command goes through
//! it (`-H`): the same tests, through the Engine API.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};

use crate::{assert_no_leftovers, run, stderr, stdout};

pub struct World {
    pub root: tempfile::TempDir,
    pub cgroup_parent: String,
    /// The default network's bridge and subnet (chapter 6), this world's own.
    pub bridge: String,
    pub subnet: String,
    bin: PathBuf,
    daemon: Option<Daemon>,
    /// The daemon was killed or stopped, to be started again.
    daemon_down: bool,
}

/// A world's own `mini-dockerd`.
struct Daemon {
    child: std::process::Child,
    socket: PathBuf,
}

/// Do the end-to-end tests go through a daemon (`MINI_DOCKER_TEST_MODE=daemon`)?
pub fn daemon_mode() -> bool {
    std::env::var("MINI_DOCKER_TEST_MODE").is_ok_and(|m| m == "daemon")
}

impl World {
    /// A world with nothing in it, for the binary at `bin`
    /// (`env!("CARGO_BIN_EXE_mini-docker")`, which only the test crate knows).
    pub fn empty(bin: &str) -> World {
        World::on_network(bin, crate::unique("br"), crate::network::unique_subnet())
    }

    /// A world with busybox whose daemon, if there is one, is started with
    /// `args` and `env` too (in-process, they are not used).
    pub fn with_daemon_options(bin: &str, args: &[&str], env: &[(&str, &str)]) -> World {
        let mut world = World::unstarted(bin, crate::unique("br"), crate::network::unique_subnet());
        if daemon_mode() && world.bin.file_name().is_some_and(|n| n == "mini-docker") {
            world.daemon = Some(world.start_daemon_with(args, env));
        }
        world.load("busybox");
        world
    }

    /// A world with busybox and its own `mini-dockerd` whatever the test
    /// mode: for what only a daemon does (live restore) and for other
    /// clients of the daemon (`docker -H`, docker-py).
    pub fn with_daemon(bin: &str) -> World {
        let mut world = World::unstarted(bin, crate::unique("br"), crate::network::unique_subnet());
        world.daemon = Some(world.start_daemon_with(&[], &[]));
        world.load("busybox");
        world
    }

    /// An empty world whose default network is `bridge` and `subnet`.
    pub fn on_network(bin: &str, bridge: String, subnet: String) -> World {
        let mut world = World::unstarted(bin, bridge, subnet);
        if daemon_mode() && world.bin.file_name().is_some_and(|n| n == "mini-docker") {
            world.daemon = Some(world.start_daemon_with(&[], &[]));
        }
        world
    }

    fn unstarted(bin: &str, bridge: String, subnet: String) -> World {
        World {
            root: crate::temp_dir(),
            cgroup_parent: crate::unique("cg"),
            bridge,
            subnet,
            bin: PathBuf::from(bin),
            daemon: None,
            daemon_down: false,
        }
    }

    /// Whether this world's commands go through a daemon.
    pub fn through_daemon(&self) -> bool {
        self.daemon.is_some()
    }

    /// The daemon's socket, for other clients (`docker -H`, docker-py).
    pub fn socket(&self) -> Option<&std::path::Path> {
        self.daemon.as_ref().map(|d| d.socket.as_path())
    }

    /// `mini-dockerd` (beside `mini-docker`) on `socket`, with our root,
    /// cgroup parent, bridge and subnet: to be given stdio and spawned.
    pub fn daemon_command(&self, socket: &Path) -> Command {
        let mut command = Command::new(self.bin.with_file_name("mini-dockerd"));
        command
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .arg("--data-root")
            .arg(self.root.path())
            .env("MINI_DOCKER_CGROUP_PARENT", &self.cgroup_parent)
            .env("MINI_DOCKER_BRIDGE", &self.bridge)
            .env("MINI_DOCKER_SUBNET", &self.subnet);
        command
    }

    /// Start `mini-dockerd` on a socket in our root, and wait until it answers.
    fn start_daemon_with(&self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let socket = self.root.path().join("mini-dockerd.sock");
        let log =
            std::fs::File::create(self.root.path().join("mini-dockerd.log")).expect("a log file");
        let daemon_bin = self.bin.with_file_name("mini-dockerd");
        let child = self
            .daemon_command(&socket)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", daemon_bin.display()));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::os::unix::net::UnixStream::connect(&socket).is_err() {
            assert!(std::time::Instant::now() < deadline, "mini-dockerd did not start listening");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Daemon { child, socket }
    }

    /// Stop the daemon as a service manager would (SIGTERM), and wait.
    pub fn stop_daemon(&mut self) {
        let Some(mut daemon) = self.daemon.take() else { return };
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(daemon.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while daemon.child.try_wait().ok().flatten().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = daemon.child.kill();
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = daemon.child.wait();
    }

    /// Kill the daemon with SIGKILL, as a crash would: no chance to tidy up.
    pub fn kill_daemon(&mut self) {
        let Some(daemon) = self.daemon.as_mut() else { return };
        let _ = daemon.child.kill();
        let _ = daemon.child.wait();
        self.daemon_down = true;
    }

    /// Start the world's daemon again (after [`World::kill_daemon`] or
    /// [`World::stop_daemon`]), on the same socket and state root.
    pub fn restart_daemon(&mut self) {
        if !self.daemon_down {
            self.stop_daemon();
        }
        self.daemon = Some(self.start_daemon_with(&[], &[]));
        self.daemon_down = false;
    }

    /// Stop the daemon with SIGTERM, as `systemctl stop` would, keeping
    /// its socket's name for a [`World::restart_daemon`].
    pub fn stop_daemon_for_restart(&mut self) {
        let Some(daemon) = self.daemon.as_mut() else { return };
        let pid = nix::unistd::Pid::from_raw(daemon.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = daemon.child.wait();
        self.daemon_down = true;
    }

    /// A world with `busybox:latest` loaded.
    pub fn new(bin: &str) -> World {
        let world = World::empty(bin);
        world.load("busybox");
        world
    }

    /// Load the test image `tag` (see [`crate::images`]) as `tag:latest`.
    pub fn load(&self, tag: &'static str) {
        let out = self.md(&["load", "-i", image_tar(tag).to_str().expect("a UTF-8 temp path")]);
        assert!(out.status.success(), "load {tag}: {}", stderr(&out));
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("--root").arg(self.root.path());
        if let Some(daemon) = &self.daemon {
            cmd.arg("-H").arg(format!("unix://{}", daemon.socket.display()));
        }
        cmd.args(args);
        cmd.env("MINI_DOCKER_CGROUP_PARENT", &self.cgroup_parent);
        cmd.env("MINI_DOCKER_BRIDGE", &self.bridge);
        cmd.env("MINI_DOCKER_SUBNET", &self.subnet);
        cmd.stdin(Stdio::null());
        cmd
    }

    pub fn md(&self, args: &[&str]) -> Output {
        run(&mut self.cmd(args))
    }

    /// Every container's short id.
    pub fn ids(&self) -> Vec<String> {
        stdout(&self.md(&["ps", "-a", "-q"])).lines().map(str::to_string).collect()
    }

    /// How many container directories the state root holds.
    pub fn containers(&self) -> usize {
        std::fs::read_dir(self.root.path().join("containers"))
            .map(|d| d.flatten().filter(|e| e.path().is_dir() && !hidden(e)).count())
            .unwrap_or(0)
    }
}

impl World {
    /// Remove every container (`rm -f -v`), prune the networks and remove
    /// the cgroup parent: what drop does before it checks for leftovers.
    /// The network prune's output, for tests that check it.
    pub fn clean(&self) -> Output {
        let ids = self.ids();
        if !ids.is_empty() {
            let mut rm = vec!["rm", "-f", "-v"];
            rm.extend(ids.iter().map(String::as_str));
            let _ = self.md(&rm);
        }
        let pruned = self.md(&["network", "prune", "-f"]);
        // v1 and hybrid: a parent in each controller's hierarchy; v2: one, right here.
        let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&self.cgroup_parent));
        for controller in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let _ = std::fs::remove_dir(controller.path().join(&self.cgroup_parent));
        }
        pruned
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if std::thread::panicking() && self.daemon.is_some() {
            let log = std::fs::read_to_string(self.root.path().join("mini-dockerd.log"));
            eprintln!("--- mini-dockerd's log:\n{}", log.unwrap_or_default());
        }
        if self.daemon_down {
            self.restart_daemon();
        }
        self.clean();
        self.stop_daemon();
        if !std::thread::panicking() {
            assert_no_leftovers(&self.cgroup_parent);
            assert_no_leftovers(&self.bridge);
            assert_no_leftovers(&self.root.path().display().to_string());
        }
    }
}

/// The output's stdout, after asserting the command succeeded.
pub fn ok(out: &Output) -> String {
    assert!(out.status.success(), "failed ({:?}): {}\n{}", out.status, stderr(out), stdout(out));
    stdout(out)
}

/// Names a `docker save` tarball of busybox made beforehand by
/// `scripts/make-busybox-image.sh`, used as the `busybox` test image: the
/// test VM (`scripts/vm`) sets it, being too slow to build images itself.
pub const BUSYBOX_TAR_VAR: &str = "MINI_DOCKER_TEST_BUSYBOX_TAR";

/// The test image `tag` as a `docker save` tarball named `tag:latest`, made
/// once per test process in a directory removed when the process exits.
pub fn image_tar(tag: &'static str) -> PathBuf {
    if let (Some(tar), "busybox") = (std::env::var_os(BUSYBOX_TAR_VAR), tag) {
        return PathBuf::from(tar);
    }
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let dir = DIR.get_or_init(|| {
        let dir = crate::temp_dir().keep();
        crate::remove_at_exit(&dir);
        dir
    });
    let tar = dir.join(format!("{tag}.tar"));
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !tar.exists() {
        crate::images::docker_archive(tag, &format!("{tag}:latest"), &tar);
    }
    tar
}

/// `.removing-<id>`: a container on its way out, no longer one.
fn hidden(entry: &std::fs::DirEntry) -> bool {
    entry.file_name().to_string_lossy().starts_with('.')
}
