//! `mini-docker pull/images/tag/inspect/rmi/load/login` against a real
//! registry on 127.0.0.1, with images built by umoci and skopeo.

use std::path::Path;
use std::process::{Command, Output};

use testkit::images::{self, describe};
use testkit::registry::{self, Registry};
use testkit::{assert_no_leftovers, require_root, run, stderr, stdout};

fn ready(test: &str) -> bool {
    require_root(test) && registry::available(test) && images::tools_available(test)
}

fn md(root: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_mini-docker"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("MINI_DOCKER_REGISTRY_MIRROR")
        .env("DOCKER_CONFIG", root.join("no-docker-config")))
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}\n{}", stdout(&out), stderr(&out));
    stdout(&out)
}

#[test]
fn pull_images_tag_inspect_rmi() {
    if !ready("pull_images_tag_inspect_rmi") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    let root = testkit::temp_dir();
    let root = root.path();
    let name = format!("{}/busybox", registry.host());
    let busybox = describe("busybox");
    let short_id = &busybox.config_digest[7..19];

    let out = ok(md(root, &["pull", &name]));
    assert!(out.contains(&format!("Status: Downloaded newer image for {name}:latest")), "{out}");

    let listing = ok(md(root, &["images"]));
    let header = listing.lines().next().unwrap();
    for column in ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"] {
        assert!(header.contains(column), "{header}");
    }
    let row = listing
        .lines()
        .find(|l| l.starts_with(&name))
        .unwrap_or_else(|| panic!("no row for {name}:\n{listing}"));
    assert!(row.contains("latest") && row.contains(short_id) && row.contains("MB"), "{row}");

    ok(md(root, &["tag", &name, "workshop/box:v1"]));
    let listing = ok(md(root, &["images"]));
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("workshop/box") && l.contains("v1") && l.contains(short_id)),
        "{listing}"
    );

    let inspect: serde_json::Value =
        serde_json::from_str(&ok(md(root, &["inspect", "workshop/box:v1"]))).unwrap();
    assert_eq!(inspect[0]["Id"], busybox.config_digest.as_str());
    assert_eq!(inspect[0]["RootFS"]["Layers"][0], busybox.diff_ids[0].as_str());
    assert_eq!(inspect[0]["Config"]["Cmd"][0], "/bin/sh");
    assert_eq!(
        inspect[0]["RepoDigests"][0],
        format!("{}@{}", name, busybox.manifest_digest).as_str()
    );

    // A container uses the image: rmi refuses without -f (the seam chapter 5 fills).
    std::fs::create_dir_all(root.join("containers/c1")).unwrap();
    std::fs::write(
        root.join("containers/c1/config.json"),
        format!(r#"{{"image_id":"{}"}}"#, busybox.config_digest),
    )
    .unwrap();
    let out = md(root, &["rmi", "workshop/box:v1"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("a container is using image"), "{}", stderr(&out));
    std::fs::remove_dir_all(root.join("containers")).unwrap();

    // Two tags: removing one only untags.
    let out = ok(md(root, &["rmi", "workshop/box:v1"]));
    assert_eq!(out, "Untagged: workshop/box:v1");
    assert!(root.join("layers").join(&busybox.diff_ids[0][7..]).is_dir());
    let out = ok(md(root, &["rmi", short_id]));
    assert!(
        out.contains(&format!("Untagged: {name}:latest"))
            && out.contains(&format!("Deleted: {}", busybox.config_digest)),
        "{out}"
    );
    for dir in ["blobs/sha256", "layers"] {
        assert_eq!(
            std::fs::read_dir(root.join(dir)).unwrap().count(),
            0,
            "{dir} not emptied by rmi"
        );
    }
    let out = md(root, &["rmi", "nothing"]);
    assert!(
        !out.status.success() && stderr(&out).contains("no such image: nothing"),
        "{}",
        stderr(&out)
    );
    let marker = registry.marker();
    drop(registry);
    assert_no_leftovers(&marker);
}

#[test]
fn login_stores_credentials_that_pull_uses() {
    if !ready("login_stores_credentials_that_pull_uses") {
        return;
    }
    let registry = Registry::start_with_basic_auth("bob", "builder");
    images::push(&registry, "busybox", "team/busybox:1");
    let root = testkit::temp_dir();
    let root = root.path();
    let host = registry.host();
    let out = md(root, &["login", &host, "-u", "bob", "-p", "wrong"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("unauthorized"), "{}", stderr(&out));
    assert!(!root.join("auth.json").exists(), "wrong credentials were saved");
    let out = md(root, &["pull", &format!("{host}/team/busybox:1")]);
    assert!(stderr(&out).contains(&format!("run `mini-docker login {host}`")), "{}", stderr(&out));
    let out = ok(md(root, &["login", &host, "-u", "bob", "-p", "builder"]));
    assert!(out.contains("Login Succeeded"), "{out}");
    ok(md(root, &["pull", &format!("{host}/team/busybox:1")]));
    let marker = registry.marker();
    drop(registry);
    assert_no_leftovers(&marker);
}

#[test]
fn load_a_docker_save_tarball_offline() {
    if !ready("load_a_docker_save_tarball_offline") {
        return;
    }
    let dir = testkit::temp_dir();
    let archive = dir.path().join("layered.tar");
    images::docker_archive("layered", "workshop/layered:2", &archive);
    let root = testkit::temp_dir();
    let out = ok(md(root.path(), &["load", "-i", &archive.display().to_string()]));
    assert_eq!(out, "Loaded image: workshop/layered:2");
    let listing = ok(md(root.path(), &["images"]));
    assert!(
        listing.lines().any(|l| l.starts_with("workshop/layered")
            && l.contains(&describe("layered").config_digest[7..19])),
        "{listing}"
    );
    let out = md(root.path(), &["load", "-i", "/nonexistent.tar"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("/nonexistent.tar: cannot read it"), "{}", stderr(&out));
}

/// A layer tar of one entry `name` holding `data`, written with a raw
/// header so that names the tar crate refuses (`../x`) can be made.
fn layer_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    let mut builder = tar::Builder::new(Vec::new());
    builder.append(&header, data).unwrap();
    builder.into_inner().unwrap()
}

/// Bytes nothing compresses, so the layer really is as big as asked.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A relay to `target` that passes requests whole but only the first
/// `limit` bytes of what comes back on each connection; the rest it
/// swallows. A pull through it stops in the middle of a big blob, for good.
fn stalling_relay(target: String, limit: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let server = std::net::TcpStream::connect(&target).unwrap();
            let (mut up_from, mut up_to) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut up_from, &mut up_to));
            let (mut down_from, mut down_to) = (server, client);
            std::thread::spawn(move || {
                let (mut sent, mut buffer) = (0, vec![0; 64 * 1024]);
                while let Ok(n @ 1..) = down_from.read(&mut buffer) {
                    let passed = n.min(limit - sent);
                    if passed > 0 && down_to.write_all(&buffer[..passed]).is_err() {
                        break;
                    }
                    sent += passed;
                }
            });
        }
    });
    port
}

/// What `tmp/` of a state root holds, with sizes.
fn temporaries(root: &Path) -> Vec<(String, u64)> {
    std::fs::read_dir(root.join("tmp"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.metadata().unwrap().len()))
        .collect()
}

#[test]
fn a_pull_killed_mid_layer_is_cleaned_up_by_the_next_image_command() {
    if !ready("a_pull_killed_mid_layer_is_cleaned_up_by_the_next_image_command") {
        return;
    }
    let registry = Registry::start();
    registry.push_one_layer_image("big", "latest", &layer_tar("blob", &noise(16 << 20)));
    let relay = stalling_relay(registry.host(), 2 << 20);
    let root = testkit::temp_dir();
    let root = root.path();
    let mut pull = Command::new(env!("CARGO_BIN_EXE_mini-docker"))
        .arg("--root")
        .arg(root)
        .args(["pull", &format!("127.0.0.1:{relay}/big")])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !temporaries(root).iter().any(|(_, size)| *size > 1 << 20) {
        assert!(std::time::Instant::now() < deadline, "the pull never got 1 MiB into the layer");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    pull.kill().unwrap(); // SIGKILL: no chance to clean up
    pull.wait().unwrap();
    let left = temporaries(root);
    assert_eq!(left.len(), 1, "the killed pull's half blob: {left:?}");

    ok(md(root, &["images"]));
    assert_eq!(temporaries(root), [], "the next image command removes what the dead pull left");
    ok(md(root, &["pull", &format!("{}/big", registry.host())]));
    assert_eq!(temporaries(root), []);
    finish(registry);
}

#[test]
fn a_refused_layer_says_why_once() {
    if !ready("a_refused_layer_says_why_once") {
        return;
    }
    let registry = Registry::start();
    registry.push_one_layer_image("evil", "latest", &layer_tar("../escaped", b"pwned"));
    let root = testkit::temp_dir();
    let out = md(root.path(), &["pull", &format!("{}/evil", registry.host())]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let error = stderr(&out);
    let line = error.lines().last().unwrap_or_default();
    assert!(line.starts_with("mini-docker: "), "{error}");
    assert_eq!(line.matches("points outside the layer").count(), 1, "{line}");
    assert!(!root.path().parent().unwrap().join("escaped").exists());
    finish(registry);
}

/// Stop the registry and check that nothing of it is left.
fn finish(registry: Registry) {
    let marker = registry.marker();
    drop(registry);
    assert_no_leftovers(&marker);
}

#[test]
fn pull_quiet_all_tags_and_the_listing_flags() {
    if !ready("pull_quiet_all_tags_and_the_listing_flags") {
        return;
    }
    let registry = Registry::start();
    let (root, name) = (testkit::temp_dir(), format!("{}/app", registry.host()));
    let root = root.path();
    registry.push_one_layer_image("app", "1", &layer_tar("one", b"1"));
    registry.push_one_layer_image("app", "2", &layer_tar("two", b"2"));

    assert_eq!(ok(md(root, &["pull", "-q", &format!("{name}:1")])), format!("{name}:1"));
    let all = ok(md(root, &["pull", "--all-tags", &name]));
    let lines: Vec<&str> = all.lines().collect();
    for tag in ["1", "2"] {
        assert!(lines.contains(&format!("{tag}: Pulling from {name}").as_str()), "{all}");
    }
    assert_eq!(lines[lines.len() - 2], format!("Status: Downloaded newer image for {name}"));
    assert_eq!(lines[lines.len() - 1], name);
    let refused = md(root, &["pull", "-a", &format!("{name}:1")]);
    assert_eq!(stderr(&refused), "mini-docker: tag can't be used with --all-tags/-a");

    // Tag 1 moves to another image: the old one is dangling.
    registry.push_one_layer_image("app", "1", &layer_tar("three", b"3"));
    ok(md(root, &["pull", "-q", &format!("{name}:1")]));
    let listed = ok(md(root, &["images", "--format", "{{.Repository}} {{.Tag}}"]));
    let mut rows: Vec<&str> = listed.lines().collect();
    rows.sort();
    assert_eq!(rows, [&format!("{name} 1"), &format!("{name} 2"), "<none> <none>"], "{listed}");
    let dangling = ok(md(root, &["images", "-q", "--filter", "dangling=true"]));
    assert_eq!(dangling.lines().count(), 1, "{dangling}");
    let dangling_id = dangling.trim();
    let inspected = ok(md(root, &["inspect", "-f", "{{.Id}}", dangling_id]));
    assert!(inspected.starts_with(&format!("sha256:{dangling_id}")), "{inspected}");
    assert_eq!(ok(md(root, &["images", "-q", &format!("{name}:2")])).lines().count(), 1);

    let digests = ok(md(root, &["images", "--digests", &format!("{name}:2")]));
    let header = digests.lines().next().unwrap_or_default();
    assert!(header.starts_with("REPOSITORY") && header.contains("   DIGEST   "), "{digests}");
    assert!(digests.lines().nth(1).unwrap_or_default().contains(" sha256:"), "{digests}");
    let table = ok(md(root, &["images", "--format", r"table {{.Tag}}\t{{.Repository}}", &name]));
    assert_eq!(table.lines().next(), Some("TAG       REPOSITORY"), "{table}");
    finish(registry);
}

#[test]
fn pull_platform_chooses_from_a_multi_platform_index() {
    if !ready("pull_platform_chooses_from_a_multi_platform_index") {
        return;
    }
    let registry = Registry::start();
    let w = testkit::world::World::empty(env!("CARGO_BIN_EXE_mini-docker"));
    let name = format!("{}/multi", registry.host());
    let (amd, arm) = (layer_tar("amd", b"amd64"), layer_tar("arm", b"arm64"));
    registry.push_multi_platform("multi", "1", &[("amd64", &amd), ("arm64", &arm)]);

    let reference = format!("{name}:1");
    assert_eq!(
        testkit::world::ok(&w.md(&["pull", "-q", "--platform", "linux/arm64", &reference])),
        reference
    );
    let arch =
        testkit::world::ok(&w.md(&["inspect", "-f", "{{.Os}}/{{.Architecture}}", &reference]));
    assert_eq!(arch, "linux/arm64");
    let missing = w.md(&["pull", "--platform", "linux/s390x", &reference]);
    assert_eq!(missing.status.code(), Some(1));
    let message = stderr(&missing);
    assert!(message.contains("no image for platform linux/s390x"), "{message}");
    assert!(message.contains("linux/amd64, linux/arm64"), "{message}");
    let bogus = w.md(&["pull", "--platform", "amd64", &reference]);
    assert!(
        stderr(&bogus).contains("\"amd64\": unknown operating system or architecture"),
        "{}",
        stderr(&bogus)
    );
    assert_eq!(stderr(&bogus).lines().count(), 1);
    drop(w);
    finish(registry);
}

#[test]
fn a_missing_tag_is_the_error_alone() {
    if !ready("a_missing_tag_is_the_error_alone") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    let w = testkit::world::World::new(env!("CARGO_BIN_EXE_mini-docker"));
    let name = format!("{}/busybox", registry.host());
    let out = w.md(&["pull", &format!("{name}:missing-tag")]);
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Pulling from"), "progress before the error: {}", stdout(&out));
    let error = stderr(&out);
    assert_eq!(error.trim().lines().count(), 1, "one clear line: {error}");
    assert!(error.contains("missing-tag") || error.contains("manifest unknown"), "{error}");
    let pulled = ok(w.md(&["pull", &name]));
    assert!(pulled.starts_with("latest: Pulling from"), "{pulled}");
    assert!(pulled.contains(&format!("Status: Downloaded newer image for {name}:latest")));
}
