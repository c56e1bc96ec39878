//! A client for the registry HTTP API (Distribution v2 / OCI distribution-spec):
//! ping, manifests, blobs, with Bearer/Basic authentication and redirects.

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use ch01_namespaces::explain::{self, Step};
use serde_json::Value;

use crate::auth::{self, Challenge, Credentials};
use crate::digest::sha256_of;
use crate::oci::{self, MediaTypeField};
use crate::reference::{Reference, DEFAULT_DOMAIN};

const BOOK: &str = "ch04-image-pull.md#the-pull-conversation";
/// Manifests are small; refuse anything bigger (containerd uses 4 MiB too).
const MANIFEST_LIMIT: u64 = 4 << 20;
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach registry {host}: {reason} (is it running, and is the address right?)")]
    Unreachable { host: String, reason: String },
    #[error("unauthorized: {what}: wrong or missing credentials for {domain} (run `mini-docker login {domain}`)")]
    Unauthorized { what: String, domain: String },
    #[error("{message}: {what}")]
    Api { message: String, what: String },
    #[error("registry {host} answered HTTP {status} for {what}")]
    Status { host: String, status: u16, what: String },
    #[error("registry {host} sent something that is not an image: {why}")]
    NotAnImage { host: String, why: String },
    #[error("registry {host}: {why}")]
    Protocol { host: String, why: String },
}

/// How to reach registries: which may use plain HTTP, a mirror for Docker
/// Hub, and where credentials are looked up.
#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    /// Registries (`host:port`) that speak plain HTTP. Loopback always may.
    pub insecure: Vec<String>,
    /// A mirror for Docker Hub, e.g. `http://10.0.0.1:5000` (Docker's `registry-mirrors`).
    pub mirror: Option<String>,
    /// Files searched for credentials (see [`auth::credential_files`]).
    pub credential_files: Vec<PathBuf>,
    /// Credentials given with the request (a daemon's `X-Registry-Auth`),
    /// used before any file is searched.
    pub credentials: Option<auth::Credentials>,
}

/// The body of a [`Registry::send`]: nothing, bytes in memory, or `len`
/// bytes from a reader that `open` makes afresh for every attempt.
pub enum Body<'a> {
    Empty,
    Bytes(&'a [u8]),
    Stream { len: u64, open: &'a mut dyn FnMut() -> std::io::Result<Box<dyn Read + 'a>> },
}

/// A manifest or index as received: exact bytes, media type, digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: String,
}

// ANCHOR: client
/// A connection to one repository of one registry.
pub struct Registry {
    agent: ureq::Agent,
    /// `https://registry-1.docker.io` or `http://127.0.0.1:5000`.
    base: String,
    domain: String,
    repository: String,
    familiar: String,
    credentials: Option<Credentials>,
    /// The `Authorization` header earned so far (Bearer token or Basic).
    authorization: Option<String>,
    /// What a token is asked to allow: `pull`, or `push,pull` for a push.
    actions: &'static str,
}
// ANCHOR_END: client

impl Registry {
    /// Prepare to talk to the registry and repository of `reference`.
    pub fn new(reference: &Reference, options: &RegistryOptions) -> Registry {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(60))
            // We follow redirects ourselves, to decide when Authorization may go along.
            .redirects(0)
            .user_agent(concat!("mini-docker/", env!("CARGO_PKG_VERSION")))
            .build();
        Registry {
            agent,
            base: base_url(reference, options),
            domain: reference.domain.clone(),
            repository: reference.path.clone(),
            familiar: reference.familiar_name(),
            credentials: options
                .credentials
                .clone()
                .or_else(|| auth::lookup(&options.credential_files, &reference.domain)),
            authorization: None,
            actions: "pull",
        }
    }

    /// Ask token services for `repository:<name>:push,pull`, as `docker push` does.
    pub fn for_push(mut self) -> Registry {
        self.actions = "push,pull";
        self
    }

    /// The repository's path on its registry: `library/busybox`, `team/app`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The registry part of the reference: `docker.io`, `127.0.0.1:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Use these credentials instead of any found in the credential files.
    pub fn with_credentials(mut self, credentials: Credentials) -> Registry {
        self.credentials = Some(credentials);
        self
    }

    /// `https://…` or `http://…`: where requests go.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /v2/`: is this a registry, and do our credentials work?
    pub fn ping(&mut self) -> Result<(), RegistryError> {
        let response = self.get("/v2/", "*/*", "the API version check")?;
        let _ = response.into_string();
        Ok(())
    }

    // ANCHOR: manifest
    /// `GET /v2/<name>/manifests/<tag or digest>`, verified: the body's
    /// `mediaType` must agree with Content-Type, and its sha256 with
    /// `Docker-Content-Digest` and with the digest we asked for.
    pub fn manifest(&mut self, tag_or_digest: &str) -> Result<FetchedManifest, RegistryError> {
        let what = if tag_or_digest.contains(':') {
            format!("{}@{tag_or_digest}", self.familiar)
        } else {
            format!("{}:{tag_or_digest}", self.familiar)
        };
        let path = format!("/v2/{}/manifests/{tag_or_digest}", self.repository);
        let response = self.get(&path, oci::MANIFEST_ACCEPT, &what)?;
        let content_type = response.content_type().to_string();
        let header_digest = response.header("Docker-Content-Digest").map(str::to_string);
        let mut bytes = Vec::new();
        response
            .into_reader()
            .take(MANIFEST_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| self.unreachable(&format!("reading the manifest of {what}: {e}")))?;
        if bytes.len() as u64 > MANIFEST_LIMIT {
            return Err(self.not_an_image(format!("the manifest of {what} is larger than 4 MiB")));
        }
        let digest = sha256_of(&bytes);
        if let Some(claimed) = header_digest.filter(|d| d.starts_with("sha256:")) {
            if claimed != digest {
                return Err(self.protocol(format!("manifest of {what}: Docker-Content-Digest says {claimed} but the body is {digest}")));
            }
        }
        if tag_or_digest.starts_with("sha256:") && tag_or_digest != digest {
            return Err(self.protocol(format!(
                "manifest {what}: the body's digest is {digest}, not the one asked for"
            )));
        }
        let media_type = self.media_type_of(&bytes, &content_type, &what)?;
        Ok(FetchedManifest { bytes, media_type, digest })
    }
    // ANCHOR_END: manifest

    /// Decide what kind of document `bytes` is: Content-Type first, checked
    /// against the body's own `mediaType` (CVE-2021-41190).
    fn media_type_of(
        &self,
        bytes: &[u8],
        content_type: &str,
        what: &str,
    ) -> Result<String, RegistryError> {
        let declared: MediaTypeField = serde_json::from_slice(bytes)
            .map_err(|e| self.not_an_image(format!("the manifest of {what} is not JSON ({e})")))?;
        let content_type = content_type.split(';').next().unwrap_or("").trim().to_string();
        if content_type == oci::DOCKER_SCHEMA1_SIGNED
            || declared.media_type.as_deref() == Some(oci::DOCKER_SCHEMA1_SIGNED)
        {
            return Err(self.not_an_image(format!(
                "{what} is a schema 1 manifest, which is deprecated and not supported"
            )));
        }
        let known = |t: &str| oci::is_manifest(t) || oci::is_index(t);
        let media_type = match (known(&content_type), declared.media_type) {
            (true, Some(body)) if body != content_type => {
                return Err(self.not_an_image(format!(
                    "{what}: Content-Type {content_type} but the body says mediaType {body}"
                )));
            }
            (true, _) => content_type,
            (false, Some(body)) if known(&body) => body,
            _ => sniff_media_type(bytes).ok_or_else(|| {
                self.not_an_image(format!(
                    "{what} has media type {content_type:?}, not an image manifest or index"
                ))
            })?,
        };
        Ok(media_type)
    }

    // ANCHOR: tags
    /// `GET /v2/<name>/tags/list` (`pull --all-tags`): every tag of the
    /// repository, page after page as long as a `Link: <…>; rel="next"`
    /// header points at another (Docker Hub pages them, 100 at a time).
    pub fn tags(&mut self) -> Result<Vec<String>, RegistryError> {
        let what = format!("the tags of {}", self.familiar);
        let mut path = format!("/v2/{}/tags/list", self.repository);
        let mut tags = Vec::new();
        for _page in 0..1000 {
            let response = self.get(&path, "application/json", &what)?;
            let next = response.header("Link").and_then(next_page);
            let list: TagList =
                serde_json::from_reader(response.into_reader().take(MANIFEST_LIMIT))
                    .map_err(|e| self.protocol(format!("{what}: not a tag list ({e})")))?;
            tags.extend(list.tags.unwrap_or_default());
            match next {
                Some(next) => path = next,
                None => break,
            }
        }
        Ok(tags)
    }
    // ANCHOR_END: tags

    // ANCHOR: blob
    /// `GET /v2/<name>/blobs/<digest>`, following redirects (to a CDN, say).
    /// The caller verifies size and digest while it reads.
    pub fn blob(&mut self, digest: &str) -> Result<Box<dyn Read + Send + Sync>, RegistryError> {
        let what = format!("{}@{digest}", self.familiar);
        let response =
            self.get(&format!("/v2/{}/blobs/{digest}", self.repository), "*/*", &what)?;
        Ok(response.into_reader())
    }
    // ANCHOR_END: blob

    // ANCHOR: send
    /// One request of any method (a push sends `HEAD`, `POST`, `PATCH` and
    /// `PUT`) to `url`, a path on this registry or a URL it gave us, with
    /// authentication as for a GET: a 401 is answered and the request sent
    /// once more — which is why a [`Body`] can be sent again. Redirects are
    /// not followed. Every other status is the caller's to judge.
    pub fn send(
        &mut self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        mut body: Body<'_>,
        what: &str,
    ) -> Result<ureq::Response, RegistryError> {
        let url = if url.starts_with('/') { format!("{}{url}", self.base) } else { url.into() };
        let mut answered_challenge = false;
        loop {
            let response = self.send_once(method, &url, headers, &mut body)?;
            match response.status() {
                401 if !answered_challenge => {
                    let header = response.header("WWW-Authenticate").unwrap_or("").to_string();
                    self.answer_challenge(&header, what)?;
                    answered_challenge = true;
                }
                401 | 403 => {
                    let domain = self.domain.clone();
                    return Err(RegistryError::Unauthorized { what: what.to_string(), domain });
                }
                _ => return Ok(response),
            }
        }
    }
    // ANCHOR_END: send

    fn send_once(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &mut Body<'_>,
    ) -> Result<ureq::Response, RegistryError> {
        let authorization =
            self.authorization.as_deref().filter(|_| origin(url) == origin(&self.base));
        let accept = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("accept"));
        narrate_request(method, url, accept.map_or("*/*", |(_, v)| v), authorization);
        let mut request = self.agent.request(method, url);
        for (name, value) in headers {
            request = request.set(name, value);
        }
        if let Some(value) = authorization {
            request = request.set("Authorization", value);
        }
        let result = match body {
            Body::Empty if method == "HEAD" || method == "GET" => request.call(),
            Body::Empty => request.set("Content-Length", "0").call(),
            Body::Bytes(bytes) => request.send_bytes(bytes),
            Body::Stream { len, open } => {
                let reader =
                    open().map_err(|e| self.unreachable(&format!("reading {url}: {e}")))?;
                request.set("Content-Length", &len.to_string()).send(reader)
            }
        };
        match result {
            Ok(response) | Err(ureq::Error::Status(_, response)) => Ok(response),
            Err(ureq::Error::Transport(t)) => Err(self.unreachable(&transport_reason(&t))),
        }
    }

    // ANCHOR: get
    /// One GET with authentication: on a 401, answer the challenge (fetch a
    /// Bearer token, or use Basic credentials) and retry once.
    fn get(
        &mut self,
        path: &str,
        accept: &str,
        what: &str,
    ) -> Result<ureq::Response, RegistryError> {
        let url = format!("{}{path}", self.base);
        let mut answered_challenge = false;
        loop {
            let response = self.get_following_redirects(&url, accept)?;
            match response.status() {
                200..=299 => return Ok(response),
                401 if !answered_challenge => {
                    let header = response.header("WWW-Authenticate").unwrap_or("").to_string();
                    self.answer_challenge(&header, what)?;
                    answered_challenge = true;
                }
                401 | 403 => {
                    return Err(RegistryError::Unauthorized {
                        what: what.to_string(),
                        domain: self.domain.clone(),
                    })
                }
                _ => return Err(self.api_error(response, what)),
            }
        }
    }
    // ANCHOR_END: get

    // ANCHOR: redirects
    /// Send a GET and follow up to five redirects. `Authorization` goes only
    /// to the registry's own host, never to another one (a CDN).
    fn get_following_redirects(
        &self,
        url: &str,
        accept: &str,
    ) -> Result<ureq::Response, RegistryError> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let same_host = origin(&url) == origin(&self.base);
            let authorization = self.authorization.as_deref().filter(|_| same_host);
            narrate_request("GET", &url, accept, authorization);
            let mut request = self.agent.get(&url).set("Accept", accept);
            if let Some(value) = authorization {
                request = request.set("Authorization", value);
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(ureq::Error::Status(_, response)) => response,
                Err(ureq::Error::Transport(t)) => {
                    return Err(self.unreachable(&transport_reason(&t)))
                }
            };
            if !(300..400).contains(&response.status()) {
                return Ok(response);
            }
            let location = response
                .header("Location")
                .ok_or_else(|| self.protocol(format!("redirect from {url} without a Location")))?;
            url = resolve_location(&url, location);
        }
        Err(self.protocol(format!("more than {MAX_REDIRECTS} redirects for {url}")))
    }
    // ANCHOR_END: redirects

    // ANCHOR: answer_challenge
    fn answer_challenge(&mut self, header: &str, what: &str) -> Result<(), RegistryError> {
        let unauthorized =
            || RegistryError::Unauthorized { what: what.to_string(), domain: self.domain.clone() };
        let challenge = auth::parse_challenge(header).ok_or_else(|| {
            self.protocol(format!("401 without a usable WWW-Authenticate header ({header:?})"))
        })?;
        match challenge.scheme.as_str() {
            "basic" => {
                let credentials = self.credentials.as_ref().ok_or_else(unauthorized)?;
                self.authorization = Some(credentials.basic_header());
            }
            "bearer" => {
                let token = self.fetch_token(&challenge).map_err(|e| match e {
                    RegistryError::Unauthorized { .. } => unauthorized(),
                    other => other,
                })?;
                self.authorization = Some(format!("Bearer {token}"));
            }
            other => {
                return Err(self.protocol(format!("unsupported authentication scheme {other:?}")))
            }
        }
        Ok(())
    }
    // ANCHOR_END: answer_challenge

    // ANCHOR: answer_challenge_2
    /// `GET <realm>?service=…&scope=repository:<name>:pull`, with our
    /// credentials if we have some (anonymous otherwise), for a token.
    fn fetch_token(&self, challenge: &Challenge) -> Result<String, RegistryError> {
        let scope = format!("repository:{}:{}", self.repository, self.actions);
        let url = auth::token_url(challenge, &scope)
            .ok_or_else(|| self.protocol("Bearer challenge without a realm".into()))?;
        let basic = self.credentials.as_ref().map(Credentials::basic_header);
        narrate_request("GET", &url, "application/json", basic.as_deref());
        let mut request = self.agent.get(&url);
        if let Some(basic) = &basic {
            request = request.set("Authorization", basic);
        }
        let response = match request.call() {
            Ok(response) => response,
            Err(ureq::Error::Status(401 | 403, _)) => {
                return Err(RegistryError::Unauthorized {
                    what: "token".into(),
                    domain: self.domain.clone(),
                })
            }
            Err(ureq::Error::Status(status, _)) => {
                return Err(RegistryError::Status {
                    host: origin(&url).to_string(),
                    status,
                    what: "a token".into(),
                })
            }
            Err(ureq::Error::Transport(t)) => return Err(self.unreachable(&transport_reason(&t))),
        };
        let text = response
            .into_string()
            .map_err(|e| self.unreachable(&format!("reading the token: {e}")))?;
        let body: Value = serde_json::from_str(&text)
            .map_err(|e| self.protocol(format!("token endpoint sent no JSON: {e}")))?;
        auth::token_from_response(&body)
            .ok_or_else(|| self.protocol("token endpoint sent no token".into()))
    }
    // ANCHOR_END: answer_challenge_2

    // ANCHOR: api_error
    /// `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`
    /// becomes `manifest unknown: busybox:nope`.
    pub fn api_error(&self, response: ureq::Response, what: &str) -> RegistryError {
        let status = response.status();
        let body: Option<Value> =
            response.into_string().ok().and_then(|s| serde_json::from_str(&s).ok());
        let first = body.as_ref().and_then(|b| b.get("errors")?.as_array()?.first().cloned());
        let message = first.as_ref().and_then(|e| {
            let message = e.get("message").and_then(Value::as_str).filter(|m| !m.is_empty());
            let code =
                e.get("code").and_then(Value::as_str).map(|c| c.to_lowercase().replace('_', " "));
            message.map(str::to_string).or(code)
        });
        match message {
            Some(message) => RegistryError::Api { message, what: what.to_string() },
            None if status == 404 => {
                RegistryError::Api { message: "not found".into(), what: what.to_string() }
            }
            None => {
                RegistryError::Status { host: self.domain.clone(), status, what: what.to_string() }
            }
        }
    }
    // ANCHOR_END: api_error

    fn unreachable(&self, reason: &str) -> RegistryError {
        let host = origin(&self.base).split("://").nth(1).unwrap_or(&self.base).to_string();
        RegistryError::Unreachable { host, reason: reason.to_string() }
    }

    fn protocol(&self, why: String) -> RegistryError {
        RegistryError::Protocol { host: self.domain.clone(), why }
    }

    fn not_an_image(&self, why: String) -> RegistryError {
        RegistryError::NotAnImage { host: self.domain.clone(), why }
    }
}

// ANCHOR: base_url
/// Where the registry API lives: Docker Hub's real host (or the mirror),
/// plain HTTP for loopback and registries marked insecure, HTTPS otherwise.
/// `{"name": "library/busybox", "tags": ["1.36", "latest"]}`.
#[derive(serde::Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// The path of the next page in a `Link: </v2/x/tags/list?last=b&n=100>; rel="next"`.
fn next_page(link: &str) -> Option<String> {
    let (target, params) = link.split_once(';')?;
    if !params.contains("rel=\"next\"") {
        return None;
    }
    let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
    let path = match target.find("/v2/") {
        Some(start) => &target[start..],
        None => target,
    };
    Some(path.to_string())
}
// ANCHOR_END: base_url

// ANCHOR: base_url_2
pub fn base_url(reference: &Reference, options: &RegistryOptions) -> String {
    if reference.domain == DEFAULT_DOMAIN {
        if let Some(mirror) = options.mirror.as_deref().filter(|m| !m.is_empty()) {
            let mirror = mirror.trim_end_matches('/');
            return if mirror.contains("://") {
                mirror.to_string()
            } else {
                format!("{}://{mirror}", scheme_for(mirror, options))
            };
        }
    }
    let host = reference.api_host();
    format!("{}://{host}", scheme_for(host, options))
}

fn scheme_for(host: &str, options: &RegistryOptions) -> &'static str {
    let bare = host_without_port(host);
    let loopback = bare == "localhost" || bare == "::1" || bare.starts_with("127.");
    let marked = options.insecure.iter().any(|i| i == host || i == bare);
    if loopback || marked {
        "http"
    } else {
        "https"
    }
}
// ANCHOR_END: base_url_2

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    host.split(':').next().unwrap_or(host)
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..].find('/').map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

/// Where a `Location` header points, from the URL that answered: an
/// absolute URL as it is, `/v2/…` on the same host, anything else beside it.
pub fn resolve_location(current: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else if location.starts_with('/') {
        format!("{}{location}", origin(current))
    } else {
        let dir = current.rsplit_once('/').map_or(current, |(d, _)| d);
        format!("{dir}/{location}")
    }
}

/// A content type missing or generic: decide from the JSON's shape.
fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    if value.get("manifests").is_some_and(Value::is_array) {
        Some(oci::OCI_INDEX.to_string())
    } else if value.get("config").is_some() && value.get("layers").is_some() {
        Some(oci::OCI_MANIFEST.to_string())
    } else {
        None
    }
}

fn transport_reason(t: &ureq::Transport) -> String {
    let base = t.message().map(str::to_string).unwrap_or_else(|| t.kind().to_string());
    match std::error::Error::source(t) {
        Some(source) => format!("{base}: {source}"),
        None => base,
    }
}

/// `--explain`: each request as the `curl` command that sends the same.
fn narrate_request(method: &str, url: &str, accept: &str, authorization: Option<&str>) {
    let auth = match authorization {
        Some(a) => format!(" -H 'Authorization: {} …'", a.split(' ').next().unwrap_or("")),
        None => String::new(),
    };
    let method_flag = if method == "GET" { String::new() } else { format!(" -X {method}") };
    explain::step(Step {
        what: &format!("HTTP {method} {url}"),
        syscall: "connect(2) + write(2) of an HTTP/1.1 request",
        shell: &format!("curl -sS -D-{method_flag} -H 'Accept: {accept}'{auth} '{url}'"),
        book: BOOK,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_of_tags_is_the_link_marked_next() {
        let link = r#"</v2/library/busybox/tags/list?last=1.36&n=100>; rel="next""#;
        assert_eq!(
            next_page(link).as_deref(),
            Some("/v2/library/busybox/tags/list?last=1.36&n=100")
        );
        let absolute = r#"<https://registry-1.docker.io/v2/x/tags/list?last=a>; rel="next""#;
        assert_eq!(next_page(absolute).as_deref(), Some("/v2/x/tags/list?last=a"));
        assert_eq!(next_page(r#"</v2/x/tags/list>; rel="prev""#), None);
    }

    fn options() -> RegistryOptions {
        RegistryOptions::default()
    }

    #[test]
    fn docker_hub_goes_to_registry_1_over_https() {
        let r = Reference::parse("busybox").unwrap();
        assert_eq!(base_url(&r, &options()), "https://registry-1.docker.io");
    }

    #[test]
    fn loopback_and_insecure_registries_use_plain_http() {
        for (name, url) in [
            ("localhost:5000/a", "http://localhost:5000"),
            ("127.0.0.1:5000/a", "http://127.0.0.1:5000"),
            ("[::1]:5000/a", "http://[::1]:5000"),
            ("example.com/a", "https://example.com"),
            ("example.com:5000/a", "https://example.com:5000"),
        ] {
            assert_eq!(base_url(&Reference::parse(name).unwrap(), &options()), url, "{name}");
        }
        let insecure = RegistryOptions { insecure: vec!["10.0.0.1:5000".into()], ..options() };
        assert_eq!(
            base_url(&Reference::parse("10.0.0.1:5000/a").unwrap(), &insecure),
            "http://10.0.0.1:5000"
        );
    }

    #[test]
    fn the_mirror_serves_docker_hub_only() {
        let mirrored = RegistryOptions {
            mirror: Some("10.1.2.3:5000/".into()),
            insecure: vec!["10.1.2.3".into()],
            ..options()
        };
        assert_eq!(
            base_url(&Reference::parse("busybox").unwrap(), &mirrored),
            "http://10.1.2.3:5000"
        );
        let mirrored =
            RegistryOptions { mirror: Some("https://mirror.example".into()), ..options() };
        assert_eq!(
            base_url(&Reference::parse("busybox").unwrap(), &mirrored),
            "https://mirror.example"
        );
        assert_eq!(
            base_url(&Reference::parse("quay.io/a/b").unwrap(), &mirrored),
            "https://quay.io"
        );
    }

    #[test]
    fn redirects_resolve_and_origins_compare_hosts() {
        assert_eq!(resolve_location("http://a:5000/v2/x/blobs/d", "/other"), "http://a:5000/other");
        assert_eq!(resolve_location("http://a/v2/x", "https://cdn/y"), "https://cdn/y");
        assert_eq!(resolve_location("http://a/v2/x", "y"), "http://a/v2/y");
        assert_eq!(origin("http://a:5000/v2/"), "http://a:5000");
        assert_ne!(
            origin("https://registry-1.docker.io/v2/"),
            origin("https://production.cloudflare.docker.com/x")
        );
    }

    #[test]
    fn sniffs_documents_without_a_useful_content_type() {
        assert_eq!(sniff_media_type(br#"{"manifests":[]}"#).as_deref(), Some(oci::OCI_INDEX));
        assert_eq!(
            sniff_media_type(br#"{"config":{},"layers":[]}"#).as_deref(),
            Some(oci::OCI_MANIFEST)
        );
        assert_eq!(sniff_media_type(br#"{"hello":1}"#), None);
    }
}
