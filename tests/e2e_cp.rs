//! `cp` and the links inside a container, end to end and in both modes:
//! a link to `/`, to `../../..` or to a host path is followed inside the
//! container's root, reading out and writing in, as `docker cp` does; a
//! write through such a link never makes a file on the host; two copies of
//! one stopped container at once both succeed. Then the same with the real
//! `docker` CLI against mini-dockerd.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

/// A host directory with a file `secret`, and the container `box` whose
/// `/data` holds links to `/`, to `../../..` and to that host directory.
fn box_with_links(w: &World) -> PathBuf {
    let outside = w.root.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret"), "HOST\n").unwrap();
    let script = format!(
        "mkdir -p /data /srv; echo inside > /srv/f; ln -s / /data/up; \
         ln -s ../../.. /data/dots; ln -s {} /data/hostdir; sleep 100",
        outside.display()
    );
    ok(&w.md(&["run", "-d", "--name", "box", "busybox", "sh", "-c", &script]));
    std::thread::sleep(std::time::Duration::from_millis(300));
    outside
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn fails_with(out: &Output, text: &str) {
    assert!(!out.status.success() && stderr(out).contains(text), "{}{}", stdout(out), stderr(out));
}

/// Out and in through each link, with `cp` (either `mini-docker cp` or
/// `docker cp`) run by `cp`; `exec` reads a file in the container.
fn links_stay_inside(
    cp: &dyn Fn(&[&str]) -> Output,
    exec: &dyn Fn(&str) -> String,
    outside: &Path,
    host: &Path,
) {
    for via in ["/data/up/srv/f", "/data/dots/srv/f"] {
        let out = host.join(via.replace('/', "_"));
        ok(&cp(&[&format!("box:{via}"), s(&out)]));
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "inside\n", "{via}");
    }
    let secret = host.join("secret");
    fails_with(&cp(&["box:/data/hostdir/secret", s(&secret)]), "Could not find the file");
    assert!(!secret.exists(), "a host file came out through the container's link");

    std::fs::write(host.join("new"), "from the host\n").unwrap();
    ok(&cp(&[s(&host.join("new")), "box:/data/up/tmp/"]));
    assert_eq!(exec("/tmp/new"), "from the host");
    ok(&cp(&[s(&host.join("new")), "box:/data/dots/"]));
    assert_eq!(exec("/new"), "from the host");
    let planted = cp(&[s(&host.join("new")), "box:/data/hostdir/planted"]);
    assert!(!planted.status.success(), "{}", stdout(&planted));
    assert!(!outside.join("planted").exists(), "cp wrote through a link onto the host");
    assert_eq!(std::fs::read_dir(outside).unwrap().count(), 1);
}

#[test]
fn cp_follows_links_inside_the_root_never_out() {
    if !require_root("cp_follows_links_inside_the_root_never_out") {
        return;
    }
    let w = World::new(BIN);
    let outside = box_with_links(&w);
    let host = w.root.path().join("host");
    std::fs::create_dir(&host).unwrap();
    let cp = |args: &[&str]| w.md(&[&["cp"], args].concat());
    let exec = |path: &str| ok(&w.md(&["exec", "box", "cat", path]));
    links_stay_inside(&cp, &exec, &outside, &host);

    // Stopped: the same links, through the root mounted for the copy.
    ok(&w.md(&["stop", "-t", "1", "box"]));
    let stopped = host.join("stopped");
    ok(&cp(&["box:/data/up/srv/f", s(&stopped)]));
    assert_eq!(std::fs::read_to_string(&stopped).unwrap(), "inside\n");
    let planted = cp(&[s(&host.join("new")), "box:/data/hostdir/planted"]);
    assert!(!planted.status.success(), "{}", stdout(&planted));
    assert!(!outside.join("planted").exists());
}

#[test]
fn two_copies_of_one_stopped_container_at_once() {
    if !require_root("two_copies_of_one_stopped_container_at_once") {
        return;
    }
    let w = World::new(BIN);
    box_with_links(&w);
    ok(&w.md(&["stop", "-t", "1", "box"]));
    let host = w.root.path().join("host");
    std::fs::create_dir(&host).unwrap();
    std::fs::write(host.join("in"), "written while another copy reads\n").unwrap();
    for round in 0..3 {
        let out = host.join(format!("out{round}"));
        let mut reading = w.cmd(&["cp", "box:/srv", s(&out)]);
        let mut writing = w.cmd(&["cp", s(&host.join("in")), &format!("box:/srv/in{round}")]);
        let piped = |c: &mut std::process::Command| {
            c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        };
        let (reading, writing) = (piped(&mut reading), piped(&mut writing));
        ok(&reading.wait_with_output().unwrap());
        ok(&writing.wait_with_output().unwrap());
        assert_eq!(std::fs::read_to_string(out.join("f")).unwrap(), "inside\n");
    }
    let back = host.join("back");
    ok(&w.md(&["cp", "box:/srv/in2", s(&back)]));
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "written while another copy reads\n");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(s(w.root.path())), "a copy left a mount behind:\n{mounts}");
}

#[test]
fn docker_cp_follows_links_inside_the_root_never_out() {
    let test = "docker_cp_follows_links_inside_the_root_never_out";
    if !require_root(test) || !testkit::require_program(test, "docker", "docker.io") {
        return;
    }
    let w = World::with_daemon(BIN);
    let outside = box_with_links(&w);
    let host = w.root.path().join("host");
    std::fs::create_dir(&host).unwrap();
    let socket = format!("unix://{}", w.socket().expect("a daemon").display());
    let docker = |args: &[&str]| {
        let mut command = std::process::Command::new("docker");
        command.arg("-H").arg(&socket).args(args).env_remove("DOCKER_HOST");
        testkit::run(command.env("DOCKER_CONFIG", w.root.path().join("docker-config")))
    };
    let cp = |args: &[&str]| docker(&[&["cp"], args].concat());
    let exec = |path: &str| ok(&docker(&["exec", "box", "cat", path]));
    links_stay_inside(&cp, &exec, &outside, &host);
}
