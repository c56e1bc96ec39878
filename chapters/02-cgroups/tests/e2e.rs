//! Chapter 2 end to end: the demo binary, run as root on the real kernel's
//! cgroups. Each test uses its own parent cgroup (`mdtest...`), removes it
//! at the end and checks that nothing of it is left on the host.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ch02_cgroups::{detect, parent_dirs, remove_parent, require, Cgroup, Kind, Limits};
use testkit::{assert_no_leftovers, require_root, run, stderr, stdout, unique};

const BUSYBOX: &str = "/bin/busybox";

fn demo(parent: &str, flags: &[&str], script: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch02-cgroups"));
    cmd.args(["--cgroup-parent", parent, "--stats"])
        .args(flags)
        .args(["--", BUSYBOX, "sh", "-c", script]);
    cmd
}

/// The `key=value` pairs of the `stats:` line the demo prints with `--stats`.
fn stats(out: &Output) -> BTreeMap<String, u64> {
    let text = stderr(out);
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("stats: "))
        .unwrap_or_else(|| panic!("no stats line in:\n{text}"));
    line.split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

/// Remove the test's parent cgroup, then check that nothing of it remains.
fn clean_up(parent: &str) {
    remove_parent(&detect().unwrap(), parent).expect("removing the test's parent cgroup");
    assert_no_leftovers(parent);
}

fn needs_busybox(test: &str) -> bool {
    std::path::Path::new(BUSYBOX).exists()
        || testkit::precondition_missing(
            test,
            "needs /bin/busybox (apt-get install busybox-static)",
        )
}

#[test]
fn memory_hog_is_oom_killed_with_137() {
    if !require_root("memory_hog_is_oom_killed_with_137")
        || !needs_busybox("memory_hog_is_oom_killed_with_137")
    {
        return;
    }
    let parent = unique("oom");
    // dd reads 192 MiB into one buffer, three times the limit: each page
    // it touches is charged to the cgroup, until the OOM killer ends it.
    let hog = "exec busybox dd if=/dev/zero of=/dev/null bs=192M count=1";
    let out = run(&mut demo(&parent, &["-m", "64m"], hog));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(137), "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    assert!(
        stderr(&out).contains("ch02-cgroups: container was OOM-killed (memory limit 64MiB)"),
        "{}",
        stderr(&out)
    );
    let stats = stats(&out);
    assert!(stats["oom_kills"] >= 1, "{stats:?}");
    assert!(stats["memory_peak_bytes"] <= 64 << 20, "{stats:?}");
}

#[test]
fn fork_loop_is_capped_by_pids_limit() {
    if !require_root("fork_loop_is_capped_by_pids_limit")
        || !needs_busybox("fork_loop_is_capped_by_pids_limit")
    {
        return;
    }
    let parent = unique("pids");
    // A bounded loop of 100 background sleeps, in an inner shell: ash exits
    // when a fork fails, and the container's main shell then goes on.
    let script = "busybox sh -c 'i=0; while [ $i -lt 100 ]; do sleep 1 & i=$((i+1)); done; wait'; \
                  echo \"fork loop ended with $?; the container goes on\"";
    let out = run(&mut demo(&parent, &["--pids-limit", "20"], script));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stdout(&out).contains("the container goes on"), "{}", stdout(&out));
    assert!(stderr(&out).contains("can't fork"), "{}", stderr(&out));
    let stats = stats(&out);
    assert!(stats["pids_refused"] >= 1, "pids.max was never hit: {stats:?}");
    if let Some(peak) = stats.get("pids_peak") {
        assert!(*peak <= 20 && *peak >= 15, "{stats:?}");
    }
}

#[test]
fn half_a_cpu_uses_about_half_a_cpu() {
    if !require_root("half_a_cpu_uses_about_half_a_cpu")
        || !needs_busybox("half_a_cpu_uses_about_half_a_cpu")
    {
        return;
    }
    let parent = unique("cpu");
    // `timeout` must not be PID 1: PID 1 ignores the SIGTERM it would send.
    let script = "busybox timeout 2 busybox sh -c 'while :; do :; done'; true";
    let start = Instant::now();
    let out = run(&mut demo(&parent, &["--cpus", "0.5"], script));
    let elapsed = start.elapsed();
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let stats = stats(&out);
    let cpus = stats["cpu_usec"] as f64 / elapsed.as_micros() as f64;
    assert!(cpus <= 0.7, "used {cpus:.2} CPUs over {elapsed:?}: {stats:?}");
    // On a machine too busy to give the loop half a CPU, the quota is never
    // reached; otherwise the kernel must have throttled it.
    let starved = cpus < 0.3;
    assert!(starved || stats["cpu_throttled_periods"] > 0, "never throttled: {stats:?}");
}

/// The demo with `--name`, so the test knows the container's cgroup path.
fn named(parent: &str, name: &str, flags: &[&str], script: &str) -> Command {
    let mut all = vec!["--name", name];
    all.extend_from_slice(flags);
    demo(parent, &all, script)
}

#[test]
fn the_container_sees_its_own_limits_read_only() {
    if !require_root("the_container_sees_its_own_limits_read_only")
        || !needs_busybox("the_container_sees_its_own_limits_read_only")
    {
        return;
    }
    let parent = unique("view");
    let v2 = detect().unwrap().uses_v2();
    // Docker's defaults: a private cgroup namespace on v2, the host's on v1.
    let script = if v2 {
        "cd /sys/fs/cgroup; cat memory.max memory.swap.max cpu.max pids.max /proc/self/cgroup; \
         echo 1 > pids.max && echo WROTE; mkdir sub && echo MADE; true"
    } else {
        "cd /sys/fs/cgroup; cat memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes \
         cpu/cpu.cfs_quota_us pids/pids.max; grep :memory: /proc/self/cgroup | cut -d: -f3; \
         echo 1 > pids/pids.max && echo WROTE; mkdir memory/sub && echo MADE; true"
    };
    let flags = ["-m", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--pids-limit", "20"];
    let out = run(&mut named(&parent, "web", &flags, script));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let expected = if v2 {
        "67108864\n33554432\n50000 100000\n20\n0::/".to_string()
    } else {
        format!("67108864\n100663296\n50000\n20\n/{parent}/web")
    };
    assert_eq!(stdout(&out), expected);
    assert_eq!(stderr(&out).matches("Read-only file system").count(), 2, "{}", stderr(&out));
}

#[test]
fn the_other_cgroup_namespace_mode_shows_the_other_paths() {
    if !require_root("the_other_cgroup_namespace_mode_shows_the_other_paths")
        || !needs_busybox("the_other_cgroup_namespace_mode_shows_the_other_paths")
    {
        return;
    }
    let parent = unique("ns");
    let v2 = detect().unwrap().uses_v2();
    let (flags, script, expected) = if v2 {
        // The host's namespace: the whole tree, and the full path of ours.
        let script = format!("cat /proc/self/cgroup /sys/fs/cgroup/{parent}/web/pids.max");
        (["--cgroupns", "host"], script, format!("0::/{parent}/web\n20"))
    } else {
        // A private namespace on v1: each hierarchy's root is the container's cgroup.
        let script = format!(
            "grep :memory: /proc/self/cgroup | cut -d: -f3; cat /sys/fs/cgroup/pids/pids.max; \
             test -e /sys/fs/cgroup/memory/{parent} && echo HOST-TREE; true"
        );
        (["--cgroupns", "private"], script, "/\n20".to_string())
    };
    let mut all = flags.to_vec();
    all.extend(["--pids-limit", "20"]);
    let out = run(&mut named(&parent, "web", &all, &script));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), expected);
}

#[test]
fn a_privileged_view_is_writable_and_what_it_made_goes_with_it() {
    if !require_root("a_privileged_view_is_writable_and_what_it_made_goes_with_it")
        || !needs_busybox("a_privileged_view_is_writable_and_what_it_made_goes_with_it")
    {
        return;
    }
    let parent = unique("rw");
    let dir = if detect().unwrap().uses_v2() { "/sys/fs/cgroup" } else { "/sys/fs/cgroup/pids" };
    // A sub-cgroup with a process in it, as systemd or dockerd in a container would make.
    let script = format!(
        "mkdir {dir}/inner && sleep 60 & sleep 0.2; echo $! > {dir}/inner/cgroup.procs && \
         cat {dir}/inner/cgroup.procs | wc -l"
    );
    let out = run(&mut named(&parent, "web", &["--privileged"], &script));
    let parents = parent_dirs(&detect().unwrap(), &parent);
    let left: Vec<PathBuf> = parents.iter().map(|p| p.join("web")).filter(|d| d.exists()).collect();
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "1");
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn pause_freezes_every_task_and_unpause_thaws_them() {
    if !require_root("pause_freezes_every_task_and_unpause_thaws_them")
        || !needs_busybox("pause_freezes_every_task_and_unpause_thaws_them")
    {
        return;
    }
    let parent = unique("pause");
    let work = testkit::temp_dir();
    let count = work.path().join("count");
    // A counter and a child process, both of which must stop.
    let script = format!(
        "sleep 600 & i=0; while :; do i=$((i+1)); echo $i > {}; usleep 20000; done",
        count.display()
    );
    let mut container = named(&parent, "ticker", &[], &script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = wait_for_container(&parent);
    let read =
        || std::fs::read_to_string(&count).unwrap_or_default().trim().parse::<u64>().unwrap_or(0);
    wait_until(|| read() > 0);
    let pause = run(&mut pause_cmd("pause", &parent, "ticker"));
    let frozen_state = freezer_state(&parent, "ticker");
    let before = read();
    std::thread::sleep(Duration::from_millis(300));
    let during = read();
    let unpause = run(&mut pause_cmd("unpause", &parent, "ticker"));
    wait_until(|| read() > during);
    let thawed_state = freezer_state(&parent, "ticker");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    let out = container.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(container.stderr.as_mut().unwrap(), &mut err).unwrap();
    clean_up(&parent);
    assert_eq!(
        (pause.status.code(), stdout(&pause)),
        (Some(0), "ticker".into()),
        "{}",
        stderr(&pause)
    );
    assert_eq!(unpause.status.code(), Some(0), "{}", stderr(&unpause));
    assert_eq!(before, during, "the counter went on while paused");
    assert_eq!((frozen_state.as_str(), thawed_state.as_str()), frozen_and_thawed());
    assert_eq!(out.code(), Some(137), "{err}");
}

fn pause_cmd(verb: &str, parent: &str, name: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch02-cgroups"));
    cmd.args([verb, name, "--cgroup-parent", parent]);
    cmd
}

/// What the kernel says of the container's freezer: v1 `freezer.state`,
/// v2 the `frozen` line of `cgroup.events`.
fn freezer_state(parent: &str, name: &str) -> String {
    let layout = detect().unwrap();
    let (file, line) = match layout.kind() {
        Kind::Unified => {
            (layout.v2.unwrap().mount_point.join(parent).join(name).join("cgroup.events"), "frozen")
        }
        _ => (layout.v1_root("freezer").unwrap().join(parent).join(name).join("freezer.state"), ""),
    };
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines().find(|l| l.starts_with(line)).unwrap_or_default().trim().to_string()
}

fn frozen_and_thawed() -> (&'static str, &'static str) {
    if detect().unwrap().uses_v2() {
        ("frozen 1", "frozen 0")
    } else {
        ("FROZEN", "THAWED")
    }
}

fn wait_until(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cgroup_is_removed_after_the_container_is_sigkilled() {
    if !require_root("cgroup_is_removed_after_the_container_is_sigkilled")
        || !needs_busybox("cgroup_is_removed_after_the_container_is_sigkilled")
    {
        return;
    }
    let parent = unique("kill");
    let child = demo(&parent, &["-m", "64m", "--pids-limit", "20"], "sleep 60 & sleep 60")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let container = wait_for_container(&parent);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(container),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    let parents = parent_dirs(&detect().unwrap(), &parent);
    let children: Vec<PathBuf> = parents
        .iter()
        .flat_map(|p| std::fs::read_dir(p).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(137), "stderr: {}", stderr(&out));
    assert!(!stderr(&out).contains("OOM"), "{}", stderr(&out));
    assert!(children.is_empty(), "container cgroups left: {children:?}");
}

/// The host pid of the container's PID 1, once it is in its cgroup.
fn wait_for_container(parent: &str) -> i32 {
    let parent_dir = parent_dirs(&detect().unwrap(), parent).remove(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let init = std::fs::read_dir(&parent_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path().join("cgroup.procs")).ok())
            .flat_map(|text| {
                text.lines().filter_map(|l| l.trim().parse().ok()).collect::<Vec<i32>>()
            })
            .find(|pid| is_pid_1_of_its_namespace(*pid));
        if let Some(pid) = init {
            return pid;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the container never appeared under {}", parent_dir.display());
}

/// Whether the last number of `NSpid:` in /proc/PID/status is 1.
fn is_pid_1_of_its_namespace(pid: i32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let nspid = status.lines().find_map(|l| l.strip_prefix("NSpid:")).unwrap_or_default();
    nspid.split_whitespace().last() == Some("1")
}

#[test]
fn explain_shows_every_cgroup_file_written() {
    if !require_root("explain_shows_every_cgroup_file_written")
        || !needs_busybox("explain_shows_every_cgroup_file_written")
    {
        return;
    }
    let parent = unique("explain");
    let out = run(&mut demo(
        &parent,
        &["--explain", "-m", "64m", "--cpus", "0.5", "--pids-limit", "20"],
        "true",
    ));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stderr(&out);
    let v2 = detect().unwrap().uses_v2();
    // On v2 the child is born in its cgroup (clone3), so nothing is moved.
    let files: &[&str] = if v2 {
        &["cgroup.subtree_control", "memory.max", "cpu.max", "pids.max"]
    } else {
        &[
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "cpu.cfs_period_us",
            "cpu.cfs_quota_us",
            "pids.max",
            "tasks",
        ]
    };
    for file in files {
        let shell = text.lines().any(|l| {
            l.trim_start().starts_with("shell:   echo ") && l.contains(&format!("/{file}"))
        });
        assert!(shell, "no `echo ... > {file}` in:\n{text}");
    }
    if v2 {
        assert!(text.contains("| CLONE_INTO_CGROUP, cgroup: <its directory> })"), "{text}");
    } else {
        // On v1 the child moves itself: "0", its own thread, into `tasks`.
        assert!(text.contains("shell:   echo 0 > /sys/fs/cgroup/pids/"), "{text}");
    }
    // Neither moves the child by its pid (the kernel's slow path).
    let moved = text.lines().any(|l| l.contains("open(") && l.contains("/cgroup.procs"));
    assert!(!moved, "the child was moved by its pid:\n{text}");
    assert!(text.contains("shell:   mkdir /sys/fs/cgroup/"), "{text}");
    assert!(text.contains("shell:   rmdir /sys/fs/cgroup/"), "{text}");
    assert!(text.contains("book:    ch02-cgroups.md#setting-the-limits"), "{text}");
}

#[test]
fn bad_limits_are_one_line_errors_and_leave_nothing() {
    if !require_root("bad_limits_are_one_line_errors_and_leave_nothing") {
        return;
    }
    let parent = unique("bad");
    let cases: [(&[&str], &str); 7] = [
        (&["-m", "12x"], "invalid size \"12x\" for --memory"),
        (&["-m", "-1"], "invalid size \"-1\" for --memory"),
        (&["-m", "1m"], "minimum memory limit allowed is 6MiB"),
        (&["--cpus", "0"], "range of CPUs is from 0.01 to"),
        (&["--cpus", "1000"], "range of CPUs is from 0.01 to"),
        (&["--memory-swap", "1g"], "--memory-swap needs --memory too"),
        (&["--cgroup-parent", "../escape"], "invalid --cgroup-parent \"../escape\""),
    ];
    for (flags, message) in cases {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch02-cgroups"));
        if !flags.contains(&"--cgroup-parent") {
            cmd.args(["--cgroup-parent", &parent]);
        }
        cmd.args(flags).args(["--", "/bin/true"]);
        let out = run(&mut cmd);
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {text}");
        assert_eq!(text.lines().count(), 1, "{flags:?}: {text}");
        assert!(text.starts_with("ch02-cgroups: ") && text.contains(message), "{flags:?}: {text}");
    }
    assert_no_leftovers(&parent);
}

#[test]
fn a_paused_cgroup_is_thawed_killed_and_removed() {
    if !require_root("a_paused_cgroup_is_thawed_killed_and_removed")
        || !needs_busybox("a_paused_cgroup_is_thawed_killed_and_removed")
    {
        return;
    }
    let parent = unique("frozen");
    let layout = detect().unwrap();
    let cgroup = Cgroup::create(&layout, &parent, "c1", &Limits::default()).unwrap();
    let mut sleeper = Command::new(BUSYBOX).args(["sleep", "60"]).spawn().unwrap();
    cgroup.add_pid(nix::unistd::Pid::from_raw(sleeper.id() as i32)).unwrap();
    cgroup.freeze().unwrap();
    let frozen = cgroup.is_frozen();
    let removed = cgroup.remove();
    let status = sleeper.wait().unwrap();
    clean_up(&parent);
    assert!(frozen, "freeze returned but the cgroup is not frozen");
    removed.expect("removing a paused cgroup");
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9));
}

/// The one line a refused flag prints: it names the controller and says
/// how to get it on this layout.
fn assert_refused_with_a_fix(out: &Output, controller: &str, needed_by: &str) {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(125), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    let fix = if detect().unwrap().uses_v2() {
        format!("cgroup_no_v1={controller}")
    } else {
        format!("mount -t cgroup -o {controller} cgroup /sys/fs/cgroup/{controller}")
    };
    assert!(text.contains(&format!("{controller} controller not")), "{text}");
    assert!(text.contains(&format!("{needed_by} needs it")) && text.contains(&fix), "{text}");
}

#[test]
#[ignore = "needs a host without the pids controller: the test VM makes one (scripts/vm)"]
fn without_the_pids_controller_only_pids_limit_is_refused() {
    let layout = detect().unwrap();
    assert!(
        require(&layout, "pids", "--pids-limit").is_err(),
        "this host has the pids controller: this test runs in the VM (scripts/vm/cgroup-tests.sh)"
    );
    let parent = unique("nopids");
    let refused = run(&mut demo(&parent, &["--pids-limit", "20"], "true"));
    assert_no_leftovers(&parent);
    assert_refused_with_a_fix(&refused, "pids", "--pids-limit");
    let file = if layout.uses_v2() { "memory.max" } else { "memory/memory.limit_in_bytes" };
    let script = format!("cat /sys/fs/cgroup/{file}");
    let out = run(&mut demo(&parent, &["-m", "64m", "--cpus", "0.5"], &script));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "67108864");
}

#[test]
#[ignore = "needs a cgroup v1 host without the freezer: the test VM makes one (scripts/vm)"]
fn without_the_v1_freezer_pause_says_how_to_get_it_and_run_works() {
    let layout = detect().unwrap();
    assert!(
        !layout.uses_v2() && layout.v1_root("freezer").is_none(),
        "this host has a v1 freezer or is v2: this test runs in the VM (scripts/vm/cgroup-tests.sh)"
    );
    let parent = unique("nofreezer");
    let mut container = named(&parent, "web", &[], "sleep 60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = wait_for_container(&parent);
    let refused = run(&mut pause_cmd("pause", &parent, "web"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    let status = container.wait().unwrap();
    clean_up(&parent);
    assert_refused_with_a_fix(&refused, "freezer", "pause");
    assert_eq!(status.code(), Some(137));
}
