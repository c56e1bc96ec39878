//! Exercises for mini-docker, in the style of rustlings.
//!
//! Each exercise is one function of a chapter crate with its body replaced
//! by `todo!()`, in `src/chNN/<name>.rs`, with the tests the real function
//! passes. The tests call `solution::<function>`, where `solution` is:
//! - your stub (the module itself), by default;
//! - the chapter's real function, with `--features reference` (CI uses this
//!   to prove that every test is right and every exercise solvable).
//!
//! Run `cargo exercise` (an alias for `cargo run -q -p exercises --bin
//! exercise --`) to see the list, check your work and get hints.

// A stub ignores its arguments until you write its body.
#![allow(unused_variables, unused_imports)]

pub mod catalog;

pub mod ch01;
pub mod ch02;
pub mod ch03;
pub mod ch04;
pub mod ch05;
pub mod ch06;
pub mod ch07;
pub mod ch08;
pub mod ch09;
pub mod ch10;

/// Root exercises call this first: without root they fail with the
/// message learners need, never pass by skipping.
#[cfg(test)]
pub(crate) fn needs_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "needs root: run with sudo (this exercise uses the real kernel)"
    );
}
