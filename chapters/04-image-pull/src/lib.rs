//! # Chapter 4 — images
//!
//! Pull an image from a registry ([`registry`], [`auth`], [`platform`]) into
//! a content-addressed store where every blob is verified ([`store`]), and
//! unpack its layers safely into shared layer directories ([`unpack`]).
//! [`pull`] is the whole conversation; [`load`] reads `docker save` tarballs
//! and OCI layouts for offline workshops.

pub mod auth;
pub mod digest;
pub mod load;
pub mod oci;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod reference;
pub mod registry;
pub mod store;
pub mod unpack;

pub use reference::Reference;
