//! Exercise `parse_subid` (easy). Book: ch08-security.md, "User namespaces".
//!
//! `/etc/subuid` and `/etc/subgid` give users ranges of ids, one
//! `name:start:count` a line (`mini-docker:100000:65536`). Return the first
//! range of `user`:
//! - lines starting with `#` (after leading spaces) are comments;
//! - spaces around a line are ignored; the name must match exactly;
//! - a line whose start or count is not a number (u32) is skipped, and the
//!   search goes on; no range at all is `None`.

use ch08_security::userns::IdRange;

/// The first range of `user` in the text of a subuid/subgid file.
pub fn parse_subid(text: &str, user: &str) -> Option<IdRange> {
    todo!("split each line at ':' and keep the first that is the user's and parses")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the line picked by a prefix
    // (`line.starts_with(user)`): user `al` gets `alice`'s range. Checked by pasting it into the
    // reference implementation: it fails `names_match_whole`.
    //
    //     (line.trim().starts_with(user)).then_some(())?;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::userns as solution;

    use ch08_security::userns::IdRange;

    const FILE: &str = "\
# name:start:count
root:10000:5000
mini-docker:100000:65536
mini-docker:300000:65536
  dockremap:165536:65536  
";

    #[test]
    fn the_users_first_range() {
        assert_eq!(
            solution::parse_subid(FILE, "mini-docker"),
            Some(IdRange { start: 100000, count: 65536 })
        );
        assert_eq!(
            solution::parse_subid(FILE, "root"),
            Some(IdRange { start: 10000, count: 5000 })
        );
        assert_eq!(
            solution::parse_subid(FILE, "dockremap"),
            Some(IdRange { start: 165536, count: 65536 })
        );
    }

    #[test]
    fn names_match_whole() {
        assert_eq!(solution::parse_subid(FILE, "mini"), None);
        assert_eq!(solution::parse_subid(FILE, "mini-docker2"), None);
        assert_eq!(solution::parse_subid(FILE, "# name"), None, "a comment is not an entry");
        assert_eq!(solution::parse_subid("", "root"), None);
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let text = "app:abc:65536\napp:100000\n  # app:1:1\napp:-5:10\napp:99999999999:1\napp:200000:1000\n";
        assert_eq!(
            solution::parse_subid(text, "app"),
            Some(IdRange { start: 200000, count: 1000 })
        );
        assert_eq!(solution::parse_subid("app:1:x\n", "app"), None);
    }
}
