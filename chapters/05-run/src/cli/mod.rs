//! The command line of the container verbs, shared by this chapter's demo
//! (`ch05-run`) and the final `mini-docker`, which adds the flags of
//! chapters 6–8 beside these. Docker's rules: options end at the image
//! (`run busybox sh -c 'echo hi'` gives `-c` to `sh`), exit codes 125,
//! 126 and 127 for the engine's own failures.

pub mod commands;
pub mod errors;
pub mod flags;

pub use commands::*;
pub use errors::{code_and_line, exit_code_of, one_line, start_error, with_code, Coded};
pub use flags::*;
