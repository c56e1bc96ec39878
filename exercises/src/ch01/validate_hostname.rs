//! Exercise `validate_hostname` (easy). Book: ch01-namespaces.md, "UTS: your own hostname".
//!
//! RFC 1123: dot-separated labels of ASCII letters, digits and `-`, each
//! 1 to 63 characters, no `-` at either end of a label; the whole name at
//! most `HOST_NAME_MAX` (64) bytes. Return the error that says why.

use ch01_namespaces::hostname::{HostnameError, HOST_NAME_MAX};

/// Check `name` against RFC 1123.
pub fn validate_hostname(name: &str) -> Result<(), HostnameError> {
    todo!("empty? too long? then check every label")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the characters and the length of each label
    // checked, but not where a `-` may stand: `-a` and `a-` pass. Checked by pasting it into the
    // reference implementation: it fails `rejects_bad_labels`.
    //
    //     let label_ok = |label: &str| {
    //         (1..=63).contains(&label.len())
    //             && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    //     };

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch01_namespaces::hostname as solution;

    use ch01_namespaces::hostname::HostnameError;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["box", "web-1", "a", "db.internal", "3f2a9c1e7b4d", &"a".repeat(63)] {
            assert_eq!(solution::validate_hostname(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn empty_and_too_long() {
        assert_eq!(solution::validate_hostname(""), Err(HostnameError::Empty(String::new())));
        let long = format!("{}.{}", "a".repeat(40), "b".repeat(30));
        assert_eq!(solution::validate_hostname(&long), Err(HostnameError::TooLong(long.clone())));
    }

    #[test]
    fn rejects_bad_labels() {
        for bad in
            ["-box", "box-", "has space", "under_score", "a..b", "dot.", "é", &"a".repeat(64)[..64]]
        {
            let expected = if bad.len() > 64 {
                HostnameError::TooLong(bad.into())
            } else {
                HostnameError::BadLabel(bad.into())
            };
            assert_eq!(solution::validate_hostname(bad), Err(expected), "{bad}");
        }
    }
}
