//! Mounting, narrated: every mount the child makes goes through [`mount`],
//! which prints the step under `--explain` and names the flags in errors.

use std::path::{Component, Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use nix::mount::MsFlags;
use thiserror::Error;

/// The book section each kind of step points at.
pub const BOOK_MOUNTS: &str = "ch03-union-fs.md#the-containers-mounts";

#[derive(Debug, Error)]
pub enum MountError {
    #[error("mounting {what} on {}: {errno}", .target.display())]
    Mount { what: String, target: PathBuf, errno: nix::Error },
    #[error("{} is a symlink in the image; refusing to mount through it", .0.display())]
    Symlink(PathBuf),
    #[error("{} is not the device 1:3; refusing to use it to mask paths", .0.display())]
    NotDevNull(PathBuf),
    #[error("creating {}: {error}", .path.display())]
    Create { path: PathBuf, error: std::io::Error },
}

// ANCHOR: mount_struct
/// One mount, as `mount(2)` takes it, plus the words for `--explain`.
pub struct Mount<'a> {
    pub what: &'a str,
    pub source: Option<&'a str>,
    pub fstype: Option<&'a str>,
    pub flags: MsFlags,
    pub data: Option<&'a str>,
    pub book: &'a str,
}
// ANCHOR_END: mount_struct

// ANCHOR: mount
/// Narrate and make one mount on `target`.
pub fn mount(m: &Mount<'_>, target: &Path) -> Result<(), MountError> {
    explain::step(Step {
        what: m.what,
        syscall: &format!(
            "mount({}, {:?}, {}, {}, {})",
            c_string(m.source),
            target,
            c_string(m.fstype),
            flag_names(m.flags),
            c_string(m.data)
        ),
        shell: &shell_command(m, target),
        book: m.book,
    });
    nix::mount::mount(m.source, target, m.fstype, m.flags, m.data).map_err(|errno| {
        MountError::Mount { what: m.what.to_string(), target: target.to_path_buf(), errno }
    })
}
// ANCHOR_END: mount

/// A string argument as C would show it: quoted, or `NULL`.
fn c_string(value: Option<&str>) -> String {
    value.map(|v| format!("{v:?}")).unwrap_or_else(|| "NULL".to_string())
}

const FLAG_NAMES: [(MsFlags, &str, &str); 12] = [
    (MsFlags::MS_RDONLY, "MS_RDONLY", "ro"),
    (MsFlags::MS_NOSUID, "MS_NOSUID", "nosuid"),
    (MsFlags::MS_NODEV, "MS_NODEV", "nodev"),
    (MsFlags::MS_NOEXEC, "MS_NOEXEC", "noexec"),
    (MsFlags::MS_REMOUNT, "MS_REMOUNT", "remount"),
    (MsFlags::MS_BIND, "MS_BIND", "bind"),
    (MsFlags::MS_REC, "MS_REC", "rec"),
    (MsFlags::MS_PRIVATE, "MS_PRIVATE", "private"),
    (MsFlags::MS_SLAVE, "MS_SLAVE", "slave"),
    (MsFlags::MS_STRICTATIME, "MS_STRICTATIME", "strictatime"),
    (MsFlags::MS_MOVE, "MS_MOVE", "move"),
    (MsFlags::MS_SHARED, "MS_SHARED", "shared"),
];

/// `MS_BIND | MS_REC`, or `0` for no flags.
pub fn flag_names(flags: MsFlags) -> String {
    let names: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(f, _, _)| flags.contains(*f))
        .map(|(_, name, _)| *name)
        .collect();
    if names.is_empty() {
        "0".to_string()
    } else {
        names.join(" | ")
    }
}

fn shell_command(m: &Mount<'_>, target: &Path) -> String {
    let target = target.display();
    let mut options: Vec<&str> = FLAG_NAMES
        .iter()
        .filter(|(f, _, _)| {
            m.flags.contains(*f) && !matches!(*f, MsFlags::MS_BIND | MsFlags::MS_REC)
        })
        .map(|(_, _, option)| *option)
        .collect();
    if let Some(data) = m.data {
        options.push(data);
    }
    let options =
        if options.is_empty() { String::new() } else { format!(" -o {}", options.join(",")) };
    let source = m.source.unwrap_or("none");
    if m.flags.contains(MsFlags::MS_REMOUNT) {
        // `remount` is already among the options; a bind remount says so too.
        let bind = if m.flags.contains(MsFlags::MS_BIND) { ",bind" } else { "" };
        return format!("mount{options}{bind} {target}");
    }
    if m.flags.contains(MsFlags::MS_BIND) {
        let bind = if m.flags.contains(MsFlags::MS_REC) { "--rbind" } else { "--bind" };
        return format!("mount {bind}{options} {source} {target}");
    }
    match m.fstype {
        Some(fstype) => format!("mount -t {fstype}{options} {source} {target}"),
        None => format!("mount{options} {target}"),
    }
}

// ANCHOR: inside_root
/// `root/relative`, refusing any symlink on the way: the image controls
/// these paths, and a symlink `etc -> /` would make us mount on the host's
/// files instead of the container's.
pub fn inside_root(root: &Path, relative: &str) -> Result<PathBuf, MountError> {
    let mut path = root.to_path_buf();
    for component in Path::new(relative).components() {
        let Component::Normal(name) = component else { continue };
        path.push(name);
        if path.symlink_metadata().map(|m| m.file_type().is_symlink()).unwrap_or(false) {
            return Err(MountError::Symlink(path));
        }
    }
    Ok(path)
}
// ANCHOR_END: inside_root

/// A directory to mount on, created if the image lacks it.
pub fn mount_point_dir(root: &Path, relative: &str) -> Result<PathBuf, MountError> {
    let path = inside_root(root, relative)?;
    std::fs::create_dir_all(&path)
        .map_err(|error| MountError::Create { path: path.clone(), error })?;
    Ok(path)
}

/// A file to bind-mount on, created empty if the image lacks it.
pub fn mount_point_file(root: &Path, relative: &str) -> Result<PathBuf, MountError> {
    let path = inside_root(root, relative)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|error| MountError::Create { path: parent.to_path_buf(), error })?;
    }
    if !path.exists() {
        std::fs::write(&path, "")
            .map_err(|error| MountError::Create { path: path.clone(), error })?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_named_like_in_c() {
        assert_eq!(flag_names(MsFlags::MS_BIND | MsFlags::MS_REC), "MS_BIND | MS_REC");
        assert_eq!(flag_names(MsFlags::empty()), "0");
    }

    #[test]
    fn shell_equivalents() {
        let proc = Mount {
            what: "",
            source: Some("proc"),
            fstype: Some("proc"),
            flags: MsFlags::MS_NOSUID,
            data: None,
            book: "",
        };
        assert_eq!(
            shell_command(&proc, Path::new("/r/proc")),
            "mount -t proc -o nosuid proc /r/proc"
        );
        let bind = Mount {
            what: "",
            source: Some("/a"),
            fstype: None,
            flags: MsFlags::MS_BIND | MsFlags::MS_REC,
            data: None,
            book: "",
        };
        assert_eq!(shell_command(&bind, Path::new("/a")), "mount --rbind /a /a");
        let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
        let remount = Mount { what: "", source: None, fstype: None, flags, data: None, book: "" };
        assert_eq!(
            shell_command(&remount, Path::new("/r/proc/sys")),
            "mount -o ro,remount,bind /r/proc/sys"
        );
    }

    #[test]
    fn symlinks_in_the_image_are_refused() {
        let root = testkit::temp_dir();
        std::fs::create_dir(root.path().join("real")).unwrap();
        std::os::unix::fs::symlink("/", root.path().join("etc")).unwrap();
        assert!(matches!(inside_root(root.path(), "etc/hosts"), Err(MountError::Symlink(_))));
        assert_eq!(inside_root(root.path(), "/real/x").unwrap(), root.path().join("real/x"));
    }
}
