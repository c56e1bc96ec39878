//! COPY and ADD: the layer a copy makes, written straight from its sources
//! (the context's tree, or another stage's) — no container is needed.
//!
//! ```text
//! COPY src/ a.txt /app/      /app        the destination (and its parents)
//!                            /app/main.rs   src's contents, not src itself
//!                            /app/a.txt     a file keeps its name under a dir/
//! ADD site.tar.gz /srv/      /srv/…         a local archive is unpacked
//! ```
//!
//! Files from the context belong to root (or to `--chown`); from a stage
//! they keep their owner unless `--chown` says otherwise.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::layer::lookup;
use crate::tarball::{LayerWriter, TimePolicy};
use crate::walk::{Kind, Node};

use super::context::{lexical, Sources};

/// What goes at one path of the layer.
pub enum Content {
    None,
    /// A regular file of a source tree.
    Tree(PathBuf),
    /// A file from an ADD archive.
    Bytes(Vec<u8>),
}

/// The layer being planned: path → its metadata and where its bytes are.
#[derive(Default)]
pub struct Plan {
    pub entries: BTreeMap<PathBuf, (Node, Content)>,
}

/// How a copy is asked for.
pub struct CopyRequest<'a> {
    pub sources: &'a Sources,
    pub paths: &'a [PathBuf],
    /// Absolute, cleaned; `dir` when it ended in `/`.
    pub dest: PathBuf,
    pub dest_is_dir: bool,
    /// `--chown` resolved to ids.
    pub owner: Option<(u32, u32)>,
    /// ADD: unpack local archives.
    pub unpack: bool,
    /// The layers of the image being copied into.
    pub layers: &'a [PathBuf],
}

// ANCHOR: plan
/// Plan the layer: each source at its place under `dest`.
pub fn plan(request: &CopyRequest) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    let keep_owner = request.sources.rooted; // a stage's files keep theirs
    let existing_dir =
        lookup(request.layers, &relative(&request.dest))?.is_some_and(|n| n.is_dir());
    let into_dir = request.dest_is_dir || existing_dir || request.paths.len() > 1;
    for path in request.paths {
        let entry = request.sources.tree.get(path);
        let is_dir = path.as_os_str().is_empty() || entry.is_some_and(|e| e.node.is_dir());
        if is_dir {
            plan.make_dir(request, &request.dest)?;
            for (child, entry) in request.sources.under(path).filter(|(p, _)| *p != path) {
                let inside = child.strip_prefix(path).expect("under its directory");
                let node = owned(&entry.node, request.owner, keep_owner);
                plan.put(request, &request.dest.join(inside), node, child)?;
            }
            continue;
        }
        let entry = entry.expect("a resolved source is in its tree");
        let name = path.file_name().map(PathBuf::from).unwrap_or_default();
        let target = if into_dir { request.dest.join(name) } else { request.dest.clone() };
        if request.unpack && entry.node.kind == Kind::File {
            if let Some(archive) = read_archive(request.sources, path)? {
                plan.make_dir(request, &request.dest)?;
                plan.unpack(request, &archive, path)?;
                continue;
            }
        }
        plan.put(request, &target, owned(&entry.node, request.owner, keep_owner), path)?;
    }
    Ok(plan)
}
// ANCHOR_END: plan

impl Plan {
    /// `path` and its parents, as the image has them or as new directories.
    pub fn make_dir(&mut self, request: &CopyRequest, path: &Path) -> io::Result<()> {
        for dir in path.ancestors().collect::<Vec<_>>().into_iter().rev() {
            let rel = relative(dir);
            if rel.as_os_str().is_empty() || self.entries.contains_key(&rel) {
                continue;
            }
            let node = match lookup(request.layers, &rel)? {
                Some(node) if node.is_dir() => node,
                _ => new_dir(request.owner.unwrap_or((0, 0))),
            };
            self.entries.insert(rel, (Node { nlink: 1, ..node }, Content::None));
        }
        Ok(())
    }

    fn put(
        &mut self,
        request: &CopyRequest,
        target: &Path,
        node: Node,
        source: &Path,
    ) -> io::Result<()> {
        if let Some(parent) = target.parent() {
            self.make_dir(request, parent)?;
        }
        let content = if node.kind == Kind::File {
            Content::Tree(source.to_path_buf())
        } else {
            Content::None
        };
        self.entries.insert(relative(target), (node, content));
        Ok(())
    }

    /// An archive's entries under `dest`; none of them may climb out of it.
    fn unpack(&mut self, request: &CopyRequest, archive: &[u8], name: &Path) -> anyhow::Result<()> {
        let mut tar = tar::Archive::new(ch04_image_pull::store::decompress(archive)?);
        let mut seen: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
        for entry in tar.entries()? {
            let mut entry = entry?;
            let inside = lexical(&entry.path()?).filter(|p| !p.as_os_str().is_empty());
            let inside = match inside {
                Some(inside) => inside,
                None if entry.path()?.components().all(|c| c == std::path::Component::CurDir) => {
                    continue
                }
                None => anyhow::bail!(
                    "{}: the archive has an entry outside its root: {}",
                    name.display(),
                    entry.path()?.display()
                ),
            };
            let target = request.dest.join(&inside);
            let Some(node) = archive_node(&entry, request.owner)? else { continue };
            if let Some(parent) = target.parent() {
                self.make_dir(request, parent)?;
            }
            let content = match &node.kind {
                Kind::File if entry.header().entry_type() == tar::EntryType::Link => {
                    let to = lexical(&entry.link_name()?.unwrap_or_default()).unwrap_or_default();
                    let bytes = seen.get(&to).and_then(|p| match self.entries.get(p) {
                        Some((_, Content::Bytes(b))) => Some(b.clone()),
                        _ => None,
                    });
                    Content::Bytes(bytes.unwrap_or_default())
                }
                Kind::File => {
                    let mut bytes = Vec::new();
                    entry.read_to_end(&mut bytes)?;
                    Content::Bytes(bytes)
                }
                _ => Content::None,
            };
            let size = match &content {
                Content::Bytes(b) => b.len() as u64,
                _ => 0,
            };
            seen.insert(inside, relative(&target));
            self.entries.insert(relative(&target), (Node { size, ..node }, content));
        }
        Ok(())
    }

    // ANCHOR: write
    /// Write the planned layer, parents first, as [`crate::image::store_layer`] wants it.
    pub fn write(
        &self,
        sources: &Sources,
        out: &mut dyn Write,
        times: TimePolicy,
    ) -> io::Result<u64> {
        let mut writer = LayerWriter::new(out, times);
        for (path, (node, content)) in &self.entries {
            match content {
                Content::None => writer.add(path, node, None)?,
                Content::Bytes(bytes) => writer.add(path, node, Some(&mut bytes.as_slice()))?,
                Content::Tree(source) => {
                    let entry = sources.tree.get(source).expect("planned from this tree");
                    let mut file = sources.tree.open(source, entry)?;
                    writer.add(path, node, Some(&mut file as &mut dyn Read))?;
                }
            }
        }
        let entries = writer.entries();
        writer.finish()?;
        Ok(entries)
    }
    // ANCHOR_END: write
}

/// `/app/x` → `app/x`: layer paths are relative to the root.
fn relative(path: &Path) -> PathBuf {
    path.strip_prefix("/").unwrap_or(path).to_path_buf()
}

fn new_dir(owner: (u32, u32)) -> Node {
    crate::layer::dir_node(owner, now())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A copied entry's owner: `--chown`, else root — or, from a stage, its own.
fn owned(node: &Node, owner: Option<(u32, u32)>, keep: bool) -> Node {
    let (uid, gid) = match (owner, keep) {
        (Some(ids), _) => ids,
        (None, true) => (node.uid, node.gid),
        (None, false) => (0, 0),
    };
    // Each copy is a file of its own: no hard link across the layer.
    Node { uid, gid, nlink: 1, ..node.clone() }
}

/// The source file's bytes when they are a tar (plain, gzip or zstd).
fn read_archive(sources: &Sources, path: &Path) -> io::Result<Option<Vec<u8>>> {
    let entry = sources.tree.get(path).expect("resolved");
    let mut bytes = Vec::new();
    sources.tree.open(path, entry)?.read_to_end(&mut bytes)?;
    let mut head = Vec::new();
    let Ok(decompressed) = ch04_image_pull::store::decompress(bytes.as_slice()) else {
        return Ok(None);
    };
    decompressed.take(512).read_to_end(&mut head).ok();
    let is_tar = head.len() == 512 && tar_checksum_ok(&head);
    Ok(is_tar.then_some(bytes))
}

/// A tar header's checksum: the sum of its bytes with the field as spaces.
fn tar_checksum_ok(block: &[u8]) -> bool {
    let field = std::str::from_utf8(&block[148..156]).unwrap_or("");
    let Ok(wanted) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = block
        .iter()
        .enumerate()
        .map(|(i, b)| if (148..156).contains(&i) { 32 } else { *b as u32 })
        .sum();
    sum == wanted
}

/// A node for an archive entry; `None` for what a copy does not make
/// (devices, and kinds tar has that a layer does not need).
fn archive_node<R: Read>(
    entry: &tar::Entry<R>,
    owner: Option<(u32, u32)>,
) -> io::Result<Option<Node>> {
    let header = entry.header();
    let kind = match header.entry_type() {
        tar::EntryType::Directory => Kind::Dir,
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::Link => Kind::File,
        tar::EntryType::Symlink => {
            Kind::Symlink(entry.link_name()?.unwrap_or_default().into_owned().into_os_string())
        }
        tar::EntryType::Fifo => Kind::Fifo,
        _ => return Ok(None),
    };
    let (uid, gid) = owner.unwrap_or((header.uid()? as u32, header.gid()? as u32));
    Ok(Some(Node {
        kind,
        mode: header.mode()? & 0o7777,
        uid,
        gid,
        size: 0,
        mtime: header.mtime()? as i64,
        mtime_nsec: 0,
        rdev: 0,
        dev: 0,
        ino: 0,
        nlink: 1,
        capability: None,
        opaque: false,
        refers_below: false,
    }))
}
