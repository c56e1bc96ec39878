//! Seeding: the first time a volume is mounted where the image already has
//! files, those files are copied into the (empty) volume, with their modes,
//! owners and symlinks, so that `VOLUME /var/lib/mysql` starts out with
//! what the image put there. Docker does it when the volume is empty and
//! the mount does not say `nocopy`.

use std::fs;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ch01_namespaces::explain::{self, Step};
use ch03_union_fs::mounts::inside_root;
use nix::fcntl::AtFlags;
use nix::sys::stat::{mknod, Mode, SFlag};
use nix::unistd::{fchownat, Gid, Uid};
use thiserror::Error;

pub const BOOK_SEED: &str = "ch07-volumes.md#seeding-a-volume-from-the-image";

#[derive(Debug, Error)]
pub enum SeedError {
    #[error(transparent)]
    Path(#[from] ch03_union_fs::mounts::MountError),
    #[error("copying {} into the volume: {error}", .path.display())]
    Copy { path: PathBuf, error: std::io::Error },
}

fn copy_error(path: &Path) -> impl FnOnce(std::io::Error) -> SeedError + '_ {
    move |error| SeedError::Copy { path: path.to_path_buf(), error }
}

// ANCHOR: seed
/// Copy what the container's root (`root`, the mounted union) has at
/// `target` into the volume directory `data`, if `data` is empty and the
/// image has a directory there. Returns whether anything was copied.
pub fn seed_from_image(root: &Path, target: &str, data: &Path) -> Result<bool, SeedError> {
    if !is_empty_dir(data) {
        return Ok(false);
    }
    // inside_root refuses a symlink on the way: the image must not make us
    // copy the host's files into the volume.
    let source = inside_root(root, target)?;
    let Ok(meta) = source.symlink_metadata() else { return Ok(false) };
    if !meta.is_dir() {
        return Ok(false);
    }
    explain::step(Step {
        what: &format!("seed the new volume with the image's files at {target}"),
        syscall: "read/write each file, lchown(), chmod(), symlink(), mknod()",
        shell: &format!("cp -a {}/. {}/", source.display(), data.display()),
        book: BOOK_SEED,
    });
    copy_tree(&source, data)?;
    copy_owner_and_mode(&meta, data)?;
    Ok(true)
}
// ANCHOR_END: seed

/// True for a directory with no entries (or one that cannot be read, which
/// the bind mount will then report).
pub fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).map(|mut entries| entries.next().is_none()).unwrap_or(false)
}

// ANCHOR: copy_tree
/// `cp -a` without following any symlink: directories, files, symlinks,
/// device nodes and FIFOs keep their type, mode and owner.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), SeedError> {
    for entry in fs::read_dir(from).map_err(copy_error(from))? {
        let entry = entry.map_err(copy_error(from))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let meta = source.symlink_metadata().map_err(copy_error(&source))?;
        let kind = meta.file_type();
        if kind.is_dir() {
            fs::create_dir(&dest).map_err(copy_error(&dest))?;
            copy_tree(&source, &dest)?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&source).map_err(copy_error(&source))?;
            std::os::unix::fs::symlink(&link, &dest).map_err(copy_error(&dest))?;
        } else if kind.is_file() {
            fs::copy(&source, &dest).map_err(copy_error(&dest))?;
        } else if kind.is_char_device() || kind.is_block_device() || kind.is_fifo() {
            let node = SFlag::from_bits_truncate(meta.mode() & libc::S_IFMT);
            mknod(&dest, node, Mode::from_bits_truncate(meta.mode()), meta.rdev())
                .map_err(|e| SeedError::Copy { path: dest.clone(), error: e.into() })?;
        } else {
            continue; // a socket belongs to a process that is not here
        }
        copy_owner_and_mode(&meta, &dest)?;
    }
    Ok(())
}

/// Owner first, then mode: chown clears the set-uid and set-gid bits.
fn copy_owner_and_mode(meta: &fs::Metadata, dest: &Path) -> Result<(), SeedError> {
    let owner = (Some(Uid::from_raw(meta.uid())), Some(Gid::from_raw(meta.gid())));
    fchownat(nix::fcntl::AT_FDCWD, dest, owner.0, owner.1, AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| SeedError::Copy { path: dest.to_path_buf(), error: e.into() })?;
    if !meta.file_type().is_symlink() {
        fs::set_permissions(dest, fs::Permissions::from_mode(meta.mode() & 0o7777))
            .map_err(copy_error(dest))?;
    }
    Ok(())
}
// ANCHOR_END: copy_tree

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_modes_symlinks_and_nested_dirs_once() {
        let (root, volume) = (testkit::temp_dir(), testkit::temp_dir());
        let data = root.path().join("srv/data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("sub/file"), "hello").unwrap();
        fs::set_permissions(data.join("sub/file"), fs::Permissions::from_mode(0o640)).unwrap();
        fs::set_permissions(&data, fs::Permissions::from_mode(0o1750)).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", data.join("link")).unwrap();

        assert!(seed_from_image(root.path(), "/srv/data", volume.path()).unwrap());
        assert_eq!(fs::read_to_string(volume.path().join("sub/file")).unwrap(), "hello");
        assert_eq!(fs::metadata(volume.path().join("sub/file")).unwrap().mode() & 0o7777, 0o640);
        assert_eq!(
            fs::metadata(volume.path()).unwrap().mode() & 0o7777,
            0o1750,
            "the volume takes the directory's mode"
        );
        assert_eq!(
            fs::read_link(volume.path().join("link")).unwrap(),
            Path::new("/etc/shadow"),
            "symlinks are copied, not followed"
        );

        fs::write(data.join("later"), "x").unwrap();
        assert!(
            !seed_from_image(root.path(), "/srv/data", volume.path()).unwrap(),
            "a volume with files is never seeded again"
        );
        assert!(!volume.path().join("later").exists());
    }

    #[test]
    fn nothing_to_copy_and_symlinked_targets() {
        let (root, volume) = (testkit::temp_dir(), testkit::temp_dir());
        assert!(!seed_from_image(root.path(), "/missing", volume.path()).unwrap());
        std::os::unix::fs::symlink("/etc", root.path().join("escape")).unwrap();
        assert!(
            seed_from_image(root.path(), "/escape", volume.path()).is_err(),
            "a symlink in the image must not lead to the host"
        );
        assert!(is_empty_dir(volume.path()));
    }
}
