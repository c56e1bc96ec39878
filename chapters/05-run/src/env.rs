//! `-e KEY=VALUE`, `-e KEY` and `--env-file FILE`, with Docker's rules.

use std::path::Path;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvError {
    #[error("invalid environment variable {0:?}: the name is empty")]
    EmptyName(String),
    #[error("invalid environment variable {0:?}: the name contains whitespace")]
    Whitespace(String),
    #[error("reading the env file {0}: {1}")]
    File(String, String),
}

// ANCHOR: parse_env
/// One `-e` value. `KEY=VALUE` is taken as it is; a bare `KEY` takes the
/// value from `lookup` (the host's environment) and is dropped when unset.
pub fn parse_env(
    item: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<String>, EnvError> {
    let name = item.split_once('=').map_or(item, |(k, _)| k);
    if name.is_empty() {
        return Err(EnvError::EmptyName(item.to_string()));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(EnvError::Whitespace(item.to_string()));
    }
    if item.contains('=') {
        return Ok(Some(item.to_string()));
    }
    Ok(lookup(name).map(|value| format!("{name}={value}")))
}
// ANCHOR_END: parse_env

/// The lines of an env file: blank lines and `#` comments are skipped, each
/// other line is parsed like a `-e` value.
pub fn parse_env_file(
    text: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, EnvError> {
    let mut env = Vec::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        env.extend(parse_env(line, &lookup)?);
    }
    Ok(env)
}

/// `--env-file` files first, then `-e` values, as the Docker CLI orders them.
pub fn collect(files: &[impl AsRef<Path>], items: &[String]) -> Result<Vec<String>, EnvError> {
    let host = |name: &str| std::env::var(name).ok();
    let mut env = Vec::new();
    for file in files {
        let path = file.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|e| EnvError::File(path.display().to_string(), e.to_string()))?;
        env.extend(parse_env_file(&text, host)?);
    }
    for item in items {
        env.extend(parse_env(item, host)?);
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str) -> Option<String> {
        (name == "HOME").then(|| "/home/me".to_string())
    }

    #[test]
    fn key_value_and_bare_keys() {
        assert_eq!(parse_env("A=1", host), Ok(Some("A=1".into())));
        assert_eq!(parse_env("A=", host), Ok(Some("A=".into())));
        assert_eq!(parse_env("A=b=c", host), Ok(Some("A=b=c".into())));
        assert_eq!(parse_env("HOME", host), Ok(Some("HOME=/home/me".into())));
        assert_eq!(parse_env("UNSET", host), Ok(None));
    }

    #[test]
    fn bad_names() {
        assert_eq!(parse_env("=x", host), Err(EnvError::EmptyName("=x".into())));
        assert_eq!(parse_env("A B=1", host), Err(EnvError::Whitespace("A B=1".into())));
    }

    #[test]
    fn env_file_skips_comments_and_blanks() {
        let text = "# settings\n\nA=1\n  B=two words\nHOME\nUNSET\n";
        assert_eq!(parse_env_file(text, host).unwrap(), ["A=1", "B=two words", "HOME=/home/me"]);
    }

    #[test]
    fn missing_env_file_is_one_clear_error() {
        let err = collect(&["/no/such/file"], &[]).unwrap_err();
        assert!(err.to_string().starts_with("reading the env file /no/such/file: "));
    }
}
