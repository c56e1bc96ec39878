//! Chapter 9 end to end: what needs a long-lived process — restart
//! policies, health checks, live restore — and the verbs that look after
//! running containers (top, stats, port, rename, update, cp, prune,
//! events), in both modes. Without a daemon, nothing restarts or probes,
//! as with Docker, where the daemon is what does.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

fn inspect(w: &World, name: &str) -> Value {
    let out = ok(&w.md(&["inspect", name]));
    serde_json::from_str::<Value>(&out).expect("inspect prints JSON")[0].clone()
}

/// Wait up to `secs` for `check` to hold on the container's inspect.
fn eventually(
    w: &World,
    name: &str,
    secs: u64,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let described = inspect(w, name);
        if check(&described) {
            return described;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: never happened; last State: {}, RestartCount {}",
            described["State"],
            described["RestartCount"]
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn restart_policies_are_acted_on_by_the_daemon_only() {
    if !require_root("restart_policies_are_acted_on_by_the_daemon_only") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "flaky",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "exit 3",
    ]));
    let policy = &inspect(&w, "flaky")["HostConfig"]["RestartPolicy"];
    assert_eq!(
        (policy["Name"].as_str(), policy["MaximumRetryCount"].as_i64()),
        (Some("on-failure"), Some(2))
    );
    if w.through_daemon() {
        let done = eventually(&w, "flaky", 20, "two restarts, then rest", |d| {
            d["RestartCount"] == 2
                && d["State"]["Status"] == "exited"
                && d["State"]["Restarting"] == false
        });
        assert_eq!(done["State"]["ExitCode"], 3);
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(inspect(&w, "flaky")["RestartCount"], 2, "on-failure:2 restarts twice only");
    } else {
        assert_eq!(ok(&w.md(&["wait", "flaky"])), "3");
        std::thread::sleep(Duration::from_millis(800));
        let d = inspect(&w, "flaky");
        assert_eq!(
            (d["RestartCount"].as_i64(), d["State"]["Status"].as_str()),
            (Some(0), Some("exited")),
            "without a daemon nothing restarts"
        );
    }

    // `always` restarts even a clean exit; `stop` ends that, as in Docker.
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "again",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "sleep 0.3",
    ]));
    if w.through_daemon() {
        eventually(&w, "again", 20, "always restarts", |d| d["RestartCount"].as_i64() >= Some(1));
        ok(&w.md(&["stop", "-t", "1", "again"]));
        let count = eventually(&w, "again", 10, "stopped", |d| d["State"]["Status"] == "exited")
            ["RestartCount"]
            .clone();
        std::thread::sleep(Duration::from_millis(1500));
        let d = inspect(&w, "again");
        assert_eq!(
            (d["RestartCount"].clone(), d["State"]["Status"].as_str()),
            (count, Some("exited")),
            "stop disables the policy"
        );
        // `kill` does not: an unless-stopped container comes back.
        ok(&w.md(&[
            "run",
            "-d",
            "--name",
            "killed",
            "--restart",
            "unless-stopped",
            "busybox",
            "sleep",
            "100",
        ]));
        ok(&w.md(&["kill", "killed"]));
        eventually(&w, "killed", 20, "unless-stopped restarts after kill", |d| {
            d["RestartCount"] == 1 && d["State"]["Running"] == true
        });
        // A start by hand begins the count again, as dockerd's.
        ok(&w.md(&["stop", "-t", "1", "killed"]));
        assert_eq!(inspect(&w, "killed")["RestartCount"], 1, "stop keeps the count");
        ok(&w.md(&["start", "killed"]));
        assert_eq!(inspect(&w, "killed")["RestartCount"], 0, "a manual start resets RestartCount");
    }

    // Docker's errors.
    let bad = w.md(&["run", "-d", "--restart", "sometimes", "busybox", "true"]);
    assert_eq!(bad.status.code(), Some(125));
    assert!(stderr(&bad).contains("invalid restart policy 'sometimes'"), "{}", stderr(&bad));
    let both = w.md(&["run", "--rm", "--restart", "always", "busybox", "true"]);
    assert_eq!(both.status.code(), Some(125));
    assert!(stderr(&both).contains("AutoRemove"), "{}", stderr(&both));
}

#[test]
fn health_checks_run_in_the_container_through_the_daemon() {
    if !require_root("health_checks_run_in_the_container_through_the_daemon") {
        return;
    }
    let w = World::new(BIN);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "probed",
        "--health-cmd",
        "test -e /tmp/ok",
        "--health-interval",
        "300ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "sleep 1; touch /tmp/ok; sleep 100",
    ]));
    let config = inspect(&w, "probed")["Config"]["Healthcheck"].clone();
    assert_eq!(config["Test"], serde_json::json!(["CMD-SHELL", "test -e /tmp/ok"]));
    assert_eq!(config["Interval"], 300_000_000);
    if !w.through_daemon() {
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(inspect(&w, "probed")["State"]["Health"], Value::Null, "no daemon, no probes");
        assert!(!ok(&w.md(&["ps"])).contains("health"));
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while !ok(&w.md(&["ps"])).contains("(health: starting)") {
        assert!(Instant::now() < deadline, "never (health: starting): {}", ok(&w.md(&["ps"])));
        std::thread::sleep(Duration::from_millis(50));
    }
    let healthy =
        eventually(&w, "probed", 20, "healthy", |d| d["State"]["Health"]["Status"] == "healthy");
    let log = healthy["State"]["Health"]["Log"].as_array().unwrap().clone();
    assert_eq!(log.last().unwrap()["ExitCode"], 0);
    assert!(ok(&w.md(&["ps"])).contains("(healthy)"));
    ok(&w.md(&["exec", "probed", "rm", "/tmp/ok"]));
    let sick = eventually(&w, "probed", 20, "unhealthy", |d| {
        d["State"]["Health"]["Status"] == "unhealthy"
    });
    assert!(sick["State"]["Health"]["FailingStreak"].as_i64() >= Some(2));
    assert!(ok(&w.md(&["ps"])).contains("(unhealthy)"));
    let until = (since.parse::<u64>().unwrap() + 60).to_string();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let events = ok(&w.md(&[
        "events",
        "--since",
        &since,
        "--until",
        &now,
        "--filter",
        "event=health_status",
        "--filter",
        "container=probed",
    ]));
    assert!(events.contains("container health_status: healthy"), "{events}");
    assert!(events.contains("container health_status: unhealthy"), "{events}");
    assert!(!until.is_empty());

    // --no-healthcheck: no check at all.
    ok(&w.md(&["run", "-d", "--name", "unprobed", "--no-healthcheck", "busybox", "sleep", "100"]));
    assert_eq!(
        inspect(&w, "unprobed")["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(inspect(&w, "unprobed")["State"]["Health"], Value::Null);
}

#[test]
fn live_restore_survives_a_killed_daemon() {
    if !require_root("live_restore_survives_a_killed_daemon") {
        return;
    }
    let mut w = World::with_daemon(BIN);
    ok(&w.md(&["run", "-d", "--name", "keeps", "busybox", "sh", "-c", "echo before; sleep 100"]));
    ok(&w.md(&["run", "-d", "--name", "ends", "busybox", "sleep", "100"]));
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "comes-back",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "100",
    ]));
    let pid = |name: &str| inspect(&w, name)["State"]["Pid"].as_i64().unwrap() as i32;
    let (keeps, ends, comes_back) = (pid("keeps"), pid("ends"), pid("comes-back"));
    let ends_id = inspect(&w, "ends")["Id"].as_str().unwrap().to_string();

    w.kill_daemon();
    let alive = |pid: i32| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok();
    std::thread::sleep(Duration::from_millis(300));
    assert!(alive(keeps), "a container died with its daemon");
    // Two exits while no daemon runs: the supervisors record them.
    for pid in [ends, comes_back] {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
            .unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));

    w.restart_daemon();
    assert!(ok(&w.md(&["ps"])).contains("keeps"));
    assert_eq!(ok(&w.md(&["logs", "keeps"])), "before");
    assert_eq!(ok(&w.md(&["wait", "ends"])), "137", "the exit that came while the daemon was down");
    let back =
        eventually(&w, "comes-back", 20, "restarted per policy", |d| d["State"]["Running"] == true);
    assert_eq!(back["RestartCount"], 1);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    let events = ok(&w.md(&["events", "--since", "0", "--until", &now, "--filter", "event=die"]));
    assert!(events.contains(&ends_id), "the restarted daemon tells the die it missed: {events}");

    // A daemon stopped with SIGTERM leaves them running too; the next one serves them.
    w.stop_daemon_for_restart();
    assert!(alive(keeps));
    w.restart_daemon();
    let waiter = w.cmd(&["wait", "keeps"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    ok(&w.md(&["stop", "-t", "1", "keeps"]));
    let waited = waiter.wait_with_output().unwrap();
    assert_eq!(stdout(&waited), "137");
    assert!(!alive(keeps));
}

#[test]
fn top_stats_port_rename_update() {
    if !require_root("top_stats_port_rename_update") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "web",
        "-m",
        "64m",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sleep",
        "100",
    ]));
    let top = ok(&w.md(&["top", "web"]));
    let mut lines = top.lines();
    assert!(lines.next().unwrap().starts_with("UID"), "{top}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "only the container's processes: {top}");
    assert!(rows[0].ends_with("sleep 100"), "{top}");
    let top_pid = ok(&w.md(&["top", "web", "-o", "pid,comm"]));
    assert!(top_pid.starts_with("PID") && top_pid.contains("sleep"), "{top_pid}");

    let stats = ok(&w.md(&["stats", "--no-stream", "web"]));
    let lines: Vec<&str> = stats.lines().collect();
    assert!(lines[0].starts_with("CONTAINER ID   NAME"), "{stats}");
    assert!(lines[1].contains("web") && lines[1].contains("/ 64MiB"), "{stats}");
    assert!(lines[1].trim_end().ends_with('1'), "one process: {stats}");

    let port = ok(&w.md(&["port", "web"]));
    assert!(port.starts_with("80/tcp -> 127.0.0.1:"), "{port}");
    let host_port = ok(&w.md(&["port", "web", "80"]));
    assert!(host_port.starts_with("127.0.0.1:"), "{host_port}");
    let none = w.md(&["port", "web", "81"]);
    assert!(
        !none.status.success()
            && stderr(&none).contains("No public port '81/tcp' published for web")
    );

    ok(&w.md(&["rename", "web", "site"]));
    assert_eq!(inspect(&w, "site")["Name"], "/site");
    ok(&w.md(&["run", "-d", "--name", "other", "busybox", "sleep", "100"]));
    let taken = w.md(&["rename", "other", "site"]);
    assert!(
        !taken.status.success() && stderr(&taken).contains("is already in use"),
        "{}",
        stderr(&taken)
    );

    ok(&w.md(&["update", "-m", "32m", "--pids-limit", "20", "--restart", "on-failure:4", "site"]));
    let d = inspect(&w, "site");
    assert_eq!(
        (d["HostConfig"]["Memory"].as_i64(), d["HostConfig"]["PidsLimit"].as_i64()),
        (Some(32 << 20), Some(20))
    );
    assert_eq!(d["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    let paths = d["CgroupPaths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| std::path::PathBuf::from(p.as_str().unwrap()));
    let files = paths.flat_map(|p| [p.join("memory.max"), p.join("memory.limit_in_bytes")]);
    let limit =
        files.filter_map(|f| std::fs::read_to_string(f).ok()).next().expect("a memory limit file");
    assert_eq!(limit.trim(), (32u64 << 20).to_string(), "the running cgroup has the new limit");
    let nothing = w.md(&["update", "site"]);
    assert!(stderr(&nothing).contains("you must provide one or more flags"));

    ok(&w.md(&["container", "stop", "-t", "1", "other"]));
    let listed = ok(&w.md(&["container", "ls", "-a"]));
    assert!(listed.contains("site") && listed.contains("other"));
    let pruned = ok(&w.md(&["container", "prune", "-f"]));
    assert!(
        pruned.starts_with("Deleted Containers:") && pruned.contains("Total reclaimed space"),
        "{pruned}"
    );
    assert!(!ok(&w.md(&["container", "ls", "-a"])).contains("other"));
    assert!(ok(&w.md(&["container", "ls"])).contains("site"), "prune keeps running containers");
}

#[test]
fn cp_both_ways_stays_inside_the_container() {
    if !require_root("cp_both_ways_stays_inside_the_container") {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "box",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/sub; echo inside > /data/sub/f; ln -s / /data/root; sleep 100",
    ]));
    std::thread::sleep(Duration::from_millis(300));
    let host = w.root.path().join("host");
    std::fs::create_dir(&host).unwrap();
    ok(&w.md(&["cp", "box:/data", host.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(host.join("data/sub/f")).unwrap(), "inside\n");
    assert!(
        host.join("data/root").symlink_metadata().unwrap().file_type().is_symlink(),
        "links stay links"
    );
    ok(&w.md(&["cp", "box:/data/sub/f", host.join("renamed").to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(host.join("renamed")).unwrap(), "inside\n");

    std::fs::write(host.join("new"), "from the host\n").unwrap();
    ok(&w.md(&["cp", host.join("new").to_str().unwrap(), "box:/data/"]));
    assert_eq!(ok(&w.md(&["exec", "box", "cat", "/data/new"])), "from the host");
    ok(&w.md(&["cp", host.join("new").to_str().unwrap(), "box:/data/other-name"]));
    assert_eq!(ok(&w.md(&["exec", "box", "cat", "/data/other-name"])), "from the host");
    // Through the container's `/data/root -> /`: its own root, never the host's.
    ok(&w.md(&["cp", host.join("new").to_str().unwrap(), "box:/data/root/tmp/"]));
    assert_eq!(ok(&w.md(&["exec", "box", "cat", "/tmp/new"])), "from the host");
    assert!(
        !std::path::Path::new("/tmp/new").exists()
            || std::fs::read_to_string("/tmp/new").unwrap() != "from the host\n"
    );
    ok(&w.md(&["cp", "box:/data/root/etc/hostname", host.join("hostname").to_str().unwrap()]));
    let inside = ok(&w.md(&["exec", "box", "cat", "/etc/hostname"]));
    assert_eq!(std::fs::read_to_string(host.join("hostname")).unwrap().trim(), inside);

    let missing = w.md(&["cp", "box:/no/such", host.to_str().unwrap()]);
    assert!(
        !missing.status.success() && stderr(&missing).contains("Could not find the file /no/such"),
        "{}",
        stderr(&missing)
    );

    // A stopped container's files too.
    ok(&w.md(&["stop", "-t", "1", "box"]));
    ok(&w.md(&["cp", "box:/data/new", host.join("after-stop").to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(host.join("after-stop")).unwrap(), "from the host\n");
}

#[test]
fn events_need_a_daemon_and_are_bounded() {
    if !require_root("events_need_a_daemon_and_are_bounded") {
        return;
    }
    let w = World::new(BIN);
    let since =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    ok(&w.md(&["run", "--name", "once", "busybox", "true"]));
    ok(&w.md(&["run", "-d", "--name", "held", "busybox", "sleep", "60"]));
    ok(&w.md(&["stop", "-t", "1", "held"]));
    ok(&w.md(&["rm", "held"]));
    let until = (since + 5).to_string();
    let started = Instant::now();
    let events = w.md(&[
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until,
        "--filter",
        "container=once",
    ]);
    if !w.through_daemon() {
        assert!(!events.status.success());
        assert!(stderr(&events).contains("events are the daemon's"), "{}", stderr(&events));
        return;
    }
    let events = ok(&events);
    assert!(started.elapsed() < Duration::from_secs(7), "--until bounds the stream");
    let actions: Vec<&str> =
        events.lines().map(|l| l.split_whitespace().nth(2).unwrap_or_default()).collect();
    for wanted in ["create", "start", "die"] {
        assert!(actions.contains(&wanted), "{wanted} missing: {events}");
    }
    let json = ok(&w.md(&[
        "events",
        "--since",
        &since.to_string(),
        "--until",
        &until,
        "--filter",
        "event=die",
        "--format",
        "{{json .}}",
    ]));
    let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["Action"], "die");
    assert_eq!(first["Actor"]["Attributes"]["exitCode"], "0");
    // `stop` is told as dockerd tells it, and every event names the container and its image.
    let window = ["events", "--since", &since.to_string(), "--until", &until];
    let held = ok(
        &w.md(&[&window[..], &["--filter", "container=held", "--format", "{{json .}}"]].concat())
    );
    let held: Vec<Value> = held.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = held.iter().map(|e| e["Action"].as_str().unwrap()).collect();
    let at = |action: &str| actions.iter().position(|a| *a == action);
    for wanted in ["create", "start", "kill", "die", "stop", "destroy"] {
        assert!(at(wanted).is_some(), "{wanted} missing: {actions:?}");
    }
    assert!(at("kill") < at("stop") && at("stop") < at("destroy"), "{actions:?}");
    assert_eq!(held[at("kill").unwrap()]["Actor"]["Attributes"]["signal"], "15");
    for event in &held {
        let attributes = &event["Actor"]["Attributes"];
        assert_eq!(
            (&attributes["name"], &attributes["image"]),
            (&json!("held"), &json!("busybox")),
            "{event}"
        );
    }
}

// ---- Real clients: the `docker` CLI and docker-py, against mini-dockerd.

fn docker(w: &World, args: &[&str]) -> std::process::Output {
    let socket = w.socket().expect("a world with a daemon");
    let mut command = std::process::Command::new("docker");
    command.arg("-H").arg(format!("unix://{}", socket.display())).args(args);
    command.env_remove("DOCKER_HOST").env("DOCKER_CONFIG", w.root.path().join("docker-config"));
    testkit::run(&mut command)
}

fn docker_ok(w: &World, args: &[&str]) -> String {
    let out = docker(w, args);
    assert!(out.status.success(), "docker {args:?}: {}\n{}", stderr(&out), stdout(&out));
    stdout(&out)
}

fn until_docker(w: &World, args: &[&str], secs: u64, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let out = docker_ok(w, args);
        if check(&out) {
            return out;
        }
        assert!(Instant::now() < deadline, "docker {args:?}: never as wanted; last: {out}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

#[test]
fn the_docker_cli_drives_restarts_health_and_the_new_verbs() {
    if !require_root("the_docker_cli_drives_restarts_health_and_the_new_verbs")
        || !testkit::require_program(
            "the_docker_cli_drives_restarts_health_and_the_new_verbs",
            "docker",
            "docker.io",
        )
    {
        return;
    }
    let w = World::with_daemon(BIN);
    let since = unix_now().to_string();
    docker_ok(
        &w,
        &[
            "run",
            "-d",
            "--name",
            "flaky",
            "--restart",
            "on-failure:1",
            "busybox",
            "sh",
            "-c",
            "exit 2",
        ],
    );
    until_docker(&w, &["inspect", "-f", "{{.RestartCount}} {{.State.Status}}", "flaky"], 20, |o| {
        o == "1 exited"
    });
    assert_eq!(docker_ok(&w, &["wait", "flaky"]), "2");

    docker_ok(
        &w,
        &[
            "run",
            "-d",
            "--name",
            "probed",
            "--health-cmd",
            "true",
            "--health-interval",
            "200ms",
            "busybox",
            "sleep",
            "100",
        ],
    );
    until_docker(&w, &["ps", "--format", "{{.Names}} {{.Status}}"], 20, |o| {
        o.contains("probed Up") && o.contains("(healthy)")
    });
    assert_eq!(docker_ok(&w, &["inspect", "-f", "{{.State.Health.Status}}", "probed"]), "healthy");

    let top = docker_ok(&w, &["top", "probed"]);
    assert!(top.lines().next().unwrap().starts_with("UID") && top.contains("sleep 100"), "{top}");
    let stats = docker_ok(&w, &["stats", "--no-stream", "probed"]);
    assert!(stats.lines().nth(1).is_some_and(|l| l.contains("probed")), "{stats}");

    let host = w.root.path().join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in"), "by docker cp\n").unwrap();
    docker_ok(&w, &["cp", host.join("in").to_str().unwrap(), "probed:/tmp/"]);
    docker_ok(&w, &["cp", "probed:/tmp/in", host.join("out").to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(host.join("out")).unwrap(), "by docker cp\n");

    docker_ok(&w, &["rename", "probed", "renamed"]);
    assert_eq!(docker_ok(&w, &["inspect", "-f", "{{.Name}}", "renamed"]), "/renamed");
    docker_ok(
        &w,
        &["update", "--memory", "48m", "--memory-swap", "96m", "--restart", "always", "renamed"],
    );
    assert_eq!(
        docker_ok(
            &w,
            &[
                "inspect",
                "-f",
                "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}",
                "renamed"
            ]
        ),
        format!("{} always", 48 << 20)
    );

    docker_ok(
        &w,
        &["run", "-d", "--name", "published", "-p", "127.0.0.1::80", "busybox", "sleep", "100"],
    );
    assert!(docker_ok(&w, &["port", "published", "80"]).starts_with("127.0.0.1:"));

    let events = docker_ok(
        &w,
        &[
            "events",
            "--since",
            &since,
            "--until",
            &(unix_now() + 1).to_string(),
            "--filter",
            "container=flaky",
        ],
    );
    assert!(events.contains("container die") && events.contains("container start"), "{events}");

    docker_ok(&w, &["stop", "-t", "1", "published"]);
    let pruned = docker_ok(&w, &["container", "prune", "-f"]);
    assert!(pruned.contains("Total reclaimed space"), "{pruned}");
    assert!(docker(&w, &["inspect", "published"]).status.code() != Some(0));
}

#[test]
fn docker_py_drives_the_same_routes() {
    if !require_root("docker_py_drives_the_same_routes") {
        return;
    }
    let has_py = std::process::Command::new("python3")
        .args(["-c", "import docker"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_py
        && !testkit::precondition_missing(
            "docker_py_drives_the_same_routes",
            "needs docker-py (pip install docker)",
        )
    {
        return;
    }
    let w = World::with_daemon(BIN);
    let script = r#"
import io, sys, tarfile, time, docker
client = docker.DockerClient(base_url="unix://" + sys.argv[1])
t0 = int(time.time())
c = client.containers.run("busybox", ["sleep", "100"], detach=True, name="py",
        restart_policy={"Name": "on-failure", "MaximumRetryCount": 1},
        healthcheck={"test": ["CMD", "true"], "interval": 200000000})
print("top", c.top()["Processes"][0][-1])
s = c.stats(stream=False)
print("stats", "memory_stats" in s and "cpu_stats" in s)
data = io.BytesIO()
with tarfile.open(fileobj=data, mode="w") as tar:
    info = tarfile.TarInfo("x"); body = b"from python\n"; info.size = len(body)
    tar.addfile(info, io.BytesIO(body))
c.put_archive("/tmp", data.getvalue())
bits, stat = c.get_archive("/tmp/x")
raw = b"".join(bits)
print("archive", stat["name"], tarfile.open(fileobj=io.BytesIO(raw)).extractfile("x").read().decode().strip())
for _ in range(100):
    c.reload()
    if c.attrs["State"].get("Health", {}).get("Status") == "healthy": break
    time.sleep(0.1)
print("health", c.attrs["State"]["Health"]["Status"])
c.rename("py2"); c.reload(); print("name", c.name)
c.update(mem_limit="32m"); c.reload(); print("memory", c.attrs["HostConfig"]["Memory"])
c.stop(timeout=1); print("wait", c.wait()["StatusCode"])
events = client.events(since=t0, until=int(time.time()) + 1, decode=True, filters={"container": c.id})
print("events", sorted({e["Action"] for e in events if e["Action"] in ("create", "start", "die", "rename")}))
print("pruned", len(client.containers.prune()["ContainersDeleted"]))
"#;
    let socket = w.socket().unwrap().display().to_string();
    let out = testkit::run(std::process::Command::new("python3").args(["-c", script, &socket]));
    let text = ok(&out);
    let expected = [
        "top sleep 100",
        "stats True",
        "archive x from python",
        "health healthy",
        "name py2",
        &format!("memory {}", 32 << 20),
        "wait 137",
        "events ['create', 'die', 'rename', 'start']",
        "pruned 1",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected, "{text}");
}

// ---- Bad input and faults: each gets a 4xx or a closed connection, and
// the daemon goes on serving everyone else.

/// Send `request` as bytes on a new connection; what came back (up to `limit`).
fn raw(w: &World, request: &[u8], limit: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(w.socket().unwrap()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = stream.write_all(request);
    let mut answer = vec![0u8; limit];
    let mut got = 0;
    while got < limit {
        match stream.read(&mut answer[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
        if String::from_utf8_lossy(&answer[..got]).contains("\r\n\r\n") && got > 12 {
            std::thread::sleep(Duration::from_millis(50));
            let _ = stream.set_nonblocking(true);
            if let Ok(n) = stream.read(&mut answer[got..]) {
                got += n;
            }
            break;
        }
    }
    String::from_utf8_lossy(&answer[..got]).into_owned()
}

fn post(path: &str, body: &str) -> Vec<u8> {
    format!("POST {path} HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

#[test]
fn the_daemon_survives_bad_input_and_many_clients() {
    if !require_root("the_daemon_survives_bad_input_and_many_clients") {
        return;
    }
    let w = World::with_daemon(BIN);
    let ping = || raw(&w, b"GET /_ping HTTP/1.1\r\nHost: d\r\n\r\n", 4096);
    let malformed = raw(&w, &post("/v1.47/containers/create", "{\"Image\": "), 4096);
    assert!(
        malformed.starts_with("HTTP/1.1 400") && malformed.contains("invalid JSON body"),
        "{malformed}"
    );
    let wrong_type =
        raw(&w, &post("/v1.47/containers/create", r#"{"Image":"busybox","Tty":"yes"}"#), 4096);
    assert!(
        wrong_type.starts_with("HTTP/1.1 400") && wrong_type.contains("expected a boolean"),
        "{wrong_type}"
    );
    let version = raw(&w, b"GET /v1.99/version HTTP/1.1\r\nHost: d\r\n\r\n", 4096);
    assert!(version.starts_with("HTTP/1.1 400") && version.contains("too new"), "{version}");
    let unknown = raw(&w, b"GET /v1.47/no/such/route HTTP/1.1\r\nHost: d\r\n\r\n", 4096);
    assert!(unknown.starts_with("HTTP/1.1 404") && unknown.contains("page not found"), "{unknown}");
    let not_http = raw(&w, b"HELLO THERE\r\n\r\n", 4096);
    assert!(not_http.is_empty() || not_http.starts_with("HTTP/1.1 400"), "{not_http}");
    let huge_header =
        format!("GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: {}\r\n\r\n", "a".repeat(200 * 1024));
    let answer = raw(&w, huge_header.as_bytes(), 4096);
    assert!(
        answer.is_empty()
            || answer.starts_with("HTTP/1.1 431")
            || answer.starts_with("HTTP/1.1 400"),
        "{answer}"
    );
    let big = format!("POST /v1.47/containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", 64 << 20);
    let mut body = big.into_bytes();
    body.extend(std::iter::repeat_n(b' ', 17 << 20));
    let answer = raw(&w, &body, 4096);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 413"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    assert!(ping().ends_with("OK"), "the daemon stopped answering");

    // Clients that go away mid-logs and mid-attach.
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "while :; do echo tick; sleep 0.1; done",
    ]));
    for path in [
        "/v1.47/containers/talker/logs?follow=1&stdout=1",
        "/v1.47/containers/talker/attach?stream=1&stdout=1",
    ] {
        let method = if path.contains("attach") { "POST" } else { "GET" };
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
        );
        let answer = raw(&w, request.as_bytes(), 256);
        assert!(
            answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 101"),
            "{answer}"
        );
    }
    assert!(ping().ends_with("OK"));
    assert!(ok(&w.md(&["logs", "--tail", "1", "talker"])).contains("tick"));

    // Twenty clients running containers at once.
    let runs: Vec<_> = (0..20)
        .map(|i| {
            w.cmd(&["run", "--rm", "--network", "none", "busybox", "echo", &format!("client {i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.wait_with_output().unwrap();
        assert_eq!(ok(&out), format!("client {i}"));
    }
    assert_eq!(w.containers(), 1, "every --rm container is gone, talker stays");
    assert!(ok(&w.md(&["images"])).contains("busybox"));
}

/// Set a terminal's size, as a terminal emulator does on a resize.
fn set_size(fd: i32, rows: u16, cols: u16) {
    let size = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize from a pointer we own.
    assert_eq!(unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &size) }, 0);
}

#[test]
fn docker_run_it_through_a_real_pty_follows_a_resize() {
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    if !require_root("docker_run_it_through_a_real_pty_follows_a_resize")
        || !testkit::require_program(
            "docker_run_it_through_a_real_pty_follows_a_resize",
            "docker",
            "docker.io",
        )
    {
        return;
    }
    let w = World::with_daemon(BIN);
    let pty = nix::pty::openpty(None, None).unwrap();
    let (slave, master_fd) = (pty.slave.as_raw_fd(), pty.master.as_raw_fd());
    set_size(slave, 40, 100);
    let socket = format!("unix://{}", w.socket().unwrap().display());
    let mut cmd = std::process::Command::new("docker");
    cmd.args(["-H", &socket, "run", "-it", "--rm", "--network", "none", "busybox", "sh"]);
    cmd.env_remove("DOCKER_HOST").env("DOCKER_CONFIG", w.root.path().join("docker-config"));
    for stdio in 0..3 {
        let copy = std::process::Stdio::from(pty.slave.try_clone().unwrap());
        match stdio {
            0 => cmd.stdin(copy),
            1 => cmd.stdout(copy),
            _ => cmd.stderr(copy),
        };
    }
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
    drop(cmd);
    drop(pty.slave);
    let mut master = std::fs::File::from(pty.master);
    let mut reading = master.try_clone().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reading.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let wait_for = |text: &str| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !String::from_utf8_lossy(&seen.lock().unwrap()).contains(text) {
            assert!(
                Instant::now() < deadline,
                "never saw {text:?}: {}",
                String::from_utf8_lossy(&seen.lock().unwrap())
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    master.write_all(b"echo size-$(stty size | tr ' ' x)\n").unwrap();
    wait_for("size-40x100");
    set_size(master_fd, 50, 120); // the kernel tells docker with SIGWINCH
    std::thread::sleep(Duration::from_millis(500));
    master.write_all(b"echo size-$(stty size | tr ' ' x); exit 3\n").unwrap();
    wait_for("size-50x120");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "docker run -it did not end");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(3));
}

#[test]
fn the_daemon_says_it_serves_only_once_its_socket_answers() {
    if !require_root("the_daemon_says_it_serves_only_once_its_socket_answers") {
        return;
    }
    use std::io::BufRead;
    let w = World::empty(BIN);
    let socket = w.root.path().join("ready.sock");
    let mut daemon = w
        .daemon_command(&socket)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mini-dockerd starts");
    let mut said = String::new();
    let mut lines = std::io::BufReader::new(daemon.stderr.take().unwrap());
    while !said.contains("serving the Engine API") {
        assert_ne!(lines.read_line(&mut said).unwrap(), 0, "the daemon ended: {said}");
    }
    // At once, with no retry: a script may connect as soon as it reads the line.
    let connected = std::os::unix::net::UnixStream::connect(&socket);
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(daemon.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    );
    let _ = daemon.wait();
    assert!(connected.is_ok(), "said {said:?}, but connecting failed: {connected:?}");
}
