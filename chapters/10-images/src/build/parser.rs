//! A Dockerfile as lines of instructions, as BuildKit's parser (which the
//! classic builder uses too) reads it:
//!
//! ```text
//! # escape=`            parser directives: only at the very top
//! FROM busybox AS base  one instruction per logical line, its word case-free
//! # a comment           a line whose first non-blank character is #
//! RUN echo a && `       the escape character at a line's end continues it;
//!     # dropped         comments inside a continuation vanish
//!     echo b
//! COPY --chown=1:1 a b  flags (--name=value) come before the arguments
//! ```
//!
//! Nothing is expanded here: which instruction substitutes variables, and
//! when, is the builder's business ([`super::instructions`]).

use thiserror::Error;

/// The instructions the classic builder knows.
pub const INSTRUCTIONS: [&str; 18] = [
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

#[derive(Debug, Error, PartialEq, Eq)]
#[error("dockerfile parse error on line {line}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

// ANCHOR: line
/// One instruction as written: `COPY --from=build /app /app`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The instruction's word, upper case: `COPY`.
    pub instruction: String,
    /// `--name=value` flags before the arguments: `[("from", "build")]`.
    pub flags: Vec<(String, String)>,
    /// The rest, as written (not yet expanded): `/app /app`.
    pub args: String,
    /// The whole logical line, continuations joined: what `Step N/M :` shows.
    pub original: String,
    /// Where it starts in the file (1-based).
    pub number: usize,
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dockerfile {
    /// `\` unless an `# escape=` directive says `` ` ``.
    pub escape: char,
    pub lines: Vec<Line>,
    /// Empty continuation lines, which Docker warns about.
    pub warnings: Vec<String>,
}
// ANCHOR_END: line

// ANCHOR: parse
/// Parse a whole Dockerfile.
pub fn parse(text: &str) -> Result<Dockerfile, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: Vec<&str> = text.lines().collect();
    let (escape, first) = directives(&raw)?;
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut i = first;
    while i < raw.len() {
        let trimmed = raw[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let (joined, next, empties) = join_continued(&raw, i, escape);
        if empties > 0 {
            warnings.push(format!("Empty continuation line found in: {}", joined.trim()));
        }
        lines.push(split_line(joined.trim(), i + 1)?);
        i = next;
    }
    Ok(Dockerfile { escape, lines, warnings })
}
// ANCHOR_END: parse

/// `# key=value` lines at the top: `escape` (`\` or `` ` ``), and `syntax`
/// and `check`, which the classic builder reads past. Returns the escape
/// character and the index of the first line after the directives.
fn directives(raw: &[&str]) -> Result<(char, usize), ParseError> {
    let mut escape = None;
    let mut seen = Vec::new();
    for (i, line) in raw.iter().enumerate() {
        let Some((key, value)) = directive(line) else { return Ok((escape.unwrap_or('\\'), i)) };
        if !matches!(key.as_str(), "escape" | "syntax" | "check") {
            return Ok((escape.unwrap_or('\\'), i)); // just a comment
        }
        if seen.contains(&key) {
            return Err(ParseError {
                line: i + 1,
                message: format!("only one {key} parser directive can be used"),
            });
        }
        if key == "escape" {
            escape = Some(match value.as_str() {
                "\\" => '\\',
                "`" => '`',
                other => {
                    return Err(ParseError {
                        line: i + 1,
                        message: format!("invalid escape token '{other}' does not match ` or \\"),
                    })
                }
            });
        }
        seen.push(key);
    }
    Ok((escape.unwrap_or('\\'), raw.len()))
}

/// `#  escape = \`` → `("escape", "`")`.
fn directive(line: &str) -> Option<(String, String)> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (key, value) = rest.split_once('=')?;
    let key = key.trim();
    let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric());
    let value = value.trim();
    (valid && !value.is_empty()).then(|| (key.to_ascii_lowercase(), value.to_string()))
}

// ANCHOR: continuation
/// The logical line starting at `start`: while a line ends in the escape
/// character (trailing blanks allowed), the next one continues it; comment
/// lines inside are dropped, empty ones counted. Returns the joined text,
/// the index after it, and how many empty lines it skipped.
fn join_continued(raw: &[&str], start: usize, escape: char) -> (String, usize, usize) {
    let mut joined = String::new();
    let mut empties = 0;
    let mut i = start;
    while i < raw.len() {
        let line = raw[i];
        i += 1;
        if i - 1 > start && line.trim_start().starts_with('#') {
            continue;
        }
        if i - 1 > start && line.trim().is_empty() {
            empties += 1;
            continue;
        }
        match line.trim_end().strip_suffix(escape) {
            Some(head) => joined.push_str(head),
            None => {
                joined.push_str(line);
                return (joined, i, empties);
            }
        }
    }
    (joined, i, empties)
}
// ANCHOR_END: continuation

// ANCHOR: split_line
/// One logical line (`COPY --from=x a b`, continuations already joined)
/// → its instruction (upper case, known), its flags and its arguments.
pub fn split_line(text: &str, number: usize) -> Result<Line, ParseError> {
    let (word, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let instruction = word.to_ascii_uppercase();
    if !INSTRUCTIONS.contains(&instruction.as_str()) {
        return Err(ParseError { line: number, message: format!("unknown instruction: {word}") });
    }
    let (flags, args) = split_flags(rest.trim_start());
    Ok(Line {
        instruction,
        flags,
        args: args.trim().to_string(),
        original: text.to_string(),
        number,
    })
}

/// Leading `--name=value` (or `--name`) words; `--` alone ends them.
fn split_flags(mut rest: &str) -> (Vec<(String, String)>, &str) {
    let mut flags = Vec::new();
    while let Some(after) = rest.strip_prefix("--") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (flag, tail) = after.split_at(end);
        rest = tail.trim_start();
        if flag.is_empty() {
            break;
        }
        let (name, value) = flag.split_once('=').unwrap_or((flag, ""));
        flags.push((name.to_ascii_lowercase(), value.to_string()));
    }
    (flags, rest)
}
// ANCHOR_END: split_line

/// Exec form: a JSON array of strings (double quotes only). Anything
/// else, even `['a']`, is shell form: Docker does not complain.
pub fn json_form(args: &str) -> Option<Vec<String>> {
    let args = args.trim();
    args.starts_with('[').then(|| serde_json::from_str::<Vec<String>>(args).ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Line> {
        parse(text).unwrap().lines
    }

    #[test]
    fn comments_continuations_and_case() {
        let text = "# a comment\n\nfrom busybox AS base\nRUN echo a && \\\n  # gone\n  echo b\n\nrun echo '#not a comment'\n";
        let parsed = lines(text);
        assert_eq!(parsed.len(), 3);
        assert_eq!(
            (parsed[0].instruction.as_str(), parsed[0].args.as_str()),
            ("FROM", "busybox AS base")
        );
        assert_eq!(parsed[1].args, "echo a &&   echo b");
        assert_eq!(parsed[1].original, "RUN echo a &&   echo b");
        assert_eq!(parsed[1].number, 4);
        assert_eq!(parsed[2].args, "echo '#not a comment'");
    }

    #[test]
    fn escape_directive_and_its_rules() {
        let parsed = parse("# escape=`\nFROM scratch\nCOPY a `\n  b\n").unwrap();
        assert_eq!(parsed.escape, '`');
        assert_eq!(parsed.lines[1].args, "a   b");
        let late = parse("FROM scratch\n# escape=`\nCOPY a `\nRUN b\n").unwrap();
        assert_eq!(late.escape, '\\', "a directive after an instruction is a comment");
        assert_eq!(late.lines.len(), 3, "so the backtick continues nothing");
        let err = parse("# escape=`\n# escape=\\\nFROM x\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "dockerfile parse error on line 2: only one escape parser directive can be used"
        );
        assert!(parse("# escape=x\nFROM x").unwrap_err().message.contains("invalid escape token"));
        let syntax = parse("# syntax=docker/dockerfile:1\n# escape=`\nFROM x").unwrap();
        assert_eq!(syntax.escape, '`');
    }

    #[test]
    fn flags_come_before_the_arguments() {
        let parsed = lines("COPY --from=build --chown=1:2 /a /b\nRUN -- --not-a-flag\n");
        assert_eq!(
            parsed[0].flags,
            [("from".into(), "build".into()), ("chown".into(), "1:2".into())]
        );
        assert_eq!(parsed[0].args, "/a /b");
        assert!(parsed[1].flags.is_empty());
        assert_eq!(parsed[1].args, "--not-a-flag");
    }

    #[test]
    fn unknown_instructions_and_json_forms() {
        let err = parse("FROM x\n\nFOO bar\n").unwrap_err();
        assert_eq!(err.to_string(), "dockerfile parse error on line 3: unknown instruction: FOO");
        assert_eq!(json_form(r#"["echo", "a b"]"#).unwrap(), ["echo", "a b"]);
        assert_eq!(json_form("['echo']"), None);
        assert_eq!(json_form("echo [x]"), None);
        let warned = parse("RUN a \\\n\n b\n").unwrap();
        assert_eq!(warned.lines[0].args, "a  b");
        assert_eq!(warned.warnings.len(), 1);
    }
}
