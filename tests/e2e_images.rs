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
