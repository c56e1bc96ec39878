//! The composition point: the one place where the chapters' extensions are
//! registered into chapter 5's engine, in order. Order matters: chapter 8's
//! read-only remount must come after chapter 7 has mounted the volumes,
//! and its checks read what chapters 6 and 7 recorded.

use std::path::Path;

use ch05_run::Engine;

// ANCHOR: engine
/// The whole engine: chapters 1–5 and the extensions of chapters 6, 7, 8.
pub fn engine(root: &Path) -> Engine {
    Engine::new(root)
        .with(ch06_networking::Networking)
        .with(ch07_volumes::Volumes)
        .with(ch08_security::Security)
}
// ANCHOR_END: engine
