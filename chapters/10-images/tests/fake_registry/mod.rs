//! A small registry for what the real one cannot be made to do on demand:
//! ask for a Bearer token, answer with relative and absolute upload
//! `Location`s, and fail in the middle of an upload. It keeps what it is
//! sent in memory and logs every request.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use sha2::Digest as _;

pub const TOKEN: &str = "fake-token-123";

#[derive(Default)]
pub struct State {
    pub blobs: HashMap<String, Vec<u8>>,
    pub manifests: HashMap<String, Vec<u8>>,
    uploads: HashMap<String, Vec<u8>>,
    /// `METHOD path?query` of every request, in order.
    pub log: Vec<String>,
    /// Scopes asked of the token endpoint.
    pub scopes: Vec<String>,
    patches: usize,
}

pub struct Options {
    /// Require a Bearer token, handed out for these Basic credentials.
    pub token_for: Option<(String, String)>,
    /// Answer the Nth PATCH (1-based) with a 500.
    pub fail_patch: Option<usize>,
}

pub struct FakeRegistry {
    pub port: u16,
    pub state: Arc<Mutex<State>>,
}

impl FakeRegistry {
    pub fn start(options: Options) -> FakeRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let options = Arc::new(options);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, options) = (Arc::clone(&shared), Arc::clone(&options));
                std::thread::spawn(move || serve(stream, port, &state, &options));
            }
        });
        FakeRegistry { port, state }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

struct Request {
    method: String,
    target: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

fn serve(stream: TcpStream, port: u16, state: &Mutex<State>, options: &Options) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader) {
        state.lock().unwrap().log.push(format!("{} {}", request.method, request.target));
        let (status, headers, body) = answer(&request, port, state, options);
        let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        // A HEAD answer has a length but no body.
        let body = if request.method == "HEAD" { &[][..] } else { &body[..] };
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(body)).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = HashMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let mut body = vec![0; headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0)];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, target, headers, body })
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn answer(request: &Request, port: u16, state: &Mutex<State>, options: &Options) -> Answer {
    let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    if path == "/token" {
        return token(request, query, state, options);
    }
    if options.token_for.is_some()
        && request.headers.get("authorization") != Some(&format!("Bearer {TOKEN}"))
    {
        let challenge = format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\"");
        return (401, vec![("WWW-Authenticate".into(), challenge)], b"{}".to_vec());
    }
    let mut state = state.lock().unwrap();
    let rest = path.trim_start_matches("/v2/");
    let split = rest.find("/blobs/").or_else(|| rest.find("/manifests/")).unwrap_or(rest.len());
    let (name, tail) = (&rest[..split], rest[split..].trim_start_matches('/'));
    let tail: Vec<&str> = tail.split('/').collect();
    match (request.method.as_str(), tail.as_slice()) {
        ("HEAD", ["blobs", digest]) => {
            (if state.blobs.contains_key(*digest) { 200 } else { 404 }, vec![], vec![])
        }
        ("POST", ["blobs", "uploads", ""]) => {
            let id = format!("u{}", state.uploads.len() + state.blobs.len() + 1);
            state.uploads.insert(id.clone(), Vec::new());
            // Relative, as the spec allows.
            let location = format!("/v2/{name}/blobs/uploads/{id}?_state=0");
            (202, vec![("Location".into(), location)], vec![])
        }
        ("PATCH", ["blobs", "uploads", id]) => {
            state.patches += 1;
            if options.fail_patch == Some(state.patches) {
                let body = br#"{"errors":[{"code":"UNKNOWN","message":"the disk is full"}]}"#;
                return (500, vec![], body.to_vec());
            }
            let upload = state.uploads.get_mut(*id).expect("a known upload");
            upload.extend_from_slice(&request.body);
            let (end, n) = (upload.len() - 1, state.patches);
            // Absolute, the other form the spec allows.
            let location =
                format!("http://127.0.0.1:{port}/v2/{name}/blobs/uploads/{id}?_state={n}");
            (202, vec![("Location".into(), location), ("Range".into(), format!("0-{end}"))], vec![])
        }
        ("PUT", ["blobs", "uploads", id]) => {
            let mut bytes = state.uploads.remove(*id).unwrap_or_default();
            bytes.extend_from_slice(&request.body);
            let wanted = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("digest="))
                .unwrap_or("")
                .replace("%3A", ":");
            if sha256(&bytes) != wanted {
                return (
                    400,
                    vec![],
                    br#"{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}"#
                        .to_vec(),
                );
            }
            state.blobs.insert(wanted, bytes);
            (201, vec![], vec![])
        }
        ("DELETE", ["blobs", "uploads", id]) => {
            state.uploads.remove(*id);
            (204, vec![], vec![])
        }
        ("PUT", ["manifests", reference]) => {
            let digest = sha256(&request.body);
            state.manifests.insert(format!("{name}:{reference}"), request.body.clone());
            (201, vec![("Docker-Content-Digest".into(), digest)], vec![])
        }
        _ => {
            (404, vec![], br#"{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}"#.to_vec())
        }
    }
}

fn token(request: &Request, query: &str, state: &Mutex<State>, options: &Options) -> Answer {
    let scope: Vec<String> = query
        .split('&')
        .filter_map(|kv| kv.strip_prefix("scope="))
        .map(|s| s.replace("%3A", ":").replace("%2C", ",").replace("%2F", "/"))
        .collect();
    state.lock().unwrap().scopes.extend(scope);
    let Some((user, password)) = &options.token_for else { return (404, vec![], vec![]) };
    let expected = format!("Basic {}", base64(&format!("{user}:{password}")));
    if request.headers.get("authorization") != Some(&expected) {
        return (401, vec![], br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.to_vec());
    }
    (200, vec![], format!("{{\"token\":\"{TOKEN}\"}}").into_bytes())
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", sha2::Sha256::digest(bytes))
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}
