//! Chapter 2 through the final binary: limits, the OOM killer and removal
//! of the cgroup, with a real image. `scripts/vm/cgroup-tests.sh` runs these
//! on pure cgroup v2 and pure v1 kernels too, and there also the ignored
//! tests, on a layout it took a controller away from.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
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
