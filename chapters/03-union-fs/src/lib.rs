//! # Chapter 3 — union filesystem
//!
//! Give a container a writable root made of read-only layers, and move the
//! container into it the way runc does.
//!
//! - [`layer`]: the layer directory format (overlayfs whiteouts), shared with chapter 4.
//! - [`driver`]: prepare a container's root with [`Driver::Overlay`] or [`Driver::Vfs`].
//! - [`overlay`] / [`vfs`]: the two drivers' own work.
//! - [`etc_files`]: the container's `/etc/hostname`, `/etc/hosts`, `/etc/resolv.conf`.
//! - [`rootfs`]: the child hook: mounts, devices, masked paths, then [`pivot`].
//! - [`cleanup`]: remove a container's directory when it is done.

pub mod cleanup;
pub mod devices;
pub mod driver;
pub mod etc_files;
pub mod layer;
pub mod masks;
pub mod mounts;
pub mod overlay;
pub mod pivot;
pub mod rootfs;
pub mod vfs;
pub mod xattr;

pub use driver::{prepare, prepare_vfs_owned_by, reopen, Driver, PrepareError, Rootfs, Union};
pub use layer::{is_whiteout, OPAQUE_XATTR, OPAQUE_XATTR_VALUE};
pub use rootfs::{rootfs_hook, BeforePivot, RootfsSetup};
pub use vfs::{Owners, SameOwners};
