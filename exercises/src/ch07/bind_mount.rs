//! Exercise `bind_mount` (hard, root). Book: ch07-volumes.md, "Read-only that holds".
//!
//! In the container's mount namespace, after chapter 3 has built its root
//! and before pivot_root, put `source` (a host directory or file, or a
//! volume's `_data`) at `m.destination` inside `root`:
//! 1. the mount point: `mounts::mount_point_dir(root, relative)` for a
//!    directory source, `mount_point_file` for a file (`relative` is the
//!    destination without its leading `/`). They create it, and refuse a
//!    symlink in the image's path — a symlink `/data -> /etc` must not
//!    make us mount over the host's `/etc`;
//! 2. `mount --rbind SOURCE TARGET`: `MS_BIND | MS_REC`;
//! 3. only if `m.read_only`: remount that bind read-only with
//!    `MS_BIND | MS_REMOUNT | MS_RDONLY`. A bind cannot be made read-only
//!    by the bind itself. And a remount sets ALL of the mount's flags
//!    anew: add `MS_NOSUID`, `MS_NODEV`, `MS_NOEXEC` when the mount has
//!    them now (`statvfs(target)`: `ST_NOSUID`, `ST_NODEV`, `ST_NOEXEC`),
//!    or `:ro` would quietly make a `noexec` volume executable.
//!
//! Use chapter 3's `mounts::mount(&Mount { .. }, &target)`: it narrates
//! the step for `--explain`. The tests run on a thread in a mount
//! namespace of its own, with every mount private: nothing reaches the host.

use std::path::Path;

use ch03_union_fs::mounts::{mount, mount_point_dir, mount_point_file, Mount};
use ch07_volumes::resolve::ContainerMount;
use nix::mount::MsFlags;
use nix::sys::statvfs::{statvfs, FsFlags};

/// Bind `source` on `m.destination` inside `root`; read-only if `m.read_only`.
pub fn bind(root: &Path, m: &ContainerMount, source: &Path) -> anyhow::Result<()> {
    todo!("mount point, bind, then (for :ro) a remount that keeps nosuid/nodev/noexec")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the read-only remount done with MS_BIND |
    // MS_REMOUNT | MS_RDONLY alone: the remount replaces the mount's flags, so the bind loses the
    // source's nosuid, nodev and noexec (and in a user namespace the kernel refuses it with
    // EPERM). Checked by pasting it into the reference implementation: it fails
    // `read_only_refuses_writes_and_keeps_the_sources_flags` ("the :ro mount lost nosuid").
    //
    //     let flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch07_volumes::mount as solution;

    use std::path::{Path, PathBuf};

    use ch07_volumes::resolve::ContainerMount;
    use ch07_volumes::spec::MountType;
    use nix::mount::{mount, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    use nix::sys::statvfs::{statvfs, FsFlags};

    /// Run `work` on a thread in a mount namespace of its own where every
    /// mount is private: its mounts vanish with it and never reach the host.
    fn in_own_mount_namespace(work: impl FnOnce() + Send + 'static) {
        let thread = std::thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNS).expect("unshare(CLONE_NEWNS)");
            mount(
                None::<&str>,
                "/",
                None::<&str>,
                MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                None::<&str>,
            )
            .expect("mount --make-rprivate /");
            work()
        });
        thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    }

    fn volume(destination: &str, source: &Path, read_only: bool) -> ContainerMount {
        ContainerMount {
            kind: MountType::Volume,
            name: Some("mdtestvol".into()),
            source: Some(source.to_path_buf()),
            destination: destination.into(),
            read_only,
            copy_image_data: false,
            anonymous: false,
            tmpfs: None,
        }
    }

    fn write_error(path: &Path) -> Option<i32> {
        std::fs::write(path, "x").err().map(|e| e.raw_os_error().unwrap_or(0))
    }

    /// The host's mount table never saw the test's mounts.
    fn nothing_mounted_on_the_host(dirs: &[&tempfile::TempDir]) {
        for dir in dirs {
            testkit::assert_no_leftovers(&dir.path().display().to_string());
        }
    }

    fn path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().to_path_buf()
    }

    #[test]
    fn read_only_refuses_writes_and_keeps_the_sources_flags() {
        crate::needs_root();
        let (source, root) = (testkit::temp_dir(), testkit::temp_dir());
        let (source_path, root_path) = (path(&source), path(&root));
        in_own_mount_namespace(move || {
            let (source, root) = (source_path, root_path);
            // The volume lives on a nosuid, nodev, noexec filesystem.
            let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
            mount(Some("tmpfs"), &source, Some("tmpfs"), flags, Some("size=1m"))
                .expect("mounting the test's tmpfs");
            std::fs::write(source.join("hello"), "from the volume").unwrap();

            solution::bind(&root, &volume("/data", &source, true), &source)
                .unwrap_or_else(|e| panic!("bind failed: {e:#}"));

            let target = root.join("data");
            assert_eq!(std::fs::read_to_string(target.join("hello")).unwrap(), "from the volume");
            assert_eq!(
                write_error(&target.join("new")),
                Some(libc::EROFS),
                "writing through a :ro mount must fail with EROFS"
            );
            let kept = statvfs(&target).unwrap().flags();
            for (flag, name) in [
                (FsFlags::ST_RDONLY, "ro"),
                (FsFlags::ST_NOSUID, "nosuid"),
                (FsFlags::ST_NODEV, "nodev"),
                (FsFlags::ST_NOEXEC, "noexec"),
            ] {
                assert!(kept.contains(flag), "the :ro mount lost {name} (flags now {kept:?})");
            }
            std::fs::write(source.join("later"), "still writable")
                .expect("the source itself stays writable");
            assert_eq!(std::fs::read_to_string(target.join("later")).unwrap(), "still writable");
        });
        nothing_mounted_on_the_host(&[&source, &root]);
    }

    #[test]
    fn a_writable_bind_shares_files_both_ways_even_deep_down() {
        crate::needs_root();
        let (source, root) = (testkit::temp_dir(), testkit::temp_dir());
        let (source_path, root_path) = (path(&source), path(&root));
        in_own_mount_namespace(move || {
            let (source, root) = (source_path, root_path);
            std::fs::write(source.join("index.html"), "hello").unwrap();
            solution::bind(&root, &volume("/srv/www/html", &source, false), &source)
                .unwrap_or_else(|e| panic!("bind failed: {e:#}"));
            let target = root.join("srv/www/html");
            assert_eq!(std::fs::read_to_string(target.join("index.html")).unwrap(), "hello");
            std::fs::write(target.join("upload"), "from the container")
                .expect("a mount without :ro is writable");
            assert_eq!(
                std::fs::read_to_string(source.join("upload")).unwrap(),
                "from the container"
            );
            assert!(!statvfs(&target).unwrap().flags().contains(FsFlags::ST_RDONLY));
        });
        assert!(source.path().join("upload").exists(), "the file is in the source, on the host");
        nothing_mounted_on_the_host(&[&source, &root]);
    }

    #[test]
    fn a_single_file_can_be_bound_read_only() {
        crate::needs_root();
        let (host, root) = (testkit::temp_dir(), testkit::temp_dir());
        let (host_path, root_path) = (path(&host), path(&root));
        in_own_mount_namespace(move || {
            let (host, root) = (host_path, root_path);
            let file = host.join("hosts");
            std::fs::write(&file, "10.0.0.2\tdb\n").unwrap();
            let mut m = volume("/etc/hosts", &file, true);
            m.kind = MountType::Bind;
            m.name = None;
            solution::bind(&root, &m, &file).unwrap_or_else(|e| panic!("bind failed: {e:#}"));
            let target = root.join("etc/hosts");
            assert!(target.is_file(), "the mount point of a file is a file");
            assert_eq!(std::fs::read_to_string(&target).unwrap(), "10.0.0.2\tdb\n");
            assert_eq!(write_error(&target), Some(libc::EROFS));
        });
        nothing_mounted_on_the_host(&[&host, &root]);
    }

    #[test]
    fn a_symlink_in_the_image_is_refused() {
        crate::needs_root();
        let (source, root, elsewhere) =
            (testkit::temp_dir(), testkit::temp_dir(), testkit::temp_dir());
        let (source_path, root_path, elsewhere_path) =
            (path(&source), path(&root), path(&elsewhere));
        in_own_mount_namespace(move || {
            let (source, root, elsewhere) = (source_path, root_path, elsewhere_path);
            std::fs::write(source.join("marker"), "volume").unwrap();
            // The image says /data is a symlink to a directory outside the root.
            std::os::unix::fs::symlink(&elsewhere, root.join("data")).unwrap();
            let result = solution::bind(&root, &volume("/data/x", &source, false), &source);
            assert!(result.is_err(), "bind followed the image's symlink out of the root");
            assert!(!elsewhere.join("x").exists(), "nothing may be created outside the root");
        });
        nothing_mounted_on_the_host(&[&source, &root, &elsewhere]);
    }
}
