//! User namespaces: root inside, an unprivileged uid range outside.
//!
//! `/etc/subuid` and `/etc/subgid` give users ranges of ids they may use
//! (`mini-docker:100000:65536`). With `--userns-remap`, the container's
//! uid 0 is host uid 100000, its uid 1 is 100001, and so on: a process that
//! escapes every other wall is still nobody on the host. Chapter 1 mapped
//! root to *ourselves*; here the parent (real root) maps a whole range.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use ch01_namespaces::userns::id_map_line;
use ch01_namespaces::ParentHook;
use ch03_union_fs::Owners;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub const BOOK_USERNS: &str = "ch08-security.md#user-namespaces";
/// Docker's user for `--userns-remap=default` is `dockremap`; ours:
pub const DEFAULT_REMAP_USER: &str = "mini-docker";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsernsError {
    #[error("--userns-remap {user}: no entry for {user:?} in {file}: add a line like \"{user}:100000:65536\" (usermod --add-subuids 100000-165535 {user})")]
    NoEntry { user: String, file: String },
    #[error("--userns-remap: cannot read {file}: {message}: create it with a line like \"mini-docker:100000:65536\"")]
    Unreadable { file: String, message: String },
    #[error("--userns-remap {user}: the range in {file} starts at 0, which would map the container's root to the host's root")]
    MapsHostRoot { user: String, file: String },
    #[error("--userns-remap: the container's root (host uid {uid}) cannot reach {}: {} is mode {mode:o}; make it searchable (chmod o+x) or use another --root", .path.display(), .blocking.display())]
    Unreachable { uid: u32, path: PathBuf, blocking: PathBuf, mode: u32 },
    #[error("--userns-remap: giving {} to the container's root: {message}", .path.display())]
    Chown { path: PathBuf, message: String },
}

/// One range: container ids `0..count` are host ids `start..start+count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRange {
    pub start: u32,
    pub count: u32,
}

/// The uid and gid ranges of a remapped container, and whose they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remap {
    pub user: String,
    pub uids: IdRange,
    pub gids: IdRange,
}

impl Remap {
    /// The host's uid and gid of the container's root.
    pub fn root(&self) -> (u32, u32) {
        (self.uids.start, self.gids.start)
    }

    /// `docker inspect`'s view: the two lines written to uid_map and gid_map.
    pub fn inspect_json(&self) -> serde_json::Value {
        let line = |r: IdRange| id_map_line(0, r.start, r.count).trim_end().to_string();
        serde_json::json!({ "User": self.user, "UidMap": line(self.uids), "GidMap": line(self.gids) })
    }
}

// ANCHOR: owners
/// How chapter 3's vfs copy moves the image's owners into the range: a
/// file owned by uid N in the layers is owned by `start + N` in the copy
/// (gids alike). Inside the namespace, which maps `0..count` to
/// `start..start+count`, it shows as N again.
impl Owners for Remap {
    fn host_ids(&self, uid: u32, gid: u32) -> std::io::Result<(u32, u32)> {
        let shift = |id: u32, range: IdRange, kind: &str| {
            (id < range.count).then(|| range.start + id).ok_or_else(|| {
                let count = range.count;
                std::io::Error::other(format!(
                    "owned by {kind} {id}, which the user namespace's {count} ids do not cover"
                ))
            })
        };
        Ok((shift(uid, self.uids, "uid")?, shift(gid, self.gids, "gid")?))
    }
}
// ANCHOR_END: owners

// ANCHOR: parse_subid
/// The first range of `user` in the text of a subuid/subgid file
/// (`name:start:count`, one a line; `#` comments).
pub fn parse_subid(text: &str, user: &str) -> Option<IdRange> {
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|line| {
        let mut fields = line.trim().split(':');
        let (name, start, count) = (fields.next()?, fields.next()?, fields.next()?);
        (name == user).then_some(())?;
        Some(IdRange { start: start.parse().ok()?, count: count.parse().ok()? })
    })
}
// ANCHOR_END: parse_subid

/// The files to read: `/etc/subuid` and `/etc/subgid`, or the ones named by
/// `MINI_DOCKER_SUBUID` / `MINI_DOCKER_SUBGID` (tests use their own).
pub fn subid_files() -> (PathBuf, PathBuf) {
    let file = |var: &str, default: &str| {
        std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
    };
    (file("MINI_DOCKER_SUBUID", "/etc/subuid"), file("MINI_DOCKER_SUBGID", "/etc/subgid"))
}

/// Look `user` up in both files.
pub fn lookup(user: &str, subuid: &Path, subgid: &Path) -> Result<Remap, UsernsError> {
    let user = if user == "default" { DEFAULT_REMAP_USER } else { user };
    Ok(Remap {
        user: user.to_string(),
        uids: lookup_one(user, subuid)?,
        gids: lookup_one(user, subgid)?,
    })
}

fn lookup_one(user: &str, file: &Path) -> Result<IdRange, UsernsError> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file)
        .map_err(|e| UsernsError::Unreadable { file: name.clone(), message: e.to_string() })?;
    let range = parse_subid(&text, user)
        .ok_or_else(|| UsernsError::NoEntry { user: user.to_string(), file: name.clone() })?;
    if range.start == 0 {
        return Err(UsernsError::MapsHostRoot { user: user.to_string(), file: name });
    }
    Ok(range)
}

// ANCHOR: map_hook
/// The parent hook that writes the child's `uid_map` and `gid_map`. We are
/// real root, so any range is allowed and `setgroups` may stay enabled.
pub fn map_range_hook(remap: &Remap) -> ParentHook {
    let remap = remap.clone();
    ParentHook::new("mapping the container's ids to the subordinate range", move |child| {
        for (file, range) in [("uid_map", remap.uids), ("gid_map", remap.gids)] {
            let path = format!("/proc/{child}/{file}");
            let line = id_map_line(0, range.start, range.count);
            explain::step(Step {
                what: &format!(
                    "map the container's ids 0..{} to the host's {}..{}",
                    range.count,
                    range.start,
                    range.start as u64 + range.count as u64
                ),
                syscall: &format!("write(open(\"{path}\"), {line:?})"),
                shell: &format!("echo '{}' > {path}", line.trim_end()),
                book: BOOK_USERNS,
            });
            std::fs::write(&path, &line).map_err(|e| anyhow::anyhow!("writing {path}: {e}"))?;
        }
        Ok(())
    })
}

// ANCHOR_END: map_hook

// ANCHOR: reachable
/// The container's root is an ordinary uid on the host: to mount its root
/// and volumes it must be able to walk the paths to them. Directories of
/// ours (`owned`: the state root and below) get the search bit for others
/// (`chmod o+x`, as dockerd does to /var/lib/docker); any other directory
/// on the way must already allow it.
pub fn make_reachable(path: &Path, owned: &Path, remap: &Remap) -> Result<(), UsernsError> {
    let (uid, _) = remap.root();
    for dir in path.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
        let Ok(meta) = std::fs::metadata(dir) else { continue };
        let mode = meta.mode() & 0o7777;
        if mode & 0o001 != 0 || meta.uid() == uid {
            continue;
        }
        if !dir.starts_with(owned) {
            return Err(UsernsError::Unreachable {
                uid,
                path: path.to_path_buf(),
                blocking: dir.to_path_buf(),
                mode,
            });
        }
        explain::step(Step {
            what: "let the remapped root walk through (search, not list)",
            syscall: &format!("chmod({dir:?}, {:o})", mode | 0o001),
            shell: &format!("chmod o+x {}", dir.display()),
            book: BOOK_USERNS,
        });
        let chmod = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o001));
        chmod
            .map_err(|e| UsernsError::Chown { path: dir.to_path_buf(), message: e.to_string() })?;
    }
    Ok(())
}
// ANCHOR_END: reachable

// ANCHOR: reachable_2
/// Give `path` to the container's root (on the host: the range's first
/// uid and gid), so that root inside may write it: the `/etc` files we
/// bind in, a new volume's directory.
pub fn give_to_container_root(path: &Path, remap: &Remap) -> Result<(), UsernsError> {
    let (uid, gid) = remap.root();
    explain::step(Step {
        what: "give the file to the container's root (the range's first ids)",
        syscall: &format!("lchown({path:?}, {uid}, {gid})"),
        shell: &format!("chown -h {uid}:{gid} {}", path.display()),
        book: BOOK_USERNS,
    });
    std::os::unix::fs::lchown(path, Some(uid), Some(gid))
        .map_err(|e| UsernsError::Chown { path: path.to_path_buf(), message: e.to_string() })
}
// ANCHOR_END: reachable_2

// ANCHOR: prepare_root
/// The root of a remapped container: a vfs copy (chapter 3) whose owners
/// are moved into the range, so that the container's root owns its files.
/// The layers stay root's, shared with every other container.
pub fn prepare_root(layers: &[PathBuf], dir: &Path, remap: &Remap) -> anyhow::Result<()> {
    let start = remap.uids.start;
    explain::step(Step {
        what: &format!("copy the layers with every owner moved into the range: uid N becomes {start}+N"),
        syscall: "for each file: copy; lchown(path, start + uid, start + gid); chmod(path, mode) again (chown cleared set-uid)",
        shell: &format!("cp -a LAYER/. {}/rootfs/, then chown each file by +{start} (no one-line command does the shift)", dir.display()),
        book: BOOK_USERNS,
    });
    ch03_union_fs::prepare_vfs_owned_by(layers, dir, remap)?;
    Ok(())
}
// ANCHOR_END: prepare_root

// ANCHOR: rootless
/// What a normal user can and cannot have, in one line for `mini-docker`.
pub fn rootless_refusal(uid: u32) -> String {
    format!(
        "rootless mode: as uid {uid}, mini-docker cannot create cgroups (not delegated to you), \
         make device nodes, mount the image's root-owned layers or make the bridge: run it with sudo, \
         or try `ch08-security -- CMD`, which runs in a user namespace of its own without root"
    )
}
// ANCHOR_END: rootless

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subid_lines() {
        let text = "# comment\nalice:100000:65536\nmini-docker:200000:65536\nbad line\nmini-docker:300000:10\n";
        assert_eq!(parse_subid(text, "mini-docker"), Some(IdRange { start: 200000, count: 65536 }));
        assert_eq!(parse_subid(text, "alice"), Some(IdRange { start: 100000, count: 65536 }));
        assert_eq!(parse_subid(text, "bob"), None);
        assert_eq!(parse_subid("x:notanumber:1\n", "x"), None);
    }

    #[test]
    fn missing_entries_and_files_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let subuid = dir.path().join("subuid");
        std::fs::write(&subuid, "other:100000:65536\nroot0:0:65536\n").unwrap();
        let err = lookup("mini-docker", &subuid, &subuid).unwrap_err();
        assert!(matches!(&err, UsernsError::NoEntry { user, .. } if user == "mini-docker"));
        assert!(!err.to_string().contains('\n'));
        assert!(matches!(
            lookup("x", &dir.path().join("nope"), &subuid),
            Err(UsernsError::Unreadable { .. })
        ));
        assert!(matches!(lookup("root0", &subuid, &subuid), Err(UsernsError::MapsHostRoot { .. })));
        std::fs::write(&subuid, "mini-docker:100000:65536\n").unwrap();
        let remap = lookup("mini-docker", &subuid, &subuid).unwrap();
        assert_eq!(remap.uids, IdRange { start: 100000, count: 65536 });
        assert_eq!(
            lookup("default", &subuid, &subuid).unwrap(),
            remap,
            "default is our own user, as dockremap is Docker's"
        );
        assert_eq!(remap.host_ids(1000, 0).unwrap(), (101000, 100000));
        assert_eq!(remap.host_ids(65535, 65535).unwrap(), (165535, 165535));
        let err = remap.host_ids(0, 65536).unwrap_err().to_string();
        assert!(err.contains("gid 65536") && err.contains("65536 ids"), "{err}");
        assert!(remap.host_ids(65536, 0).is_err());
        assert_eq!(remap.inspect_json()["UidMap"], "0 100000 65536");
    }

    fn remap(start: u32) -> Remap {
        Remap {
            user: "mini-docker".into(),
            uids: IdRange { start, count: 65536 },
            gids: IdRange { start, count: 65536 },
        }
    }

    #[test]
    fn reachable_opens_our_directories_and_names_the_one_that_blocks() {
        let top = tempfile::tempdir().unwrap();
        let (state, blocked) = (top.path().join("state"), top.path().join("private"));
        std::fs::create_dir_all(state.join("containers/abc")).unwrap();
        std::fs::create_dir_all(blocked.join("data")).unwrap();
        for dir in [&state, &blocked] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        std::fs::set_permissions(top.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        make_reachable(&state.join("containers/abc/rootfs"), &state, &remap(100000)).unwrap();
        assert_eq!(
            std::fs::metadata(&state).unwrap().mode() & 0o777,
            0o701,
            "search only, no listing"
        );

        let err = make_reachable(&blocked.join("data/file"), &state, &remap(100000)).unwrap_err();
        assert!(
            matches!(&err, UsernsError::Unreachable { blocking, mode: 0o700, .. } if *blocking == blocked),
            "{err}"
        );
        assert_eq!(
            std::fs::metadata(&blocked).unwrap().mode() & 0o777,
            0o700,
            "not ours: left alone"
        );
        assert!(err.to_string().contains("chmod o+x"));
    }
}
