//! `.dockerignore`: which files of the context the builder never sees —
//! moby's `patternmatcher`, rule for rule.
//!
//! - a line starting with `#` is a comment; blank lines are skipped;
//! - each pattern is cleaned (`./a/` → `a`, a leading `/` goes): patterns
//!   are anchored at the context's root (`foo` is not `a/foo`, unlike git);
//! - `!pattern` brings back what an earlier pattern excluded: **the last
//!   pattern that matches decides**;
//! - a pattern that matches a directory excludes everything under it.

use super::pattern::{BadPattern, Pattern};

/// The patterns of one `.dockerignore`, in order.
#[derive(Debug, Clone, Default)]
pub struct Ignore {
    patterns: Vec<(Pattern, bool)>,
    /// The exceptions as written, for the walk (see [`Ignore::may_hold_exceptions`]).
    exceptions: Vec<String>,
}

// ANCHOR: read
impl Ignore {
    /// Parse the file's text.
    pub fn parse(text: &str) -> Result<Ignore, BadPattern> {
        let mut ignore = Ignore::default();
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for line in text.lines() {
            if line.starts_with('#') {
                continue;
            }
            let mut pattern = line.trim();
            let exception = pattern.starts_with('!');
            if exception {
                pattern = pattern[1..].trim();
            }
            if pattern.is_empty() {
                continue;
            }
            let cleaned = clean(pattern);
            let cleaned = cleaned.strip_prefix('/').filter(|p| !p.is_empty()).unwrap_or(&cleaned);
            ignore.patterns.push((Pattern::ignore(cleaned)?, exception));
            if exception {
                ignore.exceptions.push(cleaned.to_string());
            }
        }
        Ok(ignore)
    }
    // ANCHOR_END: read

    /// Is `path` (relative to the context, `/`-separated) left out?
    pub fn excludes(&self, path: &str) -> bool {
        excluded(&self.patterns, path)
    }

    /// Could an exception bring back something below the excluded
    /// directory `dir`? Then the walk still goes into it. Docker's test,
    /// word for word: the exception (plus `/`) starts with `dir/` — so
    /// `!dir/keep` opens `dir`, and `!**/keep` does not.
    pub fn may_hold_exceptions(&self, dir: &str) -> bool {
        let dir = format!("{dir}/");
        self.exceptions.iter().any(|e| format!("{e}/").starts_with(&dir))
    }
}

// ANCHOR: excluded
/// `(pattern, is an exception)` in the file's order, against `path`: each
/// pattern is tried on the path and, failing that, on each of its parent
/// directories (`a`, `a/b` for `a/b/c`); the last one that matches decides.
pub fn excluded(patterns: &[(Pattern, bool)], path: &str) -> bool {
    let parents: Vec<&str> = match path.rfind('/') {
        Some(slash) => path[..slash].split('/').collect(),
        None => Vec::new(),
    };
    let mut excluded = false;
    for (pattern, exception) in patterns {
        if *exception != excluded {
            continue; // it could not change the answer
        }
        let matched = pattern.matches(path)
            || (1..=parents.len()).any(|n| pattern.matches(&parents[..n].join("/")));
        if matched {
            excluded = !exception;
        }
    }
    excluded
}
// ANCHOR_END: excluded

/// Go's `filepath.Clean` for `/`-separated paths.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if rooted => {}
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_cleaned_and_the_last_match_wins() {
        let ignore =
            Ignore::parse("# comment\n\n/node_modules/\n*.md\n!README.md\n./tmp\n").unwrap();
        assert!(ignore.excludes("node_modules"));
        assert!(ignore.excludes("node_modules/x/y.js"), "a directory takes its contents");
        assert!(ignore.excludes("notes.md") && !ignore.excludes("README.md"));
        assert!(!ignore.excludes("docs/notes.md"), "anchored: *.md is only the top");
        assert!(ignore.excludes("tmp/a"));
        assert!(!ignore.excludes("src/main.rs"));
    }

    #[test]
    fn exceptions_and_double_stars() {
        let ignore = Ignore::parse("**/*.log\n!keep/**\nsecret\n").unwrap();
        assert!(ignore.excludes("a/b/c.log") && ignore.excludes("c.log"));
        assert!(!ignore.excludes("keep/c.log"));
        assert!(ignore.excludes("secret/key"));
        let back = Ignore::parse("docs\n!docs/keep.txt\n").unwrap();
        assert!(back.excludes("docs/other.txt"));
        assert!(!back.excludes("docs/keep.txt"));
        assert!(back.may_hold_exceptions("docs") && !back.may_hold_exceptions("src"));
        let anywhere = Ignore::parse("docs\n!**/keep.txt\n").unwrap();
        assert!(!anywhere.may_hold_exceptions("docs"), "Docker's walk does not go in");
        assert!(Ignore::parse("a/b\n!a/b\n").unwrap().may_hold_exceptions("a/b"));
        assert!(!Ignore::parse("ab\n!abc/x\n").unwrap().may_hold_exceptions("ab"));
        let comment = Ignore::parse(" # not a comment (the # is not in column 1)\n").unwrap();
        assert!(comment.excludes("# not a comment (the # is not in column 1)"));
    }

    #[test]
    fn the_last_line_that_matches_decides() {
        let later = Ignore::parse("*.md\n!README.md\nREADME.md\n").unwrap();
        assert!(later.excludes("README.md"), "excluded again by a later line");
        let first = Ignore::parse("!a.txt\n*.txt\n").unwrap();
        assert!(first.excludes("a.txt"), "an exception before the exclusion does nothing");
        let dir_back = Ignore::parse("docs\n!docs\n").unwrap();
        assert!(!dir_back.excludes("docs/a") && !dir_back.excludes("docs"));
    }

    #[test]
    fn clean_as_go_does() {
        assert_eq!(clean("./a/b/../c/"), "a/c");
        assert_eq!(clean("/a//b"), "/a/b");
        assert_eq!(clean("../x"), "../x");
        assert_eq!(clean("a/.."), ".");
    }
}
