//! Chapter 5 end to end: `ch05-run` on an image that chapter 4 stored,
//! driven as a learner would after chapter 5 — with chapters 1–5 only.

use std::io::Write;
use std::process::Stdio;

use ch04_image_pull::platform::Platform;
use ch04_image_pull::store::Store;
use testkit::world::{image_tar, ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_ch05-run");

/// A world with busybox in its store, put there by chapter 4's `load`.
fn world() -> World {
    let w = World::empty(BIN);
    let store = Store::open(w.root.path()).unwrap();
    ch04_image_pull::load::load(&store, &image_tar("busybox"), &Platform::host(), &mut |_| {})
        .unwrap();
    w
}

#[test]
fn run_gives_the_commands_exit_code_and_dockers_own() {
    if !require_root("run_gives_the_commands_exit_code_and_dockers_own") {
        return;
    }
    let w = world();
    assert_eq!(ok(&w.md(&["run", "--rm", "busybox", "echo", "hello"])), "hello");
    assert_eq!(w.md(&["run", "--rm", "busybox", "sh", "-c", "exit 3"]).status.code(), Some(3));
    let missing = w.md(&["run", "--rm", "busybox", "no-such-cmd"]);
    assert_eq!(missing.status.code(), Some(127));
    let expected = "ch05-run: exec \"no-such-cmd\": executable file not found in $PATH";
    assert_eq!(stderr(&missing), expected);
    assert_eq!(w.md(&["run", "--rm", "busybox", "/etc"]).status.code(), Some(126));
    let unknown = w.md(&["run", "--rm", "no-such-image:1"]);
    assert_eq!(unknown.status.code(), Some(125));
    let line = stderr(&unknown);
    assert!(line.starts_with("ch05-run: Unable to find image 'no-such-image:1' locally"), "{line}");
    assert!(line.contains("ch04-image-pull pull no-such-image:1") && !line.contains('\n'));
    let bad = w.md(&["run", "--rm", "-m", "12x", "busybox", "true"]);
    assert_eq!(bad.status.code(), Some(125), "{}", stderr(&bad));
    assert_eq!(stderr(&bad).lines().count(), 1, "{}", stderr(&bad));
    assert_eq!(w.containers(), 0, "--rm and failed runs must leave no container");
}

#[test]
fn only_chapters_one_to_five_no_network_no_walls() {
    if !require_root("only_chapters_one_to_five_no_network_no_walls") {
        return;
    }
    let w = world();
    let script = "ls /sys/class/net; grep -E '^(Seccomp|CapEff):' /proc/self/status";
    let out = ok(&w.md(&["run", "--rm", "busybox", "sh", "-c", script]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "lo", "a network namespace with just lo: {out}");
    assert!(lines.contains(&"Seccomp:\t0"), "no seccomp filter before chapter 8: {out}");
    assert!(!lines.contains(&"CapEff:\t00000000a80425fb"), "not Docker's 14 capabilities: {out}");
    let bridge = std::process::Command::new("ip").args(["link", "show", &w.bridge]).output();
    assert!(!bridge.unwrap().status.success(), "chapter 5 made a bridge");
    assert!(testkit::network::iptables_rules_mentioning(&w.bridge).is_empty());
    let id = ok(&w.md(&["create", "busybox", "true"]));
    let inspect: serde_json::Value = serde_json::from_str(&ok(&w.md(&["inspect", &id]))).unwrap();
    assert_eq!(inspect[0]["HostConfig"]["NetworkMode"], "none");
    assert_eq!(inspect[0]["Mounts"], serde_json::json!([]));
    assert!(inspect[0]["HostConfig"].get("CapAdd").is_none(), "no chapter 8 fields");
}

#[test]
fn detached_ps_logs_exec_stop_rm() {
    if !require_root("detached_ps_logs_exec_stop_rm") {
        return;
    }
    let w = world();
    let script = "echo started; while true; do sleep 1; done";
    let id = ok(&w.md(&["run", "-d", "--name", "web", "busybox", "sh", "-c", script]));
    assert_eq!(id.len(), 64, "{id}");
    let ps = ok(&w.md(&["ps"]));
    assert!(ps.starts_with("CONTAINER ID   IMAGE"), "{ps}");
    assert!(ps.lines().nth(1).is_some_and(|l| l.ends_with("web") && l.contains("Up ")), "{ps}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(ok(&w.md(&["logs", "web"])), "started");
    let hostname = ok(&w.md(&["exec", "web", "sh", "-c", "echo in-$HOSTNAME"]));
    assert_eq!(hostname, format!("in-{}", &id[..12]));
    assert_eq!(w.md(&["exec", "web", "false"]).status.code(), Some(1));
    assert_eq!(ok(&w.md(&["stop", "-t", "1", "web"])), "web");
    assert_eq!(ok(&w.md(&["ps", "-q"])), "");
    let all = ok(&w.md(&["ps", "-a"]));
    assert!(all.contains("Exited (137)"), "sh ignores SIGTERM as PID 1: {all}");
    let stopped = w.md(&["exec", "web", "true"]);
    assert!(stderr(&stopped).contains("is not running"), "{}", stderr(&stopped));
    assert_eq!(ok(&w.md(&["rm", "web"])), "web");
    assert_eq!(w.containers(), 0);
}

#[test]
fn options_end_at_the_image_and_at_the_container() {
    if !require_root("options_end_at_the_image_and_at_the_container") {
        return;
    }
    let w = world();
    let run = |args: &[&str]| ok(&w.md(&[&["run", "--rm"], args].concat()));
    assert_eq!(run(&["--entrypoint", "sh", "busybox", "-c", "echo hi"]), "hi");
    assert_eq!(run(&["busybox", "echo", "X", "-e", "-m", "--", "-c"]), "X -e -m -- -c");
    assert_eq!(run(&["-e", "A=1", "busybox", "sh", "-c", "echo $A"]), "1");
    assert_eq!(run(&["--", "busybox", "echo", "after", "--"]), "after --");
    let unknown = w.md(&["run", "--bogus", "busybox"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", stderr(&unknown));
    assert!(stderr(&unknown).contains("unexpected argument '--bogus'"));
    let id = ok(&w.md(&["run", "-d", "busybox", "sleep", "100"]));
    assert_eq!(ok(&w.md(&["exec", &id, "echo", "X", "-e", "-i", "--"])), "X -e -i --");
    assert_eq!(ok(&w.md(&["exec", "-e", "B=2", &id, "sh", "-c", "echo $B"])), "2");
    ok(&w.md(&["rm", "-f", &id]));
}

#[test]
fn interactive_stdin_reaches_the_container() {
    if !require_root("interactive_stdin_reaches_the_container") {
        return;
    }
    let w = world();
    let mut cmd = w.cmd(&["run", "-i", "--rm", "busybox", "sh", "-c", "tr a-z A-Z; exit 4"]);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"hello from stdin\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "HELLO FROM STDIN");
}
