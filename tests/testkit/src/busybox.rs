//! Test root filesystems made from Debian's `busybox-static`: one static
//! binary, a symlink per applet, and the few files a shell expects.
//! Also small layer directories in overlayfs's whiteout format (see
//! chapter 3's `layer` module) to stack on top of such a root.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::stat::{mknod, Mode, SFlag};

/// Where Debian's `busybox-static` installs the binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// Returns true when `/bin/busybox` is there; otherwise skips loudly (fails in CI).
pub fn require_busybox(test: &str) -> bool {
    if Path::new(BUSYBOX).is_file() {
        return true;
    }
    crate::precondition_missing(test, "needs /bin/busybox (apt-get install busybox-static)")
}

// ANCHOR: make_busybox_rootfs
/// Fill `dir` with a minimal root filesystem: `/bin/busybox`, a symlink in
/// `/bin` for each of its applets (`sh`, `ls`, `cat`...), `/etc/passwd`,
/// `/etc/group`, and the usual empty directories.
pub fn make_busybox_rootfs(dir: &Path) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("creating bin/");
    std::fs::copy(BUSYBOX, bin.join("busybox"))
        .expect("copying /bin/busybox (apt-get install busybox-static)");
    for applet in busybox_applets() {
        // `busybox --list` names busybox itself too: keep the binary.
        if applet != "busybox" && !applet.contains('/') {
            std::os::unix::fs::symlink("busybox", bin.join(&applet)).expect("linking an applet");
        }
    }
    for empty in ["etc", "root", "tmp", "proc", "sys", "dev", "usr/bin", "var"] {
        std::fs::create_dir_all(dir.join(empty)).expect("creating a directory");
    }
    std::fs::set_permissions(dir.join("tmp"), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod tmp");
    std::fs::write(
        dir.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )
    .expect("writing etc/passwd");
    std::fs::write(dir.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")
        .expect("writing etc/group");
}
// ANCHOR_END: make_busybox_rootfs

fn busybox_applets() -> Vec<String> {
    let out = Command::new(BUSYBOX).arg("--list").output().expect("running busybox --list");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

/// Write `content` to `layer/path`, making the directories on the way.
pub fn write_layer_file(layer: &Path, path: &str, content: &str) -> PathBuf {
    let file = layer.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).expect("creating a layer directory");
    std::fs::write(&file, content).expect("writing a layer file");
    file
}

/// Mark `path` deleted in `layer`: a character device 0:0 (needs root).
pub fn make_whiteout(layer: &Path, path: &str) {
    let file = layer.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).expect("creating a layer directory");
    mknod(&file, SFlag::S_IFCHR, Mode::empty(), 0).expect("mknod for a whiteout (needs root)");
}

/// Mark directory `path` of `layer` opaque: lower layers' contents hidden (needs root).
pub fn make_opaque_dir(layer: &Path, path: &str) {
    let dir = layer.join(path);
    std::fs::create_dir_all(&dir).expect("creating an opaque directory");
    let c_dir = CString::new(dir.as_os_str().as_bytes()).unwrap();
    // SAFETY: valid NUL-terminated strings and a 1-byte value.
    let rc = unsafe {
        libc::lsetxattr(
            c_dir.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            b"y".as_ptr().cast(),
            1,
            0,
        )
    };
    assert_eq!(
        rc,
        0,
        "setting trusted.overlay.opaque on {}: {}",
        dir.display(),
        std::io::Error::last_os_error()
    );
}

// ANCHOR: make_upper_layer
/// A second layer for a busybox root: `/etc/motd` replaced (hiding the
/// lower one), `/etc/doomed` deleted by a whiteout, `/opt/old` made opaque
/// with one new file. Pairs with [`make_lower_layer_files`].
pub fn make_upper_layer(layer: &Path) {
    write_layer_file(layer, "etc/motd", "from the upper layer\n");
    make_whiteout(layer, "etc/doomed");
    make_opaque_dir(layer, "opt/old");
    write_layer_file(layer, "opt/old/new", "only this one\n");
}

/// The lower layer's side of [`make_upper_layer`]: files for it to hide.
pub fn make_lower_layer_files(rootfs: &Path) {
    write_layer_file(rootfs, "etc/motd", "from the lower layer\n");
    write_layer_file(rootfs, "etc/doomed", "deleted by the upper layer\n");
    write_layer_file(rootfs, "etc/keep", "kept\n");
    write_layer_file(rootfs, "opt/old/a", "hidden by the opaque dir\n");
}
// ANCHOR_END: make_upper_layer
