//! Chapter 8 end to end: `--userns-remap`. The container's root is root
//! inside its user namespace and an unprivileged uid of the host outside:
//! each test checks one side of that, through the CLI as a user runs it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");
/// The range the tests' subordinate id files give the user `mini-docker`.
const START: u32 = 300000;

/// A world whose `mini-docker` reads its own subuid and subgid files.
struct Remapped {
    world: World,
    subid: tempfile::TempDir,
}

impl Remapped {
    fn new() -> Remapped {
        let subid = testkit::temp_dir();
        std::fs::write(subid.path().join("subuid"), format!("# ours\nmini-docker:{START}:65536\n"))
            .unwrap();
        std::fs::write(
            subid.path().join("subgid"),
            format!("mini-docker:{}:65536\n", START + 100000),
        )
        .unwrap();
        let (uid, gid) = (subid.path().join("subuid"), subid.path().join("subgid"));
        let env = [
            ("MINI_DOCKER_SUBUID", uid.to_str().unwrap()),
            ("MINI_DOCKER_SUBGID", gid.to_str().unwrap()),
        ];
        // Through a daemon, remapping is the daemon's setting, as dockerd's.
        let world = World::with_daemon_options(BIN, &["--userns-remap", "default"], &env);
        Remapped { world, subid }
    }

    fn md_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.world.cmd(args);
        cmd.env("MINI_DOCKER_SUBUID", self.subid.path().join("subuid"));
        cmd.env("MINI_DOCKER_SUBGID", self.subid.path().join("subgid"));
        cmd.envs(env.iter().copied());
        testkit::run(&mut cmd)
    }

    fn md(&self, args: &[&str]) -> Output {
        self.md_env(args, &[])
    }

    /// `run --rm --userns-remap [flags] busybox sh -c script`.
    fn sh(&self, flags: &[&str], script: &str) -> Output {
        let mut args = vec!["run", "--rm", "--userns-remap"];
        args.extend(flags);
        args.extend(["busybox", "sh", "-c", script]);
        self.md(&args)
    }
}

/// The `Uid:` and `Gid:` lines of a host process, as the host sees them.
fn host_ids(pid: &str) -> (u32, u32) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let id = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (id("Uid:"), id("Gid:"))
}

fn owner(path: &Path) -> (u32, u32) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (meta.uid(), meta.gid())
}

#[test]
fn root_inside_is_an_unprivileged_uid_outside() {
    if !require_root("root_inside_is_an_unprivileged_uid_outside") {
        return;
    }
    let r = Remapped::new();
    let inside =
        ok(&r.sh(&[], "id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map | tr -s ' '"));
    assert_eq!(
        inside.lines().collect::<Vec<_>>(),
        ["0", "0", " 0 300000 65536", " 0 400000 65536"]
    );

    ok(&r.md(&["run", "-d", "--name", "box", "--userns-remap", "busybox", "sleep", "60"]));
    let inspect: serde_json::Value = serde_json::from_str(&ok(&r.md(&["inspect", "box"]))).unwrap();
    let pid = inspect[0]["State"]["Pid"].to_string();
    assert_eq!(
        host_ids(&pid),
        (START, START + 100000),
        "the host sees the range's first ids, not root"
    );
    // exec joins the user namespace first, and is the same nobody outside.
    let exec = ok(&r.md(&["exec", "box", "sh", "-c", "id -u; cat /proc/self/uid_map | tr -s ' '"]));
    assert_eq!(exec.lines().collect::<Vec<_>>(), ["0", " 0 300000 65536"]);
    let remap = &inspect[0]["HostConfig"]["UsernsRemap"];
    assert_eq!(
        (remap["User"].as_str(), remap["UidMap"].as_str()),
        (Some("mini-docker"), Some("0 300000 65536"))
    );
    assert_eq!(inspect[0]["Driver"], "vfs", "a remapped container's root is a shifted copy");
}

#[test]
fn a_remapped_container_and_its_exec_are_in_its_cgroups() {
    if !require_root("a_remapped_container_and_its_exec_are_in_its_cgroups") {
        return;
    }
    // On cgroup v1 the child moves itself, from inside its user namespace,
    // through files its parent opened: the opener's credentials count.
    let r = Remapped::new();
    ok(&r.md(&["run", "-d", "--name", "held", "--userns-remap", "busybox", "sleep", "60"]));
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&r.md(&["inspect", "held"]))).unwrap();
    let (pid, id) = (inspect[0]["State"]["Pid"].to_string(), inspect[0]["Id"].as_str().unwrap());
    let listing = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert!(listing.lines().any(|l| l.ends_with(id)), "PID 1 is not in its cgroup:\n{listing}");
    let exec = ok(&r.md(&["exec", "held", "cat", "/proc/self/cgroup"]));
    let first = ok(&r.md(&["exec", "held", "cat", "/proc/1/cgroup"]));
    assert_eq!(exec, first, "the exec'd process is not where PID 1 is");
}

#[test]
fn the_container_root_owns_its_files_but_not_the_hosts() {
    if !require_root("the_container_root_owns_its_files_but_not_the_hosts") {
        return;
    }
    let r = Remapped::new();
    // A state root like /var/lib/docker: nobody else may enter, at first.
    std::fs::set_permissions(r.world.root.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let secret_dir = testkit::temp_dir();
    let secret = secret_dir.path().join("secret");
    std::fs::write(&secret, "host root only\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::set_permissions(secret_dir.path(), std::fs::Permissions::from_mode(0o711)).unwrap();
    let bind = format!("{}:/secret", secret.display());

    // Without a user namespace, root in the container reads it.
    let plain =
        r.world.md(&["run", "--rm", "--userns=host", "-v", &bind, "busybox", "cat", "/secret"]);
    assert_eq!(ok(&plain), "host root only");
    // Remapped: its own root, /etc/hosts and a new volume are writable; the host's file is not.
    let script = "touch /made && echo ROOT; echo '10.0.0.9 extra' >> /etc/hosts && echo HOSTS; \
                  echo v > /data/file && echo VOLUME; ls -ln /made | tr -s ' ' | cut -d' ' -f3,4; cat /secret";
    let out = r.sh(&["--name", "owner", "-v", "mdtestdata:/data", "-v", &bind], script);
    assert_eq!(
        stdout(&out).lines().collect::<Vec<_>>(),
        ["ROOT", "HOSTS", "VOLUME", "0 0"],
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stderr(&out).contains("can't open '/secret': Permission denied"), "{}", stderr(&out));
    let volume: serde_json::Value =
        serde_json::from_str(&ok(&r.md(&["volume", "inspect", "mdtestdata"]))).unwrap();
    let data = PathBuf::from(volume[0]["Mountpoint"].as_str().unwrap());
    assert_eq!(
        owner(&data.join("file")),
        (START, START + 100000),
        "the volume's files belong to the range"
    );
    assert_eq!(
        std::fs::metadata(r.world.root.path()).unwrap().mode() & 0o777,
        0o701,
        "the state root: searchable, not listable, by the range"
    );
}

#[test]
fn a_remapped_container_keeps_its_writes_across_restarts_and_reaches_its_network() {
    if !require_root(
        "a_remapped_container_keeps_its_writes_across_restarts_and_reaches_its_network",
    ) {
        return;
    }
    let r = Remapped::new();
    let script = "cat /count 2>/dev/null; echo x >> /count; ping -c 1 -W 2 $(ip route | awk '/default/ {print $3}') >/dev/null && echo PING";
    ok(&r.md(&["create", "--name", "again", "--userns-remap", "busybox", "sh", "-c", script]));
    assert_eq!(ok(&r.md(&["start", "-a", "again"])), "PING");
    assert_eq!(ok(&r.md(&["start", "-a", "again"])), "x\nPING");
    // /dev/null is the host's device, bound in: mknod is refused in a user namespace.
    let devices = ok(&r.sh(&[], "echo gone > /dev/null && head -c 4 /dev/zero | wc -c"));
    assert_eq!(devices, "4");
}

#[test]
fn the_variable_turns_remapping_on_for_all_and_userns_host_off_for_one() {
    if !require_root("the_variable_turns_remapping_on_for_all_and_userns_host_off_for_one") {
        return;
    }
    let r = Remapped::new();
    let map = "cat /proc/self/uid_map | tr -s ' '";
    let everywhere = [("MINI_DOCKER_USERNS_REMAP", "default")];
    let on = r.md_env(&["run", "--rm", "busybox", "sh", "-c", map], &everywhere);
    assert_eq!(ok(&on), "0 300000 65536");
    let off = r.md_env(&["run", "--rm", "--userns=host", "busybox", "sh", "-c", map], &everywhere);
    assert_eq!(ok(&off), "0 0 4294967295");
}

#[test]
fn bad_userns_flags_are_one_clear_line() {
    if !require_root("bad_userns_flags_are_one_clear_line") {
        return;
    }
    let r = Remapped::new();
    // A directory only the host's root may enter (mode 0700), with one inside.
    let closed = testkit::temp_dir();
    std::fs::create_dir(closed.path().join("inner")).unwrap();
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let closed_bind = format!("{}/inner:/x", closed.path().display());
    let closed_message = format!(
        "mini-docker: --userns-remap: the container's root (host uid 300000) cannot reach {}/inner: {} is mode 700",
        closed.path().display(),
        closed.path().display()
    );
    let bob = match r.world.through_daemon() {
        false => "mini-docker: --userns-remap bob: no entry for \"bob\" in ",
        true => "mini-docker: --userns-remap bob: the daemon remaps every container to mini-docker's range, not bob's",
    };
    let cases: [(&[&str], &str); 5] = [
        (&["--userns-remap=bob"], bob),
        (
            &["--userns-remap", "--privileged"],
            "mini-docker: --privileged cannot be combined with --userns-remap",
        ),
        (
            &["--userns-remap", "--network", "host"],
            "mini-docker: --network host cannot be combined with --userns-remap",
        ),
        (
            &["--userns", "private"],
            "mini-docker: invalid --userns \"private\": the only mode is \"host\"",
        ),
        (&["--userns-remap", "-v", &closed_bind], &closed_message),
    ];
    for (flags, expected) in cases {
        let mut args = vec!["run", "--rm"];
        args.extend(flags);
        args.extend(["busybox", "true"]);
        let out = r.md(&args);
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).starts_with(expected), "{flags:?}: {}", stderr(&out));
    }
    // No subordinate id files at all: the message says what to create
    // (through a daemon, the daemon read them when it started).
    if r.world.through_daemon() {
        return;
    }
    let mut cmd = r.world.cmd(&["run", "--rm", "--userns-remap", "busybox", "true"]);
    cmd.env("MINI_DOCKER_SUBUID", "/nonexistent/mdtest-subuid");
    let out = testkit::run(&mut cmd);
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out)
            .starts_with("mini-docker: --userns-remap: cannot read /nonexistent/mdtest-subuid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        stdout(&r.world.md(&["ps", "-a", "-q"])),
        "",
        "a refused create leaves no container"
    );
}
