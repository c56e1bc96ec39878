//! Image references: `busybox`, `ghcr.io/org/app:1.2`, `localhost:5000/x@sha256:…`.
//!
//! Parsed and normalized with Docker's rules (distribution/reference
//! `ParseNormalizedNamed`): a pure function, no I/O.

use std::fmt;

/// The registry Docker uses when a reference names none.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// The host that really serves Docker Hub's registry API.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";
/// The tag used when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReferenceError {
    #[error("invalid reference format: {0:?} is empty")]
    Empty(String),
    #[error("invalid reference format: repository name {0:?} must be lowercase")]
    Uppercase(String),
    #[error("invalid reference format: {0:?} is a digest, not a name (write NAME@sha256:HEX)")]
    BareDigest(String),
    #[error("invalid reference format: {input:?}: {why}")]
    Invalid { input: String, why: String },
    #[error("invalid reference format: repository name {0:?} is longer than 255 characters")]
    TooLong(String),
}

// ANCHOR: reference
/// A normalized image reference: `docker.io/library/busybox:latest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port: `docker.io`, `localhost:5000`.
    pub domain: String,
    /// Repository path inside the registry: `library/busybox`.
    pub path: String,
    /// The tag, if the reference has one (`latest` when neither tag nor digest was given).
    pub tag: Option<String>,
    /// The digest, `sha256:<64 hex>`, if the reference pins one.
    pub digest: Option<String>,
}
// ANCHOR_END: reference

impl Reference {
    // ANCHOR: parse
    /// Parse and normalize `input` as `docker pull` does.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        let invalid =
            |why: &str| ReferenceError::Invalid { input: input.to_string(), why: why.to_string() };
        if input.is_empty() {
            return Err(ReferenceError::Empty(input.to_string()));
        }
        if is_bare_digest_hex(input) {
            return Err(ReferenceError::BareDigest(input.to_string()));
        }
        let (name, tag, digest) = split_tag_and_digest(input).map_err(|why| invalid(&why))?;
        if let Some(tag) = tag {
            check_tag(tag).map_err(|why| invalid(&why))?;
        }
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(ReferenceError::TooLong(name.to_string()));
        }
        let (domain, path) = split_domain(name);
        check_domain(&domain).map_err(|why| invalid(&why))?;
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(ReferenceError::Uppercase(path));
        }
        check_path(&path).map_err(|why| invalid(&why))?;
        // Default tag only when there is neither tag nor digest; with both,
        // the digest wins (`ParseDockerRef`).
        let tag = match (tag, &digest) {
            (_, Some(_)) => None,
            (Some(tag), None) => Some(tag.to_string()),
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Ok(Reference { domain, path, tag, digest })
    }
    // ANCHOR_END: parse
}

// ANCHOR: split_tag_and_digest
/// `name[:tag][@digest]` in its three parts: the digest is after the one
/// '@'; a ':' after the last '/' starts the tag, one before it is a port.
fn split_tag_and_digest(input: &str) -> Result<(&str, Option<&str>, Option<String>), String> {
    let (name_and_tag, digest) = match input.split_once('@') {
        Some((rest, digest)) => (rest, Some(parse_digest(digest)?)),
        None => (input, None),
    };
    let last_slash = name_and_tag.rfind('/').map_or(0, |i| i + 1);
    Ok(match name_and_tag[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&name_and_tag[..at], Some(&name_and_tag[at + 1..]), digest)
        }
        None => (name_and_tag, None, digest),
    })
}
// ANCHOR_END: split_tag_and_digest

impl Reference {
    /// The full repository name: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// The short name Docker shows: `busybox`, `foo/bar`, `localhost:5000/x`.
    pub fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            self.path
                .strip_prefix("library/")
                .filter(|p| !p.contains('/'))
                .unwrap_or(&self.path)
                .to_string()
        } else {
            self.name()
        }
    }

    /// `busybox:latest` or `busybox@sha256:…`: how images are listed.
    pub fn familiar(&self) -> String {
        self.with_name(self.familiar_name())
    }

    /// What goes after `/manifests/` in the registry URL: the digest, else the tag.
    pub fn tag_or_digest(&self) -> &str {
        self.digest.as_deref().or(self.tag.as_deref()).unwrap_or(DEFAULT_TAG)
    }

    /// The host (and port) that serves this registry's HTTP API.
    pub fn api_host(&self) -> &str {
        if self.domain == DEFAULT_DOMAIN {
            DOCKER_HUB_API_HOST
        } else {
            &self.domain
        }
    }

    fn with_name(&self, name: String) -> String {
        match (&self.tag, &self.digest) {
            (_, Some(digest)) => format!("{name}@{digest}"),
            (Some(tag), None) => format!("{name}:{tag}"),
            (None, None) => name,
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_name(self.name()))
    }
}

// ANCHOR: split_domain
/// Split `name` into registry domain and repository path (`splitDockerDomain`).
fn split_domain(name: &str) -> (String, String) {
    let (domain, path) = match name.split_once('/') {
        Some((first, rest)) if looks_like_host(first) => (first.to_string(), rest.to_string()),
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    let domain = if domain == "index.docker.io" { DEFAULT_DOMAIN.to_string() } else { domain };
    // Official images live under `library/` on Docker Hub, and only there.
    let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
        format!("library/{path}")
    } else {
        path
    };
    (domain, path)
}

/// The first path element is a registry host if it is `localhost`, has a
/// `.` or a `:`, or has uppercase letters (which a repository name cannot).
fn looks_like_host(first: &str) -> bool {
    first == "localhost"
        || first.contains('.')
        || first.contains(':')
        || first.chars().any(|c| c.is_ascii_uppercase())
}
// ANCHOR_END: split_domain

fn is_bare_digest_hex(input: &str) -> bool {
    input.len() == 64 && input.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

/// `sha256:<64 lowercase hex>`; other algorithms need `[0-9a-fA-F]{32,}`.
pub fn parse_digest(digest: &str) -> Result<String, String> {
    let (algorithm, hex) =
        digest.split_once(':').ok_or_else(|| format!("digest {digest:?} has no algorithm"))?;
    if algorithm != "sha256" {
        return Err(format!("digest algorithm {algorithm:?} is not supported (only sha256)"));
    }
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
        return Err(format!(
            "digest {digest:?} must be sha256: followed by 64 lowercase hex digits"
        ));
    }
    Ok(digest.to_string())
}

/// `[\w][\w.-]{0,127}`
fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    match chars.next() {
        Some(c) if word(c) => {}
        _ => return Err(format!("tag {tag:?} must start with a letter, digit or '_'")),
    }
    if tag.len() > 128 {
        return Err(format!("tag {tag:?} is longer than 128 characters"));
    }
    if !chars.all(|c| word(c) || c == '.' || c == '-') {
        return Err(format!("tag {tag:?} may only contain letters, digits, '_', '.' and '-'"));
    }
    Ok(())
}

/// A domain name, IPv4 address or `[IPv6]`, with an optional `:port`.
fn check_domain(domain: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("registry {domain:?} has an unclosed '['"))?;
        if v6.is_empty() || !v6.chars().all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.') {
            return Err(format!("registry {domain:?} is not a valid IPv6 address"));
        }
        (
            None,
            if after.is_empty() {
                None
            } else {
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| format!("registry {domain:?}: junk after ']'"))?,
                )
            },
        )
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(host) = host {
        let label_ok = |l: &str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if !host.split('.').all(label_ok) {
            return Err(format!("registry host {host:?} is not a valid host name"));
        }
    }
    if let Some(port) = port {
        if port.is_empty() || !port.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("registry port {port:?} must be a number"));
        }
    }
    Ok(())
}

/// Components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` separated by `/`.
fn check_path(path: &str) -> Result<(), String> {
    for component in path.split('/') {
        if !is_path_component(component) {
            return Err(format!(
                "repository path component {component:?} must be lowercase letters and digits, separated by '.', '_', '__' or '-'"
            ));
        }
    }
    Ok(())
}

fn is_path_component(component: &str) -> bool {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = component.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        // A separator run: one '.', one '_', "__", or any number of '-'.
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(input: &str) -> String {
        Reference::parse(input).unwrap().to_string()
    }

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn official_images_get_docker_io_library_and_latest() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(full("docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("index.docker.io/busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("library/busybox"), "docker.io/library/busybox:latest");
    }

    #[test]
    fn user_images_on_docker_hub_get_no_library_prefix() {
        assert_eq!(full("foo/bar"), "docker.io/foo/bar:latest");
        assert_eq!(full("foo/bar/baz:v1"), "docker.io/foo/bar/baz:v1");
    }

    #[test]
    fn first_component_is_a_host_only_with_dot_colon_localhost_or_uppercase() {
        assert_eq!(full("localhost/x"), "localhost/x:latest");
        assert_eq!(full("localhost:5000/x:1"), "localhost:5000/x:1");
        assert_eq!(full("127.0.0.1:5000/busybox"), "127.0.0.1:5000/busybox:latest");
        assert_eq!(full("example.com/app"), "example.com/app:latest");
        assert_eq!(full("myreg:5000/app"), "myreg:5000/app:latest");
        assert_eq!(full("[::1]:5000/app"), "[::1]:5000/app:latest");
        assert_eq!(full("Registry/app"), "Registry/app:latest");
        let r = Reference::parse("example.com/app").unwrap();
        assert_eq!(r.path, "app", "no library/ outside docker.io");
    }

    #[test]
    fn digests_pin_and_drop_the_tag() {
        let r = Reference::parse(&format!("busybox@sha256:{HEX}")).unwrap();
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_digest(), format!("sha256:{HEX}"));
        let r = Reference::parse(&format!("busybox:1.36@sha256:{HEX}")).unwrap();
        assert_eq!(r.tag, None, "name:tag@digest keeps the digest only");
        assert_eq!(r.familiar(), format!("busybox@sha256:{HEX}"));
    }

    #[test]
    fn familiar_names_hide_docker_io_and_library() {
        assert_eq!(Reference::parse("busybox").unwrap().familiar(), "busybox:latest");
        assert_eq!(Reference::parse("foo/bar:2").unwrap().familiar(), "foo/bar:2");
        assert_eq!(
            Reference::parse("localhost:5000/a/b").unwrap().familiar(),
            "localhost:5000/a/b:latest"
        );
        assert_eq!(Reference::parse("busybox").unwrap().api_host(), "registry-1.docker.io");
        assert_eq!(Reference::parse("localhost:5000/a").unwrap().api_host(), "localhost:5000");
    }

    #[test]
    fn separators_follow_the_grammar() {
        for ok in ["a.b", "a_b", "a__b", "a-b", "a---b", "a0/b1/c2"] {
            assert!(Reference::parse(ok).is_ok(), "{ok} should parse");
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
            assert!(Reference::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn bad_references_say_why() {
        assert_eq!(Reference::parse("").unwrap_err(), ReferenceError::Empty(String::new()));
        assert!(matches!(Reference::parse("example.com/Foo"), Err(ReferenceError::Uppercase(_))));
        assert!(matches!(Reference::parse(HEX), Err(ReferenceError::BareDigest(_))));
        assert!(matches!(Reference::parse(&"a".repeat(256)), Err(ReferenceError::TooLong(_))));
        assert!(Reference::parse(&format!("a:{}", "t".repeat(129))).is_err());
        assert!(Reference::parse(&format!("a:{}", "t".repeat(128))).is_ok());
        assert!(Reference::parse("example.com:port/a").is_err());
        let msg = Reference::parse("Busybox").unwrap_err().to_string();
        assert!(msg.contains("invalid reference format"), "{msg}");
    }
}
