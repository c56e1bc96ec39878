//! Chapter 10 end to end: containers made by chapter 5's engine (through
//! this chapter's demo), turned into images, pushed to a real registry
//! (Debian's `docker-registry`), and read back by tools that share no code
//! with ours: `skopeo inspect`, `skopeo copy` + `umoci unpack`, and a read-only
//! overlay mount made by `mount(8)` to see the container's files.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ch04_image_pull::auth::{store_credentials, Credentials};
use ch04_image_pull::platform::Platform;
use ch04_image_pull::store::Store;
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

/// The first container adds, changes and deletes (a file, a directory);
/// the second, on the first's image, deletes a directory and makes an
/// opaque one. Each is diffed, committed, pushed and read back.
fn diff_commit_push_read_back(driver: &str) {
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
    ok(&w.md(&[
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
    diff_commit_push_read_back("overlay");
}

#[test]
fn vfs_layers_read_back_by_skopeo_and_umoci_match_the_container() {
    if !ready("vfs_layers_read_back_by_skopeo_and_umoci_match_the_container") {
        return;
    }
    diff_commit_push_read_back("vfs");
}
