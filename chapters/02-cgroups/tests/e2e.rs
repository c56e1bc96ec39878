//! Chapter 2 end to end: the demo binary, run as root on the real kernel's
//! cgroups. Each test uses its own parent cgroup (`mdtest...`), removes it
//! at the end and checks that nothing of it is left on the host.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use ch02_cgroups::{detect, parent_dirs, remove_parent, Kind};
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
    // The shell keeps the whole output of $(...) in its own memory: 192 MiB,
    // three times the limit.
    let hog = "x=$(head -c 201326592 /dev/zero | tr '\\0' a); echo survived ${#x}";
    let out = run(&mut demo(&parent, &["-m", "64m"], hog));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(137), "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains("survived"), "the hog finished: {}", stdout(&out));
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
    assert!((0.3..=0.7).contains(&cpus), "used {cpus:.2} CPUs over {elapsed:?}: {stats:?}");
    assert!(stats["cpu_throttled_periods"] > 0, "never throttled: {stats:?}");
}

#[test]
fn limits_are_in_the_containers_own_cgroup() {
    if !require_root("limits_are_in_the_containers_own_cgroup")
        || !needs_busybox("limits_are_in_the_containers_own_cgroup")
    {
        return;
    }
    let parent = unique("files");
    let v2 = detect().unwrap().uses_v2();
    // The container shares the host's /sys here, so it can read its own knobs.
    let script = if v2 {
        "d=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup); cat $d/memory.max $d/memory.swap.max $d/cpu.max $d/pids.max"
    } else {
        "for f in memory/memory.limit_in_bytes memory/memory.memsw.limit_in_bytes cpu/cpu.cfs_quota_us pids/pids.max; do \
           c=${f%%/*}; cat /sys/fs/cgroup/$c$(grep \":$c:\" /proc/self/cgroup | cut -d: -f3)/${f#*/}; done"
    };
    let flags = ["-m", "64m", "--memory-swap", "96m", "--cpus", "0.5", "--pids-limit", "20"];
    let out = run(&mut demo(&parent, &flags, script));
    clean_up(&parent);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let expected =
        if v2 { "67108864\n33554432\n50000 100000\n20" } else { "67108864\n100663296\n50000\n20" };
    assert_eq!(stdout(&out), expected);
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

/// The host pid of the container's first process, once it is in its cgroup.
fn wait_for_container(parent: &str) -> i32 {
    let layout = detect().unwrap();
    let pids_parent = match layout.kind() {
        Kind::Unified => layout.v2.unwrap().mount_point.join(parent),
        _ => layout.v1_root("pids").unwrap().join(parent),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let procs = std::fs::read_dir(&pids_parent)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| std::fs::read_to_string(e.path().join("cgroup.procs")).ok())
            .find(|text| !text.trim().is_empty());
        if let Some(text) = procs {
            return text.lines().next().unwrap().trim().parse().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the container never appeared under {}", pids_parent.display());
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
    let files: &[&str] = if v2 {
        &["cgroup.subtree_control", "memory.max", "cpu.max", "pids.max", "cgroup.procs"]
    } else {
        &[
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "cpu.cfs_period_us",
            "cpu.cfs_quota_us",
            "pids.max",
            "cgroup.procs",
        ]
    };
    for file in files {
        let shell = text.lines().any(|l| {
            l.trim_start().starts_with("shell:   echo ") && l.contains(&format!("/{file}"))
        });
        assert!(shell, "no `echo ... > {file}` in:\n{text}");
    }
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
