//! Chapter 1 end to end: the demo binary, run as root, observed from inside
//! the new namespaces and from the host.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{require_root, run, stderr, stdout};

fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ch01-namespaces"))
}

fn sh(script: &str) -> std::process::Output {
    run(demo().args(["--hostname", "box", "/bin/sh", "-c", script]))
}

#[test]
fn hostname_is_the_containers_and_host_is_unchanged() {
    if !require_root("hostname_is_the_containers_and_host_is_unchanged") {
        return;
    }
    let host_before = nix::unistd::gethostname().unwrap();
    let out = sh("hostname");
    assert_eq!(stdout(&out), "box");
    assert_ne!(host_before.to_str().unwrap(), "box");
    assert_eq!(nix::unistd::gethostname().unwrap(), host_before, "the host's hostname changed");
}

#[test]
fn command_is_pid_1() {
    if !require_root("command_is_pid_1") {
        return;
    }
    assert_eq!(stdout(&sh("echo $$")), "1");
}

#[test]
fn ps_sees_only_the_containers_processes() {
    if !require_root("ps_sees_only_the_containers_processes") {
        return;
    }
    let out = sh("ps -e -o pid=,comm=");
    let pids: Vec<String> =
        stdout(&out).lines().map(|l| l.split_whitespace().next().unwrap().to_string()).collect();
    assert_eq!(pids, ["1", "2"], "ps output:\n{}", stdout(&out));
}

#[test]
fn command_starts_with_no_signal_ignored_or_blocked() {
    if !require_root("command_starts_with_no_signal_ignored_or_blocked") {
        return;
    }
    let out = sh("exec grep -E '^Sig(Ign|Blk)' /proc/self/status");
    assert_eq!(stdout(&out), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000");
    // SIGPIPE at its default: the writer of a closed pipe ends quietly.
    let out = sh("yes | head -n 1");
    assert_eq!((stdout(&out).as_str(), stderr(&out).as_str()), ("y", ""));
}

#[test]
fn network_namespace_has_only_lo() {
    if !require_root("network_namespace_has_only_lo") {
        return;
    }
    // Not /sys/class/net: sysfs shows the network namespace of whoever
    // mounted it, and here that is still the host's (chapter 3 remounts it).
    let out = sh("ip -o link show | cut -d: -f2");
    let text = stdout(&out);
    let links: Vec<&str> = text.split_whitespace().collect();
    assert!(links.iter().all(|l| *l == "lo"), "links: {links:?}");
    assert!(links.contains(&"lo"));
}

#[test]
fn host_mount_table_is_unchanged() {
    if !require_root("host_mount_table_is_unchanged") {
        return;
    }
    let proc_mounts = || {
        std::fs::read_to_string("/proc/self/mountinfo")
            .unwrap()
            .lines()
            .filter(|l| l.contains(" /proc "))
            .count()
    };
    let before = proc_mounts();
    assert!(sh("mount | grep -c proc").status.success());
    assert_eq!(proc_mounts(), before, "a /proc mount leaked to the host");
}

#[test]
fn exit_codes_propagate() {
    if !require_root("exit_codes_propagate") {
        return;
    }
    assert_eq!(sh("exit 0").status.code(), Some(0));
    assert_eq!(sh("exit 3").status.code(), Some(3));
}

#[test]
fn sigkill_from_the_host_gives_137() {
    if !require_root("sigkill_from_the_host_gives_137") {
        return;
    }
    let mut tool =
        demo().args(["/bin/sh", "-c", "sleep 30"]).stdout(Stdio::null()).spawn().unwrap();
    let container = wait_for_child_of(tool.id());
    nix::sys::signal::kill(container, nix::sys::signal::Signal::SIGKILL).unwrap();
    assert_eq!(tool.wait().unwrap().code(), Some(137));
}

#[test]
fn sigkill_inside_reaches_the_command_under_init() {
    if !require_root("sigkill_inside_reaches_the_command_under_init") {
        return;
    }
    // Without --init the command is PID 1, and the kernel ignores a SIGKILL
    // it sends itself; under our init it is PID 2 and dies as usual.
    let out = run(demo().args(["--init", "/bin/sh", "-c", "kill -9 $$"]));
    assert_eq!(out.status.code(), Some(137));
}

#[test]
fn init_reaps_orphans() {
    if !require_root("init_reaps_orphans") {
        return;
    }
    // The inner sh exits at once, orphaning `sleep`; it is re-parented to PID 1.
    let script = "sh -c 'sleep 0.2 &' ; sleep 0.6; ps -e -o stat=,comm= | grep -c Z || true";
    let out = run(demo().args(["--init", "/bin/sh", "-c", script]));
    assert_eq!(stdout(&out), "0", "zombies under --init: {}", stdout(&out));
}

#[test]
fn signals_sent_to_the_tool_reach_the_container() {
    if !require_root("signals_sent_to_the_tool_reach_the_container") {
        return;
    }
    // PID 1 only gets signals it handles, so the script traps TERM.
    let script = "trap 'echo got-term; exit 42' TERM; echo ready; while true; do sleep 0.1; done";
    let tool = demo().args(["/bin/sh", "-c", script]).stdout(Stdio::piped()).spawn().unwrap();
    wait_for_child_of(tool.id());
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(tool.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let out = tool.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(42));
    assert!(String::from_utf8_lossy(&out.stdout).contains("got-term"));
}

#[test]
fn missing_command_is_127_with_one_clear_line() {
    if !require_root("missing_command_is_127_with_one_clear_line") {
        return;
    }
    let out = run(demo().arg("no-such-command"));
    assert_eq!(out.status.code(), Some(127));
    assert_eq!(
        stderr(&out),
        "ch01-namespaces: exec \"no-such-command\": executable file not found in $PATH"
    );
}

#[test]
fn directory_as_command_is_126() {
    if !require_root("directory_as_command_is_126") {
        return;
    }
    let out = run(demo().arg("/tmp"));
    assert_eq!(out.status.code(), Some(126));
    assert_eq!(stderr(&out), "ch01-namespaces: exec \"/tmp\": is a directory");
}

#[test]
fn invalid_hostname_is_rejected_before_anything_is_created() {
    let out = run(demo().args(["--hostname", "no_underscores", "true"]));
    assert_eq!(out.status.code(), Some(125));
    assert_eq!(stderr(&out).lines().count(), 1);
    assert!(stderr(&out).contains("invalid hostname"));
}

#[test]
fn explain_narrates_clone_and_mounts() {
    if !require_root("explain_narrates_clone_and_mounts") {
        return;
    }
    let out = run(demo().args(["--explain", "--hostname", "box", "true"]));
    let text = stderr(&out);
    assert!(text.contains("clone(CLONE_NEW"), "{text}");
    assert!(text.contains("shell:   unshare --uts --pid"), "{text}");
    assert!(text.contains("shell:   hostname box"), "{text}");
    assert!(text.contains("shell:   mount -t proc"), "{text}");
}

#[test]
fn user_namespace_maps_root_to_the_caller() {
    if !require_root("user_namespace_maps_root_to_the_caller") {
        return;
    }
    // Run as an unprivileged user: the user namespace is what makes it work.
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_ch01-namespaces"))
        .args(["--user-ns", "/bin/sh", "-c", "id -u; cat /proc/self/uid_map"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("0"));
    assert_eq!(
        lines.next().map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["0", "65534", "1"])
    );
}

#[test]
fn without_root_and_without_user_namespace_says_needs_root() {
    if !require_root("without_root_and_without_user_namespace_says_needs_root") {
        return;
    }
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_ch01-namespaces"))
        .arg("true"));
    assert_eq!(out.status.code(), Some(125));
    assert!(stderr(&out).contains("needs root: run with sudo"), "{}", stderr(&out));
}

/// Wait until `parent` has a child process and return its pid.
fn wait_for_child_of(parent: u32) -> nix::unistd::Pid {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children"))
            .unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return nix::unistd::Pid::from_raw(pid.parse().unwrap());
        }
        assert!(Instant::now() < deadline, "the container process never appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}
