//! Chapter 7 end to end: bind mounts, named and anonymous volumes and
//! tmpfs, driven through the `mini-docker` binary as a user would.

use std::path::PathBuf;

use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

/// A world with the two images these tests use: busybox, and `volumed`
/// (busybox with `VOLUME /data`).
fn world() -> World {
    let world = World::new(BIN);
    world.load("volumed");
    world
}

/// The names `volume ls -q` lists.
trait Volumes {
    fn volumes(&self) -> Vec<String>;
}

impl Volumes for World {
    fn volumes(&self) -> Vec<String> {
        stdout(&self.md(&["volume", "ls", "-q"])).lines().map(str::to_string).collect()
    }
}

fn inspect(w: &World, name: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(&ok(&w.md(&["inspect", name]))).unwrap()[0].clone()
}

#[test]
fn a_counter_in_a_named_volume_survives_three_containers() {
    if !require_root("a_counter_in_a_named_volume_survives_three_containers") {
        return;
    }
    let w = world();
    let count = "echo x >> /data/count; wc -l < /data/count";
    for expected in ["1", "2", "3"] {
        assert_eq!(
            ok(&w.md(&["run", "--rm", "-v", "counter:/data", "busybox", "sh", "-c", count])),
            expected
        );
    }
    // A container that is removed (even with -v) leaves a named volume alone.
    ok(&w.md(&[
        "run",
        "--name",
        "fourth",
        "--mount",
        "type=volume,src=counter,dst=/data",
        "busybox",
        "sh",
        "-c",
        count,
    ]));
    ok(&w.md(&["rm", "-v", "fourth"]));
    assert_eq!(w.volumes(), ["counter"]);
    let volume: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["volume", "inspect", "counter"]))).unwrap();
    let mountpoint = PathBuf::from(volume[0]["Mountpoint"].as_str().unwrap());
    assert_eq!(mountpoint, w.root.path().join("volumes/counter/_data"));
    assert_eq!(std::fs::read_to_string(mountpoint.join("count")).unwrap(), "x\nx\nx\nx\n");
    assert_eq!(ok(&w.md(&["volume", "rm", "counter"])), "counter");
    assert!(w.volumes().is_empty());
}

#[test]
fn read_only_mounts_refuse_writes_even_for_root() {
    if !require_root("read_only_mounts_refuse_writes_even_for_root") {
        return;
    }
    let w = world();
    let host = testkit::temp_dir();
    let bind_ro = format!("{}:/host:ro", host.path().display());
    let long_ro = format!("type=bind,source={},target=/long,readonly", host.path().display());
    let script = "id -u; for d in /vol /host /long /tmpro; do touch $d/x 2>&1; done; grep -E ' /(vol|host|long|tmpro) ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1";
    let out = w.md(&[
        "run",
        "--rm",
        "-v",
        "ro-vol:/vol:ro",
        "-v",
        &bind_ro,
        "--mount",
        &long_ro,
        "--tmpfs",
        "/tmpro:ro",
        "busybox",
        "sh",
        "-c",
        script,
    ]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "0", "the test must write as root: {text}");
    for dir in ["/vol", "/host", "/long", "/tmpro"] {
        assert!(
            text.contains(&format!("touch: {dir}/x: Read-only file system")),
            "{dir} accepted a write (EROFS expected): {text}"
        );
        assert!(text.contains(&format!("{dir} ro")), "{dir} is not mounted ro: {text}");
    }
    assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0, "a write reached the host");
    testkit::assert_no_leftovers(&host.path().display().to_string());
}

#[test]
fn a_bind_mount_shows_host_changes_live_and_back() {
    if !require_root("a_bind_mount_shows_host_changes_live_and_back") {
        return;
    }
    let w = world();
    let host = testkit::temp_dir();
    let bind = format!("{}:/shared", host.path().display());
    ok(&w.md(&["run", "-d", "--name", "live", "-v", &bind, "busybox", "sleep", "60"]));
    std::fs::write(host.path().join("from-host"), "written on the host\n").unwrap();
    assert_eq!(ok(&w.md(&["exec", "live", "cat", "/shared/from-host"])), "written on the host");
    std::fs::write(host.path().join("from-host"), "changed\n").unwrap();
    assert_eq!(ok(&w.md(&["exec", "live", "cat", "/shared/from-host"])), "changed");
    ok(&w.md(&["exec", "live", "sh", "-c", "echo from the container > /shared/back"]));
    assert_eq!(std::fs::read_to_string(host.path().join("back")).unwrap(), "from the container\n");
    let mounts = &inspect(&w, "live")["Mounts"];
    assert_eq!(mounts[0]["Type"], "bind");
    assert_eq!(mounts[0]["Source"], host.path().display().to_string());
    assert_eq!(mounts[0]["Destination"], "/shared");
    assert_eq!(mounts[0]["RW"], true);
    // The container's mounts are in its own namespace: the host sees none of them.
    let host_mounts: Vec<String> = testkit::leftovers(&host.path().display().to_string())
        .into_iter()
        .filter(|l| l.starts_with("mount:"))
        .collect();
    assert!(host_mounts.is_empty(), "propagated to the host: {host_mounts:?}");
    ok(&w.md(&["rm", "-f", "live"]));
    assert!(
        host.path().join("back").exists(),
        "removing the container must not touch the host directory"
    );
}

#[test]
fn volumes_are_seeded_from_the_image() {
    if !require_root("volumes_are_seeded_from_the_image") {
        return;
    }
    let w = world();
    // A named volume on /etc starts with the image's /etc...
    let etc = ok(&w.md(&["run", "--rm", "-v", "etc-copy:/etc", "busybox", "cat", "/etc/motd"]));
    assert_eq!(etc, testkit::images::MOTD.trim());
    let data = w.root.path().join("volumes/etc-copy/_data");
    assert_eq!(std::fs::read_to_string(data.join("motd")).unwrap(), testkit::images::MOTD);
    assert!(data.join("passwd").is_file());
    // ...only the first time: what the volume holds now wins over the image.
    std::fs::write(data.join("motd"), "kept in the volume\n").unwrap();
    assert_eq!(
        ok(&w.md(&["run", "--rm", "-v", "etc-copy:/etc", "busybox", "cat", "/etc/motd"])),
        "kept in the volume"
    );
    // nocopy: a new volume stays empty.
    assert_eq!(
        ok(&w.md(&["run", "--rm", "-v", "empty:/etc:nocopy", "busybox", "/bin/ls", "-A", "/etc"])),
        ""
    );

    // The image's VOLUME /data: an anonymous volume, seeded with /data/new.
    ok(&w.md(&["run", "--name", "anon", "volumed", "cat", "/data/new"]));
    assert_eq!(ok(&w.md(&["logs", "anon"])), "layer 3");
    let mounts = &inspect(&w, "anon")["Mounts"];
    let name = mounts[0]["Name"].as_str().unwrap().to_string();
    assert_eq!(
        (name.len(), &mounts[0]["Type"], &mounts[0]["Destination"]),
        (64, &"volume".into(), &"/data".into())
    );
    assert!(w.volumes().contains(&name));
    ok(&w.md(&["rm", "-v", "anon"]));
    assert!(!w.volumes().contains(&name), "rm -v must remove the anonymous volume");
    // run --rm removes its anonymous volume too; plain rm keeps it.
    ok(&w.md(&["run", "--rm", "volumed", "true"]));
    ok(&w.md(&["run", "--name", "kept", "volumed", "true"]));
    ok(&w.md(&["rm", "kept"]));
    assert_eq!(w.volumes().iter().filter(|v| v.len() == 64).count(), 1, "{:?}", w.volumes());
    assert!(ok(&w.md(&["volume", "prune"])).contains("Total reclaimed space"));
    let mut left = w.volumes();
    left.sort();
    assert_eq!(left, ["empty", "etc-copy"], "prune without --all keeps named volumes");
}

#[test]
fn a_volume_in_use_cannot_be_removed() {
    if !require_root("a_volume_in_use_cannot_be_removed") {
        return;
    }
    let w = world();
    assert_eq!(ok(&w.md(&["volume", "create", "busy"])), "busy");
    let id = ok(&w.md(&["create", "-v", "busy:/data", "busybox", "true"]));
    let refused = w.md(&["volume", "rm", "busy"]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stderr(&refused), format!("mini-docker: remove busy: volume is in use - [{id}]"));
    assert!(w.root.path().join("volumes/busy/_data").is_dir(), "a refused rm must delete nothing");
    assert!(ok(&w.md(&["volume", "prune", "--all"])).ends_with("Total reclaimed space: 0B"));
    ok(&w.md(&["rm", &id]));
    assert_eq!(ok(&w.md(&["volume", "rm", "busy"])), "busy");
    let gone = w.md(&["volume", "rm", "busy"]);
    assert_eq!(
        (gone.status.code(), stderr(&gone)),
        (Some(1), "mini-docker: get busy: no such volume".to_string())
    );
}

#[test]
fn tmpfs_is_memory_with_dockers_options() {
    if !require_root("tmpfs_is_memory_with_dockers_options") {
        return;
    }
    let w = world();
    let out = ok(&w.md(&[
        "run", "--rm", "--tmpfs", "/scratch:size=1m", "--mount", "type=tmpfs,dst=/t,tmpfs-mode=1770", "busybox", "sh", "-c",
        "grep ' /scratch ' /proc/mounts | cut -d' ' -f2-4; grep ' /t ' /proc/mounts | cut -d' ' -f2-4; stat -c %a /t",
    ]));
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("/scratch tmpfs rw,nosuid,nodev,noexec")
            && lines[0].contains("size=1024k"),
        "{out}"
    );
    assert!(lines[1].starts_with("/t tmpfs rw,nosuid,nodev,noexec"), "{out}");
    assert_eq!(lines[2], "1770");
}

#[test]
fn bad_input_is_one_line_and_makes_nothing() {
    if !require_root("bad_input_is_one_line_and_makes_nothing") {
        return;
    }
    let w = world();
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "--rm", "-v", "./data:/data", "busybox", "true"],
            "\"./data\" includes invalid characters for a local volume name",
        ),
        (
            &["run", "--rm", "-v", "named:data", "busybox", "true"],
            "invalid mount path: 'data' mount path must be absolute",
        ),
        (&["run", "--rm", "-v", "named:/data:rx", "busybox", "true"], "invalid mode: rx"),
        (
            &[
                "run",
                "--rm",
                "--mount",
                "type=bind,src=/no/such/mdtest-dir,dst=/d",
                "busybox",
                "true",
            ],
            "bind source path does not exist: /no/such/mdtest-dir",
        ),
        (
            &[
                "run",
                "--rm",
                "--mount",
                "type=volume,src=named,dst=/d,colour=red",
                "busybox",
                "true",
            ],
            "unexpected key 'colour'",
        ),
        (
            &["run", "--rm", "--tmpfs", "/t:bogus", "busybox", "true"],
            "invalid tmpfs option \"bogus\"",
        ),
        (
            &["run", "--rm", "-v", "named:/a", "-v", "other:/a", "busybox", "true"],
            "Duplicate mount point: /a",
        ),
        (&["volume", "create", "a/b"], "includes invalid characters for a local volume name"),
        (&["volume", "inspect", "nothing-here"], "get nothing-here: no such volume"),
    ];
    for (args, message) in cases {
        let out = w.md(args);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        let code = if args[0] == "run" { 125 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).lines().count(), 1, "{args:?}: {}", stderr(&out));
    }
    assert!(w.volumes().is_empty(), "a failed run left volumes: {:?}", w.volumes());
    assert_eq!(w.containers(), 0);

    // A missing host path: created, as Docker does, and said so on one line.
    let host = testkit::temp_dir();
    let missing = host.path().join("made/by/run");
    let out = w.md(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/d", missing.display()),
        "busybox",
        "sh",
        "-c",
        "echo hi > /d/f",
    ]);
    ok(&out);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains(&format!("the host path {} did not exist: created it", missing.display())),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(missing.join("f")).unwrap(), "hi\n");
    // A failed create removes the directory it made, and the volumes.
    let missing2 = host.path().join("never");
    let failed = w.md(&[
        "run",
        "--rm",
        "--name",
        "a b",
        "-v",
        &format!("{}:/d", missing2.display()),
        "-v",
        "fresh:/f",
        "busybox",
        "true",
    ]);
    assert_eq!(failed.status.code(), Some(125));
    assert!(!missing2.exists(), "the host dir made for a failed create must go");
    assert!(w.volumes().is_empty(), "{:?}", w.volumes());
}

#[test]
fn a_symlink_in_the_image_cannot_redirect_a_mount() {
    if !require_root("a_symlink_in_the_image_cannot_redirect_a_mount") {
        return;
    }
    let w = world();
    // /bin/sh is a symlink in the image: mounting "through" it must be refused.
    let out = w.md(&["run", "--rm", "--tmpfs", "/bin/sh/x", "busybox", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", stderr(&out));
    assert!(stderr(&out).contains("is a symlink in the image"), "{}", stderr(&out));
    assert_eq!(w.containers(), 0);
}

#[test]
fn volume_ls_and_inspect_take_a_go_template() {
    if !require_root("volume_ls_and_inspect_take_a_go_template") {
        return;
    }
    let w = World::empty(BIN);
    ok(&w.md(&["volume", "create", "--label", "team=web", "--label", "env=dev", "mdtest-fmt"]));
    let table = ok(&w.md(&["volume", "ls", "--format", r"table {{.Name}}\t{{.Labels}}"]));
    assert_eq!(table, "VOLUME NAME   LABELS\nmdtest-fmt    env=dev,team=web", "{table}");
    let mountpoint = ok(&w.md(&["volume", "inspect", "-f", "{{.Mountpoint}}", "mdtest-fmt"]));
    assert!(mountpoint.ends_with("/volumes/mdtest-fmt/_data"), "{mountpoint}");
    let labels = ok(&w.md(&["volume", "inspect", "--format", "{{json .Labels}}", "mdtest-fmt"]));
    assert_eq!(labels, r#"{"env":"dev","team":"web"}"#);
    ok(&w.md(&["volume", "rm", "mdtest-fmt"]));
}
