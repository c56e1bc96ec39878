//! Chapter 2 through the final binary: limits, the OOM killer and removal
//! of the cgroup, with a real image. `scripts/vm/cgroup-tests.sh` runs these
//! on pure cgroup v2 and pure v1 kernels too, and there also the ignored
//! tests, on a layout it took a controller away from.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use testkit::world::{ok, World};
use testkit::{require_root, run, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

fn inspect(w: &World, name: &str) -> Value {
    let text = ok(&w.md(&["inspect", name]));
    serde_json::from_str::<Value>(&text).unwrap()[0].clone()
}

#[test]
fn an_oom_killed_container_exits_137_and_inspect_says_oomkilled() {
    if !require_root("an_oom_killed_container_exits_137_and_inspect_says_oomkilled") {
        return;
    }
    let w = World::new(BIN);
    // dd reads 192 MiB into one buffer, three times the limit.
    let hog = ["busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=192M", "count=1"];
    let mut args = vec!["run", "--name", "hog", "--network", "none", "-m", "64m", "busybox"];
    args.extend(hog);
    let out = w.md(&args);
    assert_eq!(out.status.code(), Some(137), "{}\n{}", stdout(&out), stderr(&out));
    let state = &inspect(&w, "hog")["State"];
    assert_eq!((state["OOMKilled"].as_bool(), state["ExitCode"].as_i64()), (Some(true), Some(137)));
    ok(&w.md(&["rm", "hog"]));
}

#[test]
fn a_fork_loop_stops_at_the_pids_limit_and_the_container_goes_on() {
    if !require_root("a_fork_loop_stops_at_the_pids_limit_and_the_container_goes_on") {
        return;
    }
    let w = World::new(BIN);
    let script = "busybox sh -c 'i=0; while [ $i -lt 100 ]; do sleep 1 & i=$((i+1)); done; wait'; \
                  echo the container goes on";
    let out = w.md(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).ends_with("the container goes on"), "{}", stdout(&out));
    assert!(stderr(&out).contains("can't fork"), "{}", stderr(&out));
}

#[test]
fn limits_are_written_and_rm_removes_the_cgroup() {
    if !require_root("limits_are_written_and_rm_removes_the_cgroup") {
        return;
    }
    let w = World::new(BIN);
    let flags = ["--network", "none", "-m", "64m", "--cpus", "0.5", "--pids-limit", "20"];
    let mut args = vec!["run", "-d", "--name", "web"];
    args.extend(flags);
    args.extend(["busybox", "sleep", "60"]);
    ok(&w.md(&args));
    let paths: Vec<PathBuf> = inspect(&w, "web")["CgroupPaths"]
        .as_array()
        .expect("CgroupPaths in inspect")
        .iter()
        .map(|p| PathBuf::from(p.as_str().unwrap()))
        .collect();
    let value = |file: &str| {
        let found = paths.iter().map(|p| p.join(file)).find(|f| f.exists());
        found.and_then(|f| std::fs::read_to_string(f).ok()).unwrap_or_default().trim().to_string()
    };
    let written = if ch02_cgroups::detect().unwrap().uses_v2() {
        [value("memory.max"), value("cpu.max"), value("pids.max")]
    } else {
        [value("memory.limit_in_bytes"), value("cpu.cfs_quota_us"), value("pids.max")]
    };
    ok(&w.md(&["rm", "-f", "web"]));
    let left: Vec<&PathBuf> = paths.iter().filter(|p| p.exists()).collect();
    let quota = if ch02_cgroups::detect().unwrap().uses_v2() { "50000 100000" } else { "50000" };
    assert_eq!(written, ["67108864", quota, "20"]);
    assert!(left.is_empty(), "rm -f left {left:?}");
}

#[test]
#[ignore = "needs a host without the pids controller: the test VM makes one (scripts/vm)"]
fn without_the_pids_controller_pids_limit_is_one_line_and_the_rest_runs() {
    let layout = ch02_cgroups::detect().unwrap();
    assert!(
        ch02_cgroups::require(&layout, "pids", "--pids-limit").is_err(),
        "this host has the pids controller: this test runs in the VM (scripts/vm/cgroup-tests.sh)"
    );
    let w = World::new(BIN);
    let refused =
        w.md(&["run", "--rm", "--network", "none", "--pids-limit", "20", "busybox", "true"]);
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(125), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.starts_with("mini-docker: cgroup v"), "{text}");
    assert!(
        text.contains("pids controller not") && text.contains("--pids-limit needs it"),
        "{text}"
    );
    assert_eq!(w.containers(), 0, "a refused run left a container");
    let out = w.md(&["run", "--rm", "--network", "none", "-m", "64m", "busybox", "echo", "ran"]);
    assert_eq!(ok(&out), "ran");
    let pids = doctor_line("--pids-limit: ");
    assert!(pids.starts_with("warn ") && pids.contains(" -- "), "{pids}");
    assert!(
        text.ends_with(pids.split(" -- ").nth(1).unwrap()),
        "doctor and run disagree:\n{pids}\n{text}"
    );
}

#[test]
#[ignore = "needs a cgroup v1 host without the freezer: the test VM makes one (scripts/vm)"]
fn without_the_v1_freezer_pause_is_one_line_and_the_container_runs_on() {
    let layout = ch02_cgroups::detect().unwrap();
    assert!(
        !layout.uses_v2() && layout.v1_root("freezer").is_none(),
        "this host has a v1 freezer or is v2: this test runs in the VM (scripts/vm/cgroup-tests.sh)"
    );
    let w = World::new(BIN);
    ok(&w.md(&["run", "-d", "--name", "web", "--network", "none", "busybox", "sleep", "60"]));
    let refused = w.md(&["pause", "web"]);
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(1), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("freezer controller not") && text.contains("pause needs it"), "{text}");
    assert!(text.contains("mount -t cgroup -o freezer cgroup /sys/fs/cgroup/freezer"), "{text}");
    assert_eq!(inspect(&w, "web")["State"]["Status"], "running");
}

/// The line of `mini-docker doctor` that contains `what`.
fn doctor_line(what: &str) -> String {
    let out = run(Command::new(BIN).arg("doctor"));
    assert!(out.status.success(), "doctor found something essential missing:\n{}", stdout(&out));
    let text = stdout(&out);
    let line = text.lines().find(|l| l.contains(what));
    line.unwrap_or_else(|| panic!("no {what:?} in:\n{text}")).to_string()
}

#[test]
fn doctor_names_the_layout_and_what_each_feature_needs_there() {
    if !require_root("doctor_names_the_layout_and_what_each_feature_needs_there") {
        return;
    }
    let layout = ch02_cgroups::detect().unwrap();
    let v2 = layout.uses_v2();
    let kind = match layout.kind() {
        ch02_cgroups::Kind::Unified => "cgroups v2 (unified): ",
        ch02_cgroups::Kind::Hybrid => "cgroups hybrid: ",
        _ => "cgroups v1: ",
    };
    assert!(doctor_line(kind).starts_with("ok "));
    let expected = [
        ("-m/--memory: ", if v2 { "(memory.max)" } else { "(memory.limit_in_bytes)" }),
        ("--pids-limit: ", "(pids.max)"),
        ("pause/unpause: ", if v2 { "cgroup.freeze" } else { "(freezer.state)" }),
        (
            "/sys/fs/cgroup in a container: ",
            if v2 { "a private cgroup namespace" } else { "the host's cgroup namespace" },
        ),
        ("device rules: ", if v2 { "eBPF" } else { "(devices.deny, devices.allow)" }),
    ];
    for (feature, needs) in expected {
        let line = doctor_line(feature);
        assert!(line.contains(needs), "{line}");
    }
    // Each verdict follows what the host has: here, a pids controller.
    let pids_ready = ch02_cgroups::require(&layout, "pids", "--pids-limit").is_ok();
    assert_eq!(doctor_line("--pids-limit: ").starts_with("ok "), pids_ready);
    assert_eq!(doctor_line("device rules: ").starts_with("warn "), v2);
}

/// The files of the `-m`, `--pids-limit` and `--cpus` limits as the
/// container sees them at `/sys/fs/cgroup`, on this host's layout (in the
/// view Docker's default namespace mode gives).
fn limit_files_inside() -> [&'static str; 3] {
    if ch02_cgroups::detect().unwrap().uses_v2() {
        ["memory.max", "pids.max", "cpu.max"]
    } else {
        ["memory/memory.limit_in_bytes", "pids/pids.max", "cpu/cpu.cfs_quota_us"]
    }
}

fn cgroupns_default() -> &'static str {
    if ch02_cgroups::detect().unwrap().uses_v2() {
        "private"
    } else {
        "host"
    }
}

/// Run `script` in a container with the three limits, and `extra` flags.
fn run_limited(w: &World, extra: &[&str], script: &str) -> std::process::Output {
    let mut args = vec!["run", "--rm", "--network", "none", "-m", "64m", "--pids-limit", "20"];
    args.extend(["--cpus", "0.5"]);
    args.extend(extra);
    args.extend(["busybox", "sh", "-c", script]);
    w.md(&args)
}

#[test]
fn the_container_sees_its_own_limits_read_only_at_sys_fs_cgroup() {
    if !require_root("the_container_sees_its_own_limits_read_only_at_sys_fs_cgroup") {
        return;
    }
    let w = World::new(BIN);
    let [memory, pids, cpu] = limit_files_inside();
    let script = format!(
        "cd /sys/fs/cgroup && cat {memory} {pids} {cpu} && \
         if echo 1 > {pids}; then echo WRITTEN; fi; cat {pids}"
    );
    let out = run_limited(&w, &[], &script);
    let text = ok(&out);
    let quota = if cpu == "cpu.max" { "50000 100000" } else { "50000" };
    assert_eq!(text.lines().collect::<Vec<_>>(), ["67108864", "20", quota, "20"], "{text}");
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));
    let created = ok(&w.md(&["create", "--name", "viewed", "busybox", "true"]));
    let mode = &inspect(&w, created.trim())["HostConfig"]["CgroupnsMode"];
    assert_eq!(mode.as_str(), Some(cgroupns_default()));
}

#[test]
fn privileged_makes_the_view_writable() {
    if !require_root("privileged_makes_the_view_writable") {
        return;
    }
    let w = World::new(BIN);
    let pids = limit_files_inside()[1];
    let script = format!("echo 30 > /sys/fs/cgroup/{pids} && cat /sys/fs/cgroup/{pids}");
    let out = run_limited(&w, &["--privileged"], &script);
    assert_eq!(ok(&out), "30", "{}", stderr(&out));
}

/// `/proc/self/cgroup` of a new container in `mode`, and of a process
/// `exec` started in a running one.
fn proc_self_cgroup(w: &World, mode: &str) -> (String, String) {
    let flags = ["--network", "none", "--cgroupns", mode, "busybox"];
    let mut run = vec!["run", "--rm"];
    run.extend(flags);
    run.extend(["cat", "/proc/self/cgroup"]);
    let ran = ok(&w.md(&run));
    let name = format!("exec-{mode}");
    let mut detached = vec!["run", "-d", "--name", &name];
    detached.extend(flags);
    detached.extend(["sleep", "60"]);
    ok(&w.md(&detached));
    let execd = ok(&w.md(&["exec", &name, "cat", "/proc/self/cgroup"]));
    ok(&w.md(&["rm", "-f", &name]));
    (ran, execd)
}

#[test]
fn cgroupns_private_roots_every_path_at_the_container_and_exec_joins_it() {
    if !require_root("cgroupns_private_roots_every_path_at_the_container_and_exec_joins_it") {
        return;
    }
    let w = World::new(BIN);
    let (ran, execd) = proc_self_cgroup(&w, "private");
    // Every hierarchy's line ends in `:/`: the container's cgroup is the root.
    assert!(ran.lines().all(|l| l.ends_with(":/")), "{ran}");
    assert_eq!(execd, ran, "exec is not in the container's cgroup namespace");
    let script = format!("cat /sys/fs/cgroup/{}", limit_files_inside()[0]);
    assert_eq!(ok(&run_limited(&w, &["--cgroupns", "private"], &script)), "67108864");
}

#[test]
fn cgroupns_host_shows_the_hosts_cgroup_paths() {
    if !require_root("cgroupns_host_shows_the_hosts_cgroup_paths") {
        return;
    }
    let w = World::new(BIN);
    let (ran, execd) = proc_self_cgroup(&w, "host");
    let parent = format!("/{}/", w.cgroup_parent);
    assert!(ran.lines().any(|l| l.contains(&parent)), "no {parent} in\n{ran}");
    assert!(execd.lines().any(|l| l.contains(&parent)), "no {parent} in\n{execd}");
    let created = ok(&w.md(&["create", "--cgroupns", "host", "busybox", "true"]));
    let mode = &inspect(&w, created.trim())["HostConfig"]["CgroupnsMode"];
    assert_eq!(mode.as_str(), Some("host"));
}

#[test]
fn a_bad_cgroupns_mode_is_dockers_one_line() {
    if !require_root("a_bad_cgroupns_mode_is_dockers_one_line") {
        return;
    }
    let w = World::new(BIN);
    let out = w.md(&["run", "--rm", "--cgroupns", "shared", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out), "mini-docker: --cgroupns: invalid CGROUP mode");
    assert_eq!(w.containers(), 0);
}

/// How many lines a container's log holds (its counter's last value).
fn log_lines(w: &World, name: &str) -> usize {
    stdout(&w.md(&["logs", name])).lines().count()
}

/// A container that prints a growing counter ten times a second.
fn start_counter(w: &World, name: &str) {
    let count = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done";
    ok(&w.md(&["run", "-d", "--name", name, "--network", "none", "busybox", "sh", "-c", count]));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while log_lines(w, name) < 2 {
        assert!(std::time::Instant::now() < deadline, "the counter never counted");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn pause_stops_every_process_and_unpause_lets_them_go_on() {
    if !require_root("pause_stops_every_process_and_unpause_lets_them_go_on") {
        return;
    }
    let w = World::new(BIN);
    start_counter(&w, "counter");
    assert_eq!(ok(&w.md(&["pause", "counter"])), "counter");
    let frozen_at = log_lines(&w, "counter");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let still = log_lines(&w, "counter");
    let listed = ok(&w.md(&["ps", "--filter", "name=counter"]));
    let by_status = ok(&w.md(&["ps", "--filter", "status=paused", "--format", "{{.Names}}"]));
    let state = inspect(&w, "counter")["State"].clone();
    assert_eq!(ok(&w.md(&["unpause", "counter"])), "counter");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let thawed = log_lines(&w, "counter");
    assert_eq!(frozen_at, still, "the counter went on while paused");
    assert!(thawed > still + 3, "the counter did not go on after unpause: {still} then {thawed}");
    assert!(listed.contains("(Paused)"), "{listed}");
    assert_eq!(by_status, "counter");
    let fields = (&state["Status"], &state["Running"], &state["Paused"]);
    assert_eq!(fields, (&json!("paused"), &json!(true), &json!(true)), "{state}");
    let after = inspect(&w, "counter")["State"].clone();
    assert_eq!((&after["Status"], &after["Paused"]), (&json!("running"), &json!(false)));
}

#[test]
fn a_paused_container_refuses_exec_and_start_and_stop_kill_rm_still_work() {
    if !require_root("a_paused_container_refuses_exec_and_start_and_stop_kill_rm_still_work") {
        return;
    }
    let w = World::new(BIN);
    let sleeper = |name: &str| {
        let args = ["run", "-d", "--name", name, "--network", "none", "busybox", "sleep", "600"];
        let id = ok(&w.md(&args));
        ok(&w.md(&["pause", name]));
        id
    };
    let id = sleeper("frozen");
    let refused = |args: &[&str], message: &str| {
        let out = w.md(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("mini-docker: {message}"), "{args:?}");
    };
    refused(&["pause", "frozen"], &format!("Container {id} is already paused"));
    refused(
        &["exec", "frozen", "true"],
        &format!("Container {id} is paused, unpause the container before exec"),
    );
    refused(&["start", "frozen"], "cannot start a paused container, try unpause instead");
    // stop: SIGTERM, which the thaw delivers (sleep as PID 1 ignores it), then SIGKILL.
    ok(&w.md(&["stop", "-t", "1", "frozen"]));
    let state = inspect(&w, "frozen")["State"].clone();
    assert_eq!((&state["Status"], &state["Paused"]), (&json!("exited"), &json!(false)), "{state}");
    refused(&["unpause", "frozen"], &format!("Container {id} is not paused"));
    refused(&["pause", "frozen"], &format!("Container {id} is not running"));
    sleeper("killed");
    ok(&w.md(&["kill", "killed"]));
    assert_eq!(ok(&w.md(&["wait", "killed"])), "137");
    sleeper("removed");
    assert_eq!(ok(&w.md(&["rm", "-f", "removed"])), "removed");
    assert_eq!(w.containers(), 2);
}

/// `docker` (the real CLI) against this world's daemon.
fn docker(w: &World, args: &[&str]) -> std::process::Output {
    let socket = w.socket().expect("a world with its own daemon");
    let mut command = Command::new("docker");
    command.arg("-H").arg(format!("unix://{}", socket.display())).args(args);
    run(command.env_remove("DOCKER_HOST"))
}

#[test]
fn the_docker_cli_pauses_and_unpauses_through_mini_dockerd() {
    if !require_root("the_docker_cli_pauses_and_unpauses_through_mini_dockerd")
        || !testkit::require_program(
            "the_docker_cli_pauses_and_unpauses_through_mini_dockerd",
            "docker",
            "docker.io",
        )
    {
        return;
    }
    let w = World::with_daemon(BIN);
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let id = ok(&docker(
        &w,
        &["run", "-d", "--name", "dp", "--network", "none", "busybox", "sleep", "60"],
    ));
    assert_eq!(ok(&docker(&w, &["pause", "dp"])), "dp");
    let status = ok(&docker(&w, &["ps", "--format", "{{.Status}}", "--filter", "name=dp"]));
    let state = ok(&docker(
        &w,
        &[
            "inspect",
            "-f",
            "{{.State.Status}} {{.State.Paused}} {{.HostConfig.CgroupnsMode}}",
            "dp",
        ],
    ));
    let again = docker(&w, &["pause", "dp"]);
    assert_eq!(ok(&docker(&w, &["unpause", "dp"])), "dp");
    assert!(status.starts_with("Up ") && status.ends_with(" (Paused)"), "{status}");
    assert_eq!(state, format!("paused true {}", cgroupns_default()));
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(
        stderr(&again),
        format!("Error response from daemon: Container {id} is already paused")
    );
    let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let window = [since.as_secs().to_string(), (until.as_secs() + 1).to_string()];
    let events = ok(&docker(
        &w,
        &[
            "events",
            "--since",
            &window[0],
            "--until",
            &window[1],
            "--filter",
            "container=dp",
            "--format",
            "{{.Action}}",
        ],
    ));
    let actions: Vec<&str> = events.lines().filter(|a| a.ends_with("pause")).collect();
    assert_eq!(actions, ["pause", "unpause"], "{events}");
    ok(&docker(&w, &["rm", "-f", "dp"]));
}

#[test]
fn commit_pauses_a_running_container_and_leaves_a_paused_one_paused() {
    if !require_root("commit_pauses_a_running_container_and_leaves_a_paused_one_paused") {
        return;
    }
    let w = World::new(BIN);
    start_counter(&w, "committed");
    ok(&w.md(&["commit", "committed", "mdtest/frozen:1"]));
    let running = inspect(&w, "committed")["State"].clone();
    assert_eq!((&running["Status"], &running["Paused"]), (&json!("running"), &json!(false)));
    ok(&w.md(&["pause", "committed"]));
    ok(&w.md(&["commit", "committed", "mdtest/frozen:2"]));
    assert_eq!(inspect(&w, "committed")["State"]["Status"], "paused");
    ok(&w.md(&["rm", "-f", "committed"]));
    ok(&w.md(&["rmi", "mdtest/frozen:1", "mdtest/frozen:2"]));
}
