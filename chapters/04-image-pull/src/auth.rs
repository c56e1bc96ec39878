//! Registry authentication: the `WWW-Authenticate` challenge, Bearer tokens,
//! Basic credentials, and where credentials are stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{json, Value};

use crate::reference::DEFAULT_DOMAIN;

/// The key Docker uses for Docker Hub credentials in `config.json`.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";
/// Where `mini-docker login` keeps credentials, relative to the state root.
pub const AUTH_FILE: &str = "auth.json";

// ANCHOR: challenge
/// A parsed `WWW-Authenticate` header: `Bearer realm="…",service="…",scope="…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `bearer` or `basic`, lowercased.
    pub scheme: String,
    pub params: BTreeMap<String, String>,
}

/// Parse one challenge. Values may be quoted and contain commas
/// (`scope="repository:a/b:pull,push"`), so this is not a split on ','.
pub fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, mut rest) = match header.split_once(char::is_whitespace) {
        Some((scheme, rest)) => (scheme, rest.trim_start()),
        None => (header, ""),
    };
    if scheme.is_empty() {
        return None;
    }
    let mut params = BTreeMap::new();
    while !rest.is_empty() {
        let (key, after_key) = rest.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after_key = after_key.trim_start();
        let (value, after_value) = if let Some(quoted) = after_key.strip_prefix('"') {
            read_quoted(quoted)?
        } else {
            let end = after_key.find(',').unwrap_or(after_key.len());
            (after_key[..end].trim().to_string(), &after_key[end..])
        };
        params.insert(key, value);
        rest = after_value.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge { scheme: scheme.to_ascii_lowercase(), params })
}
// ANCHOR_END: challenge

// ANCHOR: challenge_2
/// The value of a quoted string (after the opening quote) and what follows it.
fn read_quoted(text: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => value.push(chars.next()?.1),
            '"' => return Some((value, &text[i + 1..])),
            c => value.push(c),
        }
    }
    None
}
// ANCHOR_END: challenge_2

/// A user name and password (or access token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}:***)", self.username)
    }
}

impl Credentials {
    /// `Basic base64(user:password)`.
    pub fn basic_header(&self) -> String {
        format!("Basic {}", self.encoded())
    }

    /// `base64(user:password)`, the `auth` field of `config.json`.
    pub fn encoded(&self) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", self.username, self.password))
    }

    fn decode(auth: &str) -> Option<Credentials> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(auth.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (username, password) = text.split_once(':')?;
        Some(Credentials { username: username.to_string(), password: password.to_string() })
    }
}

// ANCHOR: token_url
/// The token endpoint URL for a Bearer challenge, asking for `scope`
/// (`repository:library/busybox:pull`) when the challenge carries none.
pub fn token_url(challenge: &Challenge, default_scope: &str) -> Option<String> {
    let realm = challenge.params.get("realm")?;
    let mut query = Vec::new();
    if let Some(service) = challenge.params.get("service") {
        query.push(format!("service={}", url_encode(service)));
    }
    let scope = challenge.params.get("scope").map(String::as_str).unwrap_or(default_scope);
    // Several scopes are separated by spaces in the challenge; each becomes its own `scope=`.
    for scope in scope.split(' ').filter(|s| !s.is_empty()) {
        query.push(format!("scope={}", url_encode(scope)));
    }
    let separator = if realm.contains('?') { '&' } else { '?' };
    Some(if query.is_empty() {
        realm.clone()
    } else {
        format!("{realm}{separator}{}", query.join("&"))
    })
}

/// The token from the token endpoint's JSON: `token`, else `access_token`.
pub fn token_from_response(body: &Value) -> Option<String> {
    body.get("token")
        .or_else(|| body.get("access_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}
// ANCHOR_END: token_url

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ANCHOR: credential_lookup
/// The files searched for credentials, first match wins: mini-docker's own
/// `<root>/auth.json` (written by `mini-docker login`), then Docker's
/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
pub fn credential_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join(AUTH_FILE)];
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        files.push(PathBuf::from(dir).join("config.json"));
    } else if let Some(home) = std::env::var_os("HOME") {
        files.push(PathBuf::from(home).join(".docker/config.json"));
    }
    files
}

/// Credentials for registry `domain` (as in the reference: `docker.io`,
/// `localhost:5000`) from the `auths` map of the first file that has them.
pub fn lookup(files: &[PathBuf], domain: &str) -> Option<Credentials> {
    files.iter().find_map(|file| {
        let config: Value = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
        let auths = config.get("auths")?.as_object()?;
        auths
            .iter()
            .find(|(key, _)| auth_key_matches(key, domain))
            .and_then(|(_, entry)| credentials_of(entry))
    })
}
// ANCHOR_END: credential_lookup

// ANCHOR: credential_lookup_2
fn credentials_of(entry: &Value) -> Option<Credentials> {
    if let Some(auth) = entry.get("auth").and_then(Value::as_str).filter(|a| !a.is_empty()) {
        return Credentials::decode(auth);
    }
    let username = entry.get("username")?.as_str()?;
    let password = entry.get("password")?.as_str()?;
    Some(Credentials { username: username.into(), password: password.into() })
}

/// Keys are written many ways: `https://index.docker.io/v1/`, `docker.io`,
/// `localhost:5000`, `http://localhost:5000`. Compare the host part only.
fn auth_key_matches(key: &str, domain: &str) -> bool {
    let host = key.trim_start_matches("https://").trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    if domain == DEFAULT_DOMAIN {
        matches!(host, "index.docker.io" | "docker.io" | "registry-1.docker.io")
    } else {
        host == domain
    }
}
// ANCHOR_END: credential_lookup_2

/// The key to store credentials for `domain` under (Docker's convention).
pub fn auth_key(domain: &str) -> String {
    if domain == DEFAULT_DOMAIN {
        DOCKER_HUB_AUTH_KEY.to_string()
    } else {
        domain.to_string()
    }
}

/// Add or replace `domain`'s entry in `<root>/auth.json`, mode 0600.
pub fn store_credentials(
    root: &Path,
    domain: &str,
    credentials: &Credentials,
) -> std::io::Result<PathBuf> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = root.join(AUTH_FILE);
    let mut config: Value = std::fs::read(&path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_else(|| json!({}));
    if !config.get("auths").is_some_and(Value::is_object) {
        config["auths"] = json!({});
    }
    config["auths"][auth_key(domain)] = json!({ "auth": credentials.encoded() });
    std::fs::create_dir_all(root)?;
    let temp = root.join(format!(".{AUTH_FILE}.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)?;
    file.write_all(serde_json::to_string_pretty(&config).unwrap_or_default().as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&temp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_hub_challenge_with_commas_inside_quotes() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["service"], "registry.docker.io");
        assert_eq!(c.params["scope"], "repository:samalba/my-app:pull,push");
    }

    #[test]
    fn parses_basic_unquoted_and_escaped_values() {
        let c = parse_challenge(r#"Basic realm="Registry \"realm\"", charset=UTF-8"#).unwrap();
        assert_eq!(c.scheme, "basic");
        assert_eq!(c.params["realm"], r#"Registry "realm""#);
        assert_eq!(c.params["charset"], "UTF-8");
        assert_eq!(parse_challenge("Basic").unwrap().params.len(), 0);
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_none());
        assert!(parse_challenge("").is_none());
    }

    #[test]
    fn token_url_adds_service_and_scope_with_library_prefix() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io""#,
        )
        .unwrap();
        assert_eq!(
            token_url(&c, "repository:library/busybox:pull").unwrap(),
            "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fbusybox%3Apull"
        );
        let c = parse_challenge(
            r#"Bearer realm="https://a/token",scope="repository:a:pull repository:b:pull""#,
        )
        .unwrap();
        assert_eq!(
            token_url(&c, "x").unwrap(),
            "https://a/token?scope=repository%3Aa%3Apull&scope=repository%3Ab%3Apull"
        );
    }

    #[test]
    fn token_prefers_token_over_access_token() {
        assert_eq!(
            token_from_response(&json!({"token": "t", "access_token": "a"})).as_deref(),
            Some("t")
        );
        assert_eq!(
            token_from_response(&json!({"access_token": "a", "expires_in": 300})).as_deref(),
            Some("a")
        );
        assert_eq!(token_from_response(&json!({"token": ""})), None);
    }

    #[test]
    fn looks_up_docker_hub_and_private_registries_in_config_json() {
        let dir = std::env::temp_dir().join(format!("mdtest-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.json");
        let hub = Credentials { username: "alice".into(), password: "s3cret:with:colons".into() };
        std::fs::write(
            &file,
            json!({"auths": {
                "https://index.docker.io/v1/": {"auth": hub.encoded()},
                "http://localhost:5000": {"username": "bob", "password": "pw"}
            }})
            .to_string(),
        )
        .unwrap();
        let files = vec![dir.join("missing.json"), file];
        assert_eq!(lookup(&files, "docker.io"), Some(hub));
        assert_eq!(lookup(&files, "localhost:5000").unwrap().username, "bob");
        assert_eq!(lookup(&files, "localhost:5001"), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn login_writes_a_private_file_that_lookup_reads() {
        use std::os::unix::fs::PermissionsExt as _;
        let root = std::env::temp_dir().join(format!("mdtest-login-{}", std::process::id()));
        let creds = Credentials { username: "u".into(), password: "p".into() };
        let path = store_credentials(&root, "127.0.0.1:5000", &creds).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(lookup(&credential_files(&root), "127.0.0.1:5000"), Some(creds.clone()));
        store_credentials(&root, "docker.io", &creds).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("127.0.0.1:5000") && text.contains(DOCKER_HUB_AUTH_KEY), "{text}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
