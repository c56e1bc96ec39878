//! Exercise `changes` (hard). Book: ch10-images.md, "`docker diff`: two trees compared".
//!
//! Compare the image's tree `old` with the container's tree `new` (each a
//! `ch10_images::tree::Tree`, a map from relative path to entry, parents
//! before children) and list the changes as `docker diff` does:
//! - a path only in `new` is `Added`;
//! - a path in both whose entries `ch10_images::changes::differs` is `Modified`;
//! - a path only in `old` is `Deleted` — but only where its parent is still a
//!   directory in `new` (a deleted directory is one change, its contents none);
//! - every directory above a change is `Modified` too, unless it has a change
//!   of its own (the root, `""`, never);
//! - sorted by path (`Path`'s order: a directory before what is in it).

use std::path::PathBuf;

use ch10_images::changes::{differs, Change, ChangeKind};
use ch10_images::tree::Tree;

/// `docker diff`'s list, from `old` to `new`.
pub fn changes(old: &Tree, new: &Tree) -> Vec<Change> {
    todo!("a BTreeMap<PathBuf, ChangeKind>: added and modified, then deleted, then the parents")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: every path missing from the new tree listed as
    // deleted: a removed directory comes with a line for each file it held. Checked by pasting it
    // into the reference implementation: it fails `a_deleted_directory_is_one_line`.
    //
    //     if !new.contains(path) {
    //         found.insert(path.clone(), ChangeKind::Deleted);
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::changes as solution;

    use std::path::Path;

    use ch10_images::tree::Tree;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// Both trees get the same files with the same times, then `change` runs on `new`.
    fn diff(files: &[&str], change: impl FnOnce(&Path)) -> Vec<String> {
        let (old, new) = (testkit::temp_dir(), testkit::temp_dir());
        for dir in [old.path(), new.path()] {
            for file in files {
                write(dir, file, "same");
                let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
                std::fs::File::options()
                    .write(true)
                    .open(dir.join(file))
                    .unwrap()
                    .set_modified(when)
                    .unwrap();
            }
        }
        change(new.path());
        let (old, new) = (Tree::of_dir(old.path()).unwrap(), Tree::of_dir(new.path()).unwrap());
        solution::changes(&old, &new).iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn nothing_changed_nothing_listed() {
        assert!(diff(&["etc/motd", "bin/sh"], |_| {}).is_empty());
    }

    #[test]
    fn added_and_changed_files_and_their_directories() {
        let lines = diff(&["etc/motd", "bin/sh"], |new| {
            write(new, "etc/motd", "longer text");
            write(new, "srv/www/index.html", "hi");
        });
        assert_eq!(
            lines,
            ["C /etc", "C /etc/motd", "A /srv", "A /srv/www", "A /srv/www/index.html"]
        );
    }

    #[test]
    fn a_deleted_directory_is_one_line() {
        let lines = diff(&["data/keep/x", "data/keep/y", "data/other"], |new| {
            std::fs::remove_dir_all(new.join("data/keep")).unwrap();
        });
        assert_eq!(lines, ["C /data", "D /data/keep"]);
    }

    #[test]
    fn a_directory_replaced_by_a_file_hides_what_it_held() {
        let lines = diff(&["opt/tool/bin"], |new| {
            std::fs::remove_dir_all(new.join("opt/tool")).unwrap();
            write(new, "opt/tool", "a file now");
        });
        assert_eq!(lines, ["C /opt", "C /opt/tool"]);
    }
}
