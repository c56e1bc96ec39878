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

/// How a start that runs in a process of its own tells its failure to
/// whoever asked for it: the exit code (a failed start's own, else
/// `otherwise`) and the one line.
pub fn code_and_line(error: &anyhow::Error, otherwise: i32) -> (i32, String) {
    let code = error.downcast_ref::<StartFailed>().map_or(otherwise, |f| f.exit_code);
    (code, one_line(error))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_start_tells_its_own_code_and_only_its_reason() {
        let failed: anyhow::Error =
            StartFailed { message: "exec: \"nope\": not found".into(), exit_code: 127 }.into();
        let failed = failed.context("starting the container");
        assert_eq!(code_and_line(&failed, 125), (127, "exec: \"nope\": not found".to_string()));
        let other = anyhow!("no such file").context("reading config.json");
        assert_eq!(code_and_line(&other, 126), (126, "reading config.json: no such file".into()));
    }
}
