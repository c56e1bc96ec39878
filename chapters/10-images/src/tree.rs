//! A filesystem tree as a sorted map: path → what is there, and in which
//! directory its bytes are. Built from one plain directory (a vfs copy) or
//! from a stack of layer directories read the way overlayfs reads them:
//! a whiteout hides a path of the layers below, an opaque directory hides
//! everything they put inside it, and otherwise the top-most layer wins.
//!
//! The map is ordered by path components, so a directory always comes
//! right before its children: `a`, `a/b`, `a/z`, `a-c`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::walk::{self, Node};

/// One entry: its metadata, and the index of the directory it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub node: Node,
    pub layer: usize,
}

/// A tree (never containing its root itself, nor any whiteout).
#[derive(Debug, Clone, Default)]
pub struct Tree {
    roots: Vec<PathBuf>,
    entries: BTreeMap<PathBuf, Entry>,
}

/// What [`Tree::of_dir_where`] does with one entry.
pub enum Visit {
    /// Keep it (as this node), and what is below it.
    Take(walk::Node),
    /// Leave it out, but look below it.
    Through,
    /// Leave it and everything below it out.
    Skip,
}

impl Tree {
    /// Everything under `root`, as it is (a char device 0:0 is just that).
    pub fn of_dir(root: &Path) -> io::Result<Tree> {
        let mut tree = Tree { roots: vec![root.to_path_buf()], entries: BTreeMap::new() };
        walk::walk(root, &mut |path, node, _| {
            refuse_lower_references(path, node)?;
            tree.entries.insert(path.to_path_buf(), Entry { node: node.clone(), layer: 0 });
            Ok(true)
        })?;
        Ok(tree)
    }

    /// The part of the tree under `root` that `choose` keeps, deciding for
    /// each entry (parents first) whether to take it, go through it without
    /// taking it (a directory), or leave it and all below it out.
    pub fn of_dir_where(
        root: &Path,
        choose: &mut dyn FnMut(&Path, &walk::Node) -> Visit,
    ) -> io::Result<Tree> {
        let mut tree = Tree { roots: vec![root.to_path_buf()], entries: BTreeMap::new() };
        walk::walk(root, &mut |path, node, _| {
            let visit = choose(path, node);
            if let Visit::Take(node) = &visit {
                refuse_lower_references(path, node)?;
                tree.entries.insert(path.to_path_buf(), Entry { node: node.clone(), layer: 0 });
            }
            Ok(!matches!(visit, Visit::Skip))
        })?;
        Ok(tree)
    }

    // ANCHOR: of_layers
    /// What a union of `layers` (bottom first, in overlayfs's format) shows.
    pub fn of_layers(layers: &[PathBuf]) -> io::Result<Tree> {
        let mut tree = Tree { roots: layers.to_vec(), entries: BTreeMap::new() };
        for (index, layer) in layers.iter().enumerate() {
            walk::walk(layer, &mut |path, node, _| {
                refuse_lower_references(path, node)?;
                if node.is_whiteout() {
                    tree.remove_subtree(path);
                    return Ok(false);
                }
                let replaces_a_dir = tree.get(path).is_some_and(|e| e.node.is_dir());
                if node.opaque || (replaces_a_dir && !node.is_dir()) {
                    tree.remove_below(path);
                }
                tree.entries.insert(path.to_path_buf(), Entry { node: node.clone(), layer: index });
                Ok(true)
            })?;
        }
        Ok(tree)
    }
    // ANCHOR_END: of_layers

    pub fn get(&self, path: &Path) -> Option<&Entry> {
        self.entries.get(path)
    }

    pub fn contains(&self, path: &Path) -> bool {
        self.entries.contains_key(path)
    }

    /// Every entry, parents before children.
    pub fn iter(&self) -> impl Iterator<Item = (&PathBuf, &Entry)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries directly inside directory `dir` (`""` for the root).
    pub fn children<'a>(&'a self, dir: &'a Path) -> impl Iterator<Item = &'a PathBuf> + 'a {
        self.below(dir).filter(move |p| p.parent() == Some(dir))
    }

    /// Remove `path` and everything under it.
    pub fn remove_subtree(&mut self, path: &Path) {
        self.entries.remove(path);
        self.remove_below(path);
    }

    /// Remove everything under `path`, keeping `path` itself.
    pub fn remove_below(&mut self, path: &Path) {
        let doomed: Vec<PathBuf> = self.below(path).cloned().collect();
        for p in doomed {
            self.entries.remove(&p);
        }
    }

    fn below<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = &'a PathBuf> + 'a {
        let start = std::ops::Bound::Excluded(path.to_path_buf());
        self.entries
            .range((start, std::ops::Bound::Unbounded))
            .map(|(p, _)| p)
            .take_while(move |p| p.starts_with(path))
            .filter(move |p| p.as_path() != path)
    }

    /// The directory `entry` was read from.
    pub fn root_of(&self, entry: &Entry) -> &Path {
        &self.roots[entry.layer]
    }

    /// Open the regular file at `path`, never following a symlink.
    pub fn open(&self, path: &Path, entry: &Entry) -> io::Result<File> {
        walk::open_beneath(self.root_of(entry), path, &entry.node)
            .map_err(|e| walk::context(path, e))
    }
}

/// A directory that overlayfs redirected, or a metadata-only copy-up,
/// keeps part of itself in a lower layer: reading it alone would lose it.
pub fn refuse_lower_references(path: &Path, node: &Node) -> io::Result<()> {
    if node.refers_below {
        return Err(io::Error::other(format!(
            "{}: overlayfs keeps part of it in a lower layer (redirect_dir or metacopy is on in this kernel): \
             mount overlays with redirect_dir=off,metacopy=off or use the vfs driver",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn paths(tree: &Tree) -> Vec<String> {
        tree.iter().map(|(p, _)| p.display().to_string()).collect()
    }

    #[test]
    fn the_top_layer_wins_and_a_file_hides_a_lower_directory() {
        let (lower, upper) = (testkit::temp_dir(), testkit::temp_dir());
        write(lower.path(), "etc/motd", "lower");
        write(lower.path(), "opt/tool/bin", "x");
        write(upper.path(), "etc/motd", "upper");
        write(upper.path(), "opt/tool", "now a file");
        let tree = Tree::of_layers(&[lower.path().into(), upper.path().into()]).unwrap();
        assert_eq!(paths(&tree), ["etc", "etc/motd", "opt", "opt/tool"]);
        assert_eq!(tree.get(Path::new("etc/motd")).unwrap().layer, 1);
        assert_eq!(tree.get(Path::new("etc")).unwrap().layer, 1, "upper dir's metadata wins");
        let children: Vec<_> = tree.children(Path::new("")).collect();
        assert_eq!(children, [Path::new("etc"), Path::new("opt")]);
    }

    #[test]
    fn whiteouts_and_opaque_directories_hide_what_is_below() {
        if !testkit::require_root("whiteouts_and_opaque_directories_hide_what_is_below") {
            return;
        }
        let (lower, upper) = (testkit::temp_dir(), testkit::temp_dir());
        write(lower.path(), "etc/gone", "x");
        write(lower.path(), "data/old/a", "1");
        write(lower.path(), "keep/b", "2");
        write(upper.path(), "data/new", "3");
        std::fs::create_dir(upper.path().join("etc")).unwrap();
        let whiteout = upper.path().join("etc/gone");
        nix::sys::stat::mknod(&whiteout, nix::sys::stat::SFlag::S_IFCHR, Mode::empty(), 0).unwrap();
        let opaque = std::ffi::OsStr::new(ch03_union_fs::OPAQUE_XATTR);
        ch03_union_fs::xattr::set(&upper.path().join("data"), opaque, b"y").unwrap();
        let tree = Tree::of_layers(&[lower.path().into(), upper.path().into()]).unwrap();
        assert_eq!(paths(&tree), ["data", "data/new", "etc", "keep", "keep/b"]);
        assert!(Tree::of_dir(upper.path()).unwrap().contains(Path::new("etc/gone")));
    }

    use nix::sys::stat::Mode;
}
