//! # Chapter 10 — making images
//!
//! Chapter 4 took images apart; this chapter puts them together. A
//! container's writable layer becomes a layer tar ([`layer`]): overlayfs's
//! whiteouts turned back into `.wh.` entries, or, for the vfs driver, the
//! difference of two trees ([`tree`], [`changes`]), written reproducibly
//! ([`tarball`]) and never following one of the container's symlinks
//! ([`walk`]).

pub mod change;
pub mod changes;
pub mod commit;
pub mod config;
pub mod history;
pub mod image;
pub mod layer;
pub mod tarball;
pub mod tree;
pub mod walk;
