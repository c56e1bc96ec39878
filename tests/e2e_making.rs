//! Chapter 10's verbs in `mini-docker`, on the composed engine (networks,
//! volumes and walls plugged in): diff, commit, history, export, save, and
//! the saved image run again in another state root.

use std::process::Command;

use testkit::world::{ok, World};
use testkit::{require_root, run, stderr};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

#[test]
fn a_container_becomes_an_image_that_runs_elsewhere() {
    if !require_root("a_container_becomes_an_image_that_runs_elsewhere")
        || !testkit::images::tools_available("a_container_becomes_an_image_that_runs_elsewhere")
    {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "--name",
        "maker",
        "busybox",
        "sh",
        "-c",
        "echo made > /made; rm /etc/motd",
    ]));
    let diff = ok(&w.md(&["diff", "maker"]));
    assert_eq!(diff.lines().collect::<Vec<_>>(), ["C /etc", "D /etc/motd", "A /made"]);
    let id = ok(&w.md(&["commit", "-m", "made", "-c", "CMD cat /made", "maker", "mdtest/made:1"]));
    assert!(id.starts_with("sha256:"), "{id}");
    let history = ok(&w.md(&["history", "mdtest/made:1"]));
    assert!(history.lines().nth(1).is_some_and(|l| l.ends_with("made")), "{history}");
    let export = w.root.path().join("export.tar");
    ok(&w.md(&["export", "-o", export.to_str().unwrap(), "maker"]));
    let names = ok(&run(Command::new("tar").arg("-tf").arg(&export)));
    assert!(names.lines().any(|n| n == "made") && !names.lines().any(|n| n == "etc/motd"));
    for verb in [&["diff", "nosuch"][..], &["export", "nosuch"], &["commit", "nosuch"]] {
        let out = w.md(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    }

    let saved = w.root.path().join("made.tar");
    ok(&w.md(&["save", "-o", saved.to_str().unwrap(), "mdtest/made:1"]));
    let elsewhere = World::empty(BIN);
    let loaded = elsewhere.md(&["load", "-i", saved.to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert_eq!(ok(&elsewhere.md(&["run", "--rm", "mdtest/made:1"])), "made");
}

/// The real `docker` CLI against mini-dockerd: `diff`, `commit`, `export`
/// through chapter 10's routes, and moby's 404 for an unknown container.
#[test]
fn docker_cli_diff_commit_export() {
    let test = "docker_cli_diff_commit_export";
    if !require_root(test) || !testkit::require_program(test, "docker", "docker.io") {
        return;
    }
    let w = World::with_daemon(BIN);
    let docker = |args: &[&str]| {
        let socket = w.socket().expect("the world has a daemon");
        run(Command::new("docker")
            .arg("-H")
            .arg(format!("unix://{}", socket.display()))
            .args(args)
            .env("DOCKER_CONFIG", w.root.path().join("docker-config"))
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_API_VERSION"))
    };
    ok(&w.md(&[
        "run",
        "--name",
        "maker",
        "busybox",
        "sh",
        "-c",
        "echo made > /made; rm /etc/motd",
    ]));
    let diff = ok(&docker(&["diff", "maker"]));
    assert_eq!(diff.lines().collect::<Vec<_>>(), ["C /etc", "D /etc/motd", "A /made"]);
    let id =
        ok(&docker(&["commit", "-m", "made", "-c", "CMD cat /made", "maker", "mdtest/made:1"]));
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let cmd = ok(&docker(&["image", "inspect", "-f", "{{json .Config.Cmd}}", "mdtest/made:1"]));
    assert_eq!(cmd, r#"["/bin/sh","-c","cat /made"]"#);
    let history = ok(&docker(&["history", "mdtest/made:1"]));
    assert!(history.lines().nth(1).is_some_and(|l| l.ends_with("made")), "{history}");
    let export = w.root.path().join("export.tar");
    ok(&docker(&["export", "-o", export.to_str().unwrap(), "maker"]));
    let names = ok(&run(Command::new("tar").arg("-tf").arg(&export)));
    assert!(names.lines().any(|n| n == "made") && !names.lines().any(|n| n == "etc/motd"));
    for verb in [&["diff", "nosuch"][..], &["export", "nosuch"], &["commit", "nosuch"]] {
        let out = docker(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    }
}
