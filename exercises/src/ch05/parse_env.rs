//! Exercise `parse_env` (easy). Book: ch05-run.md.
//!
//! One `-e` value of `docker run`:
//! - the name is what comes before the first `=` (or the whole item);
//!   empty → `EnvError::EmptyName(item)`, containing whitespace →
//!   `EnvError::Whitespace(item)`;
//! - `KEY=VALUE` (even `KEY=`) is kept as it is;
//! - a bare `KEY` takes its value from `lookup` (the host's environment):
//!   `Some("KEY=value")`, or `None` when the host has no such variable.

use ch05_run::env::EnvError;

/// Parse one `-e` value.
pub fn parse_env(
    item: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, EnvError> {
    todo!("find the name, check it, then KEY=VALUE or a lookup")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a bare name the host does not have passed on as
    // `NAME=` (Docker leaves it out). Checked by pasting it into the reference implementation: it
    // fails `bare_keys_come_from_the_host`.
    //
    //     Ok(Some(format!("{name}={}", lookup(name).unwrap_or_default())))

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::env as solution;

    use ch05_run::env::EnvError;

    fn host(name: &str) -> Option<String> {
        (name == "HOME").then(|| "/home/me".to_string())
    }

    #[test]
    fn key_value_is_kept_as_it_is() {
        assert_eq!(solution::parse_env("A=1", host), Ok(Some("A=1".into())));
        assert_eq!(solution::parse_env("A=", host), Ok(Some("A=".into())));
        assert_eq!(solution::parse_env("A=b=c", host), Ok(Some("A=b=c".into())));
        assert_eq!(solution::parse_env("HOME=/root", host), Ok(Some("HOME=/root".into())));
    }

    #[test]
    fn bare_keys_come_from_the_host() {
        assert_eq!(solution::parse_env("HOME", host), Ok(Some("HOME=/home/me".into())));
        assert_eq!(solution::parse_env("UNSET", host), Ok(None));
    }

    #[test]
    fn bad_names() {
        assert_eq!(solution::parse_env("=x", host), Err(EnvError::EmptyName("=x".into())));
        assert_eq!(solution::parse_env("", host), Err(EnvError::EmptyName(String::new())));
        assert_eq!(solution::parse_env("A B=1", host), Err(EnvError::Whitespace("A B=1".into())));
        assert_eq!(solution::parse_env("A\tB", host), Err(EnvError::Whitespace("A\tB".into())));
    }
}
