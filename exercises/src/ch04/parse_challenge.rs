//! Exercise `parse_challenge` (medium). Book: ch04-image-pull.md, "Authentication: 401, challenge, retry".
//!
//! A registry answers 401 with a header such as
//! `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push"`.
//! Parse it: the scheme (lowercased), then `key=value` pairs (keys
//! lowercased) separated by commas; a value is either quoted — it may contain
//! commas, and `\"` stands for `"` — or runs to the next comma. An empty
//! header, or a quoted value without its closing quote, is `None`.

use std::collections::BTreeMap;

use ch04_image_pull::auth::Challenge;

/// Parse one `WWW-Authenticate` challenge.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    todo!("the scheme, then key=value pairs, reading quoted values char by char")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a quoted value read up to the next `"`, without
    // backslash escapes: `\"` ends the value early. Checked by pasting it into the reference
    // implementation: it fails `basic_unquoted_and_escaped_values`.
    //
    //     let end = quoted.find('"')?;
    //     (quoted[..end].to_string(), &quoted[end + 1..])

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch04_image_pull::auth as solution;

    #[test]
    fn docker_hubs_challenge_with_commas_inside_quotes() {
        let c = solution::parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:samalba/my-app:pull,push");
        assert_eq!(c.params.len(), 3);
    }

    #[test]
    fn basic_unquoted_and_escaped_values() {
        let c = solution::parse_challenge(r#"Basic realm="Registry \"realm\"", Charset=UTF-8"#)
            .unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], r#"Registry "realm""#);
        assert_eq!(c.params["charset"], "UTF-8");
        assert_eq!(solution::parse_challenge("Basic").unwrap().params.len(), 0);
    }

    #[test]
    fn broken_headers_are_none() {
        assert!(solution::parse_challenge(r#"Bearer realm="unterminated"#).is_none());
        assert!(solution::parse_challenge("").is_none());
        assert!(solution::parse_challenge("   ").is_none());
    }
}
