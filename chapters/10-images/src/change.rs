//! `commit -c CHANGE`: Dockerfile instructions that change only the config
//! — `CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `LABEL`, `USER`, `WORKDIR`,
//! `VOLUME`, `STOPSIGNAL` — in the Dockerfile's own syntax: exec form
//! (`["a","b"]`) or shell form, quotes, backslashes, `$VAR` and `${VAR}`
//! (with `:-` and `:+`) from the config's environment so far.
//!
//! A small parser for these lines only; the Dockerfile builder brings the
//! whole language.

use std::collections::BTreeMap;
use std::iter::Peekable;
use std::str::Chars;

use serde_json::Value;
use thiserror::Error;

use crate::config::RunConfig;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChangeError {
    /// Docker's words (moby `daemon/commit.go`).
    #[error("{0} is not a valid change command")]
    NotAChangeCommand(String),
    #[error("{instruction} requires {what}")]
    Arguments { instruction: &'static str, what: &'static str },
    #[error("{0}")]
    Syntax(String),
}

// ANCHOR: config_change
/// One instruction, its arguments parsed and expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChange {
    Cmd(Vec<String>),
    Entrypoint(Vec<String>),
    Env(Vec<(String, String)>),
    Expose(Vec<String>),
    Label(Vec<(String, String)>),
    User(String),
    Workdir(String),
    Volume(Vec<String>),
    StopSignal(String),
}
// ANCHOR_END: config_change

// ANCHOR: apply_changes
/// Apply every `-c` value to `config`, in order. One value may hold several
/// lines (`\` continues a line, `#` starts a comment), as a Dockerfile does.
pub fn apply_changes(values: &[String], config: &mut RunConfig) -> Result<(), ChangeError> {
    let mut cmd_set = false;
    for line in logical_lines(&values.join("\n")) {
        let change = parse_change(&line, config)?;
        match &change {
            ConfigChange::Cmd(_) => cmd_set = true,
            // Docker: a new entrypoint drops the old Cmd, unless CMD came first.
            ConfigChange::Entrypoint(_) if !cmd_set => config.cmd = None,
            _ => {}
        }
        change.apply(config);
    }
    Ok(())
}
// ANCHOR_END: apply_changes

/// Lines joined where one ends in a backslash; blank lines and comments dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for raw in text.lines() {
        if current.is_empty() && raw.trim_start().starts_with('#') {
            continue;
        }
        match raw.trim_end().strip_suffix('\\') {
            Some(start) => current.push_str(start),
            None => {
                current.push_str(raw);
                if !current.trim().is_empty() {
                    lines.push(current.trim().to_string());
                }
                current.clear();
            }
        }
    }
    if !current.trim().is_empty() {
        lines.push(current.trim().to_string());
    }
    lines
}

/// Parse one instruction line against `config` (whose `Env` expands `$VAR`).
pub fn parse_change(line: &str, config: &RunConfig) -> Result<ConfigChange, ChangeError> {
    parse_change_escaped(line, config, '\\')
}

// ANCHOR: parse_change
/// [`parse_change`] with another escape character (a Dockerfile's
/// `# escape=` directive), as the builder parses its config instructions.
pub fn parse_change_escaped(
    line: &str,
    config: &RunConfig,
    escape: char,
) -> Result<ConfigChange, ChangeError> {
    let line = line.trim();
    let words = |text: &str, env: &dyn Fn(&str) -> Option<String>| words_escaped(text, env, escape);
    let word_of =
        |text: &str, env: &dyn Fn(&str) -> Option<String>| words_escaped_joined(text, env, escape);
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let env = |name: &str| config.env_value(name).map(str::to_string);
    match word.to_ascii_uppercase().as_str() {
        "CMD" => Ok(ConfigChange::Cmd(command_line("CMD", rest)?)),
        "ENTRYPOINT" => Ok(ConfigChange::Entrypoint(command_line("ENTRYPOINT", rest)?)),
        "ENV" => Ok(ConfigChange::Env(pairs("ENV", rest, &env, escape)?)),
        "LABEL" => Ok(ConfigChange::Label(pairs("LABEL", rest, &env, escape)?)),
        "EXPOSE" => {
            let ports = words(rest, &env)?;
            let specs = ports.iter().map(|p| expand_port(p)).collect::<Result<Vec<_>, _>>()?;
            non_empty("EXPOSE", specs.concat()).map(ConfigChange::Expose)
        }
        "USER" => one("USER", words(rest, &env)?).map(ConfigChange::User),
        "WORKDIR" => workdir(&word_of(rest, &env)?).map(ConfigChange::Workdir),
        "VOLUME" => volumes(rest, &env, escape).map(ConfigChange::Volume),
        "STOPSIGNAL" => {
            let signal = one("STOPSIGNAL", words(rest, &env)?)?;
            ch05_run::cli::parse_signal(&signal).map_err(|e| ChangeError::Syntax(e.to_string()))?;
            Ok(ConfigChange::StopSignal(signal))
        }
        _ => Err(ChangeError::NotAChangeCommand(word.to_ascii_lowercase())),
    }
}
// ANCHOR_END: parse_change

/// `WORKDIR /srv/my app`: one path, spaces and all.
fn workdir(dir: &str) -> Result<String, ChangeError> {
    let dir = dir.to_string();
    if dir.is_empty() {
        return Err(ChangeError::Arguments {
            instruction: "WORKDIR",
            what: "exactly one argument",
        });
    }
    Ok(dir)
}

/// `VOLUME ["/a", "/b"]` or `VOLUME /a /b`.
fn volumes(
    rest: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Vec<String>, ChangeError> {
    let paths = match exec_form(rest) {
        Some(paths) => paths,
        None => words_escaped(rest, env, escape)?,
    };
    if paths.iter().any(|p| p.trim().is_empty()) {
        return Err(ChangeError::Syntax("VOLUME specified can not be an empty string".into()));
    }
    non_empty("VOLUME", paths)
}

impl ConfigChange {
    // ANCHOR: apply
    /// Make the change in `config`.
    pub fn apply(self, config: &mut RunConfig) {
        match self {
            ConfigChange::Cmd(argv) => config.cmd = Some(argv),
            ConfigChange::Entrypoint(argv) => config.entrypoint = Some(argv),
            ConfigChange::Env(pairs) => pairs.iter().for_each(|(k, v)| config.set_env(k, v)),
            ConfigChange::Label(pairs) => config.labels.extend(pairs),
            ConfigChange::Expose(ports) => {
                config.exposed_ports.extend(ports.into_iter().map(|p| (p, empty_object())));
            }
            ConfigChange::User(user) => config.user = user,
            ConfigChange::Workdir(dir) => {
                let base = if config.working_dir.is_empty() { "/" } else { &config.working_dir };
                config.working_dir = clean_path(&format!("{base}/{dir}"), &dir);
            }
            ConfigChange::Volume(paths) => {
                config.volumes.extend(paths.into_iter().map(|p| (p, empty_object())));
            }
            ConfigChange::StopSignal(signal) => config.stop_signal = signal,
        }
    }
    // ANCHOR_END: apply
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// `WORKDIR rel` goes below the current directory; an absolute one replaces it.
fn clean_path(joined: &str, dir: &str) -> String {
    let path = if dir.starts_with('/') { dir } else { joined };
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => _ = parts.pop(),
            part => parts.push(part),
        }
    }
    format!("/{}", parts.join("/"))
}

/// Exec form (`["a", "b"]`, JSON) when it parses as one, else shell form
/// (`/bin/sh -c "<the rest, as written>"`), as the Dockerfile has it.
fn command_line(instruction: &'static str, rest: &str) -> Result<Vec<String>, ChangeError> {
    let argv = exec_form(rest).unwrap_or_else(|| {
        let shell = ["/bin/sh", "-c", rest].map(String::from);
        if rest.is_empty() {
            Vec::new()
        } else {
            shell.to_vec()
        }
    });
    non_empty(instruction, argv)
}

pub fn exec_form(rest: &str) -> Option<Vec<String>> {
    rest.starts_with('[').then(|| serde_json::from_str::<Vec<String>>(rest).ok()).flatten()
}

/// `K=V K2="v 2"`, or the old form `K the rest of the line`.
fn pairs(
    instruction: &'static str,
    rest: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Vec<(String, String)>, ChangeError> {
    let first = rest.split_whitespace().next().unwrap_or("");
    if !first.contains('=') {
        let (key, value) = rest
            .split_once(char::is_whitespace)
            .ok_or(ChangeError::Arguments { instruction, what: "at least one argument" })?;
        let word = |text: &str| words_escaped_joined(text, env, escape);
        return Ok(vec![(word(key)?, word(value.trim())?)]);
    }
    let mut found = Vec::new();
    for word in words_escaped(rest, env, escape)? {
        let (key, value) = word.split_once('=').ok_or_else(|| {
            ChangeError::Syntax(format!(
                "Syntax error - can't find = in {word:?}. Must be of the form: name=value"
            ))
        })?;
        if key.is_empty() {
            return Err(ChangeError::Syntax(format!("{instruction} names can not be blank")));
        }
        found.push((key.to_string(), value.to_string()));
    }
    Ok(found)
}

/// `80`, `53/udp`, `8000-8002/tcp` → `80/tcp`, `53/udp`, `8000/tcp`, …
fn expand_port(spec: &str) -> Result<Vec<String>, ChangeError> {
    let (ports, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(ChangeError::Syntax(format!("invalid proto: {proto}")));
    }
    let bad = || ChangeError::Syntax(format!("invalid containerPort: {ports}"));
    let number = |p: &str| p.parse::<u16>().ok().filter(|n| *n > 0).ok_or_else(bad);
    let (first, last) = match ports.split_once('-') {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(ports)?, number(ports)?),
    };
    if last < first {
        return Err(bad());
    }
    Ok((first..=last).map(|p| format!("{p}/{proto}")).collect())
}

fn one(instruction: &'static str, mut words: Vec<String>) -> Result<String, ChangeError> {
    match words.len() {
        1 => Ok(words.remove(0)),
        _ => Err(ChangeError::Arguments { instruction, what: "exactly one argument" }),
    }
}

fn non_empty(instruction: &'static str, items: Vec<String>) -> Result<Vec<String>, ChangeError> {
    if items.is_empty() {
        return Err(ChangeError::Arguments { instruction, what: "at least one argument" });
    }
    Ok(items)
}

// ANCHOR: words
/// Split `text` into words as the Dockerfile's lexer does: whitespace
/// separates, quotes group, `\` escapes, `$VAR` expands (not in `'…'`).
pub fn words(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Vec<String>, ChangeError> {
    words_escaped(text, env, '\\')
}

/// The same, for one word that may contain spaces (`WORKDIR /my dir`).
pub fn word_of(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, ChangeError> {
    words_escaped_joined(text, env, '\\')
}

// ANCHOR_END: words

/// [`words`] with `escape` as the escape character (`# escape=`` ` ``).
pub fn words_escaped(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<Vec<String>, ChangeError> {
    Lexer { chars: text.chars().peekable(), env, split: true, escape }.run()
}

/// [`word_of`] with `escape` as the escape character.
pub fn words_escaped_joined(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    escape: char,
) -> Result<String, ChangeError> {
    Ok(Lexer { chars: text.chars().peekable(), env, split: false, escape }.run()?.concat())
}

struct Lexer<'a> {
    chars: Peekable<Chars<'a>>,
    env: &'a dyn Fn(&str) -> Option<String>,
    split: bool,
    escape: char,
}

impl Lexer<'_> {
    // ANCHOR: lexer
    fn run(mut self) -> Result<Vec<String>, ChangeError> {
        let (mut words, mut word, mut in_word) = (Vec::new(), String::new(), false);
        while let Some(c) = self.chars.next() {
            match c {
                c if self.split && c.is_whitespace() => {
                    if std::mem::take(&mut in_word) {
                        words.push(std::mem::take(&mut word));
                    }
                    continue;
                }
                c if c == self.escape => word.push(self.chars.next().unwrap_or(c)),
                '\'' => word.push_str(&self.until('\'')?),
                '"' => self.double_quoted(&mut word)?,
                '$' => word.push_str(&self.variable()?),
                c => word.push(c),
            }
            in_word = true;
        }
        if in_word {
            words.push(word);
        }
        Ok(words)
    }

    // ANCHOR_END: lexer

    fn until(&mut self, end: char) -> Result<String, ChangeError> {
        let mut text = String::new();
        loop {
            match self.chars.next() {
                Some(c) if c == end => return Ok(text),
                Some(c) => text.push(c),
                None => {
                    return Err(ChangeError::Syntax(format!(
                        "unexpected end of statement while looking for matching {end}"
                    )))
                }
            }
        }
    }

    fn double_quoted(&mut self, word: &mut String) -> Result<(), ChangeError> {
        loop {
            match self.chars.next() {
                Some('"') => return Ok(()),
                Some(c)
                    if c == self.escape
                        && self.chars.peek().is_some_and(|n| matches!(n, '"' | '$') || *n == c) =>
                {
                    word.extend(self.chars.next());
                }
                Some('$') => word.push_str(&self.variable()?),
                Some(c) => word.push(c),
                None => {
                    return Err(ChangeError::Syntax(
                        "unexpected end of statement while looking for matching \"".into(),
                    ))
                }
            }
        }
    }

    // ANCHOR: variable
    /// After a `$`: `NAME`, `{NAME}`, `{NAME:-default}`, `{NAME:+alternate}`.
    fn variable(&mut self) -> Result<String, ChangeError> {
        if self.chars.next_if_eq(&'{').is_none() {
            let mut name = String::new();
            while let Some(c) = self.chars.next_if(|c| c.is_ascii_alphanumeric() || *c == '_') {
                name.push(c);
            }
            return Ok(match name.is_empty() {
                true => "$".into(),
                false => (self.env)(&name).unwrap_or_default(),
            });
        }
        let inner = self.until('}')?;
        let split = inner.find([':', '-', '+']).unwrap_or(inner.len());
        let (name, modifier) = inner.split_at(split);
        substitute((self.env)(name), modifier, self.env)
    }
    // ANCHOR_END: variable
}

// ANCHOR: substitute
/// `${NAME<modifier>word}`: `-` gives `word` when NAME is unset, `+` when
/// it is set; with a colon (`:-`, `:+`) an empty value counts as unset.
pub fn substitute(
    value: Option<String>,
    modifier: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ChangeError> {
    let rest = modifier.strip_prefix(':');
    let set = value.as_deref().is_some_and(|v| rest.is_none() || !v.is_empty());
    let rest = rest.unwrap_or(modifier);
    let (operator, word) = rest.split_at(rest.chars().next().map_or(0, char::len_utf8));
    match (operator, set) {
        ("", _) => Ok(value.unwrap_or_default()),
        ("-", true) => Ok(value.unwrap_or_default()),
        ("-", false) | ("+", true) => word_of(word, env),
        ("+", false) => Ok(String::new()),
        _ => Err(ChangeError::Syntax(format!("unsupported modifier ({modifier}) in substitution"))),
    }
}
// ANCHOR_END: substitute

/// Labels as a map, for callers that want one.
pub fn labels(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> RunConfig {
        RunConfig {
            env: vec!["PATH=/bin".into(), "HOME=/root".into(), "EMPTY=".into()],
            cmd: Some(vec!["sh".into()]),
            ..RunConfig::default()
        }
    }

    fn applied(changes: &[&str]) -> Result<RunConfig, ChangeError> {
        let mut config = config();
        let changes: Vec<String> = changes.iter().map(|s| s.to_string()).collect();
        apply_changes(&changes, &mut config).map(|()| config)
    }

    #[test]
    fn exec_and_shell_forms() {
        let c = applied(&[r#"CMD ["echo", "hi there"]"#]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["echo", "hi there"]);
        let c = applied(&["cmd echo $HOME"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "echo $HOME"], "CMD does not expand");
        let c = applied(&["CMD [not json"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["/bin/sh", "-c", "[not json"]);
    }

    #[test]
    fn entrypoint_drops_cmd_unless_cmd_came_first() {
        let c = applied(&[r#"ENTRYPOINT ["/app"]"#]).unwrap();
        assert_eq!((c.entrypoint.unwrap(), c.cmd), (vec!["/app".to_string()], None));
        let c = applied(&["CMD [\"-v\"]\nENTRYPOINT [\"/app\"]"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["-v"]);
    }

    #[test]
    fn env_and_label_forms_quotes_and_expansion() {
        let c = applied(&[
            r#"ENV PATH=$PATH:/opt/bin GREETING="hello world" A=${NOPE:-dflt} B=${HOME:+set}"#,
        ])
        .unwrap();
        assert_eq!(
            c.env,
            [
                "PATH=/bin:/opt/bin",
                "HOME=/root",
                "EMPTY=",
                "GREETING=hello world",
                "A=dflt",
                "B=set"
            ]
        );
        let c =
            applied(&["ENV OLD a whole line", r"ENV Q='$HOME' R=\$HOME S=${EMPTY-x}${EMPTY:-y}"])
                .unwrap();
        assert_eq!(&c.env[3..], ["OLD=a whole line", "Q=$HOME", "R=$HOME", "S=y"]);
        let c = applied(&[r#"LABEL "com.example.x"="a b" version=1"#]).unwrap();
        assert_eq!(
            c.labels,
            labels(&[("com.example.x".into(), "a b".into()), ("version".into(), "1".into())])
        );
    }

    #[test]
    fn ports_volumes_workdir_user_signal() {
        let c = applied(&[
            "EXPOSE 80 53/UDP 8000-8001",
            r#"VOLUME ["/data"]"#,
            "VOLUME /a /b",
            "WORKDIR /srv",
            "WORKDIR app/../www",
            "USER nobody:nogroup",
            "STOPSIGNAL SIGQUIT",
        ])
        .unwrap();
        let ports: Vec<&str> = c.exposed_ports.keys().map(String::as_str).collect();
        assert_eq!(ports, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let volumes: Vec<&str> = c.volumes.keys().map(String::as_str).collect();
        assert_eq!(volumes, ["/a", "/b", "/data"]);
        assert_eq!(
            (c.working_dir.as_str(), c.user.as_str(), c.stop_signal.as_str()),
            ("/srv/www", "nobody:nogroup", "SIGQUIT")
        );
    }

    #[test]
    fn bad_changes_say_what_is_wrong() {
        let err = |c: &str| applied(&[c]).unwrap_err().to_string();
        assert_eq!(err("RUN echo hi"), "run is not a valid change command");
        assert_eq!(err("FROM busybox"), "from is not a valid change command");
        assert_eq!(err("CMD"), "CMD requires at least one argument");
        assert_eq!(err("USER a b"), "USER requires exactly one argument");
        assert_eq!(err("EXPOSE 99999"), "invalid containerPort: 99999");
        assert_eq!(err("EXPOSE 80/icmp"), "invalid proto: icmp");
        assert_eq!(err("STOPSIGNAL SIGNOPE"), "invalid signal: SIGNOPE");
        assert!(err("ENV A=\"open").contains("looking for matching \""));
        assert_eq!(err("ENV =x"), "ENV names can not be blank");
    }
}
