//! The chapter 6 demo as a user runs it: a command in its own network
//! namespace on a bridge of the test's own, with `--explain`.

use std::process::{Command, Output};

use testkit::{require_root, run, stderr, stdout};

fn demo(root: &std::path::Path, bridge: &str, subnet: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch06-networking"));
    cmd.arg("--root")
        .arg(root)
        .args(args)
        .env("MINI_DOCKER_BRIDGE", bridge)
        .env("MINI_DOCKER_SUBNET", subnet);
    run(&mut cmd)
}

#[test]
fn demo_connects_a_command_to_a_bridge_and_cleans_up() {
    if !require_root("demo_connects_a_command_to_a_bridge_and_cleans_up") {
        return;
    }
    let (root, bridge, subnet) =
        (testkit::temp_dir(), testkit::unique("br"), testkit::network::unique_subnet());
    let out = demo(
        root.path(),
        &bridge,
        &subnet,
        &["--explain", "run", "--", "ip", "-o", "-4", "addr", "show", "eth0"],
    );
    let pruned_anyway = || demo(root.path(), &bridge, &subnet, &["network", "prune"]);
    if !out.status.success() {
        pruned_anyway();
        panic!("{}", stderr(&out));
    }
    let gateway_prefix = &subnet[..subnet.rfind('.').unwrap()];
    assert!(stdout(&out).contains(&format!("inet {gateway_prefix}.2/24")), "{}", stdout(&out));
    let explained = stderr(&out);
    for shell in [
        format!("ip link add {bridge} type bridge"),
        "type veth peer name eth0 netns".to_string(),
        "ip route add default via".to_string(),
        "-j MASQUERADE".to_string(),
    ] {
        assert!(explained.contains(&shell), "--explain does not show {shell:?}:\n{explained}");
    }
    // The demo keeps the host's /sys, so ask the kernel with `ip`, not sysfs.
    let none = demo(
        root.path(),
        &bridge,
        &subnet,
        &["run", "--network", "none", "--", "ip", "-o", "link"],
    );
    let links: Vec<String> = stdout(&none)
        .lines()
        .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        .collect();
    assert_eq!(links, ["lo"], "{}", stderr(&none));
    let pruned = demo(root.path(), &bridge, &subnet, &["network", "prune"]);
    assert_eq!(stdout(&pruned), "bridge");
    testkit::assert_no_leftovers(&bridge);
}

#[test]
fn demo_refuses_an_unknown_network_in_one_line() {
    if !require_root("demo_refuses_an_unknown_network_in_one_line") {
        return;
    }
    let root = testkit::temp_dir();
    let out = demo(
        root.path(),
        "mdtestunused",
        "10.199.0.0/24",
        &["run", "--network", "mdtestnosuch", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).starts_with("ch06-networking: network mdtestnosuch not found"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
}
