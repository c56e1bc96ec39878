//! Chapter 8 demo end to end: the walls around a command on the host's
//! filesystem, remapped ids, and rootless runs as a normal user.

use std::process::Command;

use testkit::{require_root, run, stderr, stdout};

const DEMO: &str = env!("CARGO_BIN_EXE_ch08-security");

fn demo(args: &[&str]) -> Command {
    let mut cmd = Command::new(DEMO);
    cmd.args(args);
    cmd
}

#[test]
fn root_in_the_walls_has_13_capabilities_and_no_mount() {
    if !require_root("root_in_the_walls_has_13_capabilities_and_no_mount") {
        return;
    }
    let out = run(&mut demo(&[
        "--",
        "sh",
        "-c",
        "grep CapEff /proc/self/status; mount -t tmpfs none /tmp && echo MOUNTED",
    ]));
    // Docker's 14 minus CAP_MKNOD: the demo has no device cgroup to pair it with.
    assert_eq!(stdout(&out), "CapEff:\t00000000a00425fb");
    assert!(!stderr(&out).is_empty());
    let privileged = run(&mut demo(&[
        "--privileged",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs none /tmp && echo MOUNTED",
    ]));
    assert_eq!(stdout(&privileged), "MOUNTED");
}

#[test]
fn print_filter_shows_the_program() {
    let out = run(&mut demo(&["--print-filter"]));
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.contains("capabilities (13)"), "{text}");
    assert!(text.contains("calls refused: mount umount2"), "{text}");
    let unconfined =
        stdout(&run(&mut demo(&["--print-filter", "--security-opt", "seccomp=unconfined"])));
    assert!(unconfined.contains("seccomp: unconfined"));
}

#[test]
fn remapped_root_is_an_unprivileged_uid_on_the_host() {
    if !require_root("remapped_root_is_an_unprivileged_uid_on_the_host") {
        return;
    }
    let dir = testkit::temp_dir();
    let subid = dir.path().join("subid");
    std::fs::write(&subid, "mini-docker:231072:65536\n").unwrap();
    // Inside: root. Outside (/proc/self/uid_map's view): 231072.
    let out =
        run(demo(&["--userns-remap", "--", "sh", "-c", "id -u; cat /proc/self/uid_map; sleep 2"])
            .env("MINI_DOCKER_SUBUID", &subid)
            .env("MINI_DOCKER_SUBGID", &subid));
    let lines: Vec<String> =
        stdout(&out).lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    assert_eq!(lines, ["0", "0 231072 65536"], "{}", stderr(&out));
    let missing = run(demo(&["--userns-remap", "nobody-here", "--", "true"])
        .env("MINI_DOCKER_SUBUID", &subid)
        .env("MINI_DOCKER_SUBGID", &subid));
    assert_eq!(missing.status.code(), Some(125));
    assert_eq!(stderr(&missing).lines().count(), 1);
    assert!(
        stderr(&missing)
            .starts_with("ch08-security: --userns-remap nobody-here: no entry for \"nobody-here\""),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_normal_user_runs_rootless_behind_the_same_walls() {
    if !require_root("a_normal_user_runs_rootless_behind_the_same_walls")
        || !testkit::require_program(
            "a_normal_user_runs_rootless_behind_the_same_walls",
            "setpriv",
            "util-linux",
        )
    {
        return;
    }
    // setpriv drops us to nobody; the demo then needs no privilege at all.
    let out = run(Command::new("setpriv").args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        DEMO,
        "--",
        "sh",
        "-c",
        "id -u; grep CapEff /proc/self/status; unshare -U true || echo REFUSED",
    ]));
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        ["0", "CapEff:\t00000000a00425fb", "REFUSED"],
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_are_one_line() {
    for (args, expected) in [
        (&["--cap-add", "FLY", "--", "true"][..], "ch08-security: unknown capability \"FLY\""),
        (
            &["--security-opt", "seccomp=", "--", "true"][..],
            "ch08-security: invalid --security-opt \"seccomp=\"",
        ),
    ] {
        let out = run(&mut demo(args));
        assert_eq!(out.status.code(), Some(125));
        assert_eq!(stderr(&out).lines().count(), 1);
        assert!(stderr(&out).starts_with(expected), "{}", stderr(&out));
    }
}

#[test]
fn explain_narrates_each_wall() {
    if !require_root("explain_narrates_each_wall") {
        return;
    }
    let out = run(&mut demo(&["--explain", "--", "true"]));
    let text = stderr(&out);
    for expected in [
        "lower the bounding set",
        "install the seccomp filter",
        "keep 13 capabilities",
        "not dumpable",
        "book:    ch08-security.md#seccomp",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in {text}");
    }
}
