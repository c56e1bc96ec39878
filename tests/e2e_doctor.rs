//! `mini-docker doctor` on this host.

use std::process::Command;

use testkit::{require_root, run, stdout};

#[test]
fn doctor_reports_every_check_on_its_own_line() {
    if !require_root("doctor_reports_every_check_on_its_own_line") {
        return;
    }
    let out = run(Command::new(env!("CARGO_BIN_EXE_mini-docker")).arg("doctor"));
    let text = stdout(&out);
    for expected in [
        "running as root",
        "uts namespace",
        "pid namespace",
        "mnt namespace",
        "ipc namespace",
        "net namespace",
        "cgroups",
        "overlayfs",
        "user namespaces",
        "ip command",
        "iptables command",
    ] {
        assert!(text.lines().any(|l| l.contains(expected)), "no line for {expected:?} in:\n{text}");
    }
    // This is a test machine that runs containers: nothing essential may be missing.
    assert!(out.status.success(), "doctor found something missing:\n{text}");
    assert!(text
        .lines()
        .all(|l| l.starts_with("ok") || l.starts_with("warn") || l.starts_with("MISSING")));
}

#[test]
fn doctor_without_root_says_run_with_sudo() {
    if !require_root("doctor_without_root_says_run_with_sudo") {
        return;
    }
    let out = run(Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_mini-docker"))
        .arg("doctor"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("MISSING running as root -- run with sudo"), "{}", stdout(&out));
}
