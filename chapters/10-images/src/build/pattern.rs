//! Path patterns as Go's `filepath.Match` reads them (COPY's globs), and
//! with `**` as moby's `patternmatcher` adds it (`.dockerignore`):
//!
//! ```text
//! *      any run of characters but /        ?      one character but /
//! [a-z]  a class ([^…] or [!…] negated)     \x     x itself
//! **/    any number of directories (even none)   ** at the end: anything
//! ```
//!
//! A pattern is matched against a whole path, from the start to the end.

/// One piece of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `[...]`: ranges, negated or not.
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    /// `**/` or a `**` inside: `(.*/)?`.
    Dirs,
    /// `**` at the end: `.*`.
    Rest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern {0:?}")]
pub struct BadPattern(pub String);

impl Pattern {
    /// A glob of `filepath.Match` (`**` is two stars).
    pub fn glob(text: &str) -> Result<Pattern, BadPattern> {
        compile(text, false)
    }

    /// A `.dockerignore` pattern, `**` included.
    pub fn ignore(text: &str) -> Result<Pattern, BadPattern> {
        compile(text, true)
    }

    /// Does the whole of `path` match?
    pub fn matches(&self, path: &str) -> bool {
        let chars: Vec<char> = path.chars().collect();
        match_at(&self.tokens, &chars)
    }
}

/// Does `text` have a glob character (what makes COPY look for matches)?
pub fn has_wildcards(text: &str) -> bool {
    text.contains(['*', '?', '['])
}

fn compile(text: &str, double_star: bool) -> Result<Pattern, BadPattern> {
    let bad = || BadPattern(text.to_string());
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if double_star && chars.get(i + 1) == Some(&'*') => {
                i += 2;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                }
                tokens.push(if i >= chars.len() { Token::Rest } else { Token::Dirs });
                continue;
            }
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::One),
            '\\' => {
                i += 1;
                tokens.push(Token::Char(*chars.get(i).ok_or_else(bad)?));
            }
            '[' => {
                let (class, next) = class(&chars, i + 1).ok_or_else(bad)?;
                tokens.push(class);
                i = next;
                continue;
            }
            c => tokens.push(Token::Char(c)),
        }
        i += 1;
    }
    Ok(Pattern { tokens })
}

/// `[...]` from just after the `[`: the class and the index after `]`.
fn class(chars: &[char], mut i: usize) -> Option<(Token, usize)> {
    let negated = matches!(chars.get(i), Some('^' | '!'));
    if negated {
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && !first {
            return Some((Token::Class { ranges, negated }, i + 1));
        }
        first = false;
        let low = if c == '\\' {
            i += 1;
            *chars.get(i)?
        } else {
            c
        };
        i += 1;
        let mut high = low;
        if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|c| *c != ']') {
            high = if chars[i + 1] == '\\' { *chars.get(i + 2)? } else { chars[i + 1] };
            i += if chars[i + 1] == '\\' { 3 } else { 2 };
        }
        ranges.push((low, high));
    }
}

// ANCHOR: match_at
/// Backtracking: a star tries every length it may take.
fn match_at(tokens: &[Token], text: &[char]) -> bool {
    let Some((token, rest)) = tokens.split_first() else { return text.is_empty() };
    match token {
        Token::Char(c) => text.first() == Some(c) && match_at(rest, &text[1..]),
        Token::One => text.first().is_some_and(|c| *c != '/') && match_at(rest, &text[1..]),
        Token::Class { ranges, negated } => {
            text.first().is_some_and(|c| {
                let inside = ranges.iter().any(|(low, high)| low <= c && c <= high);
                *c != '/' && inside != *negated
            }) && match_at(rest, &text[1..])
        }
        Token::Star => (0..=text.len())
            .take_while(|&n| n == 0 || text[n - 1] != '/')
            .any(|n| match_at(rest, &text[n..])),
        Token::Rest => true,
        // `(.*/)?`: nothing, or anything that ends in a slash.
        Token::Dirs => {
            match_at(rest, text)
                || (0..text.len()).any(|n| text[n] == '/' && match_at(rest, &text[n + 1..]))
        }
    }
}
// ANCHOR_END: match_at

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_do_not_cross_slashes() {
        let p = Pattern::glob("src/*.rs").unwrap();
        assert!(p.matches("src/main.rs"));
        assert!(!p.matches("src/a/main.rs"));
        assert!(Pattern::glob("a?c").unwrap().matches("abc"));
        assert!(!Pattern::glob("a?c").unwrap().matches("a/c"));
        assert!(Pattern::glob("file[0-9].txt").unwrap().matches("file7.txt"));
        assert!(!Pattern::glob("file[!0-9].txt").unwrap().matches("file7.txt"));
        assert!(Pattern::glob(r"a\*").unwrap().matches("a*"));
        assert!(!Pattern::glob(r"a\*").unwrap().matches("ab"));
        assert!(Pattern::glob("[").is_err());
    }

    #[test]
    fn double_stars_in_ignore_patterns() {
        let p = Pattern::ignore("**/*.log").unwrap();
        assert!(p.matches("a.log") && p.matches("x/y/a.log"));
        assert!(!p.matches("a.logs"));
        assert!(Pattern::ignore("build/**").unwrap().matches("build/x/y"));
        let mid = Pattern::ignore("a/**/z").unwrap();
        assert!(mid.matches("a/z") && mid.matches("a/b/c/z") && !mid.matches("a/bz"));
        assert!(!Pattern::glob("**/x").unwrap().matches("a/b/x"), "a glob's ** is two stars");
    }
}
