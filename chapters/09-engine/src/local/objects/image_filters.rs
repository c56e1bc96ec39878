//! `GET /images/json?filters=`: `dangling=true|false` and
//! `reference=PATTERN`, as dockerd applies them.

use crate::error::{ApiError, ApiResult};
use crate::types::Filters;

// ANCHOR: image_filters
/// `dangling=true` keeps only the images no tag points at, `false` only
/// tagged ones; `reference=PATTERN` keeps the images with a tag whose
/// repository or `repository:tag` matches the glob, and only those tags.
#[derive(Debug, Default)]
pub struct ImageFilters {
    pub dangling: Option<bool>,
    pub references: Vec<String>,
}

impl ImageFilters {
    pub fn from_api(filters: &Filters) -> ApiResult<ImageFilters> {
        let mut parsed = ImageFilters::default();
        for (key, values) in filters {
            for value in values {
                match (key.as_str(), value.as_str()) {
                    ("dangling", "true" | "1") => parsed.dangling = Some(true),
                    ("dangling", "false" | "0") => parsed.dangling = Some(false),
                    ("reference", pattern) => parsed.references.push(pattern.to_string()),
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "invalid filter \"{key}={value}\": use dangling=true|false or reference=PATTERN"
                        )))
                    }
                }
            }
        }
        Ok(parsed)
    }
}
// ANCHOR_END: image_filters

// ANCHOR: keep
impl ImageFilters {
    /// The tags to show of an image with `tags`, or `None` to leave it out.
    pub fn keep(&self, tags: &[String]) -> Option<Vec<String>> {
        if self.dangling.is_some_and(|wanted| wanted != tags.is_empty()) {
            return None;
        }
        if self.references.is_empty() {
            return Some(tags.to_vec());
        }
        let matching: Vec<String> = tags
            .iter()
            .filter(|tag| self.references.iter().any(|p| reference_matches(p, tag)))
            .cloned()
            .collect();
        (!matching.is_empty()).then_some(matching)
    }
}
// ANCHOR_END: keep

/// Does `pattern` match the tag's repository or the whole `repository:tag`?
/// (`127.0.0.1:5000/app:1`: the repository ends at the last `:` that has
/// no `/` after it — the host's port is not a tag.)
pub fn reference_matches(pattern: &str, tag: &str) -> bool {
    let repository = match tag.rfind(':') {
        Some(colon) if !tag[colon..].contains('/') => &tag[..colon],
        _ => tag,
    };
    glob(pattern, repository) || glob(pattern, tag)
}

/// Go's `path.Match` for `*` (any run of characters but `/`) and `?`.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn matches(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => {
                matches(&p[1..], t) || (t.first().is_some_and(|c| *c != '/') && matches(p, &t[1..]))
            }
            (Some('?'), Some(c)) if *c != '/' => matches(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => matches(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    matches(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filters(pairs: &[(&str, &str)]) -> ApiResult<ImageFilters> {
        let mut map = Filters::new();
        for (k, v) in pairs {
            map.entry(k.to_string()).or_default().push(v.to_string());
        }
        ImageFilters::from_api(&map)
    }

    #[test]
    fn dangling_and_reference_filters() {
        let busybox = vec!["busybox:latest".to_string()];
        let dangling = filters(&[("dangling", "true")]).unwrap();
        assert_eq!(dangling.keep(&[]), Some(vec![]));
        assert_eq!(dangling.keep(&busybox), None);
        assert_eq!(filters(&[("dangling", "false")]).unwrap().keep(&[]), None);
        let busy = filters(&[("reference", "busy*")]).unwrap();
        assert_eq!(busy.keep(&busybox), Some(busybox.clone()));
        assert_eq!(busy.keep(&["alpine:3".to_string()]), None);
        let two = vec!["busybox:latest".to_string(), "alpine:latest".to_string()];
        assert_eq!(filters(&[("reference", "*:latest")]).unwrap().keep(&two), Some(two.clone()));
        assert_eq!(busy.keep(&two), Some(busybox));
        assert!(!glob("*", "127.0.0.1:5000/app"), "* stops at a slash, as in Go");
        let error = filters(&[("size", "big")]).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(
            error.message,
            "invalid filter \"size=big\": use dangling=true|false or reference=PATTERN"
        );
    }
}
