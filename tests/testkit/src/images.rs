//! Test images built by independent tools (umoci, skopeo, GNU tar) from
//! Debian's `busybox-static`, never by the code under test.
//!
//! One OCI layout per test process (built once) holds the tags:
//! - `busybox`: one layer, /bin/busybox and applet symlinks, /etc/motd;
//! - `layered`: busybox + a layer umoci made by deleting /etc/motd (a
//!   regular whiteout) and adding /etc/hello and /data/{old1,keep/x} + a
//!   hand-made layer with `data/.wh..wh..opq` (opaque) and /data/new;
//! - `volumed`: `layered` with `VOLUME /data` in its config;
//! - `busybox-arm64`: the busybox layer with an arm64 config;
//! - `multi`: an image index with the linux/amd64 and linux/arm64 images.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};
use sha2::Digest as _;

use crate::registry::Registry;

/// The busybox applets every test image links.
pub const APPLETS: &[&str] = &[
    "sh", "ls", "cat", "echo", "true", "false", "mkdir", "rm", "id", "env", "sleep", "ps",
    "hostname", "test", "grep", "wc", "touch", "stat", "readlink", "mount", "umount", "ip", "ping",
    "wget", "nc", "ifconfig", "route", "kill", "pwd", "uname",
];

/// The text of /etc/motd in the base layer (deleted again by `layered`).
pub const MOTD: &str = "mini-docker test image\n";

/// True when umoci, skopeo and busybox are here; otherwise skips loudly.
pub fn tools_available(test: &str) -> bool {
    crate::require_program(test, "umoci", "umoci")
        && crate::require_program(test, "skopeo", "skopeo")
        && (Path::new("/bin/busybox").is_file()
            || crate::precondition_missing(
                test,
                "needs /bin/busybox (apt-get install busybox-static)",
            ))
}

static LAYOUT: OnceLock<PathBuf> = OnceLock::new();

/// The OCI layout with every test image, built on first use (needs root:
/// umoci unpack keeps owners).
pub fn layout() -> &'static Path {
    LAYOUT.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!(
            "{}-images-{}",
            crate::TEST_PREFIX,
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creating the image work dir");
        crate::remove_at_exit(&dir);
        build_layout(&dir);
        dir.join("oci")
    })
}

fn build_layout(work: &Path) {
    let oci = work.join("oci");
    let image = |tag: &str| format!("{}:{tag}", oci.display());
    umoci(&["init", "--layout", &oci.display().to_string()]);
    umoci(&["new", "--image", &image("busybox")]);
    let bundle = work.join("bundle-busybox");
    umoci(&["unpack", "--image", &image("busybox"), &bundle.display().to_string()]);
    populate_busybox(&bundle.join("rootfs"));
    umoci(&["repack", "--image", &image("busybox"), &bundle.display().to_string()]);
    umoci(&[
        "config",
        "--image",
        &image("busybox"),
        "--config.cmd",
        "/bin/sh",
        "--config.env",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "--architecture",
        "amd64",
        "--os",
        "linux",
    ]);

    // Layer 2 by umoci: a deleted file becomes a `.wh.motd` whiteout.
    let bundle = work.join("bundle-layered");
    umoci(&["unpack", "--image", &image("busybox"), &bundle.display().to_string()]);
    let rootfs = bundle.join("rootfs");
    std::fs::remove_file(rootfs.join("etc/motd")).expect("rm etc/motd");
    std::fs::write(rootfs.join("etc/hello"), "layer 2\n").expect("etc/hello");
    std::fs::create_dir_all(rootfs.join("data/keep")).expect("data/keep");
    std::fs::write(rootfs.join("data/old1"), "old\n").expect("data/old1");
    std::fs::write(rootfs.join("data/keep/x"), "x\n").expect("data/keep/x");
    umoci(&["repack", "--image", &image("layered"), &bundle.display().to_string()]);

    // Layer 3 by GNU tar: an opaque directory (umoci never writes those).
    let layer3 = work.join("layer3");
    std::fs::create_dir_all(layer3.join("data")).expect("layer3/data");
    std::fs::write(layer3.join("data/.wh..wh..opq"), "").expect("opaque marker");
    std::fs::write(layer3.join("data/new"), "layer 3\n").expect("data/new");
    run(Command::new("tar")
        .args(["--owner=0", "--group=0", "-C"])
        .arg(&layer3)
        .args(["-cf"])
        .arg(work.join("layer3.tar"))
        .arg("data"));
    umoci(&[
        "raw",
        "add-layer",
        "--image",
        &image("layered"),
        &work.join("layer3.tar").display().to_string(),
    ]);

    // `layered` plus a `VOLUME /data` entry: a volume seeded with /data/new.
    umoci(&[
        "config",
        "--image",
        &image("layered"),
        "--tag",
        "volumed",
        "--config.volume",
        "/data",
    ]);
    umoci(&[
        "config",
        "--image",
        &image("busybox"),
        "--tag",
        "busybox-arm64",
        "--architecture",
        "arm64",
    ]);
    add_index(&oci, "multi", &[("busybox-arm64", "arm64"), ("busybox", "amd64")]);
}

fn populate_busybox(rootfs: &Path) {
    for dir in ["bin", "etc", "tmp", "proc", "sys", "dev", "root"] {
        std::fs::create_dir_all(rootfs.join(dir)).expect("rootfs dir");
    }
    std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).expect("copying /bin/busybox");
    for applet in APPLETS {
        std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet))
            .expect("applet symlink");
    }
    std::fs::write(
        rootfs.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
    )
    .expect("passwd");
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n").expect("group");
    std::fs::write(rootfs.join("etc/motd"), MOTD).expect("motd");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(rootfs.join("tmp"), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod tmp");
}

/// Write an image index over existing tags, and tag it `name`.
fn add_index(oci: &Path, name: &str, entries: &[(&str, &str)]) {
    let index_path = oci.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path).expect("index.json"))
        .expect("index.json JSON");
    let manifests: Vec<Value> = entries
        .iter()
        .map(|(tag, arch)| {
            let mut descriptor = tagged(&index, tag);
            descriptor.as_object_mut().expect("descriptor").remove("annotations");
            descriptor["platform"] = json!({ "architecture": arch, "os": "linux" });
            descriptor
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests })).expect("index JSON");
    let digest = write_blob(oci, &body);
    index["manifests"].as_array_mut().expect("manifests").push(json!({
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "digest": digest,
        "size": body.len(),
        "annotations": { "org.opencontainers.image.ref.name": name }
    }));
    std::fs::write(&index_path, serde_json::to_vec(&index).expect("index.json"))
        .expect("writing index.json");
}

/// The descriptor of `tag` in the layout's index.json.
fn tagged(index: &Value, tag: &str) -> Value {
    index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap_or_else(|| panic!("no tag {tag} in the layout"))
        .clone()
}

/// Details of a tag in the layout, read with no help from the code under test.
pub struct LayoutImage {
    pub manifest_digest: String,
    pub config_digest: String,
    pub layer_digests: Vec<String>,
    pub diff_ids: Vec<String>,
}

pub fn describe(tag: &str) -> LayoutImage {
    let oci = layout();
    let index: Value =
        serde_json::from_slice(&std::fs::read(oci.join("index.json")).expect("index.json"))
            .expect("JSON");
    let manifest_digest = tagged(&index, tag)["digest"].as_str().expect("digest").to_string();
    let manifest: Value =
        serde_json::from_slice(&read_blob(oci, &manifest_digest)).expect("manifest JSON");
    let config_digest = manifest["config"]["digest"].as_str().expect("config digest").to_string();
    let config: Value =
        serde_json::from_slice(&read_blob(oci, &config_digest)).expect("config JSON");
    let strings = |v: &Value| {
        v.as_array()
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default()
    };
    LayoutImage {
        manifest_digest,
        config_digest,
        layer_digests: manifest["layers"]
            .as_array()
            .expect("layers")
            .iter()
            .map(|l| l["digest"].as_str().expect("digest").to_string())
            .collect(),
        diff_ids: strings(&config["rootfs"]["diff_ids"]),
    }
}

fn read_blob(oci: &Path, digest: &str) -> Vec<u8> {
    std::fs::read(oci.join("blobs/sha256").join(digest.trim_start_matches("sha256:")))
        .expect("reading a layout blob")
}

fn write_blob(oci: &Path, body: &[u8]) -> String {
    let hex: String = sha2::Sha256::digest(body).iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(oci.join("blobs/sha256").join(&hex), body).expect("writing a layout blob");
    format!("sha256:{hex}")
}

/// Push layout tag `tag` to `registry` as `name` (`busybox:latest`) with
/// skopeo; an index is pushed with all its images.
pub fn push(registry: &Registry, tag: &str, name: &str) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet", "--all", "--dest-tls-verify=false"]);
    if let Some(creds) = registry.creds_arg() {
        cmd.args(["--dest-creds", &creds]);
    }
    cmd.arg(format!("oci:{}:{tag}", layout().display()))
        .arg(format!("docker://{}/{name}", registry.host()));
    run(&mut cmd);
}

/// Save layout tag `tag` as a `docker save`-style tarball (skopeo's
/// docker-archive transport) named `name` inside.
pub fn docker_archive(tag: &str, name: &str, file: &Path) {
    run(Command::new("skopeo")
        .args(["--insecure-policy", "copy", "--quiet"])
        .arg(format!("oci:{}:{tag}", layout().display()))
        .arg(format!("docker-archive:{}:{name}", file.display())));
}

fn umoci(args: &[&str]) {
    run(Command::new("umoci").args(args));
}

fn run(cmd: &mut Command) {
    let out = crate::run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", crate::stderr(&out));
}
