//! Background hooks in the spawn protocol, as root: the child never execs
//! before they are done, a failure stops it, and the child's own failure
//! is the one reported when it came first. One scenario after the other,
//! on the main thread: `Spawn::spawn` must be called with a single thread.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ch01_namespaces::{BackgroundHook, ChildHook, Process, Spawn};

/// A marker file a background hook makes after a pause.
fn late_marker(path: &Path) -> BackgroundHook {
    let path = path.to_path_buf();
    BackgroundHook::new("making the marker", move |_| {
        std::thread::sleep(Duration::from_millis(50));
        std::fs::write(&path, "made")?;
        Ok(())
    })
}

fn spawn_of(script: &str) -> Spawn {
    let env = vec!["PATH=/usr/bin:/bin".to_string()];
    let argv = ["/bin/sh", "-c", script].map(String::from).to_vec();
    Spawn::new(Process { argv, env, cwd: None })
}

fn exec_waits_for_the_background_hooks(dir: &Path) {
    let marker = dir.join("exec-waits");
    let mut spawn = spawn_of(&format!("test -e {}", marker.display()));
    spawn.background_hook(late_marker(&marker));
    let status = spawn.spawn().expect("spawn").wait().expect("wait");
    assert_eq!(status.code(), 0, "the command ran before the background hook was done");
}

fn before_release_means_before_the_child_hooks(dir: &Path) {
    let marker = dir.join("before-release");
    let mut spawn = spawn_of("true");
    spawn.background_hook(late_marker(&marker));
    spawn.background_before_release = true;
    let seen = marker.clone();
    spawn.child_hook(ChildHook::new("looking for the marker", move || {
        anyhow::ensure!(seen.exists(), "the marker is not there yet");
        Ok(())
    }));
    let status = spawn.spawn().expect("the child hook saw the marker").wait().expect("wait");
    assert_eq!(status.code(), 0);
}

fn a_failing_background_hook_stops_the_child(dir: &Path) {
    let ran = dir.join("ran");
    let mut spawn = spawn_of(&format!("touch {}", ran.display()));
    spawn.background_hook(BackgroundHook::new("joining the cgroup", |_| {
        anyhow::bail!("no such cgroup")
    }));
    let Err(error) = spawn.spawn() else { panic!("the spawn must fail") };
    assert_eq!(error.to_string(), "joining the cgroup: no such cgroup");
    assert_eq!(error.exit_code(), 125);
    assert!(!ran.exists(), "the command ran although a background hook failed");
}

fn the_childs_own_failure_comes_first(_dir: &Path) {
    let mut spawn = spawn_of("true");
    spawn.background_hook(BackgroundHook::new("joining the cgroup", |_| {
        std::thread::sleep(Duration::from_millis(50));
        anyhow::bail!("no such process")
    }));
    spawn.child_hook(ChildHook::new("mounting the root", || anyhow::bail!("no such layer")));
    let Err(error) = spawn.spawn() else { panic!("the spawn must fail") };
    assert_eq!(error.to_string(), "mounting the root: no such layer");
}

/// Where cgroup v2 is mounted (`/sys/fs/cgroup`, or `.../unified` on a
/// hybrid host), from /proc/mounts.
fn cgroup2_mount() -> Option<PathBuf> {
    let mounts = std::fs::read_to_string("/proc/mounts").ok()?;
    let line = mounts.lines().find(|line| line.split(' ').nth(2) == Some("cgroup2"))?;
    line.split(' ').nth(1).map(PathBuf::from)
}

fn a_child_cloned_into_a_v2_cgroup_is_born_there(_dir: &Path) {
    let Some(mount) = cgroup2_mount() else {
        testkit::precondition_missing("clone into a cgroup", "no cgroup2 mount");
        return;
    };
    let name = format!("ch01-clone-into-{}", std::process::id());
    let cgroup = mount.join(&name);
    std::fs::create_dir(&cgroup).expect("making a v2 cgroup");
    let dir = std::fs::File::open(&cgroup).expect("opening it");
    let mut spawn = spawn_of(&format!("grep -qx '0::/{name}' /proc/self/cgroup"));
    let moved = Arc::new(AtomicBool::new(false));
    let flag = moved.clone();
    spawn.clone_into_cgroup(
        dir.into(),
        BackgroundHook::new("moving it", move |_| {
            flag.store(true, Ordering::SeqCst);
            Ok(())
        }),
    );
    let status = spawn.spawn().expect("spawn").wait().expect("wait");
    std::fs::remove_dir(&cgroup).expect("removing the cgroup");
    assert_eq!(status.code(), 0, "the child is not in {name}");
    assert!(!moved.load(Ordering::SeqCst), "the move ran although clone3 put it there");
}

/// A test of its own: its name, and what it does in a scratch directory.
type Scenario = (&'static str, fn(&Path));

fn main() {
    if !testkit::require_root("spawn protocol: background hooks") {
        return;
    }
    let dir = tempfile_dir();
    let scenarios: [Scenario; 5] = [
        ("exec_waits_for_the_background_hooks", exec_waits_for_the_background_hooks),
        (
            "before_release_means_before_the_child_hooks",
            before_release_means_before_the_child_hooks,
        ),
        ("a_failing_background_hook_stops_the_child", a_failing_background_hook_stops_the_child),
        ("the_childs_own_failure_comes_first", the_childs_own_failure_comes_first),
        (
            "a_child_cloned_into_a_v2_cgroup_is_born_there",
            a_child_cloned_into_a_v2_cgroup_is_born_there,
        ),
    ];
    for (name, scenario) in scenarios {
        scenario(&dir);
        println!("test {name} ... ok");
    }
    std::fs::remove_dir_all(&dir).expect("removing the scratch directory");
}

/// A scratch directory of this run (no tempfile crate in this chapter).
fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ch01-background-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("making the scratch directory");
    dir
}
