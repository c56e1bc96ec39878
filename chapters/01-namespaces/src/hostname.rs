//! Hostnames: what the UTS namespace lets a container change.

use thiserror::Error;

/// The kernel's limit (`HOST_NAME_MAX`); longer names get `EINVAL`.
pub const HOST_NAME_MAX: usize = 64;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HostnameError {
    #[error("invalid hostname {0:?}: it is empty")]
    Empty(String),
    #[error("invalid hostname {0:?}: longer than {HOST_NAME_MAX} characters")]
    TooLong(String),
    #[error("invalid hostname {0:?}: use letters, digits and '-' in dot-separated labels of 1 to 63 characters, not starting or ending with '-'")]
    BadLabel(String),
}

// ANCHOR: validate_hostname
/// Check `name` against RFC 1123: dot-separated labels of letters, digits and
/// hyphens, each 1–63 characters, no hyphen at either end of a label.
pub fn validate_hostname(name: &str) -> Result<(), HostnameError> {
    if name.is_empty() {
        return Err(HostnameError::Empty(name.into()));
    }
    if name.len() > HOST_NAME_MAX {
        return Err(HostnameError::TooLong(name.into()));
    }
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    if name.split('.').all(label_ok) {
        Ok(())
    } else {
        Err(HostnameError::BadLabel(name.into()))
    }
}
// ANCHOR_END: validate_hostname

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for ok in ["box", "web-1", "a", "db.internal", "3f2a9c1e7b4d"] {
            assert_eq!(validate_hostname(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_bad_names() {
        assert!(matches!(validate_hostname(""), Err(HostnameError::Empty(_))));
        assert!(matches!(validate_hostname(&"a".repeat(65)), Err(HostnameError::TooLong(_))));
        for bad in ["-box", "box-", "has space", "under_score", "a..b", "dot.", "é"] {
            assert!(matches!(validate_hostname(bad), Err(HostnameError::BadLabel(_))), "{bad}");
        }
    }
}
