//! The chapter 7 demo, run as a user would: a busybox root, volumes, binds.

use std::path::Path;
use std::process::{Command, Output};

use testkit::{require_root, run, stderr, stdout};

fn demo(root: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_ch07-volumes")).arg("--root").arg(root).args(args))
}

fn busybox_rootfs() -> tempfile::TempDir {
    let dir = testkit::temp_dir();
    testkit::busybox::make_busybox_rootfs(dir.path());
    testkit::busybox::write_layer_file(dir.path(), "srv/seed.txt", "from the image\n");
    dir
}

#[test]
fn the_counter_survives_three_containers_and_ro_holds() {
    if !require_root("the_counter_survives_three_containers_and_ro_holds")
        || !testkit::busybox::require_busybox("the_counter_survives_three_containers_and_ro_holds")
    {
        return;
    }
    let (state, rootfs, host) = (testkit::temp_dir(), busybox_rootfs(), testkit::temp_dir());
    let rootfs_arg = rootfs.path().to_str().unwrap();
    for expected in ["1", "2", "3"] {
        let out = demo(
            state.path(),
            &[
                "run",
                "--rootfs",
                rootfs_arg,
                "-v",
                "counter:/srv",
                "--",
                "sh",
                "-c",
                "echo x >> /srv/n; wc -l < /srv/n",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), expected);
    }
    let seeded =
        std::fs::read_to_string(state.path().join("volumes/counter/_data/seed.txt")).unwrap();
    assert_eq!(seeded, "from the image\n", "the volume was not seeded from the image");

    let bind = format!("{}:/host:ro", host.path().display());
    let out = demo(
        state.path(),
        &["run", "--rootfs", rootfs_arg, "-v", &bind, "--", "sh", "-c", "touch /host/x"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("Read-only file system"), "{}", stderr(&out));

    let listed = demo(state.path(), &["volume", "ls", "-q"]);
    assert_eq!(stdout(&listed), "counter");
    assert_eq!(stdout(&demo(state.path(), &["volume", "rm", "counter"])), "counter");
    testkit::assert_no_leftovers(&state.path().display().to_string());
    testkit::assert_no_leftovers(&host.path().display().to_string());
}

#[test]
fn explain_narrates_the_volume_mounts() {
    if !require_root("explain_narrates_the_volume_mounts")
        || !testkit::busybox::require_busybox("explain_narrates_the_volume_mounts")
    {
        return;
    }
    let (state, rootfs) = (testkit::temp_dir(), busybox_rootfs());
    let out = demo(
        state.path(),
        &[
            "--explain",
            "run",
            "--rootfs",
            rootfs.path().to_str().unwrap(),
            "-v",
            "data:/srv:ro",
            "--tmpfs",
            "/t",
            "--",
            "true",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    for expected in [
        "seed the new volume",
        "bind volume data on /srv",
        "remount /srv read-only",
        "mount a tmpfs on /t",
        "book:    ch07-volumes.md#",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // The volume steps come before pivot_root.
    assert!(text.find("remount /srv read-only").unwrap() < text.find("pivot_root").unwrap());
}

#[test]
fn bad_input_is_one_line() {
    let state = testkit::temp_dir();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "-v", "./rel:/x", "--", "true"],
            "includes invalid characters for a local volume name",
        ),
        (&["run", "-v", "/a:x", "--", "true"], "mount path must be absolute"),
        (&["run", "-v", "/a:/x:wat", "--", "true"], "invalid mode: wat"),
        (
            &["run", "--mount", "type=bind,src=/a,dst=/x,wat=1", "--", "true"],
            "unexpected key 'wat'",
        ),
    ];
    for (args, message) in cases {
        let out = demo(state.path(), args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
    }
    let missing = demo(state.path(), &["volume", "rm", "nope"]);
    assert_eq!(
        (missing.status.code(), stderr(&missing)),
        (Some(1), "ch07-volumes: get nope: no such volume".to_string())
    );
}
