//! Chapter 3 end to end: the demo binary run as root on busybox layers,
//! with each storage driver, observed from inside and from the host.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::busybox::{
    make_busybox_rootfs, make_lower_layer_files, make_upper_layer, require_busybox,
};
use testkit::{assert_no_leftovers, require_program, require_root, run, stderr, stdout};

/// A temporary directory holding two layers and a state directory. Its
/// name is unique and carries testkit's prefix, so it marks anything of
/// this test's left on the host.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
    marker: String,
    lower: PathBuf,
    upper: PathBuf,
    state: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = testkit::temp_dir();
        let root = dir.path().to_path_buf();
        let marker = root.file_name().unwrap().to_string_lossy().to_string();
        let (lower, upper, state) = (root.join("lower"), root.join("upper"), root.join("state"));
        make_busybox_rootfs(&lower);
        make_lower_layer_files(&lower);
        make_upper_layer(&upper);
        Fixture { _dir: dir, root, marker, lower, upper, state }
    }

    /// Run `script` with `sh -c` in a container on both layers.
    fn sh(&self, driver: &str, script: &str) -> Output {
        self.run(driver, &[], &["/bin/sh", "-c", script])
    }

    fn run(&self, driver: &str, extra: &[&str], command: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ch03-union-fs"));
        cmd.args(["--driver", driver, "--state"]).arg(&self.state);
        cmd.arg("--rootfs").arg(&self.lower).arg("--layer").arg(&self.upper);
        cmd.args(extra).arg("--").args(command);
        run(&mut cmd)
    }

    /// The containers' directories still in the state directory.
    fn containers(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.state)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// Nothing mounted, no process, no container directory left.
    fn assert_clean(&self) {
        assert_no_leftovers(&self.marker);
        assert_eq!(self.containers(), Vec::<PathBuf>::new(), "container directories left behind");
    }
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "container failed ({:?}):\nstdout: {}\nstderr: {}",
        out.status,
        stdout(out),
        stderr(out)
    );
    stdout(out)
}

macro_rules! for_both_drivers {
    ($($name:ident),* $(,)?) => {
        mod overlay { $( #[test] fn $name() { super::$name("overlay") } )* }
        mod vfs { $( #[test] fn $name() { super::$name("vfs") } )* }
    };
}

for_both_drivers!(
    upper_layer_hides_the_lower_one,
    writes_stay_in_their_own_container,
    deleting_a_lower_file_hides_it_only_inside,
    host_root_is_not_reachable,
    chroot_escape_works_on_chroot_but_not_here,
    no_mount_remains_after_exit,
    devices_masks_and_etc_files,
    explain_narrates_the_pivot,
    missing_layer_is_one_clear_line,
    layer_that_is_a_file_is_one_clear_line,
    rootfs_without_the_command_is_127,
);

fn ready(test: &str) -> bool {
    require_root(test) && require_busybox(test)
}

fn upper_layer_hides_the_lower_one(driver: &str) {
    if !ready("upper_layer_hides_the_lower_one") {
        return;
    }
    let f = Fixture::new();
    let out = ok(&f.sh(
        driver,
        "cat /etc/motd; cat /etc/keep; test -e /etc/doomed || echo doomed-gone; ls /opt/old",
    ));
    assert_eq!(out, "from the upper layer\nkept\ndoomed-gone\nnew");
    f.assert_clean();
}

fn writes_stay_in_their_own_container(driver: &str) {
    if !ready("writes_stay_in_their_own_container") {
        return;
    }
    let f = Fixture::new();
    let first = f.run(
        driver,
        &["--keep"],
        &["/bin/sh", "-c", "echo mine > /root/note; echo changed > /etc/motd"],
    );
    ok(&first);
    let kept = f.containers();
    assert_eq!(kept.len(), 1, "--keep should keep exactly one container directory");
    let writable = if driver == "overlay" { kept[0].join("upper") } else { kept[0].join("rootfs") };
    assert_eq!(std::fs::read_to_string(writable.join("root/note")).unwrap(), "mine\n");
    assert!(
        stderr(&first).contains(&writable.display().to_string()),
        "--keep should say where the writes are"
    );

    let second =
        ok(&f.sh(driver, "test -e /root/note && echo visible || echo absent; cat /etc/motd"));
    assert_eq!(
        second, "absent\nfrom the upper layer",
        "a second container saw the first one's writes"
    );
    for layer in [&f.lower, &f.upper] {
        assert!(!layer.join("root/note").exists(), "the write reached layer {}", layer.display());
    }
    assert_eq!(
        std::fs::read_to_string(f.upper.join("etc/motd")).unwrap(),
        "from the upper layer\n"
    );
    std::fs::remove_dir_all(&kept[0]).unwrap();
    f.assert_clean();
}

fn deleting_a_lower_file_hides_it_only_inside(driver: &str) {
    if !ready("deleting_a_lower_file_hides_it_only_inside") {
        return;
    }
    let f = Fixture::new();
    let out = f.run(
        driver,
        &["--keep"],
        &["/bin/sh", "-c", "rm /etc/keep && ls /etc/keep 2>&1; test -e /etc/keep || echo gone"],
    );
    assert!(ok(&out).ends_with("gone"), "{}", stdout(&out));
    assert!(
        f.lower.join("etc/keep").is_file(),
        "deleting inside the container deleted the layer's file"
    );
    let kept = f.containers();
    if driver == "overlay" {
        // overlayfs records the deletion as a whiteout in the upper dir.
        let whiteout = std::fs::symlink_metadata(kept[0].join("upper/etc/keep")).unwrap();
        assert!(
            whiteout.file_type().is_char_device() && whiteout.rdev() == 0,
            "no whiteout in upper/"
        );
    }
    std::fs::remove_dir_all(&kept[0]).unwrap();
    f.assert_clean();
}

fn host_root_is_not_reachable(driver: &str) {
    if !ready("host_root_is_not_reachable") {
        return;
    }
    let f = Fixture::new();
    let host_marker = f.root.join("host-only-file");
    std::fs::write(&host_marker, "host").unwrap();
    let manifest = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        "test -e {m} && echo marker-visible; test -e {manifest} && echo workspace-visible; \
         cd /..; cd ..; pwd; test \"$(stat -c %i /)\" = \"$(stat -c %i /..)\" && echo dotdot-is-root; ls /",
        m = host_marker.display()
    );
    let out = ok(&f.sh(driver, &script));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..2], ["/", "dotdot-is-root"], "output:\n{out}");
    let root_entries: Vec<&str> = lines[2..].iter().flat_map(|l| l.split_whitespace()).collect();
    let mut expected: Vec<String> = std::fs::read_dir(&f.lower)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    expected.push("opt".into());
    expected.sort();
    expected.dedup();
    let mut got: Vec<String> = root_entries.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected, "/ of the container is not exactly the layers");
    f.assert_clean();
}

/// Compile the escape program statically (the container has no libc).
fn build_escape(dir: &Path) -> Option<PathBuf> {
    if !require_program("chroot_escape_works_on_chroot_but_not_here", "gcc", "gcc libc6-dev") {
        return None;
    }
    let binary = dir.join("chroot-escape");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/chroot_escape.c");
    let out = run(Command::new("gcc").args(["-static", "-O2", "-o"]).arg(&binary).arg(&source));
    assert!(
        out.status.success(),
        "gcc -static failed (apt-get install libc6-dev): {}",
        stderr(&out)
    );
    Some(binary)
}

fn chroot_escape_works_on_chroot_but_not_here(driver: &str) {
    if !ready("chroot_escape_works_on_chroot_but_not_here") {
        return;
    }
    let f = Fixture::new();
    let Some(escape) = build_escape(&f.root) else { return };
    let host_marker = f.root.join("host-only-file");
    std::fs::write(&host_marker, "host").unwrap();

    // Against a plain chroot: the program reaches the host's files.
    let jail = f.root.join("jail");
    std::fs::create_dir(&jail).unwrap();
    std::fs::copy(&escape, jail.join("chroot-escape")).unwrap();
    let out = run(Command::new("chroot").arg(&jail).arg("/chroot-escape").arg(&host_marker));
    assert_eq!(
        out.status.code(),
        Some(0),
        "the escape should work against chroot: {}",
        stdout(&out)
    );
    assert!(stdout(&out).starts_with("escaped:"));

    // Against our container: same program, same probe, no way out.
    let tools = f.root.join("tools");
    std::fs::create_dir_all(tools.join("bin")).unwrap();
    std::fs::copy(&escape, tools.join("bin/chroot-escape")).unwrap();
    let probe = host_marker.to_string_lossy();
    let out = f.run(driver, &["--layer", tools.to_str().unwrap()], &["/bin/chroot-escape", &probe]);
    assert_eq!(out.status.code(), Some(1), "stdout: {}\nstderr: {}", stdout(&out), stderr(&out));
    assert!(stdout(&out).starts_with("contained:"), "{}", stdout(&out));
    f.assert_clean();
}

fn no_mount_remains_after_exit(driver: &str) {
    if !ready("no_mount_remains_after_exit") {
        return;
    }
    let f = Fixture::new();
    // A background process too: the container ends when its PID 1 does.
    let out = ok(&f.sh(driver, "sleep 30 & grep -c . /proc/self/mountinfo"));
    let inside: usize = out.parse().unwrap();
    assert!(inside >= 10, "expected the container's own mounts inside, got {inside}");
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let ours: Vec<&str> = mountinfo.lines().filter(|l| l.contains(&f.marker)).collect();
    assert!(ours.is_empty(), "mounts left on the host:\n{}", ours.join("\n"));
    f.assert_clean();
}

fn devices_masks_and_etc_files(driver: &str) {
    if !ready("devices_masks_and_etc_files") {
        return;
    }
    let f = Fixture::new();
    let script = "stat -c '%t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty; \
                  readlink /dev/ptmx; test -c /dev/pts/ptmx && echo pts; \
                  wc -c < /proc/keys; echo 1 > /proc/sys/vm/drop_caches 2>/dev/null || echo sys-ro; \
                  touch /sys/x 2>/dev/null || echo sysfs-ro; \
                  cat /etc/hostname; hostname; tail -n1 /etc/hosts; grep -c nameserver /etc/resolv.conf";
    let out = ok(&f.run(driver, &["--hostname", "box"], &["/bin/sh", "-c", script]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..6], ["1:3", "1:5", "1:7", "1:8", "1:9", "5:0"], "device numbers:\n{out}");
    assert_eq!(
        lines[6..13],
        ["pts/ptmx", "pts", "0", "sys-ro", "sysfs-ro", "box", "box"],
        "output:\n{out}"
    );
    assert_eq!(lines[13], "127.0.0.1\tbox");
    assert!(lines[14].parse::<u32>().unwrap() >= 1, "no nameserver in resolv.conf");
    f.assert_clean();
}

fn explain_narrates_the_pivot(driver: &str) {
    if !ready("explain_narrates_the_pivot") {
        return;
    }
    let f = Fixture::new();
    let out = f.run(driver, &["--explain"], &["/bin/true"]);
    ok(&out);
    let err = stderr(&out);
    assert!(err.contains("syscall: pivot_root(\".\", \".\")"), "{err}");
    assert!(err.contains("shell:   umount -l ."), "{err}");
    let union_step = if driver == "overlay" { "mount -t overlay" } else { "mount --rbind" };
    assert!(err.contains(union_step), "{err}");
    assert!(err.contains("book:    ch03-union-fs.md#"), "{err}");
    f.assert_clean();
}

/// One line on stderr, prefixed with the tool's name; returns it.
fn one_line_error(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "not one line:\n{err}");
    assert!(err.starts_with("ch03-union-fs: "), "{err}");
    err
}

fn missing_layer_is_one_clear_line(driver: &str) {
    if !ready("missing_layer_is_one_clear_line") {
        return;
    }
    let f = Fixture::new();
    let missing = f.root.join("no-such-layer");
    let out = f.run(driver, &["--layer", missing.to_str().unwrap()], &["/bin/true"]);
    let err = one_line_error(&out, 125);
    assert!(err.contains("no-such-layer: no such directory"), "{err}");
    f.assert_clean();
}

fn layer_that_is_a_file_is_one_clear_line(driver: &str) {
    if !ready("layer_that_is_a_file_is_one_clear_line") {
        return;
    }
    let f = Fixture::new();
    let file = f.root.join("layer.tar");
    std::fs::write(&file, "not a directory").unwrap();
    let out = f.run(driver, &["--layer", file.to_str().unwrap()], &["/bin/true"]);
    let err = one_line_error(&out, 125);
    assert!(err.contains("layer.tar: not a directory"), "{err}");
    f.assert_clean();
}

fn rootfs_without_the_command_is_127(driver: &str) {
    if !ready("rootfs_without_the_command_is_127") {
        return;
    }
    let f = Fixture::new();
    let out = f.run(driver, &[], &["/bin/no-such-program"]);
    let err = one_line_error(&out, 127);
    assert!(err.contains("exec \"/bin/no-such-program\": no such file or directory"), "{err}");
    let out = f.run(driver, &[], &["bash"]);
    let err = one_line_error(&out, 127);
    assert!(err.contains("executable file not found in $PATH"), "{err}");
    f.assert_clean();
}
