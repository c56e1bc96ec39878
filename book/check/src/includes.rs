//! Every `{{#include FILE[:ANCHOR]}}` in the book must resolve to a
//! non-empty listing of at most [`MAX_LINES`] lines.
//!
//! mdBook itself is lenient: a renamed anchor gives an empty listing and
//! exit code 0; a moved file logs an error, exits 0 and leaves the raw
//! `{{#include …}}` text in the page. So we resolve every include the way
//! mdBook does, and fail on what mdBook lets through.

use std::fmt;
use std::path::{Path, PathBuf};

/// A listing longer than this is two listings with a sentence between.
pub const MAX_LINES: usize = 40;

/// One include directive found in a chapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Include {
    pub chapter: PathBuf,
    /// 1-based line of the directive in the chapter.
    pub line: usize,
    pub file: PathBuf,
    pub selector: Selector,
}

/// What part of the file the include takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Whole,
    Anchor(String),
    /// 1-based, inclusive; `None` is "from the start" / "to the end".
    Lines(Option<usize>, Option<usize>),
}

/// Why an include is refused.
#[derive(Debug, PartialEq)]
pub enum Problem {
    MissingFile,
    MissingAnchor(String),
    Empty,
    TooLong(usize),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::MissingFile => write!(f, "the file does not exist (moved or renamed?)"),
            Problem::MissingAnchor(a) => {
                write!(f, "no `ANCHOR: {a}` in the file (renamed anchor?)")
            }
            Problem::Empty => write!(f, "the listing is empty"),
            Problem::TooLong(n) => write!(
                f,
                "the listing has {n} lines, more than {MAX_LINES}: split it in two \
                 (two anchors, a sentence between them)"
            ),
        }
    }
}

// ANCHOR: find_includes
/// The include directives of one chapter, in order. `\{{#include}}` is
/// mdBook's escape for showing the syntax itself, and is skipped.
pub fn find_includes(chapter: &Path, text: &str) -> Vec<Include> {
    let dir = chapter.parent().unwrap_or(Path::new("."));
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let escaped = rest[..start].ends_with('\\');
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            let (directive, arg) =
                after[..end].trim().split_once(' ').unwrap_or((&after[..end], ""));
            if !escaped && (directive == "include" || directive == "rustdoc_include") {
                let (file, selector) = parse_argument(arg.trim());
                found.push(Include {
                    chapter: chapter.into(),
                    line: n + 1,
                    file: dir.join(file),
                    selector,
                });
            }
            rest = &after[end + 2..];
        }
    }
    found
}
// ANCHOR_END: find_includes

/// `FILE`, `FILE:ANCHOR`, `FILE:START:END` (either number may be left out).
fn parse_argument(arg: &str) -> (&str, Selector) {
    let mut parts = arg.splitn(3, ':');
    let file = parts.next().unwrap_or_default();
    let (first, second) = (parts.next(), parts.next());
    let number = |s: &str| s.trim().parse::<usize>().ok();
    let selector = match (first, second) {
        (None, _) | (Some(""), None) => Selector::Whole,
        (Some(a), Some(b)) => Selector::Lines(number(a), number(b)),
        (Some(a), None) => match number(a) {
            Some(start) => Selector::Lines(Some(start), Some(start)),
            None => Selector::Anchor(a.trim().to_string()),
        },
    };
    (file, selector)
}

// ANCHOR: resolve
/// The listing an include shows, as mdBook would make it: between
/// `ANCHOR: name` and `ANCHOR_END: name`, without any other anchor lines.
pub fn resolve(include: &Include) -> Result<String, Problem> {
    let text = std::fs::read_to_string(&include.file).map_err(|_| Problem::MissingFile)?;
    let lines: Vec<&str> = text.lines().collect();
    let picked: Vec<&str> = match &include.selector {
        Selector::Whole => lines.clone(),
        Selector::Lines(start, end) => {
            let from = start.unwrap_or(1).saturating_sub(1).min(lines.len());
            let to = end.unwrap_or(lines.len()).min(lines.len()).max(from);
            lines[from..to].to_vec()
        }
        Selector::Anchor(name) => anchored(&lines, name)?,
    };
    let listing: Vec<&str> = picked.into_iter().filter(|l| !is_anchor_line(l)).collect();
    if listing.iter().all(|l| l.trim().is_empty()) {
        return Err(Problem::Empty);
    }
    Ok(listing.join("\n"))
}
// ANCHOR_END: resolve

fn anchored<'a>(lines: &[&'a str], name: &str) -> Result<Vec<&'a str>, Problem> {
    let start = lines
        .iter()
        .position(|l| marker(l, "ANCHOR:") == Some(name))
        .ok_or_else(|| Problem::MissingAnchor(name.to_string()))?;
    let rest = &lines[start + 1..];
    let len =
        rest.iter().position(|l| marker(l, "ANCHOR_END:") == Some(name)).unwrap_or(rest.len());
    Ok(rest[..len].to_vec())
}

/// The name after `ANCHOR:` or `ANCHOR_END:` on a line, if any.
fn marker<'a>(line: &'a str, tag: &str) -> Option<&'a str> {
    let at = line.find(tag)?;
    let name = line[at + tag.len()..].trim_start();
    let end =
        name.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(name.len());
    Some(&name[..end])
}

fn is_anchor_line(line: &str) -> bool {
    marker(line, "ANCHOR:").is_some() || marker(line, "ANCHOR_END:").is_some()
}

/// Every markdown file under `src`, sorted.
pub fn chapters(src: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(src)? {
        let path = entry?.path();
        if path.is_dir() {
            found.extend(chapters(&path)?);
        } else if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// One refused include, for the report.
#[derive(Debug)]
pub struct Finding {
    pub include: Include,
    pub problem: Problem,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.include;
        let what = match &i.selector {
            Selector::Anchor(a) => format!("{}:{a}", tidy(&i.file).display()),
            _ => tidy(&i.file).display().to_string(),
        };
        write!(f, "{}:{}: {{{{#include {what}}}}}: {}", i.chapter.display(), i.line, self.problem)
    }
}

/// `a/b/../c` as `a/c`, for reports.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some_and(|n| n != "..") => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

impl Finding {
    /// `ch03-union-fs.md:prepare`: how the list of known long listings names it.
    pub fn key(&self) -> String {
        let chapter = self.include.chapter.file_name().unwrap_or_default().to_string_lossy();
        match &self.include.selector {
            Selector::Anchor(a) => format!("{chapter}:{a}"),
            _ => format!("{chapter}:{}", self.include.file.display()),
        }
    }
}

/// Check every include of every chapter under `src`.
pub fn check_book(src: &Path) -> std::io::Result<(usize, Vec<Finding>)> {
    let mut findings = Vec::new();
    let mut count = 0;
    for chapter in chapters(src)? {
        let text = std::fs::read_to_string(&chapter)?;
        for include in find_includes(&chapter, &text) {
            count += 1;
            let problem = match resolve(&include) {
                Ok(listing) if listing.lines().count() > MAX_LINES => {
                    Problem::TooLong(listing.lines().count())
                }
                Ok(_) => continue,
                Err(problem) => problem,
            };
            findings.push(Finding { include, problem });
        }
    }
    Ok((count, findings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        assert_eq!(parse_argument("a.rs"), ("a.rs", Selector::Whole));
        assert_eq!(parse_argument("a.rs:spawn"), ("a.rs", Selector::Anchor("spawn".into())));
        assert_eq!(parse_argument("a.rs:3:5"), ("a.rs", Selector::Lines(Some(3), Some(5))));
        assert_eq!(parse_argument("a.rs::5"), ("a.rs", Selector::Lines(None, Some(5))));
        assert_eq!(parse_argument("a.rs:7"), ("a.rs", Selector::Lines(Some(7), Some(7))));
    }

    #[test]
    fn escaped_includes_are_not_includes() {
        let text = "see \\{{#include x.rs:a}} and {{#include y.rs:b}}\n{{#title T}}";
        let found = find_includes(Path::new("src/ch.md"), text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].file, Path::new("src/y.rs"));
        assert_eq!(found[0].selector, Selector::Anchor("b".into()));
    }

    #[test]
    fn anchors_drop_nested_markers_and_stop_at_their_end() {
        let lines = [
            "x",
            "// ANCHOR: outer",
            "a",
            "// ANCHOR: inner",
            "b",
            "// ANCHOR_END: inner",
            "c",
            "// ANCHOR_END: outer",
            "z",
        ];
        assert_eq!(anchored(&lines, "outer").unwrap().len(), 5);
        assert_eq!(anchored(&lines, "inner").unwrap(), vec!["b"]);
        assert_eq!(anchored(&lines, "nope"), Err(Problem::MissingAnchor("nope".into())));
        // `inner` must not be found by a search for `in`.
        assert_eq!(anchored(&lines, "in"), Err(Problem::MissingAnchor("in".into())));
    }
}
