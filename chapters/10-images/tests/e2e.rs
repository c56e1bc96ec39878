//! Chapter 10 end to end: containers made by chapter 5's engine (through
//! this chapter's demo), turned into images, pushed to a real registry
//! (Debian's `docker-registry`), and read back by tools that share no code
//! with ours: `skopeo inspect`, `skopeo copy` + `umoci unpack`, and a read-only
//! overlay mount made by `mount(8)` to see the container's files. A small
//! fake registry does what the real one cannot be told to: a token dance,
//! relative `Location`s, a failure in the middle of an upload.

mod fake_registry;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ch04_image_pull::auth::{store_credentials, Credentials};
use ch04_image_pull::platform::Platform;
use ch04_image_pull::store::Store;
use fake_registry::{FakeRegistry, Options};
use serde_json::Value;
use sha2::Digest as _;
use testkit::registry::Registry;
use testkit::world::{image_tar, ok, World};
use testkit::{require_root, run, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_ch10-images");
const USER: &str = "mdtest";
const PASSWORD: &str = "s3cret-push";

fn ready(test: &str) -> bool {
    require_root(test)
        && testkit::registry::available(test)
        && testkit::images::tools_available(test)
}

/// A world whose store has the test image `tag`, put there by chapter 4.
fn world_with(tag: &'static str) -> World {
    let w = World::empty(BIN);
    let store = Store::open(w.root.path()).unwrap();
    ch04_image_pull::load::load(&store, &image_tar(tag), &Platform::host(), &mut |_| {}).unwrap();
    w
}

fn login(w: &World, registry: &Registry) {
    let creds = Credentials { username: USER.into(), password: PASSWORD.into() };
    store_credentials(w.root.path(), &registry.host(), &creds).unwrap();
}

/// `run --name NAME --storage-driver DRIVER IMAGE sh -c SCRIPT`, which must succeed.
fn run_script(w: &World, name: &str, driver: &str, image: &str, script: &str) {
    ok(&w.md(&["run", "--name", name, "--storage-driver", driver, image, "sh", "-c", script]));
}

fn skopeo(args: &[&str]) -> Output {
    run(Command::new("skopeo").arg("--insecure-policy").args(args))
}

fn inspect(registry: &Registry, name: &str, extra: &[&str]) -> Value {
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("docker://{}/{name}", registry.host());
    let mut args = vec!["inspect", "--tls-verify=false", "--creds", &creds];
    args.extend_from_slice(extra);
    args.push(&image);
    serde_json::from_str(&ok(&skopeo(&args))).unwrap()
}

/// `skopeo copy` the pushed image into an OCI layout, `umoci unpack` it:
/// the image's files, as tools that are not ours see them.
fn unpacked_by_umoci(registry: &Registry, name: &str, work: &Path) -> PathBuf {
    let layout = work.join("oci");
    let creds = format!("{USER}:{PASSWORD}");
    let from = format!("docker://{}/{name}", registry.host());
    let to = format!("oci:{}:img", layout.display());
    ok(&skopeo(&["copy", "--quiet", "--src-tls-verify=false", "--src-creds", &creds, &from, &to]));
    let bundle = work.join("bundle");
    let image = format!("{}:img", layout.display());
    let out = run(Command::new("umoci").args(["unpack", "--image", &image]).arg(&bundle));
    assert!(out.status.success(), "umoci unpack: {}", stderr(&out));
    bundle.join("rootfs")
}

/// What the container sees, read through an overlay mounted read-only by
/// mount(8) (overlay), or its vfs copy as it is.
struct ContainerView {
    root: PathBuf,
    mounted: Option<tempfile::TempDir>,
}

impl ContainerView {
    fn of(w: &World, name: &str) -> ContainerView {
        let engine = ch05_run::Engine::new(w.root.path());
        let config = engine.config(&engine.find(name).unwrap()).unwrap();
        let dir = engine.store.container_dir(&config.id);
        if config.driver == "vfs" {
            return ContainerView { root: dir.join("rootfs"), mounted: None };
        }
        let mut lower = vec![dir.join("upper")];
        lower.extend(config.layers.iter().rev().cloned());
        let lower: Vec<String> = lower.iter().map(|p| p.display().to_string()).collect();
        let mnt = testkit::temp_dir();
        let out = run(Command::new("mount")
            .args(["-t", "overlay", "overlay", "-o", &format!("ro,lowerdir={}", lower.join(":"))])
            .arg(mnt.path()));
        assert!(out.status.success(), "mount: {}", stderr(&out));
        ContainerView { root: mnt.path().to_path_buf(), mounted: Some(mnt) }
    }
}

impl Drop for ContainerView {
    fn drop(&mut self) {
        if let Some(mnt) = &self.mounted {
            let _ = run(Command::new("umount").arg(mnt.path()));
        }
    }
}

/// Every entry under `root` (symlinks not followed) with kind, mode, owner,
/// and a file's content hash and mtime (whole seconds, as a tar has them).
/// The engine's three `/etc` mount points are left out.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            if ["etc/hosts", "etc/hostname", "etc/resolv.conf"].contains(&relative.as_str()) {
                continue;
            }
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let owner =
                format!("{:o} {}:{}", meta.permissions().mode() & 0o7777, meta.uid(), meta.gid());
            let what = if meta.file_type().is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                format!("dir {owner}")
            } else {
                let hash = sha2::Sha256::digest(std::fs::read(&path).unwrap());
                format!("file {owner} {} {:x}", meta.mtime(), hash)
            };
            out.insert(relative, what);
            if meta.is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn assert_same_tree(expected: &Path, actual: &Path) {
    let (expected, actual) = (snapshot(expected), snapshot(actual));
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| -> Vec<String> {
        a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| format!("{k}: {v}")).collect()
    };
    assert!(
        expected == actual,
        "the unpacked image differs from the container:\nin the container: {:#?}\nin the image: {:#?}",
        only(&expected, &actual),
        only(&actual, &expected)
    );
}

fn lines(out: &Output) -> Vec<String> {
    ok(out).lines().map(str::to_string).collect()
}

/// What [`diff_commit_push_read_back`] made: two images, pushed.
struct Made {
    w: World,
    registry: Registry,
    a: String,
    b: String,
    id_a: String,
    id_b: String,
}

/// The first container adds, changes and deletes (a file, a directory);
/// the second, on the first's image, deletes a directory and makes an
/// opaque one. Each is diffed, committed, pushed and read back.
fn diff_commit_push_read_back(driver: &str) -> Made {
    let w = world_with("layered");
    let registry = Registry::start_with_basic_auth(USER, PASSWORD);
    login(&w, &registry);
    let first = "echo added > /etc/added; echo more >> /etc/hello; mkdir -p /srv/site /opt/gone; \
                 echo a > /srv/site/a; echo b > /srv/site/b; ln -s a /srv/site/link; \
                 echo x > /opt/gone/x; rm /data/new; chmod 700 /root";
    run_script(&w, "one", driver, "layered", first);
    assert_eq!(
        lines(&w.md(&["diff", "one"])),
        [
            "C /data",
            "D /data/new",
            "C /etc",
            "A /etc/added",
            "C /etc/hello",
            "A /opt",
            "A /opt/gone",
            "A /opt/gone/x",
            "C /root",
            "A /srv",
            "A /srv/site",
            "A /srv/site/a",
            "A /srv/site/b",
            "A /srv/site/link",
        ]
    );
    let a = format!("{}/mdtest/a:1", registry.host());
    let id_a = ok(&w.md(&["commit", "one", &a]));
    assert!(id_a.starts_with("sha256:") && id_a.len() == 71, "{id_a}");

    // A deleted directory, and an opaque one: deleted, then made again.
    let second = "rm -r /opt/gone; rm -rf /srv/site; mkdir /srv/site; echo c > /srv/site/c";
    run_script(&w, "two", driver, &a, second);
    assert_eq!(
        lines(&w.md(&["diff", "two"])),
        [
            "C /opt",
            "D /opt/gone",
            "C /srv",
            "C /srv/site",
            "D /srv/site/a",
            "D /srv/site/b",
            "A /srv/site/c",
            "D /srv/site/link",
        ]
    );
    let b = format!("{}/mdtest/b:2", registry.host());
    let id_b = ok(&w.md(&[
        "commit",
        "-a",
        "Jane <jane@example.com>",
        "-m",
        "site c",
        "-c",
        r#"CMD ["cat", "/srv/site/c"]"#,
        "-c",
        "ENV STAGE=two",
        "two",
        &b,
    ]));

    let pushed_a = lines(&w.md(&["push", &a]));
    assert_eq!(
        pushed_a[0],
        format!("The push refers to repository [{}/mdtest/a]", registry.host())
    );
    let count = |out: &[String], word: &str| out.iter().filter(|l| l.ends_with(word)).count();
    assert_eq!(count(&pushed_a, ": Pushed"), 4, "{pushed_a:?}");
    let again = lines(&w.md(&["push", &a]));
    assert_eq!(
        count(&again, ": Layer already exists"),
        4,
        "a second push sends nothing: {again:?}"
    );
    assert_eq!(again.last(), pushed_a.last(), "the same manifest, the same digest");
    let pushed_b = lines(&w.md(&["push", &b]));
    let last = pushed_b.last().unwrap();
    assert!(last.starts_with("2: digest: sha256:") && last.contains(" size: "), "{last}");
    let digest_b = last.split(' ').nth(2).unwrap().to_string();
    assert_eq!(count(&pushed_b, ": Mounted from mdtest/a"), 4, "a's layers: {pushed_b:?}");
    assert_eq!(count(&pushed_b, ": Pushed"), 1, "only two's own layer is sent: {pushed_b:?}");

    let inspected = inspect(&registry, "mdtest/b:2", &[]);
    assert_eq!(inspected["Digest"], digest_b);
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 5);
    let config = inspect(&registry, "mdtest/b:2", &["--config"]);
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["cat", "/srv/site/c"]));
    assert!(config["config"]["Env"].as_array().unwrap().contains(&"STAGE=two".into()));
    assert_eq!(config["author"], "Jane <jane@example.com>");
    let history = config["history"].as_array().unwrap();
    assert_eq!(history.last().unwrap()["comment"], "site c");

    for (container, name) in [("one", "mdtest/a:1"), ("two", "mdtest/b:2")] {
        let work = testkit::temp_dir();
        let unpacked = unpacked_by_umoci(&registry, name, work.path());
        let view = ContainerView::of(&w, container);
        assert_same_tree(&view.root, &unpacked);
    }
    Made { w, registry, a, b, id_a, id_b }
}

/// `history` shows both commits with their ids, then the pulled past.
fn history_shows_the_local_parents(made: &Made) {
    let rows = lines(&made.w.md(&["history", &made.b]));
    let columns: Vec<&str> =
        rows[0].split("   ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(columns, ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"], "{rows:?}");
    let short = |id: &str| id["sha256:".len()..][..12].to_string();
    assert!(rows[1].starts_with(&format!("{}   ", short(&made.id_b))), "{rows:?}");
    assert!(
        rows[1].contains("sh -c rm -r /opt/gone; rm -rf /srv/site; mkd…")
            && rows[1].ends_with("site c"),
        "{rows:?}"
    );
    assert!(rows[2].starts_with(&format!("{}   ", short(&made.id_a))), "{rows:?}");
    let store = Store::open(made.w.root.path()).unwrap();
    let layered = store.resolve("layered").unwrap().unwrap().0;
    assert!(rows[3].starts_with(&short(&layered)), "a's parent, loaded: {rows:?}");
    let past = &rows[4..];
    assert!(past.iter().all(|r| r.starts_with("<missing>")), "loaded, so no parent: {rows:?}");
    let quiet = lines(&made.w.md(&["history", "-q", "--no-trunc", &made.b]));
    assert_eq!(quiet[..2], [made.id_b.clone(), made.id_a.clone()]);
}

/// Pulled back into a fresh state root by chapter 4, the image runs.
fn a_pulled_back_image_runs(made: &Made) {
    let fresh = World::empty(BIN);
    login(&fresh, &made.registry);
    let store = Store::open(fresh.root.path()).unwrap();
    let options = ch04_image_pull::registry::RegistryOptions {
        credential_files: ch04_image_pull::auth::credential_files(fresh.root.path()),
        ..Default::default()
    };
    let reference = ch04_image_pull::Reference::parse(&made.b).unwrap();
    let pulled =
        ch04_image_pull::pull::pull(&store, &reference, &options, &Platform::host(), &mut |_| {})
            .unwrap();
    assert_eq!(pulled.image.id, made.id_b, "the same config, so the same image id");
    assert_eq!(ok(&fresh.md(&["run", "--rm", &made.b])), "c");
}

/// `save` of both images loads in a fresh state root, which can run them,
/// and skopeo reads the tarball.
fn a_saved_tarball_loads_and_skopeo_reads_it(made: &Made) {
    let file = made.w.root.path().join("saved.tar");
    ok(&made.w.md(&["save", "-o", file.to_str().unwrap(), &made.a, &made.b]));
    let fresh = World::empty(BIN);
    let store = Store::open(fresh.root.path()).unwrap();
    let loaded =
        ch04_image_pull::load::load(&store, &file, &Platform::host(), &mut |_| {}).unwrap();
    let ids: Vec<&str> = loaded.iter().map(|l| l.image.id.as_str()).collect();
    assert_eq!(ids, [made.id_a.as_str(), made.id_b.as_str()]);
    let tags = store.tags().unwrap();
    assert_eq!(
        tags[&format!("{}", ch04_image_pull::Reference::parse(&made.b).unwrap())],
        made.id_b
    );
    assert_eq!(ok(&fresh.md(&["run", "--rm", &made.b])), "c");
    let archive = format!("docker-archive:{}:{}", file.display(), made.b);
    let inspected: Value = serde_json::from_str(&ok(&skopeo(&["inspect", &archive]))).unwrap();
    assert_eq!(inspected["Layers"].as_array().unwrap().len(), 5, "{inspected}");
    let config: Value =
        serde_json::from_str(&ok(&skopeo(&["inspect", "--config", &archive]))).unwrap();
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["cat", "/srv/site/c"]));
}

#[test]
fn overlay_layers_read_back_by_skopeo_and_umoci_match_the_container() {
    if !ready("overlay_layers_read_back_by_skopeo_and_umoci_match_the_container") {
        return;
    }
    if !ch03_union_fs::driver::overlay_available() {
        testkit::precondition_missing("overlay test", "the kernel has no overlay filesystem");
        return;
    }
    let made = diff_commit_push_read_back("overlay");
    history_shows_the_local_parents(&made);
    a_pulled_back_image_runs(&made);
    a_saved_tarball_loads_and_skopeo_reads_it(&made);
}

#[test]
fn vfs_layers_read_back_by_skopeo_and_umoci_match_the_container() {
    if !ready("vfs_layers_read_back_by_skopeo_and_umoci_match_the_container") {
        return;
    }
    diff_commit_push_read_back("vfs");
}

/// Tag the store's `busybox` as `name` (what `docker tag` does).
fn tag_busybox(w: &World, name: &str) -> String {
    let store = Store::open(w.root.path()).unwrap();
    let id = store.resolve("busybox").unwrap().unwrap().0;
    let full = ch04_image_pull::Reference::parse(name).unwrap().to_string();
    store.set_tag(&store.lock().unwrap(), &full, &id).unwrap();
    let diff_id = store.image(&id).unwrap().layers[0].diff_id.clone();
    diff_id["sha256:".len()..][..12].to_string()
}

fn store_login(w: &World, host: &str, password: &str) {
    let creds = Credentials { username: USER.into(), password: password.into() };
    store_credentials(w.root.path(), host, &creds).unwrap();
}

fn one_line_failure(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let line = stderr(out);
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    line
}

#[test]
fn token_auth_chunks_and_relative_then_absolute_locations() {
    if !ready("token_auth_chunks_and_relative_then_absolute_locations") {
        return;
    }
    let token_for = Some((USER.to_string(), PASSWORD.to_string()));
    let fake = FakeRegistry::start(Options { token_for, fail_patch: None });
    let w = world_with("busybox");
    store_login(&w, &fake.host(), PASSWORD);
    let name = format!("{}/team/tiny:1", fake.host());
    tag_busybox(&w, &name);
    let out = lines(&w.md(&["push", "--chunk-size", "262144", &name]));
    let digest = out.last().unwrap().split(' ').nth(2).unwrap().to_string();
    let state = fake.state.lock().unwrap();
    assert!(
        state.scopes.iter().any(|s| s == "repository:team/tiny:push,pull"),
        "{:?}",
        state.scopes
    );
    let patches: Vec<&String> = state.log.iter().filter(|l| l.starts_with("PATCH ")).collect();
    assert!(patches.len() >= 3, "a layer of ~1 MB in 256 KiB chunks: {patches:?}");
    assert!(patches[0].ends_with("?_state=0"), "the POST's relative Location: {patches:?}");
    assert!(patches[1].ends_with("?_state=1"), "the first PATCH's absolute Location: {patches:?}");
    let manifest = &state.manifests["team/tiny:1"];
    assert_eq!(format!("sha256:{:x}", sha2::Sha256::digest(manifest)), digest);
    let manifest: Value = serde_json::from_slice(manifest).unwrap();
    for blob in manifest["layers"].as_array().unwrap().iter().chain([&manifest["config"]]) {
        assert!(
            state.blobs.contains_key(blob["digest"].as_str().unwrap()),
            "blobs before the manifest"
        );
    }
}

#[test]
fn a_failure_in_the_middle_of_an_upload_names_the_layer_and_leaves_nothing() {
    if !ready("a_failure_in_the_middle_of_an_upload_names_the_layer_and_leaves_nothing") {
        return;
    }
    let fake = FakeRegistry::start(Options { token_for: None, fail_patch: Some(2) });
    let w = world_with("busybox");
    let name = format!("{}/team/broken:1", fake.host());
    let layer = tag_busybox(&w, &name);
    let line = one_line_failure(&w.md(&["push", "--chunk-size", "262144", &name]));
    assert!(
        line.contains(&format!("layer {layer}")) && line.contains("the disk is full"),
        "{line}"
    );
    let state = fake.state.lock().unwrap();
    assert!(
        state.log.iter().any(|l| l.starts_with("DELETE /v2/team/broken/blobs/uploads/")),
        "the upload is cancelled: {:?}",
        state.log
    );
    assert!(state.manifests.is_empty() && !state.log.iter().any(|l| l.contains("/manifests/")));
    let store = Store::open(w.root.path()).unwrap();
    assert_eq!(
        std::fs::read_dir(w.root.path().join("tmp")).unwrap().count(),
        0,
        "no temporary left"
    );
    let id = store.resolve(&name).unwrap().unwrap().0;
    assert!(store.image(&id).unwrap().repo_digests.is_empty(), "not recorded as pushed");
}

#[test]
fn wrong_credentials_fail_in_one_line_and_push_no_manifest() {
    if !ready("wrong_credentials_fail_in_one_line_and_push_no_manifest") {
        return;
    }
    let registry = Registry::start_with_basic_auth(USER, PASSWORD);
    let w = world_with("busybox");
    store_login(&w, &registry.host(), "not-the-password");
    let name = format!("{}/team/denied:1", registry.host());
    let layer = tag_busybox(&w, &name);
    let line = one_line_failure(&w.md(&["push", &name]));
    assert!(line.contains("unauthorized") && line.contains(&format!("layer {layer}")), "{line}");
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("docker://{}/team/denied:1", registry.host());
    let out = skopeo(&["inspect", "--tls-verify=false", "--creds", &creds, &image]);
    assert!(!out.status.success(), "the registry has no such image: {}", stdout(&out));
}

#[test]
fn bad_input_gives_one_line_and_makes_nothing() {
    if !ready("bad_input_gives_one_line_and_makes_nothing") {
        return;
    }
    let w = world_with("busybox");
    run_script(&w, "box", "vfs", "busybox", "echo hi > /hello");
    let count = |dir: &str| std::fs::read_dir(w.root.path().join(dir)).unwrap().count();
    let before = (count("blobs/sha256"), count("layers"), count("images"));
    for (args, needle) in [
        (vec!["commit", "-c", "RUN echo hi", "box"], "run is not a valid change command"),
        (vec!["commit", "-c", "EXPOSE 99999", "box"], "invalid containerPort: 99999"),
        (vec!["commit", "box", "Not/Lowercase"], "must be lowercase"),
        (vec!["commit", "nobody-here"], "nobody-here"),
        (vec!["diff", "nobody-here"], "nobody-here"),
        (
            vec!["push", "127.0.0.1:1/never/tagged:1"],
            "An image does not exist locally with the tag: 127.0.0.1:1/never/tagged",
        ),
        (
            vec!["push", &format!("busybox@sha256:{}", "a".repeat(64))],
            "cannot push a digest reference",
        ),
        (vec!["history", "no-such-image"], "No such image: no-such-image"),
        (
            vec!["save", "-o", "/tmp/mdtest-never.tar", "no-such-image"],
            "reference does not exist: no-such-image",
        ),
    ] {
        let line = one_line_failure(&w.md(&args));
        assert!(line.contains(needle), "{args:?}: {line}");
    }
    assert!(!Path::new("/tmp/mdtest-never.tar").exists());
    assert_eq!(
        (count("blobs/sha256"), count("layers"), count("images")),
        before,
        "nothing was stored"
    );
    assert_eq!(count("tmp"), 0);
}

#[test]
fn pausing_needs_the_freezer_and_an_unchanged_container_adds_no_layer() {
    if !ready("pausing_needs_the_freezer_and_an_unchanged_container_adds_no_layer") {
        return;
    }
    let w = world_with("busybox");
    ok(&w.md(&[
        "run",
        "-d",
        "--name",
        "sleeper",
        "--storage-driver",
        "vfs",
        "busybox",
        "sleep",
        "60",
    ]));
    let line = one_line_failure(&w.md(&["commit", "sleeper", "mdtest/paused:1"]));
    assert!(line.contains("--pause=false"), "{line}");
    let id = ok(&w.md(&[
        "commit",
        "--pause=false",
        "-c",
        "LABEL made=while-running",
        "sleeper",
        "mdtest/paused:1",
    ]));
    ok(&w.md(&["rm", "-f", "sleeper"]));
    let store = Store::open(w.root.path()).unwrap();
    let config: Value = serde_json::from_slice(&store.read_blob(&id).unwrap()).unwrap();
    let base = store.resolve("busybox").unwrap().unwrap().0;
    let base: Value = serde_json::from_slice(&store.read_blob(&base).unwrap()).unwrap();
    assert_eq!(config["rootfs"], base["rootfs"], "nothing changed, so no new layer");
    let last = config["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["empty_layer"].clone(), last["created_by"].clone()),
        (Value::Bool(true), "sleep 60".into())
    );
    assert_eq!(config["config"]["Labels"]["made"], "while-running");
    let top = lines(&w.md(&["history", "mdtest/paused:1"]));
    assert!(top[1].contains("sleep 60") && top[1].contains(" 0B"), "{top:?}");
}

#[test]
fn export_is_the_whole_filesystem_as_gnu_tar_reads_it() {
    if !ready("export_is_the_whole_filesystem_as_gnu_tar_reads_it") {
        return;
    }
    let w = world_with("layered");
    run_script(&w, "box", "overlay", "layered", "echo hi > /hello; rm /etc/hello");
    let file = w.root.path().join("export.tar");
    ok(&w.md(&["export", "-o", file.to_str().unwrap(), "box"]));
    let names = lines(&run(Command::new("tar").arg("-tf").arg(&file)));
    for present in ["bin/busybox", "data/new", "hello", "etc/passwd"] {
        assert!(names.iter().any(|n| n == present), "{present} missing: {names:?}");
    }
    for absent in ["etc/hello", "etc/motd"] {
        assert!(!names.iter().any(|n| n == absent), "{absent} is deleted: {names:?}");
    }
    assert!(!names.iter().any(|n| n.contains(".wh.")), "a flat tar has no whiteouts");
    let hello = run(Command::new("tar").arg("-xOf").arg(&file).arg("hello"));
    assert_eq!(ok(&hello), "hi");
}
