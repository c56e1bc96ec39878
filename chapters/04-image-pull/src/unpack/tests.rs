//! Hand-made malicious layers: every escape must be rejected or contained,
//! and the directory around the layer must stay untouched.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::*;

/// A tar built entry by entry with raw headers, so names like `../x` that
/// the tar crate's safe setters refuse can be written.
struct Layer(tar::Builder<Vec<u8>>);

impl Layer {
    fn new() -> Layer {
        Layer(tar::Builder::new(Vec::new()))
    }

    fn entry(mut self, name: &str, kind: EntryType, link: &str, mode: u32, data: &[u8]) -> Layer {
        let mut header = tar::Header::new_gnu();
        let gnu = header.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_mtime(1_000_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header.set_cksum();
        self.0.append(&header, data).unwrap();
        self
    }

    fn file(self, name: &str, data: &str) -> Layer {
        self.entry(name, EntryType::Regular, "", 0o644, data.as_bytes())
    }
    fn dir(self, name: &str) -> Layer {
        self.entry(name, EntryType::Directory, "", 0o755, b"")
    }
    fn symlink(self, name: &str, target: &str) -> Layer {
        self.entry(name, EntryType::Symlink, target, 0o777, b"")
    }
    fn hardlink(self, name: &str, target: &str) -> Layer {
        self.entry(name, EntryType::Link, target, 0o644, b"")
    }

    fn bytes(self) -> Vec<u8> {
        self.0.into_inner().unwrap()
    }
}

/// `outer/` holds `outer/layer/` (the root we unpack into) and a `secret`
/// file beside it that no layer may touch.
struct Sandbox {
    _dir: tempfile::TempDir,
    outer: PathBuf,
    layer: PathBuf,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::Builder::new().prefix("mdtest-unpack").tempdir().unwrap();
        let outer = dir.path().to_path_buf();
        let layer = outer.join("layer");
        fs::create_dir(&layer).unwrap();
        fs::write(outer.join("secret"), "secret").unwrap();
        fs::set_permissions(outer.join("secret"), fs::Permissions::from_mode(0o600)).unwrap();
        Sandbox { _dir: dir, outer, layer }
    }

    fn unpack(&self, layer: Layer) -> Result<UnpackStats, UnpackError> {
        unpack(&layer.bytes()[..], &self.layer)
    }

    /// Nothing but `layer/` and an unchanged `secret` around the layer.
    fn assert_outside_untouched(&self) {
        let mut names: Vec<String> = fs::read_dir(&self.outer)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["layer", "secret"], "something was written beside the layer");
        let secret = fs::symlink_metadata(self.outer.join("secret")).unwrap();
        assert!(secret.is_file());
        assert_eq!(secret.permissions().mode() & 0o7777, 0o600, "secret's mode changed");
        assert_eq!(secret.nlink(), 1, "secret was hardlinked");
        assert_eq!(fs::read_to_string(self.outer.join("secret")).unwrap(), "secret");
        assert!(fs::symlink_metadata(&self.layer).unwrap().is_dir(), "the layer root was replaced");
    }

    fn in_layer(&self, path: &str) -> PathBuf {
        self.layer.join(path)
    }
}

fn host_marker() -> String {
    format!("/tmp/mdtest-escape-{}", std::process::id())
}

#[test]
fn dot_dot_escapes_are_rejected() {
    for name in ["../secret", "../x", "a/../../x", "./../x", "a/b/../../../x"] {
        let sandbox = Sandbox::new();
        let err = sandbox.unpack(Layer::new().file(name, "pwned")).unwrap_err();
        assert!(matches!(err, UnpackError::Escape { .. }), "{name}: {err}");
        assert!(err.to_string().contains("outside the layer"), "{err}");
        sandbox.assert_outside_untouched();
    }
}

#[test]
fn absolute_names_are_contained_in_the_layer() {
    let sandbox = Sandbox::new();
    let marker = host_marker();
    sandbox.unpack(Layer::new().file(&marker, "contained")).unwrap();
    assert!(!Path::new(&marker).exists(), "wrote {marker} on the host");
    assert_eq!(
        fs::read_to_string(sandbox.in_layer(marker.trim_start_matches('/'))).unwrap(),
        "contained"
    );
    sandbox.assert_outside_untouched();
}

#[test]
fn writing_through_an_absolute_symlink_stays_in_the_layer() {
    let sandbox = Sandbox::new();
    let marker = host_marker();
    let through = format!("l{marker}");
    sandbox.unpack(Layer::new().symlink("l", "/").file(&through, "contained")).unwrap();
    assert!(!Path::new(&marker).exists(), "wrote {marker} on the host through l -> /");
    assert_eq!(
        fs::read_to_string(sandbox.in_layer(marker.trim_start_matches('/'))).unwrap(),
        "contained"
    );
    assert_eq!(
        fs::read_link(sandbox.in_layer("l")).unwrap(),
        Path::new("/"),
        "the symlink is stored verbatim"
    );
    sandbox.assert_outside_untouched();
}

#[test]
fn writing_through_dot_dot_symlinks_stays_in_the_layer() {
    let sandbox = Sandbox::new();
    let layer = Layer::new()
        .symlink("up", "..")
        .dir("d")
        .symlink("d/up2", "../../..")
        .symlink("chain", "up/d/up2/up")
        .file("up/x", "1")
        .file("d/up2/y", "2")
        .file("chain/z", "3");
    sandbox.unpack(layer).unwrap();
    for name in ["x", "y", "z"] {
        assert!(sandbox.in_layer(name).is_file(), "{name} should land at the layer root");
    }
    sandbox.assert_outside_untouched();
}

#[test]
fn a_symlink_to_the_outside_is_replaced_not_written_through() {
    let sandbox = Sandbox::new();
    let secret = sandbox.outer.join("secret").display().to_string();
    // A file entry, then a directory entry (chmod 0777), over symlinks to the secret.
    let layer = Layer::new().symlink("f", &secret).file("f", "new").symlink("d", &secret).entry(
        "d",
        EntryType::Directory,
        "",
        0o777,
        b"",
    );
    sandbox.unpack(layer).unwrap();
    assert_eq!(fs::read_to_string(sandbox.in_layer("f")).unwrap(), "new");
    assert!(fs::symlink_metadata(sandbox.in_layer("d")).unwrap().is_dir());
    sandbox.assert_outside_untouched();
}

#[test]
fn hardlinks_outside_the_layer_are_rejected() {
    for target in ["../secret", "../../etc/passwd", "a/../../secret"] {
        let sandbox = Sandbox::new();
        let err = sandbox.unpack(Layer::new().hardlink("h", target)).unwrap_err();
        assert!(matches!(err, UnpackError::HardlinkEscape { .. }), "{target}: {err}");
        sandbox.assert_outside_untouched();
    }
}

#[test]
fn hardlinks_through_symlinks_resolve_inside_the_layer() {
    let sandbox = Sandbox::new();
    let outer = sandbox.outer.display().to_string();
    // s -> the real directory holding `secret`; a link to s/secret must not reach it.
    let err =
        sandbox.unpack(Layer::new().symlink("s", &outer).hardlink("h", "s/secret")).unwrap_err();
    assert!(matches!(err, UnpackError::HardlinkMissing { .. }), "{err}");
    sandbox.assert_outside_untouched();
    let sandbox = Sandbox::new();
    let err = sandbox
        .unpack(Layer::new().symlink("etc", "/etc").hardlink("h", "etc/passwd"))
        .unwrap_err();
    assert!(matches!(err, UnpackError::HardlinkMissing { .. }), "{err}");
    sandbox.assert_outside_untouched();
}

#[test]
fn entries_naming_the_root_are_ignored() {
    for root_name in [".", "/", "./", ""] {
        let sandbox = Sandbox::new();
        let outer = sandbox.outer.display().to_string();
        sandbox.unpack(Layer::new().symlink(root_name, &outer).file("x", "in layer")).unwrap();
        assert_eq!(fs::read_to_string(sandbox.in_layer("x")).unwrap(), "in layer", "{root_name:?}");
        sandbox.assert_outside_untouched();
    }
}

#[test]
fn whiteout_without_a_name_is_rejected() {
    for name in [".wh.", "dir/.wh.", ".wh..", "a/.wh..."] {
        let sandbox = Sandbox::new();
        let err = sandbox.unpack(Layer::new().file(name, "")).unwrap_err();
        assert!(matches!(err, UnpackError::BadWhiteout { .. }), "{name}: {err}");
    }
}

#[test]
fn a_file_below_a_regular_file_is_refused() {
    let sandbox = Sandbox::new();
    let err = sandbox.unpack(Layer::new().file("f", "x").file("f/g", "y")).unwrap_err();
    assert!(matches!(err, UnpackError::NotADirectory { .. }), "{err}");
}

#[test]
fn modes_times_symlinks_hardlinks_and_fifos_are_preserved() {
    let sandbox = Sandbox::new();
    let layer = Layer::new()
        .dir("bin")
        .entry("bin/busybox", EntryType::Regular, "", 0o4755, b"#!binary")
        .symlink("bin/sh", "busybox")
        .hardlink("bin/ls", "bin/busybox")
        .entry("run/fifo", EntryType::Fifo, "", 0o640, b"")
        .entry("tmp", EntryType::Directory, "", 0o1777, b"");
    sandbox.unpack(layer).unwrap();
    let busybox = fs::metadata(sandbox.in_layer("bin/busybox")).unwrap();
    assert_eq!(busybox.permissions().mode() & 0o7777, 0o4755);
    assert_eq!(busybox.mtime(), 1_000_000_000);
    assert_eq!(fs::read_link(sandbox.in_layer("bin/sh")).unwrap(), Path::new("busybox"));
    assert_eq!(fs::metadata(sandbox.in_layer("bin/ls")).unwrap().ino(), busybox.ino());
    let fifo = fs::symlink_metadata(sandbox.in_layer("run/fifo")).unwrap();
    assert!(fifo.file_type().is_fifo());
    assert_eq!(fifo.permissions().mode() & 0o777, 0o640);
    let tmp = fs::metadata(sandbox.in_layer("tmp")).unwrap();
    assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777);
    assert_eq!(
        fs::metadata(sandbox.in_layer("bin")).unwrap().mtime(),
        1_000_000_000,
        "directory times are set last"
    );
    sandbox.assert_outside_untouched();
}

#[test]
fn aufs_metadata_is_skipped() {
    let sandbox = Sandbox::new();
    sandbox
        .unpack(
            Layer::new().dir(".wh..wh.plnk").file(".wh..wh.plnk/123.456", "x").file("kept", "y"),
        )
        .unwrap();
    assert!(!sandbox.in_layer(".wh..wh.plnk").exists());
    assert!(sandbox.in_layer("kept").exists());
}

#[test]
fn owners_devices_xattrs_and_whiteouts_need_root() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped owners_devices_xattrs_and_whiteouts_need_root: needs root (covered by the e2e tests too)");
        return;
    }
    let sandbox = Sandbox::new();
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(EntryType::Regular);
    header.set_mode(0o640);
    header.set_uid(1234);
    header.set_gid(5678);
    header.set_size(2);
    header.set_mtime(42);
    builder.append_pax_extensions([("SCHILY.xattr.user.mdtest", &b"hello"[..])]).unwrap();
    builder.append_data(&mut header, "owned", &b"hi"[..]).unwrap();
    let mut dev = tar::Header::new_gnu();
    dev.set_entry_type(EntryType::Char);
    dev.set_mode(0o666);
    dev.set_device_major(1).unwrap();
    dev.set_device_minor(3).unwrap();
    dev.set_size(0);
    builder.append_data(&mut dev, "dev/null", &b""[..]).unwrap();
    let mut layer = Layer(builder)
        .dir("etc")
        .file("etc/.wh.passwd", "")
        .dir("opaque")
        .file("opaque/.wh..wh..opq", "")
        .file("opaque/new", "n");
    layer = layer.entry("gone/.wh.file", EntryType::Regular, "", 0o644, b"");
    let stats = sandbox.unpack(layer).unwrap();
    assert_eq!(stats.whiteouts, 3);
    let owned = fs::metadata(sandbox.in_layer("owned")).unwrap();
    assert_eq!(
        (owned.uid(), owned.gid(), owned.mode() & 0o7777, owned.mtime()),
        (1234, 5678, 0o640, 42)
    );
    assert_eq!(xattr(&sandbox.in_layer("owned"), "user.mdtest").as_deref(), Some(&b"hello"[..]));
    let null = fs::symlink_metadata(sandbox.in_layer("dev/null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), nix::sys::stat::makedev(1, 3));
    let whiteout = fs::symlink_metadata(sandbox.in_layer("etc/passwd")).unwrap();
    assert!(
        whiteout.file_type().is_char_device() && whiteout.rdev() == 0,
        "a whiteout is a 0:0 char device"
    );
    assert!(!sandbox.in_layer("etc/.wh.passwd").exists(), "the .wh. file itself is never written");
    assert!(fs::symlink_metadata(sandbox.in_layer("gone/file"))
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(
        xattr(&sandbox.in_layer("opaque"), OVERLAY_OPAQUE_XATTR).as_deref(),
        Some(&b"y"[..])
    );
    assert!(!sandbox.in_layer("opaque/.wh..wh..opq").exists());
    assert!(sandbox.in_layer("opaque/new").is_file());
    sandbox.assert_outside_untouched();
}

fn xattr(path: &Path, key: &str) -> Option<Vec<u8>> {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    let key = CString::new(key).unwrap();
    let mut buf = vec![0u8; 256];
    // SAFETY: valid C strings and a buffer of the length given.
    let n =
        unsafe { libc::lgetxattr(path.as_ptr(), key.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    (n >= 0).then(|| buf[..n as usize].to_vec())
}
