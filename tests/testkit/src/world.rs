//! A test's own world for driving the `mini-docker` binary: its own state
//! root, cgroup parent, default bridge and subnet, so tests run in
//! parallel. On drop, every container is removed (`rm -f -v`), the
//! networks are pruned, and nothing of the world may be left on the host.

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
}

impl World {
    /// A world with nothing in it, for the binary at `bin`
    /// (`env!("CARGO_BIN_EXE_mini-docker")`, which only the test crate knows).
    pub fn empty(bin: &str) -> World {
        World {
            root: crate::temp_dir(),
            cgroup_parent: crate::unique("cg"),
            bridge: crate::unique("br"),
            subnet: crate::network::unique_subnet(),
            bin: PathBuf::from(bin),
        }
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
        cmd.arg("--root").arg(self.root.path()).args(args);
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
            .map(|d| d.flatten().filter(|e| e.path().is_dir()).count())
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
        self.clean();
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
