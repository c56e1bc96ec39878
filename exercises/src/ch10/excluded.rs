//! Exercise `excluded` (medium). Book: ch10-images.md, "Building from a
//! Dockerfile".
//!
//! `.dockerignore` decides which files of the build context a COPY may
//! see. `patterns` are its lines in order, each compiled (`Pattern`, with
//! `matches(&str) -> bool` on a whole `/`-separated path) and flagged
//! `true` when it was a `!exception`. Say whether `path` is left out:
//! - start with "not excluded";
//! - a pattern can only change the answer if it is an exception while the
//!   path is excluded, or a plain pattern while it is not: skip the others;
//! - a pattern matches when it matches `path`, or any parent directory of
//!   it (`a`, then `a/b`, for `a/b/c`): excluding a directory excludes
//!   what is in it;
//! - the last pattern that matches decides.

use ch10_images::build::pattern::Pattern;

/// Is `path` excluded by `patterns` (`(pattern, is an exception)`)?
pub fn excluded(patterns: &[(Pattern, bool)], path: &str) -> bool {
    todo!("walk the patterns in order; the last match wins")
}

#[cfg(test)]
mod tests {
    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::build::dockerignore as solution;

    use ch10_images::build::pattern::Pattern;

    fn patterns(lines: &[&str]) -> Vec<(Pattern, bool)> {
        lines
            .iter()
            .map(|l| match l.strip_prefix('!') {
                Some(p) => (Pattern::ignore(p).unwrap(), true),
                None => (Pattern::ignore(l).unwrap(), false),
            })
            .collect()
    }

    #[test]
    fn anchored_patterns_and_directories() {
        let p = patterns(&["*.md", "build"]);
        assert!(solution::excluded(&p, "notes.md"));
        assert!(!solution::excluded(&p, "docs/notes.md"), "patterns are anchored at the root");
        assert!(solution::excluded(&p, "build/x/y.o"), "a directory takes what is inside");
        assert!(!solution::excluded(&p, "src/main.rs"));
    }

    #[test]
    fn the_last_match_wins() {
        let p = patterns(&["*.md", "!README.md"]);
        assert!(!solution::excluded(&p, "README.md"));
        let p = patterns(&["!README.md", "*.md"]);
        assert!(solution::excluded(&p, "README.md"), "an exception before the rule does nothing");
        let p = patterns(&["docs", "!docs/keep.txt"]);
        assert!(!solution::excluded(&p, "docs/keep.txt"));
        assert!(solution::excluded(&p, "docs/other.txt"));
        let p = patterns(&["**/*.log", "!keep/**"]);
        assert!(solution::excluded(&p, "a/b/c.log") && !solution::excluded(&p, "keep/c.log"));
    }
}
