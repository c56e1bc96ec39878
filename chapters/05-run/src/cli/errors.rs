//! Errors that carry the exit code `docker run` would give.

use anyhow::anyhow;

use crate::lifecycle::StartFailed;

/// An error with the exit code the command should end with; it prints as
/// the error it wraps.
#[derive(Debug)]
pub struct Coded {
    pub code: i32,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Coded {}

/// `error` with exit code `code`, unless it already carries one.
pub fn with_code(error: anyhow::Error, code: i32) -> anyhow::Error {
    if error.is::<Coded>() {
        return error;
    }
    Coded { code, error }.into()
}

/// A failed start: its own code (126 not executable, 127 not found), else 125.
pub fn start_error(error: anyhow::Error) -> anyhow::Error {
    match error.downcast_ref::<StartFailed>() {
        Some(failed) => with_code(anyhow!("{}", failed.message), failed.exit_code),
        None => with_code(error, 125),
    }
}

/// The exit code an error asks for, if it carries one.
pub fn exit_code_of(error: &anyhow::Error) -> Option<i32> {
    error.downcast_ref::<Coded>().map(|c| c.code)
}

/// The error as one line: a failed start prints only its reason.
pub fn one_line(error: &anyhow::Error) -> String {
    match error.downcast_ref::<StartFailed>() {
        Some(failed) => failed.message.clone(),
        None => format!("{error:#}"),
    }
}
