//! A real OCI registry for tests: Debian's `docker-registry` (the
//! distribution server) on 127.0.0.1 with a random port and a temporary
//! storage directory, killed when dropped.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The distribution registry binary from Debian's `docker-registry`.
pub const REGISTRY_BINARY: &str = "/usr/bin/docker-registry";

/// A running registry. Its access log is kept, so tests can count requests.
pub struct Registry {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
    credentials: Option<(String, String)>,
}

/// True when the registry binary exists; otherwise skips loudly (fails in CI).
pub fn available(test: &str) -> bool {
    if Path::new(REGISTRY_BINARY).is_file() {
        return true;
    }
    crate::precondition_missing(
        test,
        "needs /usr/bin/docker-registry (apt-get install docker-registry)",
    )
}

impl Registry {
    /// An open registry (anonymous pulls and pushes).
    pub fn start() -> Registry {
        Registry::start_inner(None)
    }

    /// A registry behind HTTP basic auth (bcrypt htpasswd) for `user`.
    pub fn start_with_basic_auth(user: &str, password: &str) -> Registry {
        Registry::start_inner(Some((user.to_string(), password.to_string())))
    }

    fn start_inner(credentials: Option<(String, String)>) -> Registry {
        let mut dir = crate::temp_dir();
        let auth = match &credentials {
            Some((user, password)) => {
                let hash = bcrypt::hash(password, 5).expect("bcrypt hash");
                std::fs::write(dir.path().join("htpasswd"), format!("{user}:{hash}\n"))
                    .expect("writing htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: mdtest-realm\n    path: {}\n",
                    dir.path().join("htpasswd").display()
                )
            }
            None => String::new(),
        };
        // The registry cannot listen on port 0 and tell us the port, so pick
        // a free one and retry if another process takes it first.
        for _attempt in 0..10 {
            let port = free_port();
            let config = dir.path().join("config.yml");
            std::fs::write(
                &config,
                format!(
                    "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth}",
                    dir.path().join("storage").display()
                ),
            )
            .expect("writing the registry config");
            let log = std::fs::File::create(dir.path().join("registry.log"))
                .expect("creating the registry log");
            let child = Command::new(REGISTRY_BINARY)
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log fd"))
                .stderr(log)
                .spawn()
                .expect("starting docker-registry");
            let mut registry = Registry { child, port, dir, credentials: credentials.clone() };
            if registry.wait_until_ready() {
                return registry;
            }
            let _ = registry.child.kill();
            let _ = registry.child.wait();
            dir = std::mem::replace(&mut registry.dir, crate::temp_dir());
            // `registry` is dropped here with the throwaway temp dir.
        }
        panic!("docker-registry did not start on any port; see its log");
    }

    fn wait_until_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(response) = self.request("GET", "/v2/", &[], &[]) {
                if response.status == 200 || response.status == 401 {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `127.0.0.1:<port>`: the registry part of image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's storage directory (`docker/registry/v2/...` inside).
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// A string unique to this registry's files and process, for
    /// [`crate::assert_no_leftovers`].
    pub fn marker(&self) -> String {
        self.dir.path().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    }

    /// Upload `body` as a blob of repository `name` (the registry's push
    /// API: POST an upload, PUT its bytes). Returns its digest.
    pub fn upload_blob(&self, name: &str, body: &[u8]) -> String {
        let digest = sha256(body);
        let auth = self.basic_header();
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        let started = self
            .request("POST", &format!("/v2/{name}/blobs/uploads/"), &headers, &[])
            .expect("POST upload");
        assert_eq!(
            started.status,
            202,
            "starting an upload: {}",
            String::from_utf8_lossy(&started.body)
        );
        let location = started.header("location").expect("upload Location").to_string();
        let path = location.find("/v2/").map(|i| &location[i..]).unwrap_or(&location);
        let separator = if path.contains('?') { '&' } else { '?' };
        let done = self
            .request("PUT", &format!("{path}{separator}digest={digest}"), &headers, body)
            .expect("PUT upload");
        assert_eq!(
            done.status,
            201,
            "finishing an upload: {}",
            String::from_utf8_lossy(&done.body)
        );
        digest
    }

    /// PUT a manifest (or index) under `name:reference` with `media_type`.
    pub fn put_manifest(
        &self,
        name: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> HttpResponse {
        let auth = self.basic_header();
        let mut headers: Vec<(&str, &str)> = vec![("Content-Type", media_type)];
        headers.extend(auth.iter().map(|a| ("Authorization", a.as_str())));
        self.request("PUT", &format!("/v2/{name}/manifests/{reference}"), &headers, body)
            .expect("PUT manifest")
    }

    /// The path of blob `digest`'s bytes in the registry's storage.
    pub fn blob_data(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage()
            .join("docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    fn basic_header(&self) -> Option<String> {
        self.credentials.as_ref().map(|(u, p)| {
            use base64_lite::encode;
            format!("Basic {}", encode(format!("{u}:{p}").as_bytes()))
        })
    }

    /// Everything the registry logged, including its access log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// How many `GET .../blobs/...` requests the registry has answered.
    pub fn blob_gets(&self) -> usize {
        self.log()
            .lines()
            .filter(|l| l.contains("\"GET /v2/") && l.contains("/blobs/sha256:"))
            .count()
    }

    /// Replace the stored bytes of blob `digest` (same length, different
    /// content), so the registry serves a corrupted blob.
    pub fn corrupt_blob(&self, digest: &str) {
        let data = self.blob_data(digest);
        let mut bytes =
            std::fs::read(&data).unwrap_or_else(|e| panic!("reading {}: {e}", data.display()));
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&data, bytes).expect("corrupting the blob");
    }

    /// Push `name:tag`, an image of one uncompressed layer, `layer` (a tar
    /// made by the test: a big one, or a malicious one), for this host's
    /// platform. Returns the layer's digest (also its DiffID).
    pub fn push_one_layer_image(&self, name: &str, tag: &str, layer: &[u8]) -> String {
        let arch = if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" };
        self.push_image_for(name, tag, arch, layer);
        sha256(layer)
    }

    /// Push `name:tag`, one layer for `arch`; the manifest's digest and size.
    pub fn push_image_for(
        &self,
        name: &str,
        tag: &str,
        arch: &str,
        layer: &[u8],
    ) -> (String, usize) {
        let layer_digest = self.upload_blob(name, layer);
        let config = serde_json::json!({
            "architecture": arch,
            "os": "linux",
            "config": {},
            "rootfs": { "type": "layers", "diff_ids": [layer_digest] },
        })
        .to_string();
        let config_digest = self.upload_blob(name, config.as_bytes());
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": [{
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": layer.len(),
            }],
        })
        .to_string();
        let media_type = "application/vnd.oci.image.manifest.v1+json";
        let put = self.put_manifest(name, tag, media_type, manifest.as_bytes());
        assert_eq!(put.status, 201, "PUT manifest: {}", String::from_utf8_lossy(&put.body));
        let digest =
            put.header("Docker-Content-Digest").expect("the manifest's digest").to_string();
        (digest, manifest.len())
    }

    /// Push `name:tag` as an image index with one single-layer image per
    /// architecture (`(arch, layer)`), as multi-platform images are.
    pub fn push_multi_platform(&self, name: &str, tag: &str, images: &[(&str, &[u8])]) {
        let manifests: Vec<serde_json::Value> = images
            .iter()
            .map(|(arch, layer)| {
                let (digest, size) = self.push_image_for(name, &format!("{tag}-{arch}"), arch, layer);
                let media_type = "application/vnd.oci.image.manifest.v1+json";
                let platform = serde_json::json!({ "os": "linux", "architecture": arch });
                serde_json::json!({ "mediaType": media_type, "digest": digest, "size": size, "platform": platform })
            })
            .collect();
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        })
        .to_string();
        let media_type = "application/vnd.oci.image.index.v1+json";
        let put = self.put_manifest(name, tag, media_type, index.as_bytes());
        assert_eq!(put.status, 201, "PUT index: {}", String::from_utf8_lossy(&put.body));
    }

    /// Credentials for skopeo's `--dest-creds`/`--src-creds`, if the registry has auth.
    pub fn creds_arg(&self) -> Option<String> {
        self.credentials.as_ref().map(|(u, p)| format!("{u}:{p}"))
    }

    /// A minimal HTTP/1.1 request to the registry (readiness checks, fixtures).
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<HttpResponse> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.host(),
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        HttpResponse::parse(&raw).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP response")
        })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status, headers and body of a response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    fn parse(raw: &[u8]) -> Option<HttpResponse> {
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&raw[..split]).ok()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Some(HttpResponse { status, headers, body: raw[split + 4..].to_vec() })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == &name.to_ascii_lowercase()).map(|(_, v)| v.as_str())
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Just enough base64 for a Basic header.
mod base64_lite {
    pub fn encode(input: &[u8]) -> String {
        const TABLE: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

/// `sha256:<hex>` of `bytes`: a blob's digest.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    let hex: String = sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
