//! Chapter 4 end to end: the demo binary pulls from a real registry
//! (docker-registry on 127.0.0.1) images that umoci and skopeo built.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use testkit::images::{self, describe};
use testkit::registry::{self, Registry};
use testkit::{assert_no_leftovers, require_root, run, stderr, stdout};

fn ready(test: &str) -> bool {
    require_root(test) && registry::available(test) && images::tools_available(test)
}

fn demo(root: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_ch04-image-pull"))
        .arg("--root")
        .arg(root)
        .args(args)
        .env_remove("MINI_DOCKER_REGISTRY_MIRROR"))
}

fn pull(root: &Path, image: &str) -> Output {
    demo(root, &["pull", image])
}

fn assert_ok(out: &Output) {
    assert!(out.status.success(), "failed: {}\n{}", stdout(out), stderr(out));
}

/// One error line, exit code 125.
fn assert_fails_with(out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(125), "should fail: {}\n{}", stdout(out), stderr(out));
    let err = stderr(out);
    let last = err.lines().last().unwrap_or("");
    assert!(
        last.starts_with("ch04-image-pull: ") && last.contains(needle),
        "expected {needle:?} in the error line, got:\n{err}"
    );
}

fn layer_dir(root: &Path, diff_id: &str) -> PathBuf {
    root.join("layers").join(diff_id.trim_start_matches("sha256:"))
}

/// Every path below `root`, to compare a store before and after a failure.
fn listing(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            out.push(path.strip_prefix(base).unwrap().display().to_string());
            if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                walk(&path, base, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.retain(|p| p != "images/.lock");
    out.sort();
    out
}

fn xattr(path: &Path, key: &str) -> Option<Vec<u8>> {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let key = CString::new(key).unwrap();
    let mut buf = vec![0u8; 64];
    let n =
        unsafe { libc::lgetxattr(path.as_ptr(), key.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}

fn finish(registry: Registry) {
    let marker = registry.marker();
    drop(registry);
    assert_no_leftovers(&marker);
}

#[test]
fn pull_unpacks_a_one_layer_image_into_a_shared_layer_directory() {
    if !ready("pull_unpacks_a_one_layer_image_into_a_shared_layer_directory") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    let root = testkit::temp_dir();
    let out = pull(root.path(), &format!("{}/busybox", registry.host()));
    assert_ok(&out);
    let expected = describe("busybox");
    assert!(
        stdout(&out).contains(&format!("Digest: {}", expected.manifest_digest)),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains(&format!("{}: Pull complete", &expected.layer_digests[0][7..19])),
        "{}",
        stderr(&out)
    );

    let layer = layer_dir(root.path(), &expected.diff_ids[0]);
    let busybox = std::fs::metadata(layer.join("bin/busybox")).unwrap();
    assert_eq!(
        std::fs::read(layer.join("bin/busybox")).unwrap(),
        std::fs::read("/bin/busybox").unwrap()
    );
    assert_eq!(busybox.permissions().mode() & 0o777, 0o755);
    assert_eq!((busybox.uid(), busybox.gid()), (0, 0));
    assert_eq!(std::fs::read_link(layer.join("bin/sh")).unwrap(), Path::new("busybox"));
    assert_eq!(std::fs::read_to_string(layer.join("etc/motd")).unwrap(), images::MOTD);
    assert_eq!(std::fs::metadata(layer.join("tmp")).unwrap().permissions().mode() & 0o7777, 0o1777);
    for blob in [&expected.manifest_digest, &expected.config_digest, &expected.layer_digests[0]] {
        assert!(root.path().join("blobs/sha256").join(&blob[7..]).is_file(), "blob {blob} missing");
    }
    let tags = std::fs::read_to_string(root.path().join("images/repositories.json")).unwrap();
    assert!(
        tags.contains(&format!("{}/busybox:latest", registry.host()))
            && tags.contains(&expected.config_digest),
        "{tags}"
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("tmp")).unwrap().count(),
        0,
        "tmp/ is empty after a pull"
    );
    finish(registry);
}

#[test]
fn a_second_pull_fetches_no_blob() {
    if !ready("a_second_pull_fetches_no_blob") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    let root = testkit::temp_dir();
    let image = format!("{}/busybox:latest", registry.host());
    assert_ok(&pull(root.path(), &image));
    let blob_gets = registry.blob_gets();
    assert_eq!(blob_gets, 2, "first pull: config and one layer\n{}", registry.log());
    let before = listing(root.path());
    let out = pull(root.path(), &image);
    assert_ok(&out);
    assert_eq!(registry.blob_gets(), blob_gets, "the second pull fetched a blob");
    assert!(stderr(&out).contains("Already exists"), "{}", stderr(&out));
    assert!(stdout(&out).contains("Status: Image is up to date for"), "{}", stdout(&out));
    assert_eq!(listing(root.path()), before);
    finish(registry);
}

#[test]
fn whiteouts_become_overlayfs_whiteouts_and_layers_are_shared() {
    if !ready("whiteouts_become_overlayfs_whiteouts_and_layers_are_shared") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    images::push(&registry, "layered", "layered:latest");
    let root = testkit::temp_dir();
    assert_ok(&pull(root.path(), &format!("{}/busybox", registry.host())));
    let out = pull(root.path(), &format!("{}/layered", registry.host()));
    assert_ok(&out);
    let layered = describe("layered");
    assert_eq!(layered.diff_ids.len(), 3);
    assert_eq!(
        layered.diff_ids[0],
        describe("busybox").diff_ids[0],
        "the fixture shares its base layer"
    );
    assert!(
        stderr(&out).contains(&format!("{}: Already exists", &layered.layer_digests[0][7..19])),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("layers")).unwrap().count(),
        3,
        "the base layer is unpacked once"
    );

    // Layer 2 (umoci): /etc/motd deleted -> a 0:0 character device.
    let layer2 = layer_dir(root.path(), &layered.diff_ids[1]);
    let whiteout = std::fs::symlink_metadata(layer2.join("etc/motd")).unwrap();
    assert!(whiteout.file_type().is_char_device(), "etc/motd should be a whiteout device");
    assert_eq!(whiteout.rdev(), 0);
    assert!(!layer2.join("etc/.wh.motd").exists());
    assert_eq!(std::fs::read_to_string(layer2.join("etc/hello")).unwrap(), "layer 2\n");
    assert!(layer2.join("data/old1").is_file() && layer2.join("data/keep/x").is_file());

    // Layer 3 (GNU tar): data/.wh..wh..opq -> trusted.overlay.opaque=y on data.
    let layer3 = layer_dir(root.path(), &layered.diff_ids[2]);
    assert_eq!(xattr(&layer3.join("data"), "trusted.overlay.opaque").as_deref(), Some(&b"y"[..]));
    assert!(!layer3.join("data/.wh..wh..opq").exists());
    assert_eq!(std::fs::read_to_string(layer3.join("data/new")).unwrap(), "layer 3\n");
    finish(registry);
}

#[test]
fn an_index_resolves_to_the_host_platform_or_the_one_asked_for() {
    if !ready("an_index_resolves_to_the_host_platform_or_the_one_asked_for") {
        return;
    }
    let host = ch04_image_pull::platform::Platform::host();
    if host.architecture != "amd64" && host.architecture != "arm64" {
        testkit::precondition_missing(
            "an_index_resolves_to_the_host_platform_or_the_one_asked_for",
            "the fixture index has amd64 and arm64 only",
        );
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "multi", "multi:latest");
    let root = testkit::temp_dir();
    let image = format!("{}/multi:latest", registry.host());
    assert_ok(&pull(root.path(), &image));
    let native = if host.architecture == "amd64" { "busybox" } else { "busybox-arm64" };
    let tags = std::fs::read_to_string(root.path().join("images/repositories.json")).unwrap();
    assert!(tags.contains(&describe(native).config_digest), "host platform not chosen: {tags}");

    let out = demo(root.path(), &["pull", "--platform", "linux/arm64", &image]);
    assert_ok(&out);
    let tags = std::fs::read_to_string(root.path().join("images/repositories.json")).unwrap();
    assert!(tags.contains(&describe("busybox-arm64").config_digest), "arm64 not chosen: {tags}");

    let out = demo(root.path(), &["pull", "--platform", "linux/s390x", &image]);
    assert_fails_with(&out, "no image for platform linux/s390x");
    finish(registry);
}

#[test]
fn basic_auth_needs_the_right_credentials() {
    if !ready("basic_auth_needs_the_right_credentials") {
        return;
    }
    let registry = Registry::start_with_basic_auth("alice", "wonderland");
    images::push(&registry, "busybox", "private/busybox:1");
    let root = testkit::temp_dir();
    let config = testkit::temp_dir();
    let image = format!("{}/private/busybox:1", registry.host());
    let with_config = |auth: &str| {
        std::fs::create_dir_all(config.path()).unwrap();
        std::fs::write(
            config.path().join("config.json"),
            format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host()),
        )
        .unwrap();
        run(Command::new(env!("CARGO_BIN_EXE_ch04-image-pull"))
            .arg("--root")
            .arg(root.path())
            .args(["pull", &image])
            .env("DOCKER_CONFIG", config.path()))
    };
    let before = listing(root.path());
    let out = demo(root.path(), &["pull", &image]);
    assert_fails_with(&out, "unauthorized");
    let out = with_config("YWxpY2U6d3Jvbmc="); // alice:wrong
    assert_fails_with(&out, "wrong or missing credentials");
    assert_eq!(
        listing(root.path()),
        [
            before.clone(),
            vec![
                "blobs".into(),
                "blobs/sha256".into(),
                "images".into(),
                "layers".into(),
                "tmp".into()
            ]
        ]
        .concat()
    );
    let out = with_config("YWxpY2U6d29uZGVybGFuZA=="); // alice:wonderland
    assert_ok(&out);
    assert!(layer_dir(root.path(), &describe("busybox").diff_ids[0]).join("bin/busybox").is_file());
    finish(registry);
}

#[test]
fn a_corrupted_or_truncated_blob_is_detected_and_nothing_is_stored() {
    if !ready("a_corrupted_or_truncated_blob_is_detected_and_nothing_is_stored") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    images::push(&registry, "layered", "layered:latest");
    let root = testkit::temp_dir();
    let layered = describe("layered");
    registry.corrupt_blob(&layered.layer_digests[1]);
    let before = listing(root.path());
    let out = pull(root.path(), &format!("{}/layered", registry.host()));
    assert_fails_with(&out, &format!("blob {} is corrupt", layered.layer_digests[1]));
    let after = listing(root.path());
    assert!(
        after.iter().all(|p| !p.starts_with("images/")
            && (p == "blobs/sha256" || !p.starts_with("blobs/sha256/"))),
        "store changed: {after:?} (before {before:?})"
    );
    assert_eq!(
        std::fs::read_dir(root.path().join("layers")).unwrap().count(),
        0,
        "layers were left behind"
    );
    assert_eq!(std::fs::read_dir(root.path().join("tmp")).unwrap().count(), 0);

    // A truncated blob: the registry serves fewer bytes than the manifest says.
    let data = registry.blob_data(&layered.layer_digests[2]);
    let bytes = std::fs::read(&data).unwrap();
    std::fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    let out = pull(root.path(), &format!("{}/layered", registry.host()));
    assert_eq!(out.status.code(), Some(125));
    assert!(
        stderr(&out).contains("corrupt") || stderr(&out).contains("truncated"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(root.path().join("blobs/sha256")).unwrap().count(), 0);
    finish(registry);
}

#[test]
fn bad_input_gives_one_clear_line_and_leaves_the_store_unchanged() {
    if !ready("bad_input_gives_one_clear_line_and_leaves_the_store_unchanged") {
        return;
    }
    let registry = Registry::start();
    images::push(&registry, "busybox", "busybox:latest");
    let root = testkit::temp_dir();
    assert_ok(&pull(root.path(), &format!("{}/busybox", registry.host())));
    let before = listing(root.path());
    let host = registry.host();

    assert_fails_with(&pull(root.path(), "Busybox"), "invalid reference format");
    assert_fails_with(
        &pull(root.path(), &format!("{host}/busybox:-bad")),
        "invalid reference format",
    );
    assert_fails_with(
        &pull(root.path(), &format!("{host}/busybox:nope")),
        "manifest unknown: 127.0.0.1",
    );
    assert_fails_with(&pull(root.path(), &format!("{host}/nothing-here")), "unknown");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    assert_fails_with(
        &pull(root.path(), &format!("127.0.0.1:{closed}/busybox")),
        "cannot reach registry",
    );

    // Non-image content: an OCI artifact whose "layer" is not a layer.
    let config = registry.upload_blob("artifact", b"{}");
    let payload = registry.upload_blob("artifact", b"just some bytes");
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{config}","size":2}},"layers":[{{"mediaType":"application/vnd.example.thing","digest":"{payload}","size":15}}]}}"#
    );
    let put = registry.put_manifest(
        "artifact",
        "v1",
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
    assert_eq!(put.status, 201, "{}", String::from_utf8_lossy(&put.body));
    assert_fails_with(&pull(root.path(), &format!("{host}/artifact:v1")), "not a valid image");
    assert_eq!(listing(root.path()), before, "a failed pull changed the store");
    finish(registry);
}

#[test]
fn unpack_subcommand_reports_the_diff_id() {
    if !ready("unpack_subcommand_reports_the_diff_id") {
        return;
    }
    let busybox = describe("busybox");
    let blob = images::layout().join("blobs/sha256").join(&busybox.layer_digests[0][7..]);
    let dir = testkit::temp_dir();
    let target = dir.path().join("layer");
    let out = run(Command::new(env!("CARGO_BIN_EXE_ch04-image-pull"))
        .arg("unpack")
        .arg(&blob)
        .arg(&target));
    assert_ok(&out);
    assert!(stdout(&out).contains(&format!("DiffID {}", busybox.diff_ids[0])), "{}", stdout(&out));
    assert!(target.join("bin/busybox").is_file());
}

#[test]
fn load_reads_a_docker_save_tarball_and_an_oci_layout() {
    if !ready("load_reads_a_docker_save_tarball_and_an_oci_layout") {
        return;
    }
    let busybox = describe("busybox");
    let dir = testkit::temp_dir();
    let archive = dir.path().join("busybox.tar");
    images::docker_archive("busybox", "example.com/workshop/busybox:1.0", &archive);
    let root = testkit::temp_dir();
    let out = demo(root.path(), &["load", "-i", &archive.display().to_string()]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Loaded image: example.com/workshop/busybox:1.0"),
        "{}",
        stdout(&out)
    );
    assert!(layer_dir(root.path(), &busybox.diff_ids[0]).join("bin/busybox").is_file());

    let root = testkit::temp_dir();
    let out = demo(root.path(), &["load", "-i", &images::layout().display().to_string()]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains(&format!("Loaded image ID: {}", busybox.config_digest)),
        "{}",
        stdout(&out)
    );
    for tag in ["layered", "busybox"] {
        for diff_id in describe(tag).diff_ids {
            assert!(layer_dir(root.path(), &diff_id).is_dir(), "{tag}: layer {diff_id} not loaded");
        }
    }
    let out = demo(root.path(), &["load", "-i", "/etc/hostname"]);
    assert_fails_with(&out, "not a usable tar");
}
