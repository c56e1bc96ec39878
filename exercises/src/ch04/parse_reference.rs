//! Exercise `parse_reference` (hard). Book: ch04-image-pull.md, "Image references".
//!
//! Write `Reference::parse` as a free function: `docker pull busybox` means
//! `docker.io/library/busybox:latest`. The grammar, in order:
//! - empty → `Empty`; 64 hex digits alone → `BareDigest`;
//! - `NAME[:TAG][@DIGEST]`: the digest follows `@` (`sha256:` + 64 lowercase
//!   hex); a `:` after the last `/` starts the tag (before it, it is a port);
//!   a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`;
//! - the first component of NAME is a registry only if it contains `.` or
//!   `:`, is `localhost`, or has an uppercase letter; otherwise the domain is
//!   `docker.io`, and a one-component path on docker.io gets `library/`
//!   (`index.docker.io` is `docker.io` too);
//! - path components are lowercase alphanumerics joined by `.`, `_`, `__` or
//!   runs of `-`; an uppercase letter in the path is `Uppercase`; a name over
//!   255 characters is `TooLong`; anything else wrong is `Invalid`;
//! - the tag defaults to `latest` only when there is neither tag nor digest;
//!   with a digest, the tag is dropped.

use ch04_image_pull::reference::{ReferenceError, DEFAULT_DOMAIN, DEFAULT_TAG};
use ch04_image_pull::Reference;

/// Parse and normalise `input` as `docker pull` does.
pub fn parse_reference(input: &str) -> Result<Reference, ReferenceError> {
    todo!("split off the digest, then the tag, then the domain; check each part")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a tag given with a digest kept:
    // `alpine:3.19@sha256:...` is pinned by the digest alone, and Docker drops the tag. Checked by
    // pasting it into the reference implementation: it fails `digests_pin_and_drop_the_tag`.
    //
    //     let tag = match (tag, &digest) {
    //         (Some(tag), _) => Some(tag.to_string()),
    //         (None, Some(_)) => None,
    //         (None, None) => Some(DEFAULT_TAG.to_string()),
    //     };

    #[cfg(feature = "reference")]
    mod solution {
        use ch04_image_pull::reference::ReferenceError;
        use ch04_image_pull::Reference;

        /// The real function is a method; this only forwards to it.
        pub fn parse_reference(input: &str) -> Result<Reference, ReferenceError> {
            Reference::parse(input)
        }
    }
    #[cfg(not(feature = "reference"))]
    use super as solution;

    use ch04_image_pull::reference::ReferenceError;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn full(input: &str) -> String {
        solution::parse_reference(input).unwrap_or_else(|e| panic!("{input:?}: {e}")).to_string()
    }

    #[test]
    fn official_images_get_docker_io_library_and_latest() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(full("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("index.docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("library/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("foo/bar"), "docker.io/foo/bar:latest");
        assert_eq!(full("foo/bar/baz:v1"), "docker.io/foo/bar/baz:v1");
    }

    #[test]
    fn first_component_is_a_host_only_with_dot_colon_localhost_or_uppercase() {
        assert_eq!(full("localhost/x"), "localhost/x:latest");
        assert_eq!(full("localhost:5000/x:1"), "localhost:5000/x:1");
        assert_eq!(full("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
        assert_eq!(full("myreg:5000/app"), "myreg:5000/app:latest");
        assert_eq!(full("Registry/app"), "Registry/app:latest");
        let r = solution::parse_reference("example.com/app").unwrap();
        assert_eq!(
            (r.domain.as_str(), r.path.as_str()),
            ("example.com", "app"),
            "no library/ outside docker.io"
        );
    }

    #[test]
    fn digests_pin_and_drop_the_tag() {
        let r = solution::parse_reference(&format!("busybox@sha256:{HEX}")).unwrap();
        assert_eq!((r.tag, r.digest), (None, Some(format!("sha256:{HEX}"))));
        let r = solution::parse_reference(&format!("busybox:1.36@sha256:{HEX}")).unwrap();
        assert_eq!(r.tag, None, "name:tag@digest keeps the digest only");
    }

    #[test]
    fn separators_follow_the_grammar() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a0/b1/c2"] {
            assert!(solution::parse_reference(ok).is_ok(), "{ok} should parse");
        }
        for bad in [
            "a..b",
            "a___b",
            "-a",
            "a-",
            "_a",
            "a/",
            "/a",
            "a//b",
            "a:",
            ":tag",
            "a:-x",
            "a@sha256:12",
            "a@md5:0123",
            "a b",
        ] {
            assert!(solution::parse_reference(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn bad_references_say_why() {
        assert_eq!(
            solution::parse_reference("").unwrap_err(),
            ReferenceError::Empty(String::new())
        );
        assert!(matches!(
            solution::parse_reference("example.com/Foo"),
            Err(ReferenceError::Uppercase(_))
        ));
        assert!(matches!(solution::parse_reference(HEX), Err(ReferenceError::BareDigest(_))));
        assert!(matches!(
            solution::parse_reference(&"a".repeat(256)),
            Err(ReferenceError::TooLong(_))
        ));
        assert!(solution::parse_reference(&format!("a:{}", "t".repeat(129))).is_err());
        assert!(solution::parse_reference(&format!("a:{}", "t".repeat(128))).is_ok());
    }
}
