//! The build context: the directory whose files COPY and ADD may take, as
//! a [`Tree`] read without following a symlink, minus what
//! `.dockerignore` leaves out. A stage's image (`COPY --from`) is a tree
//! too, read through its layers. Sources are found in a tree, never on the
//! host's filesystem: `../x` is refused, and so is a symlink whose target
//! leaves the tree.

use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};

use super::dockerignore::Ignore;
use super::pattern::{has_wildcards, Pattern};
use crate::tree::{Entry, Tree, Visit};
use crate::walk::{Kind, Node};

/// Where sources come from: the context, or another stage's files.
pub struct Sources {
    pub tree: Tree,
    /// "build context" or "stage build": for error messages.
    pub what: String,
    /// An image's absolute symlinks name its own root; the context's would
    /// name the host's, and are refused.
    pub rooted: bool,
}

impl Sources {
    pub fn context(tree: Tree) -> Sources {
        Sources { tree, what: "build context".into(), rooted: false }
    }

    pub fn image(tree: Tree) -> Sources {
        Sources { tree, what: "stage build".into(), rooted: true }
    }
}

/// The context directory without what `.dockerignore` excludes.
pub fn context_tree(root: &Path) -> anyhow::Result<Tree> {
    context_tree_keeping(root, &[])
}

// ANCHOR: context_tree
/// [`context_tree`], with `keep` (paths) kept whatever `.dockerignore`
/// says: the docker CLI always sends the Dockerfile and `.dockerignore`.
/// As Docker's walk: an excluded directory is not gone into unless an
/// exception names something in it (`!dir/file`); if one does, only what
/// the exceptions bring back comes, the directory itself as an untar
/// makes a missing parent (mode 0755).
pub fn context_tree_keeping(root: &Path, keep: &[&str]) -> anyhow::Result<Tree> {
    let ignore = ignore_file(root, keep)?;
    let mut through = Vec::new();
    let mut tree = Tree::of_dir_where(root, &mut |path, node| {
        let name = slashed(path);
        if !ignore.excludes(&name) {
            Visit::Take(node.clone())
        } else if node.is_dir() && ignore.may_hold_exceptions(&name) {
            through.push(path.to_path_buf());
            Visit::Take(Node { mode: 0o755, ..node.clone() })
        } else {
            Visit::Skip
        }
    })
    .map_err(|e| anyhow::anyhow!("reading the build context {}: {e}", root.display()))?;
    for dir in through.iter().rev() {
        if tree.children(dir).next().is_none() {
            tree.remove_subtree(dir); // nothing in it was brought back
        }
    }
    Ok(tree)
}
// ANCHOR_END: context_tree

/// The context's `.dockerignore`, with an exception for each of `keep`.
fn ignore_file(root: &Path, keep: &[&str]) -> anyhow::Result<Ignore> {
    let mut text = match std::fs::read_to_string(root.join(".dockerignore")) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(anyhow::anyhow!("reading .dockerignore: {e}")),
    };
    for path in keep {
        text.push_str(&format!("\n!{path}\n"));
    }
    Ignore::parse(&text).map_err(|e| anyhow::anyhow!(".dockerignore: {e}"))
}

fn slashed(path: &Path) -> String {
    String::from_utf8_lossy(path.as_os_str().as_bytes()).into_owned()
}

/// Why a source cannot be used: Docker's words.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SourceError {
    #[error("forbidden path outside the {what}: {source_path}")]
    Outside { what: String, source_path: String },
    #[error("file not found in {what} or excluded by .dockerignore: stat {source_path}: file does not exist")]
    NotFound { what: String, source_path: String },
    #[error("no source files were specified")]
    NoMatch,
}

// ANCHOR: resolve
impl Sources {
    /// The paths in the tree that source `text` names: its glob matches,
    /// or the one path it is once its symlinks are followed inside the tree.
    pub fn resolve(&self, text: &str) -> Result<Vec<PathBuf>, SourceError> {
        let outside =
            || SourceError::Outside { what: self.what.clone(), source_path: text.to_string() };
        let relative = lexical(Path::new(text)).ok_or_else(outside)?;
        if has_wildcards(text) {
            let pattern = Pattern::glob(&slashed(&relative)).map_err(|_| SourceError::NoMatch)?;
            let found: Vec<PathBuf> = self
                .tree
                .iter()
                .map(|(p, _)| p.clone())
                .filter(|p| pattern.matches(&slashed(p)))
                .collect();
            return if found.is_empty() { Err(SourceError::NoMatch) } else { Ok(found) };
        }
        if relative.as_os_str().is_empty() {
            return Ok(vec![PathBuf::new()]); // the root itself: `COPY . /app`
        }
        let followed = self.follow(&relative, 0).ok_or_else(outside)?;
        match self.tree.get(&followed) {
            Some(_) => Ok(vec![followed]),
            None => Err(SourceError::NotFound {
                what: self.what.clone(),
                source_path: text.trim_start_matches("./").to_string(),
            }),
        }
    }
    // ANCHOR_END: resolve

    /// `path` with every symlink on it followed, inside the tree; `None`
    /// when a link leads out of it (or loops).
    fn follow(&self, path: &Path, hops: u32) -> Option<PathBuf> {
        if hops > 40 {
            return None;
        }
        let mut done = PathBuf::new();
        let mut parts = path.components();
        while let Some(part) = parts.next() {
            done.push(part);
            let Some(Entry { node, .. }) = self.tree.get(&done) else { continue };
            let Kind::Symlink(target) = &node.kind else { continue };
            let target = Path::new(target);
            let base = match (target.is_absolute(), self.rooted) {
                (true, false) => return None, // it names the host's root
                (true, true) => target.to_path_buf(),
                (false, _) => done.parent().unwrap_or(Path::new("")).join(target),
            };
            let rest: PathBuf = parts.collect();
            let next = lexical(&base.join(rest))?;
            return self.follow(&next, hops + 1);
        }
        Some(done)
    }

    /// Every path at or under `path` (the root: everything), parents first.
    pub fn under<'a>(&'a self, path: &'a Path) -> impl Iterator<Item = (&'a PathBuf, &'a Entry)> {
        self.tree.iter().filter(move |(p, _)| path.as_os_str().is_empty() || p.starts_with(path))
    }

    // ANCHOR: content_hash
    /// What COPY's cache compares for `paths`: every file under them, its
    /// name, mode, size, kind and content (never its times, never its
    /// owner: the copy belongs to root or to --chown). Docker's words:
    /// `file:<sum>` for one file, `dir:<sum>` for a directory, `multi:<sum>`.
    pub fn content_hash(&self, paths: &[PathBuf]) -> io::Result<String> {
        let mut sums = Vec::new();
        for path in paths {
            let mut files = Vec::new();
            for (p, entry) in self.under(path) {
                files.push(self.entry_sum(p, entry)?);
            }
            let is_dir =
                path.as_os_str().is_empty() || self.tree.get(path).is_some_and(|e| e.node.is_dir());
            sums.push(match is_dir {
                true => format!("dir:{}", hex(files.join(",").as_bytes())),
                false => format!("file:{}", files.concat()),
            });
        }
        Ok(match sums.as_slice() {
            [one] => one.clone(),
            _ => format!("multi:{}", hex(sums.join(",").as_bytes())),
        })
    }
    // ANCHOR_END: content_hash

    fn entry_sum(&self, path: &Path, entry: &Entry) -> io::Result<String> {
        let node = &entry.node;
        let mut hasher = Sha256::new();
        let link = match &node.kind {
            Kind::Symlink(target) => target.as_bytes().to_vec(),
            _ => Vec::new(),
        };
        let kind = format!("{:?}", std::mem::discriminant(&node.kind));
        hasher.update(path.as_os_str().as_bytes());
        hasher.update(format!("\0{:o}\0{}\0{kind}\0", node.mode, node.size).as_bytes());
        hasher.update(&link);
        if node.kind == Kind::File {
            let mut file = self.tree.open(path, entry)?;
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = file.read(&mut buffer)?;
                if n == 0 {
                    break;
                }
                hasher.update(&buffer[..n]);
            }
        }
        Ok(ch04_image_pull::digest::to_hex(&hasher.finalize()))
    }
}

fn hex(bytes: &[u8]) -> String {
    ch04_image_pull::digest::to_hex(&Sha256::digest(bytes))
}

/// `a/./b/../c` → `a/c`, relative to the root (`/a` is `a`); `None` if it
/// climbs above the root (`../x`).
pub fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(name) => out.push(name),
        }
    }
    Some(out)
}

// ANCHOR: context_tar
/// The context as `docker build` sends it to a daemon: a tar of what
/// `.dockerignore` leaves (and the Dockerfile and `.dockerignore`, always),
/// every entry owned by root, symlinks as links; `extra` adds one more
/// file (a Dockerfile from outside the context).
pub fn context_tar<W: std::io::Write>(
    root: &Path,
    dockerfile: &str,
    extra: Option<(&str, &str)>,
    out: W,
) -> anyhow::Result<W> {
    use crate::tarball::{LayerWriter, TimePolicy};
    let tree = context_tree_keeping(root, &[".dockerignore", dockerfile])?;
    let mut writer = LayerWriter::new(out, TimePolicy::default());
    for (path, entry) in tree.iter() {
        let node = crate::walk::Node { uid: 0, gid: 0, nlink: 1, ..entry.node.clone() };
        match node.kind {
            Kind::File => writer.add(path, &node, Some(&mut tree.open(path, entry)?))?,
            _ => writer.add(path, &node, None)?,
        }
    }
    if let Some((name, text)) = extra {
        let mut node = tree.iter().next().map(|(_, e)| e.node.clone()).unwrap_or_else(|| {
            crate::walk::DirFd::open_root(root)
                .and_then(|d| d.stat(std::ffi::OsStr::new(".")))
                .expect("the context is a directory")
        });
        node = crate::walk::Node {
            kind: Kind::File,
            mode: 0o644,
            uid: 0,
            gid: 0,
            size: text.len() as u64,
            nlink: 1,
            ..node
        };
        writer.add(Path::new(name), &node, Some(&mut text.as_bytes()))?;
    }
    Ok(writer.finish()?)
}
// ANCHOR_END: context_tar

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn context() -> (tempfile::TempDir, Sources) {
        let dir = testkit::temp_dir();
        let root = dir.path();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("src/a.rs"), "a").unwrap();
        std::fs::write(root.join("src/b.rs"), "b").unwrap();
        std::fs::write(root.join("src/deep/c.rs"), "c").unwrap();
        std::fs::write(root.join("notes.md"), "n").unwrap();
        std::fs::write(root.join("secret"), "s").unwrap();
        std::fs::write(root.join(".dockerignore"), "secret\n").unwrap();
        symlink("src/a.rs", root.join("inside")).unwrap();
        symlink("/etc/passwd", root.join("absolute")).unwrap();
        symlink("../../etc", root.join("src/up")).unwrap();
        let tree = context_tree(root).unwrap();
        (dir, Sources::context(tree))
    }

    #[test]
    fn sources_globs_and_ignored_files() {
        let (_dir, sources) = context();
        assert_eq!(
            sources.resolve("src/*.rs").unwrap(),
            [PathBuf::from("src/a.rs"), "src/b.rs".into()]
        );
        assert_eq!(sources.resolve("./notes.md").unwrap(), [PathBuf::from("notes.md")]);
        assert_eq!(sources.resolve("inside").unwrap(), [PathBuf::from("src/a.rs")]);
        let missing = sources.resolve("secret").unwrap_err();
        assert_eq!(missing.to_string(), "file not found in build context or excluded by .dockerignore: stat secret: file does not exist");
        assert_eq!(sources.resolve("*.txt").unwrap_err(), SourceError::NoMatch);
    }

    /// A context of `files` with this `.dockerignore`: the paths it keeps.
    fn kept(ignore: &str, keep: &[&str]) -> Vec<String> {
        let dir = testkit::temp_dir();
        for file in
            ["Dockerfile", "keep.txt", "docs/keep.txt", "docs/other.txt", "docs/deep/keep.txt"]
        {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, file).unwrap();
        }
        std::fs::write(dir.path().join(".dockerignore"), ignore).unwrap();
        let tree = context_tree_keeping(dir.path(), keep).unwrap();
        tree.iter().map(|(p, _)| slashed(p)).collect()
    }

    #[test]
    fn exceptions_bring_files_back_as_dockers_walk_does() {
        assert_eq!(
            kept(".dockerignore\nDockerfile\ndocs\n!docs/keep.txt\n", &[]),
            ["docs", "docs/keep.txt", "keep.txt"],
            "an excluded directory gives back only what an exception names"
        );
        assert_eq!(
            kept(".dockerignore\nDockerfile\ndocs\n!**/keep.txt\n", &[]),
            ["keep.txt"],
            "`!**/x` does not open an excluded directory (Docker's prefix rule)"
        );
        assert_eq!(
            kept("*\n!docs/deep\n", &[".dockerignore", "Dockerfile"]),
            [".dockerignore", "Dockerfile", "docs", "docs/deep", "docs/deep/keep.txt"],
            "the CLI always sends the Dockerfile and .dockerignore"
        );
        let dir = testkit::temp_dir();
        std::fs::create_dir(dir.path().join("docs")).unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "docs\n!docs/gone\n").unwrap();
        let tree = context_tree(dir.path()).unwrap();
        assert!(tree.get(Path::new("docs")).is_none(), "a directory nothing came back to");
    }

    #[test]
    fn nothing_outside_the_context() {
        let (_dir, sources) = context();
        for bad in ["../x", "src/../../x", "absolute", "src/up/passwd"] {
            let err = sources.resolve(bad).unwrap_err();
            assert_eq!(err.to_string(), format!("forbidden path outside the build context: {bad}"));
        }
    }

    #[test]
    fn a_content_hash_follows_content_not_times() {
        let (dir, sources) = context();
        let one = sources.content_hash(&[PathBuf::from("src")]).unwrap();
        assert!(one.starts_with("dir:"), "{one}");
        let file = sources.content_hash(&[PathBuf::from("notes.md")]).unwrap();
        assert!(file.starts_with("file:"));
        let both = sources.content_hash(&[PathBuf::from("notes.md"), "src".into()]).unwrap();
        assert!(both.starts_with("multi:"));
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("src/a.rs"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        let touched = Sources::context(context_tree(dir.path()).unwrap());
        assert_eq!(
            touched.content_hash(&[PathBuf::from("src")]).unwrap(),
            one,
            "mtime is not content"
        );
        std::fs::write(dir.path().join("src/deep/c.rs"), "changed").unwrap();
        let changed = Sources::context(context_tree(dir.path()).unwrap());
        assert_ne!(changed.content_hash(&[PathBuf::from("src")]).unwrap(), one);
    }
}
