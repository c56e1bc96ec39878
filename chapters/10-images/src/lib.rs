//! # Chapter 10 — making images
//!
//! Chapter 4 took images apart; this chapter puts them together. A
//! container's writable layer becomes a layer tar ([`layer`]): overlayfs's
//! whiteouts turned back into `.wh.` entries, or, for the vfs driver, the
//! difference of two trees ([`tree`], [`changes`]), written reproducibly
//! ([`tarball`]) and never following one of the container's symlinks
//! ([`walk`]).
//!
//! A new image goes into chapter 4's store ([`image`]): [`commit`] makes
//! one from a container, with a config of the parent's plus the
//! container's settings and `-c` changes ([`config`], [`change`]).
//! [`history`] reads its story back; [`push`] sends it to a registry,
//! blobs first and the manifest last; [`save`] writes a `docker save`
//! tarball. [`build`] follows a Dockerfile as Docker's classic builder
//! does — each step an image, the cache the store's own children — and
//! `api` (feature `http`) serves it as `POST /build` on chapter 9's daemon.
//! [`cli`] is the command line that the demo and `mini-docker` share.

#[cfg(feature = "http")]
pub mod api;
pub mod build;
pub mod change;
pub mod changes;
pub mod cli;
pub mod commit;
pub mod config;
pub mod display;
pub mod history;
pub mod image;
pub mod layer;
pub mod merge;
pub mod push;
pub mod push_stream;
pub mod save;
pub mod tarball;
pub mod tree;
pub mod walk;
