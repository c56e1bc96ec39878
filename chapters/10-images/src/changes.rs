//! `docker diff`: what a container changed, as a list of `A`, `C` and `D`
//! lines — found by comparing two trees (the image's and the container's),
//! the way moby's `go-archive/changes.go` does for every storage driver.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::tree::Tree;
use crate::walk::Node;

/// The three kinds, with the numbers of the Engine API's `Kind` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ChangeKind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

impl ChangeKind {
    /// `C`, `A` or `D`, as `docker diff` prints them.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One change: a path (absolute, as Docker shows it) and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Relative to the root, e.g. `etc/hosts`.
    pub path: PathBuf,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} /{}", self.kind.letter(), self.path.display())
    }
}

// ANCHOR: changes
/// Compare the image's tree `old` with the container's tree `new`. A
/// directory holding a change is itself `C` (listed before what is in it);
/// a deleted directory is one `D`, its contents are not listed.
pub fn changes(old: &Tree, new: &Tree) -> Vec<Change> {
    let mut found: BTreeMap<PathBuf, ChangeKind> = BTreeMap::new();
    for (path, entry) in new.iter() {
        match old.get(path) {
            None => _ = found.insert(path.clone(), ChangeKind::Added),
            Some(before) if differs(&before.node, &entry.node) => {
                found.insert(path.clone(), ChangeKind::Modified);
            }
            Some(_) => {}
        }
    }
    for (path, _) in old.iter() {
        // Only where the parent is still a directory: a deleted or replaced
        // directory is reported once, not with everything it held.
        let parent_is_dir =
            parent_of(path).is_none_or(|p| new.get(p).is_some_and(|e| e.node.is_dir()));
        if !new.contains(path) && parent_is_dir {
            found.insert(path.clone(), ChangeKind::Deleted);
        }
    }
    let changed: Vec<PathBuf> = found.keys().cloned().collect();
    for path in changed {
        for dir in path.ancestors().skip(1).filter(|d| !d.as_os_str().is_empty()) {
            found.entry(dir.to_path_buf()).or_insert(ChangeKind::Modified);
        }
    }
    found.into_iter().map(|(path, kind)| Change { kind, path }).collect()
}
// ANCHOR_END: changes

fn parent_of(path: &Path) -> Option<&Path> {
    path.parent().filter(|p| !p.as_os_str().is_empty())
}

// ANCHOR: differs
/// moby's `statDifferent`: type, mode, owner or device number; for
/// anything but a directory also size and mtime (a directory's size and
/// mtime change whenever a file inside does, so they say nothing). And a
/// changed file capability.
pub fn differs(old: &Node, new: &Node) -> bool {
    let kind = |n: &Node| std::mem::discriminant(&n.kind);
    kind(old) != kind(new)
        || old.mode != new.mode
        || old.uid != new.uid
        || old.gid != new.gid
        || old.rdev != new.rdev
        || (!new.is_dir() && (old.size != new.size || !same_time(old, new)))
        || old.capability != new.capability
}

/// Equal seconds, and equal nanoseconds unless one side has none (a tar
/// keeps whole seconds only, so an unpacked layer has 0 ns).
fn same_time(a: &Node, b: &Node) -> bool {
    a.mtime == b.mtime && (a.mtime_nsec == b.mtime_nsec || a.mtime_nsec == 0 || b.mtime_nsec == 0)
}
// ANCHOR_END: differs

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn lines(old: &Path, new: &Path) -> Vec<String> {
        let (old, new) = (Tree::of_dir(old).unwrap(), Tree::of_dir(new).unwrap());
        changes(&old, &new).iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn added_changed_and_deleted_like_docker_diff() {
        let (old, new) = (testkit::temp_dir(), testkit::temp_dir());
        for dir in [old.path(), new.path()] {
            write(dir, "etc/motd", "same");
            write(dir, "bin/sh", "sh");
            write(dir, "data/keep/x", "x");
        }
        let same = std::fs::metadata(old.path().join("etc/motd")).unwrap().modified().unwrap();
        for dir in [old.path(), new.path()] {
            for file in ["etc/motd", "bin/sh", "data/keep/x"] {
                std::fs::File::options()
                    .write(true)
                    .open(dir.join(file))
                    .unwrap()
                    .set_modified(same)
                    .unwrap();
            }
        }
        write(new.path(), "etc/motd", "longer now");
        write(new.path(), "srv/www/index.html", "hi");
        std::fs::remove_dir_all(new.path().join("data/keep")).unwrap();
        assert_eq!(
            lines(old.path(), new.path()),
            [
                "C /data",
                "D /data/keep",
                "C /etc",
                "C /etc/motd",
                "A /srv",
                "A /srv/www",
                "A /srv/www/index.html"
            ]
        );
        assert!(lines(old.path(), old.path()).is_empty());
    }

    #[test]
    fn a_directory_replaced_by_a_file_is_one_change() {
        let (old, new) = (testkit::temp_dir(), testkit::temp_dir());
        write(old.path(), "opt/tool/bin", "x");
        write(new.path(), "opt/tool", "a file now");
        assert_eq!(lines(old.path(), new.path()), ["C /opt", "C /opt/tool"]);
    }
}
