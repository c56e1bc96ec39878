//! The composition of the chapters, shared by the two binaries: the CLI
//! `mini-docker` and the daemon `mini-dockerd`.

pub mod archive;
pub mod compose;
