//! Chapter 8 end to end: each wall of a default container, with the attack
//! that tries to climb it — and the same attack with `--privileged`, where
//! it gets past the wall (without ever harming the host: reads only).

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

use testkit::world::{ok, World};
use testkit::{require_root, run, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

/// `run --rm [flags] busybox sh -c script` in a world.
trait RunSh {
    fn sh(&self, flags: &[&str], script: &str) -> Output;
}

impl RunSh for World {
    fn sh(&self, flags: &[&str], script: &str) -> Output {
        let mut args = vec!["run", "--rm"];
        args.extend(flags);
        args.extend(["busybox", "sh", "-c", script]);
        self.md(&args)
    }
}

fn both(out: &Output) -> String {
    format!("{}\n{}", stdout(out), stderr(out))
}

#[test]
fn default_capabilities_are_dockers_and_flags_change_them() {
    if !require_root("default_capabilities_are_dockers_and_flags_change_them") {
        return;
    }
    let w = World::new(BIN);
    let caps = "grep -E 'Cap(Eff|Bnd|Inh|Amb)' /proc/self/status | tr -d '\\t'";
    let default = ok(&w.sh(&[], caps));
    assert_eq!(
        default.lines().collect::<Vec<_>>(),
        [
            "CapInh:0000000000000000",
            "CapEff:00000000a80425fb",
            "CapBnd:00000000a80425fb",
            "CapAmb:0000000000000000"
        ]
    );
    let only_chown =
        ok(&w.sh(&["--cap-drop", "ALL", "--cap-add", "chown"], "grep CapEff /proc/self/status"));
    assert!(only_chown.ends_with("0000000000000001"), "{only_chown}");
    let no_raw = ok(&w.sh(&["--cap-drop", "CAP_NET_RAW"], "grep CapBnd /proc/self/status"));
    assert!(no_raw.ends_with("00000000a80405fb"), "{no_raw}");
    // exec gets the container's walls too, and inspect shows the flags.
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "box",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "KILL",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "sleep",
        "60",
    ]));
    let exec = ok(&w.md(&[
        "exec",
        "box",
        "sh",
        "-c",
        "grep -E 'CapEff|NoNewPrivs' /proc/self/status | tr -d '\\t'",
    ]));
    assert_eq!(exec.lines().collect::<Vec<_>>(), ["CapEff:0000000000000020", "NoNewPrivs:1"]);
    let inspect: serde_json::Value = serde_json::from_str(&ok(&w.md(&["inspect", "box"]))).unwrap();
    let host = &inspect[0]["HostConfig"];
    assert_eq!(host["CapAdd"], serde_json::json!(["KILL"]));
    assert_eq!(host["CapDrop"], serde_json::json!(["ALL"]));
    assert_eq!(host["SecurityOpt"], serde_json::json!(["no-new-privileges"]));
    assert_eq!(
        (host["Privileged"].as_bool(), host["ReadonlyRootfs"].as_bool()),
        (Some(false), Some(false))
    );
}

#[test]
fn mounting_a_filesystem_fails_unless_privileged() {
    if !require_root("mounting_a_filesystem_fails_unless_privileged") {
        return;
    }
    let w = World::new(BIN);
    let attack = "mkdir -p /mnt && mount -t tmpfs none /mnt && echo MOUNTED";
    let refused = w.sh(&[], attack);
    assert_ne!(refused.status.code(), Some(0));
    assert!(!stdout(&refused).contains("MOUNTED"));
    assert!(stderr(&refused).contains("permission denied"), "{}", both(&refused));
    // CAP_SYS_ADMIN alone reopens mount in the filter too (Docker's rule).
    assert_eq!(ok(&w.sh(&["--cap-add", "SYS_ADMIN"], attack)), "MOUNTED");
    assert_eq!(ok(&w.sh(&["--privileged"], attack)), "MOUNTED");
}

#[test]
fn loading_a_kernel_module_is_refused_unless_privileged() {
    if !require_root("loading_a_kernel_module_is_refused_unless_privileged") {
        return;
    }
    let w = World::new(BIN);
    // Not a module at all: even with every privilege the kernel refuses to
    // load it. What matters is *why* it fails: EPERM is the wall.
    let attack = "echo 'not a module' > /tmp/m.ko; insmod /tmp/m.ko";
    let refused = w.sh(&[], attack);
    assert!(stderr(&refused).contains("Operation not permitted"), "{}", both(&refused));
    let disabled = std::fs::read_to_string("/proc/sys/kernel/modules_disabled")
        .map(|v| v.trim() == "1")
        .unwrap_or(false);
    if !disabled {
        let privileged = w.sh(&["--privileged"], attack);
        assert_ne!(privileged.status.code(), Some(0), "garbage must never load");
        assert!(!stderr(&privileged).contains("Operation not permitted"), "{}", both(&privileged));
    }
}

#[test]
fn proc_sys_is_read_only_and_kcore_is_masked() {
    if !require_root("proc_sys_is_read_only_and_kcore_is_masked") {
        return;
    }
    let w = World::new(BIN);
    // Writes back the value it read: the container's own UTS hostname.
    let attack = "cat /proc/sys/kernel/hostname > /tmp/h && cat /tmp/h > /proc/sys/kernel/hostname && echo WROTE";
    let refused = w.sh(&[], attack);
    assert!(stderr(&refused).contains("Read-only file system"), "{}", both(&refused));
    assert_eq!(ok(&w.sh(&["--privileged"], attack)), "WROTE");
    // A masked file: the first of Docker's list this kernel has.
    let masked = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    let probe = format!("stat -c %F {masked}; grep ' /proc/sys ' /proc/mounts | grep -o ' ro,'");
    assert_eq!(
        ok(&w.sh(&[], &probe)).lines().collect::<Vec<_>>(),
        ["character special file", " ro,"]
    );
    // Privileged: the real file (only its type is looked at).
    assert!(ok(&w.sh(&["--privileged"], &format!("stat -c %F {masked}"))).starts_with("regular"));
}

/// The host's root disk as `(major, minor)`; `None` when / is not on a
/// block device (an overlay inside another container, for example).
fn host_root_disk() -> Option<(u64, u64)> {
    let dev = std::fs::metadata("/").ok()?.dev();
    let (major, minor) = (nix::sys::stat::major(dev), nix::sys::stat::minor(dev));
    (major != 0).then_some((major, minor))
}

/// Can *this* process read the disk through a node of its own? Some hosts
/// (a VM's sandbox) forbid it even to root: then only our wall is checked.
fn host_can_read_disk_through_a_new_node(major: u64, minor: u64) -> bool {
    let dir = testkit::temp_dir();
    let node = dir.path().join("disk");
    let made = nix::sys::stat::mknod(
        &node,
        nix::sys::stat::SFlag::S_IFBLK,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        nix::sys::stat::makedev(major, minor),
    );
    made.is_ok() && std::fs::File::open(&node).is_ok()
}

#[test]
fn a_device_node_for_the_host_disk_cannot_be_read() {
    if !require_root("a_device_node_for_the_host_disk_cannot_be_read") {
        return;
    }
    let Some((major, minor)) = host_root_disk() else {
        testkit::precondition_missing(
            "a_device_node_for_the_host_disk_cannot_be_read",
            "/ is not on a block device",
        );
        return;
    };
    let w = World::new(BIN);
    let attack = format!("mknod /tmp/disk b {major} {minor} && head -c 512 /tmp/disk | wc -c");
    let refused = w.sh(&[], &attack);
    assert_eq!(stdout(&refused), "0", "{}", both(&refused));
    assert!(stderr(&refused).contains("Operation not permitted"), "{}", both(&refused));
    // The wall itself: the container's device cgroup lists only harmless devices.
    if std::path::Path::new("/sys/fs/cgroup/devices/devices.list").exists() {
        let id = ok(&w.md(&["run", "-d", "busybox", "sleep", "60"]));
        let list = std::fs::read_to_string(format!(
            "/sys/fs/cgroup/devices/{}/{id}/devices.list",
            w.cgroup_parent
        ))
        .unwrap();
        assert!(
            !list.contains("a *:* rwm") && list.contains("c 1:3 rwm") && list.contains("b *:* m"),
            "{list}"
        );
        ok(&w.md(&["rm", "-f", &id]));
    }
    if host_can_read_disk_through_a_new_node(major, minor) {
        assert_eq!(
            ok(&w.sh(&["--privileged"], &attack)),
            "512",
            "--privileged reads the disk (read only)"
        );
    } else {
        eprintln!("note: this host forbids reading its disk through a new node even to root; --privileged read not checked");
    }
}

#[test]
fn a_setuid_binary_cannot_raise_capabilities_back() {
    if !require_root("a_setuid_binary_cannot_raise_capabilities_back")
        || !testkit::require_program(
            "a_setuid_binary_cannot_raise_capabilities_back",
            "gcc",
            "gcc libc6-dev",
        )
    {
        return;
    }
    let dir = testkit::temp_dir();
    let probe = dir.path().join("probe");
    let source =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../chapters/08-security/tests/setuid_probe.c");
    let built = run(Command::new("gcc").args(["-static", "-O2", "-o"]).arg(&probe).arg(source));
    assert!(built.status.success(), "gcc: {}", stderr(&built));
    let w = World::new(BIN);
    let attack = |flags: &[&str]| {
        // The probe arrives on stdin, becomes setuid root, and runs as nobody.
        let script = "mkdir -p /tmp/s /mnt && cat > /tmp/s/probe && chmod 4755 /tmp/s/probe && su -s /bin/sh nobody -c /tmp/s/probe";
        let mut args = vec!["run", "-i", "--rm"];
        args.extend(flags);
        args.extend(["busybox", "sh", "-c", script]);
        let mut cmd = w.cmd(&args);
        cmd.stdin(std::fs::File::open(&probe).unwrap());
        ok(&run(&mut cmd)).lines().map(|l| l.replace('\t', "")).collect::<Vec<_>>()
    };
    // Root again, but only with the bounding set's 14 capabilities: no mount.
    assert_eq!(attack(&[]), ["euid=0", "CapEff:00000000a80425fb", "mount=Operation not permitted"]);
    // no_new_privs: the setuid bit is ignored altogether.
    assert_eq!(
        attack(&["--security-opt", "no-new-privileges"]),
        ["euid=65534", "CapEff:0000000000000000", "mount=Operation not permitted"]
    );
    assert_eq!(attack(&["--privileged"])[2], "mount=ok");
}

#[test]
fn seccomp_refuses_new_user_namespaces_unless_unconfined() {
    if !require_root("seccomp_refuses_new_user_namespaces_unless_unconfined") {
        return;
    }
    let w = World::new(BIN);
    // No capability is needed to create a user namespace: only seccomp stops it.
    let attack = "unshare -U true && echo UNSHARED";
    let refused = w.sh(&[], attack);
    assert!(stderr(&refused).contains("Operation not permitted"), "{}", both(&refused));
    assert_eq!(ok(&w.sh(&["--security-opt", "seccomp=unconfined"], attack)), "UNSHARED");
}

#[test]
fn nothing_reaches_the_hosts_root_through_proc() {
    if !require_root("nothing_reaches_the_hosts_root_through_proc") {
        return;
    }
    let w = World::new(BIN);
    let marker_dir = testkit::temp_dir();
    let secret = testkit::unique("secret");
    std::fs::write(marker_dir.path().join("marker"), &secret).unwrap();
    let host_path = marker_dir.path().join("marker");
    let script = format!(
        "for r in / /proc/[0-9]*/root/ /proc/[0-9]*/cwd/ /proc/self/fd/*/; do cat $r{0} $r../{0} 2>/dev/null; done; \
         ls /proc/1/root/ | tr '\\n' ' '; echo; ls / | tr '\\n' ' '",
        host_path.display()
    );
    let out = ok(&w.sh(&[], &script));
    assert!(!out.contains(&secret), "the host's file was reachable: {out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0].trim(), lines[1].trim(), "/proc/1/root is the container's root");
    // Under --init, PID 1 is our (not dumpable) init: its root is not even listable.
    let out = w.sh(&["--init"], &script);
    assert!(!stdout(&out).contains(&secret), "the host's file was reachable: {}", both(&out));
}

/// Open a directory of the host *without* close-on-exec, the way runc
/// leaked its fd to /sys/fs/cgroup: mini-docker inherits it.
fn leak_directory(dir: &Path) -> OwnedFd {
    nix::fcntl::open(
        dir,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
        nix::sys::stat::Mode::empty(),
    )
    .unwrap()
}

#[test]
fn a_leaked_directory_fd_as_workdir_is_refused() {
    if !require_root("a_leaked_directory_fd_as_workdir_is_refused") {
        return;
    }
    let w = World::new(BIN);
    let host_dir = testkit::temp_dir();
    let secret = testkit::unique("secret");
    std::fs::write(host_dir.path().join("marker"), &secret).unwrap();
    let leaked = leak_directory(host_dir.path());
    // CVE-2024-21626: `docker run -w /proc/self/fd/N` with N the leaked fd.
    let mut refused_leak = false;
    for n in 3..=20 {
        let workdir = format!("/proc/self/fd/{n}");
        let out = w.sh(&["-w", &workdir], "cat marker; pwd");
        assert!(!stdout(&out).contains(&secret), "-w {workdir} reached the host: {}", both(&out));
        // Through a daemon the leaked fd stays in this test's process: the
        // container is started by the daemon, which holds no such fd at all.
        if n == leaked.as_raw_fd() && !w.through_daemon() {
            assert_eq!(out.status.code(), Some(126), "{}", both(&out));
            assert!(stderr(&out).contains("outside of the container's root"), "{}", both(&out));
            refused_leak = true;
        }
    }
    assert!(
        refused_leak || w.through_daemon(),
        "the leaked fd {} was not among 3..=20",
        leaked.as_raw_fd()
    );
    // The same through exec, into a running container.
    ok(&w.md(&["run", "-d", "--name", "box", "busybox", "sleep", "60"]));
    let workdir = format!("/proc/self/fd/{}", leaked.as_raw_fd());
    let out = w.md(&["exec", "-w", &workdir, "c", "cat", "marker"]);
    assert!(!stdout(&out).contains(&secret), "exec -w {workdir} reached the host: {}", both(&out));
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn the_host_binary_is_out_of_reach_cve_2019_5736() {
    if !require_root("the_host_binary_is_out_of_reach_cve_2019_5736") {
        return;
    }
    let w = World::new(BIN);
    // Without --init, PID 1 is the container's own program: we exec'd it.
    assert_eq!(ok(&w.sh(&[], "readlink /proc/1/exe")), "/bin/busybox");
    // With --init, PID 1 is a fork of mini-docker: not dumpable, so closed.
    let init = w.sh(&["--init"], "readlink /proc/1/exe; cat /proc/1/exe > /dev/null");
    assert!(stdout(&init).is_empty(), "{}", both(&init));
    assert!(stderr(&init).contains("Permission denied"), "{}", both(&init));
    // With every privilege the link opens — onto a sealed in-memory copy,
    // never the binary on the host's disk; and it cannot be written.
    let privileged = w.sh(
        &["--init", "--privileged"],
        "readlink /proc/1/exe; echo evil >> /proc/1/exe || echo REFUSED",
    );
    let out = stdout(&privileged);
    assert!(out.starts_with("/memfd:mini-docker-sealed"), "{}", both(&privileged));
    assert!(out.ends_with("REFUSED"), "{}", both(&privileged));
    // A `#!/proc/self/exe` script exec'd by `mini-docker exec` runs the sealed copy too.
    ok(&w.md(&["run", "-d", "--name", "box", "busybox", "sleep", "60"]));
    ok(&w.md(&["exec", "box", "sh", "-c", "printf '#!/proc/self/exe\\n' > /x && chmod +x /x"]));
    let before = std::fs::read(env!("CARGO_BIN_EXE_mini-docker")).unwrap();
    let _ = w.md(&["exec", "box", "/x"]);
    assert!(
        std::fs::read(env!("CARGO_BIN_EXE_mini-docker")).unwrap() == before,
        "the host binary changed"
    );
}

#[test]
fn read_only_root() {
    if !require_root("read_only_root") {
        return;
    }
    let w = World::new(BIN);
    let out = w.sh(
        &["--read-only"],
        "touch /file; touch /dev/shm/ok && echo SHM; grep ' / ' /proc/mounts | grep -o ' ro,'",
    );
    assert!(stderr(&out).contains("Read-only file system"), "{}", both(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), ["SHM", " ro,"]);
    assert_eq!(ok(&w.sh(&[], "touch /file && echo RW")), "RW");
}

#[test]
fn bad_security_flags_are_one_clear_line() {
    if !require_root("bad_security_flags_are_one_clear_line") {
        return;
    }
    let w = World::new(BIN);
    for (flags, expected) in [
        (&["--cap-add", "CAP_FLY"][..], "mini-docker: unknown capability \"CAP_FLY\""),
        (&["--cap-drop", "net_admn"][..], "mini-docker: unknown capability \"net_admn\""),
        (&["--security-opt", "seccomp"][..], "mini-docker: invalid --security-opt \"seccomp\""),
        (&["--security-opt", "seccomp=/no/such.json"][..], "mini-docker: --security-opt seccomp=/no/such.json: loading a JSON profile is not supported"),
    ] {
        let out = w.sh(flags, "true");
        assert_eq!(out.status.code(), Some(125), "{flags:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).starts_with(expected), "{}", stderr(&out));
    }
    assert_eq!(stdout(&w.md(&["ps", "-a", "-q"])), "", "a refused create leaves no container");
}
