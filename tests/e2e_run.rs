//! Chapter 5 end to end: the container lifecycle, driven through the
//! `mini-docker` binary as a user would, with images made by umoci/skopeo
//! from Debian's busybox-static and served by a real local registry.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

#[test]
fn run_gives_the_commands_exit_code_and_dockers_own() {
    if !require_root("run_gives_the_commands_exit_code_and_dockers_own") {
        return;
    }
    let w = World::new(BIN);
    assert_eq!(ok(&w.md(&["run", "--rm", "busybox", "echo", "hello"])), "hello");
    assert_eq!(w.md(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]).status.code(), Some(3));
    let missing = w.md(&["run", "--rm", "busybox", "no-such-cmd"]);
    assert_eq!(missing.status.code(), Some(127));
    assert_eq!(
        stderr(&missing),
        "mini-docker: exec \"no-such-cmd\": executable file not found in $PATH"
    );
    assert_eq!(w.md(&["run", "--rm", "busybox", "/etc"]).status.code(), Some(126));
    let unknown = w.md(&["run", "--rm", "no-such-image-here:1"]);
    assert_eq!(unknown.status.code(), Some(125));
    assert_eq!(w.containers(), 0, "--rm and failed runs must leave no container");
}

#[test]
fn env_workdir_user_and_hostname() {
    if !require_root("env_workdir_user_and_hostname") {
        return;
    }
    let w = World::new(BIN);
    let env_file = w.root.path().join("env.list");
    std::fs::write(&env_file, "# a comment\nFROM_FILE=yes\n").unwrap();
    let out = ok(&w.md(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "--env-file",
        env_file.to_str().unwrap(),
        "-w",
        "/tmp",
        "-u",
        "nobody",
        "--hostname",
        "box",
        "busybox",
        "sh",
        "-c",
        "echo $A $FROM_FILE; pwd; id -u; id -g; echo $HOME; hostname",
    ]));
    // HOME comes from the image's /etc/passwd: nobody's home there is "/".
    assert_eq!(out.lines().collect::<Vec<_>>(), ["1 yes", "/tmp", "65534", "65534", "/", "box"]);
    let numeric =
        ok(&w.md(&["run", "--rm", "-u", "1234:5678", "busybox", "sh", "-c", "id -u; id -g"]));
    assert_eq!(numeric.lines().collect::<Vec<_>>(), ["1234", "5678"]);
    let bad_user = w.md(&["run", "--rm", "-u", "nosuchuser", "busybox", "true"]);
    assert_eq!(bad_user.status.code(), Some(125));
    assert!(stderr(&bad_user).contains("unable to find user nosuchuser"), "{}", stderr(&bad_user));
    let bad_env = w.md(&["run", "--rm", "-e", "=x", "busybox", "true"]);
    assert_eq!(bad_env.status.code(), Some(125));
    assert_eq!(stderr(&bad_env).lines().count(), 1);
    assert_eq!(w.containers(), 0);
}

#[test]
fn entrypoint_and_cmd_combine_as_dockers() {
    if !require_root("entrypoint_and_cmd_combine_as_dockers") {
        return;
    }
    let w = World::new(BIN);
    // The image's Cmd is ["sh"]: with -c arguments we replace it.
    assert_eq!(ok(&w.md(&["run", "--rm", "busybox", "sh", "-c", "echo replaced"])), "replaced");
    // --entrypoint discards the image's Cmd; arguments follow the entrypoint.
    assert_eq!(ok(&w.md(&["run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"])), "a b");
    assert_eq!(ok(&w.md(&["run", "--rm", "--entrypoint", "echo", "busybox"])), "");
    // No arguments at all: the image's Cmd (sh) runs, reads an empty stdin, exits 0.
    assert_eq!(w.md(&["run", "--rm", "busybox"]).status.code(), Some(0));
}

#[test]
fn detached_logs_stop_and_rm() {
    if !require_root("detached_logs_stop_and_rm") {
        return;
    }
    let w = World::new(BIN);
    let script =
        "trap 'echo bye; exit 0' TERM; echo started; echo oops >&2; while true; do sleep 0.1; done";
    let id = ok(&w.md(&["run", "-d", "--name", "svc", "busybox", "sh", "-c", script]));
    assert_eq!(id.len(), 64);
    wait_for(|| stdout(&w.md(&["logs", "svc"])).contains("started"));
    let ps = ok(&w.md(&["ps"]));
    assert!(ps.contains(&id[..12]) && ps.contains("Up ") && ps.contains("svc"), "{ps}");
    let logs = w.md(&["logs", "svc"]);
    assert_eq!(stdout(&logs), "started");
    assert_eq!(stderr(&logs), "oops");
    let refused = w.md(&["rm", "svc"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(stderr(&refused).contains("container is running"), "{}", stderr(&refused));
    ok(&w.md(&["stop", "-t", "5", "svc"]));
    assert!(stdout(&w.md(&["logs", "svc"])).ends_with("bye"));
    let inspect: serde_json::Value = serde_json::from_str(&ok(&w.md(&["inspect", "svc"]))).unwrap();
    assert_eq!(inspect[0]["State"]["Status"], "exited");
    assert_eq!(inspect[0]["State"]["ExitCode"], 0);
    assert!(ok(&w.md(&["ps", "-a"])).contains("Exited (0)"));
    ok(&w.md(&["rm", "svc"]));
    assert_eq!(w.containers(), 0);
}

#[test]
fn stop_kills_a_command_that_ignores_sigterm() {
    if !require_root("stop_kills_a_command_that_ignores_sigterm") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&["run", "-d", "--name", "stubborn", "busybox", "sleep", "60"]));
    let started = Instant::now();
    ok(&w.md(&["stop", "-t", "1", "stubborn"]));
    assert!(started.elapsed() < Duration::from_secs(20));
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["inspect", "stubborn"]))).unwrap();
    assert_eq!(inspect[0]["State"]["ExitCode"], 137, "PID 1 ignores SIGTERM, so SIGKILL ended it");
}

#[test]
fn two_containers_from_one_image_are_independent() {
    if !require_root("two_containers_from_one_image_are_independent") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "one",
        "busybox",
        "sh",
        "-c",
        "echo mine > /tmp/file; sleep 60",
    ]));
    ok(&w.md(&["run", "-d", "--name", "two", "busybox", "sleep", "60"]));
    wait_for(|| w.md(&["exec", "one", "cat", "/tmp/file"]).status.success());
    assert_eq!(
        w.md(&["exec", "two", "cat", "/tmp/file"]).status.code(),
        Some(1),
        "a write in one container is visible in the other"
    );
    // Each sees only its own processes: one `sleep`, not both.
    assert_eq!(ok(&w.md(&["exec", "one", "sh", "-c", "ps -o comm | grep -c sleep"])), "1");
    ok(&w.md(&["kill", "one"]));
    w.md(&["wait", "one"]);
    let two: serde_json::Value = serde_json::from_str(&ok(&w.md(&["inspect", "two"]))).unwrap();
    assert_eq!(two[0]["State"]["Running"], true, "stopping one stopped the other");
    ok(&w.md(&["rm", "-f", "one", "two"]));
}

#[test]
fn exec_joins_the_running_container() {
    if !require_root("exec_joins_the_running_container") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&["run", "-d", "--name", "target", "--hostname", "inside", "busybox", "sleep", "60"]));
    let out = ok(&w.md(&[
        "exec",
        "-e",
        "X=42",
        "-w",
        "/etc",
        "target",
        "sh",
        "-c",
        "hostname; echo $X; pwd; ps -o pid,comm | grep -c sleep",
    ]));
    assert_eq!(out.lines().collect::<Vec<_>>(), ["inside", "42", "/etc", "1"]);
    assert_eq!(w.md(&["exec", "target", "sh", "-c", "exit 7"]).status.code(), Some(7));
    assert_eq!(w.md(&["exec", "target", "no-such-cmd"]).status.code(), Some(127));
    ok(&w.md(&["stop", "-t", "0", "target"]));
    let stopped = w.md(&["exec", "target", "true"]);
    assert_eq!(stopped.status.code(), Some(1));
    assert!(stderr(&stopped).contains("is not running"), "{}", stderr(&stopped));
    ok(&w.md(&["rm", "target"]));
}

#[test]
fn restart_keeps_the_writable_layer() {
    if !require_root("restart_keeps_the_writable_layer") {
        return;
    }
    let w = World::new(BIN);
    let count = "echo x >> /count; wc -l < /count";
    assert_eq!(ok(&w.md(&["run", "--name", "keeper", "busybox", "sh", "-c", count])), "1");
    assert_eq!(ok(&w.md(&["start", "-a", "keeper"])), "2");
    ok(&w.md(&["restart", "keeper"]));
    assert_eq!(ok(&w.md(&["wait", "keeper"])), "0");
    assert_eq!(ok(&w.md(&["start", "-a", "keeper"])), "4");
    assert_eq!(ok(&w.md(&["logs", "keeper"])).lines().collect::<Vec<_>>(), ["1", "2", "3", "4"]);
    ok(&w.md(&["rm", "keeper"]));
}

#[test]
fn a_supervisor_killed_with_sigkill_is_repaired_by_the_next_command() {
    if !require_root("a_supervisor_killed_with_sigkill_is_repaired_by_the_next_command") {
        return;
    }
    let w = World::new(BIN);
    let id = ok(&w.md(&["run", "-d", "--name", "orphan", "busybox", "sleep", "60"]));
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.root.path().join("containers").join(&id).join("state.json")).unwrap(),
    )
    .unwrap();
    let supervisor = state["supervisor_pid"].as_i64().unwrap() as i32;
    let container = state["pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for(|| !Path::new(&format!("/proc/{container}")).exists());
    let ps = ok(&w.md(&["ps", "-a"]));
    assert!(ps.contains("Exited (137)"), "not repaired: {ps}");
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["inspect", "orphan"]))).unwrap();
    assert!(inspect[0]["State"]["Error"].as_str().unwrap().contains("supervisor died"));
    ok(&w.md(&["rm", "orphan"]));
}

#[test]
fn a_detached_container_is_supervised_by_the_small_shim() {
    if !require_root("a_detached_container_is_supervised_by_the_small_shim") {
        return;
    }
    let w = World::new(BIN);
    let script = "echo out; echo err >&2; exec sleep 60";
    let id = ok(&w.md(&["run", "-d", "--name", "small", "busybox", "sh", "-c", script]));
    let path = w.root.path().join("containers").join(&id).join("state.json");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let (supervisor, container) = (state["supervisor_pid"].as_i64().unwrap(), state["pid"].clone());
    let exe = std::fs::read_link(format!("/proc/{supervisor}/exe")).unwrap();
    assert!(exe.ends_with("mini-docker-shim"), "the supervisor runs {}", exe.display());
    let stat = std::fs::read_to_string(format!("/proc/{container}/stat")).unwrap();
    let parent = stat.rsplit(") ").next().unwrap().split(' ').nth(1).unwrap();
    assert_eq!(parent, supervisor.to_string(), "the shim is still the container's parent");
    wait_for(|| ok(&w.md(&["logs", "small"])).contains("out"));
    let logs = w.md(&["logs", "small"]);
    assert_eq!((stdout(&logs).trim(), stderr(&logs).trim()), ("out", "err"));
    // The exit command records the exit as the supervisor would have.
    ok(&w.md(&["kill", "small"]));
    assert_eq!(ok(&w.md(&["wait", "small"])), "137");
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["inspect", "small"]))).unwrap();
    assert_eq!(inspect[0]["State"]["ExitCode"], 137);
    assert_eq!(inspect[0]["State"]["Error"], "", "{}", inspect[0]["State"]);
    wait_for(|| !Path::new(&format!("/proc/{supervisor}")).exists());
    ok(&w.md(&["rm", "small"]));
}

#[test]
fn interactive_tty_through_a_real_pty() {
    if !require_root("interactive_tty_through_a_real_pty") {
        return;
    }
    let w = World::new(BIN);
    let pty = nix::pty::openpty(None, None).unwrap();
    let slave = pty.slave.as_raw_fd();
    let mut cmd = w.cmd(&["run", "-it", "--rm", "busybox", "sh"]);
    cmd.stdin(Stdio::from(pty.slave.try_clone().unwrap()));
    cmd.stdout(Stdio::from(pty.slave.try_clone().unwrap()));
    cmd.stderr(Stdio::from(pty.slave.try_clone().unwrap()));
    // SAFETY: setsid and TIOCSCTTY between fork and exec, as a terminal emulator does.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(slave, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // Every copy of the slave must be closed here, or the master never
    // reports end of file: `cmd` holds three of them.
    drop(cmd);
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    master.write_all(b"tty; echo sum-$((40+2))\n").unwrap();
    master.write_all(b"exit 5\n").unwrap();
    let mut seen = Vec::new();
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = master.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
        }
        seen
    });
    let status = wait_child(&mut child, Duration::from_secs(30));
    let seen = String::from_utf8_lossy(&reader.join().unwrap()).to_string();
    assert_eq!(status, Some(5), "output: {seen}");
    assert!(seen.contains("sum-42"), "{seen}");
    assert!(seen.contains("/dev/pts/0"), "the container's stdin is not a terminal: {seen}");
}

#[test]
fn fifty_run_rm_cycles_leave_nothing_behind() {
    if !require_root("fifty_run_rm_cycles_leave_nothing_behind") {
        return;
    }
    let w = World::new(BIN);
    for i in 0..50 {
        let args: &[&str] = match i % 5 {
            0 => &["run", "--rm", "busybox", "true"],
            1 => &["run", "--rm", "busybox", "no-such-command"],
            2 => &["run", "--rm", "-m", "12x", "busybox", "true"],
            3 => &["run", "--name", "cycle", "busybox", "sh", "-c", "exit 2"],
            _ => &["rm", "cycle"],
        };
        w.md(args);
    }
    assert_eq!(w.containers(), 0);
    // World's drop checks mounts, cgroups and processes.
}

#[test]
fn bad_input_is_one_line_and_the_right_code() {
    if !require_root("bad_input_is_one_line_and_the_right_code") {
        return;
    }
    let w = World::new(BIN);
    let cases: &[(&[&str], i32, &str)] = &[
        (&["rm", "nothing-here"], 1, "No such container: nothing-here"),
        (&["stop", "nothing-here"], 1, "No such container: nothing-here"),
        (&["logs", "nothing-here"], 1, "No such container: nothing-here"),
        (&["exec", "nothing-here", "true"], 1, "No such container: nothing-here"),
        (&["run", "--rm", "-m", "12x", "busybox", "true"], 125, "invalid size \"12x\""),
        (&["run", "--rm", "--cpus", "0", "busybox", "true"], 125, "--cpus"),
        (&["run", "--rm", "--name", "a b", "busybox", "true"], 125, "invalid container name"),
        (&["run", "--rm", "-w", "relative", "busybox", "true"], 125, "must be an absolute path"),
        (&["kill", "-s", "NOPE", "x"], 1, "invalid signal: NOPE"),
    ];
    for (args, code, message) in cases {
        let out = w.md(args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
    assert_eq!(w.containers(), 0);
}

#[test]
fn run_pulls_a_missing_image_from_a_registry() {
    if !require_root("run_pulls_a_missing_image_from_a_registry")
        || !testkit::registry::available("run_pulls_a_missing_image_from_a_registry")
    {
        return;
    }
    let registry = testkit::registry::Registry::start();
    testkit::images::push(&registry, "busybox", "library/busybox");
    let w = World::empty(BIN);
    let image = format!("{}/library/busybox", registry.host());
    let out = w.md(&["run", "--rm", &image, "echo", "pulled and ran"]);
    assert_eq!(ok(&out), "pulled and ran");
    assert!(stderr(&out).contains("Unable to find image"), "{}", stderr(&out));
    let again = w.md(&["run", "--rm", &image, "true"]);
    assert!(!stderr(&again).contains("Unable to find image"), "the second run pulled again");
}

fn wait_for(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn wait_child(child: &mut std::process::Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn options_end_at_the_image_as_in_docker() {
    if !require_root("options_end_at_the_image_as_in_docker") {
        return;
    }
    let w = World::new(BIN);
    let run = |args: &[&str]| ok(&w.md(&[&["run", "--rm", "--network", "none"], args].concat()));
    // `-c` after the image is sh's, not --cpu-shares; `-e`, `-m`, `--` are the command's.
    assert_eq!(run(&["--entrypoint", "sh", "busybox", "-c", "echo hi"]), "hi");
    assert_eq!(
        run(&["busybox", "echo", "X", "-e", "A=1", "-m", "4m", "--", "-c"]),
        "X -e A=1 -m 4m -- -c"
    );
    assert_eq!(run(&["-e", "A=1", "-m", "64m", "busybox", "sh", "-c", "echo $A"]), "1");
    assert_eq!(run(&["--", "busybox", "echo", "after", "--"]), "after --");
    let id = ok(&w.md(&[
        "create",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "echo created; sleep 100",
    ]));
    ok(&w.md(&["start", &id]));
    assert_eq!(ok(&w.md(&["exec", &id, "echo", "X", "-e", "-i", "-t", "--"])), "X -e -i -t --");
    assert_eq!(ok(&w.md(&["exec", "-e", "B=2", &id, "sh", "-c", "echo $B"])), "2");
    let bogus = w.md(&["run", "--bogus", "busybox"]);
    assert!(stderr(&bogus).contains("unexpected argument '--bogus'"), "{}", stderr(&bogus));
    ok(&w.md(&["rm", "-f", &id]));
}

#[test]
fn ps_filters_and_go_templates_as_docker() {
    if !require_root("ps_filters_and_go_templates_as_docker") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&["run", "-d", "--name", "web", "--label", "tier=front", "busybox", "sleep", "60"]));
    ok(&w.md(&["run", "--name", "job", "--label", "tier=back", "busybox", "true"]));
    let names =
        |args: &[&str]| ok(&w.md(&[&["ps", "-a", "--format", "{{.Names}}"], args].concat()));
    assert_eq!(names(&["--filter", "name=web"]), "web");
    assert_eq!(names(&["--filter", "status=exited"]), "job");
    assert_eq!(names(&["--filter", "exited=0"]), "job");
    assert_eq!(names(&["--filter", "label=tier=back"]), "job");
    assert_eq!(names(&["--filter", "ancestor=busybox", "--filter", "status=running"]), "web");
    let table = ok(&w.md(&["ps", "--format", r"table {{.Names}}\t{{.State}}\t{{.Labels}}"]));
    assert_eq!(table, "NAMES     STATE     LABELS\nweb       running   tier=front", "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["ps", "--format", "json"]))).unwrap();
    assert_eq!(json["Names"], "web");
    assert_eq!(json["Command"], "\"sleep 60\"");
    let default = ok(&w.md(&["ps", "-a"]));
    let header = default.lines().next().unwrap();
    assert!(header.starts_with("CONTAINER ID   IMAGE     COMMAND "), "{default}");
    assert!(header.ends_with("PORTS     NAMES"), "{default}");
    for (args, message) in [
        (["ps", "--format", "{{.Names"], "template parsing error"),
        (["ps", "--filter", "name"], "bad format of filter"),
        (["ps", "--filter", "colour=red"], "invalid filter 'colour'"),
        (["ps", "--filter", "status=sleeping"], "invalid filter 'status=sleeping'"),
    ] {
        let out = w.md(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn explain_through_a_daemon_narrates_each_request_and_the_daemons_steps() {
    if !require_root("explain_through_a_daemon_narrates_each_request_and_the_daemons_steps") {
        return;
    }
    let w = World::new(BIN);
    let out = w.md(&["--explain", "run", "--rm", "--network", "none", "busybox", "echo", "hi"]);
    assert_eq!(stdout(&out), "hi");
    let narration = stderr(&out);
    let clone = narration.find("syscall: clone(").expect("the spawn is narrated");
    assert!(narration.contains("detach the old root"), "{narration}");
    if w.through_daemon() {
        let create = "[explain] ask the daemon: POST /v1.47/containers/create → 201 Created";
        assert!(narration.contains(create), "{narration}");
        assert!(narration.contains("shell:   curl --unix-socket "), "{narration}");
        let start = narration.find("/start → 204 No Content").expect("the start is narrated");
        assert!(start < clone, "the daemon's steps come back with the start: {narration}");
    } else {
        assert!(!narration.contains("ask the daemon"), "{narration}");
    }
}
