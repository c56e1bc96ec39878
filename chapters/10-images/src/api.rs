//! `POST /build` on chapter 9's daemon, through its `Routes` seam: the
//! classic builder's query parameters, the context as a tar body, and the
//! answer as dockerd streams it — one JSON message per line:
//!
//! ```text
//! POST /v1.47/build?t=hello:1&dockerfile=Dockerfile&buildargs={"A":"1"}&nocache=1&q=1&target=x
//! Content-Type: application/x-tar                  (plain, gzip or zstd)
//!
//! {"stream":"Step 1/3 : FROM busybox\n"}
//! {"stream":" ---> 3f57d9401f8d\n"}
//! {"aux":{"ID":"sha256:…"}}                        after each stage
//! {"stream":"Successfully built 9c8b7a6d5e4f\n"}
//! {"errorDetail":{"code":1,"message":"…"},"error":"…"}   once output has begun
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ch04_image_pull::store::Store;
use ch04_image_pull::Reference;
use ch09_engine::server::http;
use ch09_engine::server::router::{Handled, Routed};
use ch09_engine::server::{Daemon, Routes};
use ch09_engine::ApiError;
use serde_json::{json, Value};

use crate::build::{self, BuildOptions, Progress};
use crate::tarball::TimePolicy;

mod push;
pub use push::{registry_auth, DaemonPush, PushRoutes};

/// The daemon's answer (hyper's `Response` of chapter 9's `Body`).
type Response = hyper_response::Response;

/// Chapter 10's routes: `POST /build`, `POST /build/prune`.
pub struct BuildRoutes;

impl Routes for BuildRoutes {
    fn handle(&self, daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
        match (routed.method.as_str(), routed.segments.as_slice()) {
            ("POST", [build]) if build == "build" => Ok(Box::pin(post_build(daemon, routed))),
            ("POST", [build, prune]) if build == "build" && prune == "prune" => {
                Ok(Box::pin(post_build_prune(daemon, routed)))
            }
            _ => Err(routed),
        }
    }
}

// ANCHOR: post_build_prune
/// `POST /build/prune?filters=`: the classic builder's cache (see
/// [`build::prune`]), answered as dockerd answers for BuildKit's:
/// `{"CachesDeleted": [ids], "SpaceReclaimed": bytes}`.
async fn post_build_prune(daemon: Arc<Daemon>, routed: Routed) -> Response {
    let query = http::query(&routed.request);
    let filters = query.get("filters").map(String::as_str).unwrap_or_default();
    if !matches!(filters.trim(), "" | "{}") {
        let message = format!("the classic builder's cache has no filters: {filters}");
        return http::error(&ApiError::bad_request(message));
    }
    let local = daemon.local.clone();
    let work = move || {
        let store = Store::open(local.root()).map_err(internal)?;
        let in_use = ch09_engine::local::objects::images::images_in_use(local.root());
        build::prune::prune(&store, &in_use).map_err(internal)
    };
    match ch09_engine::server::blocking(work).await {
        Ok(pruned) => http::json(
            200,
            &json!({ "CachesDeleted": pruned.deleted, "SpaceReclaimed": pruned.reclaimed }),
        ),
        Err(error) => http::error(&error),
    }
}
// ANCHOR_END: post_build_prune

/// `mini-docker -H … builder prune`: the daemon's `POST /build/prune`.
pub fn build_prune_remote(remote: &ch09_engine::Remote) -> anyhow::Result<build::prune::Pruned> {
    let answer = remote
        .request("POST", "/build/prune?filters=", None)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let ids = answer["CachesDeleted"].as_array().into_iter().flatten();
    Ok(build::prune::Pruned {
        deleted: ids.filter_map(|id| id.as_str().map(str::to_string)).collect(),
        reclaimed: answer["SpaceReclaimed"].as_u64().unwrap_or(0),
    })
}

/// The query, with `t` kept once per tag (a map would keep only one).
struct Query {
    tags: Vec<String>,
    all: std::collections::BTreeMap<String, String>,
}

// ANCHOR: post_build
async fn post_build(daemon: Arc<Daemon>, routed: Routed) -> Response {
    let raw = routed.request.uri().query().unwrap_or_default().to_string();
    let query = Query { tags: tags_of(&raw), all: http::query(&routed.request) };
    let tar = match receive_context(&daemon.local, routed).await {
        Ok(tar) => tar,
        Err(error) => return http::error(&error),
    };
    let local = daemon.local.clone();
    let prepared = ch09_engine::server::blocking(move || prepare(&local, &query, &tar)).await;
    let (options, quiet, dir) = match prepared {
        Ok(prepared) => prepared,
        Err(error) => return http::error(&error),
    };
    let (tx, stream) = http::channel();
    let local = daemon.local.clone();
    std::thread::spawn(move || {
        let mut progress = JsonProgress {
            send: Box::new(move |v: Value| drop(tx.blocking_send(format!("{v}\n").into()))),
            quiet,
            id: None,
        };
        let result = build::build(&local, &options, &mut progress);
        let _ = std::fs::remove_dir_all(&dir);
        match result {
            Ok(built) if quiet => (progress.send)(json!({ "stream": format!("{}\n", built.id) })),
            Ok(_) => {}
            Err(error) => (progress.send)(json!({
                "errorDetail": { "code": error.code, "message": error.message },
                "error": error.message,
            })),
        }
    });
    http::response(200, Some("application/json"), stream)
}
// ANCHOR_END: post_build

/// The largest build context the daemon takes: `MINI_DOCKER_MAX_BUILD_CONTEXT`
/// bytes, 10 GiB if unset (dockerd has no limit; a full disk is worse).
fn max_context() -> u64 {
    let set = std::env::var("MINI_DOCKER_MAX_BUILD_CONTEXT").ok();
    set.and_then(|v| v.parse().ok()).unwrap_or(10 << 30)
}

// ANCHOR: receive_context
/// The context as it arrives, to a file in the store's `tmp/` (whose
/// owner's death removes it): never the whole of it in memory.
async fn receive_context(local: &ch09_engine::Local, routed: Routed) -> Result<PathBuf, ApiError> {
    let store = Store::open(local.root()).map_err(internal)?;
    let tar = store.temp_path("build-context.tar");
    let limit = max_context();
    match http::body_to_file(*routed.request, &tar, limit).await {
        Ok(_) => Ok(tar),
        Err(error) if error.status == 400 && error.message.contains("larger than") => {
            Err(ApiError::bad_request(format!(
                "the build context is larger than the daemon takes ({limit} bytes, \
                 its MINI_DOCKER_MAX_BUILD_CONTEXT): leave big files out with .dockerignore"
            )))
        }
        Err(error) => Err(error),
    }
}
// ANCHOR_END: receive_context

/// Names the `Response` type without this crate depending on hyper.
mod hyper_response {
    pub type Response = <ch09_engine::server::router::Handled as std::future::Future>::Output;
}

fn tags_of(raw: &str) -> Vec<String> {
    every(raw, "t")
}

/// Every value of a key that may repeat (`t`, `changes`), decoded as a
/// form: `%3D` is `=`, `+` a space.
fn every(raw: &str, wanted: &str) -> Vec<String> {
    form_urlencoded::parse(raw.as_bytes())
        .filter(|(key, value)| key == wanted && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .collect()
}

/// The context unpacked (safely: chapter 4's unpacker), the Dockerfile
/// read and parsed, the options checked — all before the stream starts,
/// so that bad input is an HTTP error, as dockerd answers it.
fn prepare(
    local: &ch09_engine::Local,
    query: &Query,
    tar: &Path,
) -> Result<(BuildOptions, bool, PathBuf), ApiError> {
    let prepared = prepare_from(local, query, tar);
    let _ = std::fs::remove_file(tar);
    prepared
}

fn prepare_from(
    local: &ch09_engine::Local,
    query: &Query,
    tar: &Path,
) -> Result<(BuildOptions, bool, PathBuf), ApiError> {
    let bad = |message: String| ApiError::bad_request(message);
    if query.all.get("version").is_some_and(|v| v == "2") {
        return Err(bad("BuildKit (version=2) is not supported: use DOCKER_BUILDKIT=0".into()));
    }
    let store = Store::open(local.root()).map_err(|e| ApiError::new(500, e.to_string()))?;
    let dir = store.temp_path("build-context");
    std::fs::create_dir_all(&dir).map_err(|e| ApiError::new(500, e.to_string()))?;
    let made = (|| {
        let file = std::fs::File::open(tar).map_err(internal)?;
        let reader = ch04_image_pull::store::decompress(file)
            .map_err(|e| bad(format!("the build context: {e}")))?;
        ch04_image_pull::unpack::unpack(reader, &dir)
            .map_err(|e| bad(format!("the build context: {e}")))?;
        options(query, &dir)
    })();
    match made {
        Ok(options) => Ok((options, http::truthy(&query.all, "q"), dir)),
        Err(error) => {
            let _ = std::fs::remove_dir_all(&dir);
            Err(error)
        }
    }
}

fn options(query: &Query, dir: &Path) -> Result<BuildOptions, ApiError> {
    let bad = |message: String| ApiError::bad_request(message);
    let name = query.all.get("dockerfile").filter(|d| !d.is_empty()).cloned();
    let path = match &name {
        Some(name) => dir.join(crate::build::context::lexical(Path::new(name)).unwrap_or_default()),
        None => build::default_dockerfile(dir),
    };
    let dockerfile = std::fs::read_to_string(&path).map_err(|_| {
        bad(format!(
            "Cannot locate specified Dockerfile: {}",
            name.as_deref().unwrap_or("Dockerfile")
        ))
    })?;
    build::parser::parse(&dockerfile).map_err(|e| bad(e.to_string()))?;
    let mut tags = Vec::new();
    for tag in &query.tags {
        tags.push(
            Reference::parse(tag)
                .map_err(|e| bad(format!("invalid reference format: {tag}: {e}")))?,
        );
    }
    let args: std::collections::BTreeMap<String, Option<String>> = match query.all.get("buildargs")
    {
        Some(text) if !text.is_empty() => {
            serde_json::from_str(text).map_err(|e| bad(format!("buildargs: {e}")))?
        }
        _ => Default::default(),
    };
    Ok(BuildOptions {
        context: dir.to_path_buf(),
        dockerfile,
        tags,
        build_args: args.into_iter().collect(),
        target: query.all.get("target").filter(|t| !t.is_empty()).cloned(),
        no_cache: http::truthy(&query.all, "nocache"),
        times: TimePolicy::from_env(),
    })
}

/// The builder's output as dockerd's JSON messages (only the id with `q`).
struct JsonProgress {
    send: Box<dyn FnMut(Value) + Send>,
    quiet: bool,
    id: Option<String>,
}

impl Progress for JsonProgress {
    fn stream(&mut self, text: &str) {
        if !self.quiet {
            (self.send)(json!({ "stream": text }));
        }
    }

    fn output(&mut self, stderr: bool, bytes: &[u8]) {
        if self.quiet {
            return;
        }
        let text = String::from_utf8_lossy(bytes);
        // dockerd's stderr of a RUN: red, inside the same stream.
        let text = if stderr { format!("\u{1b}[91m{text}\u{1b}[0m") } else { text.into_owned() };
        (self.send)(json!({ "stream": text }));
    }

    fn aux(&mut self, id: &str) {
        self.id = Some(id.to_string());
        (self.send)(json!({ "aux": { "ID": id } }));
    }
}

/// `mini-docker -H … build`: the context as a tar to the daemon's `POST
/// /build`, its messages printed as they come, as the docker CLI does.
pub fn build_remote(
    remote: &ch09_engine::Remote,
    args: &crate::cli::BuildArgs,
) -> anyhow::Result<u8> {
    let options = args.options()?;
    let (dockerfile, extra) = dockerfile_in_context(args, &options.dockerfile);
    let tar = TempFile(
        std::env::temp_dir().join(format!(".mini-docker-context-{}.tar", std::process::id())),
    );
    let file = std::io::BufWriter::new(std::fs::File::create(&tar.0)?);
    let extra = extra.as_ref().map(|(n, t)| (n.as_str(), t.as_str()));
    let file = build::context::context_tar(&args.context, &dockerfile, extra, file)?;
    file.into_inner().map_err(|e| e.into_error())?;
    let mut query = format!("/build?dockerfile={}", encode(&dockerfile));
    for tag in &args.tags {
        query.push_str(&format!("&t={}", encode(tag)));
    }
    let build_args: std::collections::BTreeMap<_, _> = options.build_args.iter().cloned().collect();
    query.push_str(&format!("&buildargs={}", encode(&serde_json::to_string(&build_args)?)));
    if let Some(target) = &args.target {
        query.push_str(&format!("&target={}", encode(target)));
    }
    for (flag, on) in [("nocache", args.no_cache), ("q", args.quiet)] {
        if on {
            query.push_str(&format!("&{flag}=1"));
        }
    }
    let mut failed = None;
    let mut show = |message: &Value| {
        if let Some(text) = message["stream"].as_str() {
            print!("{text}");
            let _ = std::io::Write::flush(&mut std::io::stdout());
        }
        if let Some(error) = message["errorDetail"].as_object() {
            let code = error.get("code").and_then(Value::as_i64).filter(|c| *c != 0).unwrap_or(1);
            let text = error.get("message").and_then(Value::as_str).unwrap_or("the build failed");
            failed = Some(build::BuildError { message: text.to_string(), code: code as i32 });
        }
    };
    let headers = [("Content-Type", "application/x-tar")];
    remote
        .post_file_json_stream(&query, &tar.0, &headers, &mut show)
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    match failed {
        Some(error) => Err(error.into()),
        None => Ok(0),
    }
}

/// A file removed when dropped: the context tar, sent from disk.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The Dockerfile's name in the context, or (outside it) a name for the
/// copy that goes into the tar, as the docker CLI's `.dockerfile.<random>`.
fn dockerfile_in_context(
    args: &crate::cli::BuildArgs,
    text: &str,
) -> (String, Option<(String, String)>) {
    let context = std::fs::canonicalize(&args.context).unwrap_or_else(|_| args.context.clone());
    let file = args.file.clone().unwrap_or_else(|| build::default_dockerfile(&args.context));
    let file = std::fs::canonicalize(&file).unwrap_or(file);
    match file.strip_prefix(&context) {
        Ok(inside) => (inside.to_string_lossy().into_owned(), None),
        Err(_) => {
            let name = format!(".dockerfile.{:x}", std::process::id());
            (name.clone(), Some((name, text.to_string())))
        }
    }
}

/// What a query value or a path segment may hold as it is: RFC 3986's
/// unreserved characters; every other byte is `%XX`.
const RESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encode a query value or a path segment.
fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

/// Chapter 10's container routes: `GET /containers/{id}/changes`,
/// `GET /containers/{id}/export` and `POST /commit`. `freezer` makes the
/// pause seam of `commit` (chapter 2's freezer, given by the composition).
pub struct MakingRoutes {
    pub freezer: MakeFreezer,
}

// ANCHOR: making_routes
impl Routes for MakingRoutes {
    fn handle(&self, daemon: Arc<Daemon>, routed: Routed) -> Result<Handled, Routed> {
        let freezer = self.freezer;
        match (routed.method.as_str(), routed.segments.as_slice()) {
            ("GET", [c, id, changes]) if c == "containers" && changes == "changes" => {
                let id = id.clone();
                Ok(Box::pin(async move {
                    let local = daemon.local.clone();
                    match ch09_engine::server::blocking(move || changes_of(&local, &id)).await {
                        Ok(list) => http::json(200, &list),
                        Err(error) => http::error(&error),
                    }
                }))
            }
            ("GET", [c, id, export]) if c == "containers" && export == "export" => {
                Ok(Box::pin(get_export(daemon, id.clone())))
            }
            ("POST", [commit]) if commit == "commit" => {
                Ok(Box::pin(post_commit(daemon, routed, freezer)))
            }
            _ => Err(routed),
        }
    }
}

// ANCHOR_END: making_routes

/// moby's `[{"Path":"/etc","Kind":0}]`: 0 changed, 1 added, 2 deleted.
fn changes_of(local: &ch09_engine::Local, wanted: &str) -> Result<Value, ApiError> {
    let engine = &local.engine;
    let config = engine.config(&local.find(wanted)?).map_err(internal)?;
    let changes = crate::commit::container_fs(engine, &config)
        .and_then(|fs| Ok(fs.changes()?))
        .map_err(internal)?;
    let list: Vec<Value> = changes
        .iter()
        .map(|c| json!({ "Path": format!("/{}", c.path.display()), "Kind": c.kind as u8 }))
        .collect();
    Ok(Value::Array(list))
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(500, error.to_string())
}

/// The container's files as one tar, streamed as it is written.
async fn get_export(daemon: Arc<Daemon>, wanted: String) -> Response {
    let local = daemon.local.clone();
    let found = ch09_engine::server::blocking(move || {
        let config = local.engine.config(&local.find(&wanted)?).map_err(internal)?;
        crate::commit::container_fs(&local.engine, &config).map_err(internal)
    })
    .await;
    let fs = match found {
        Ok(fs) => fs,
        Err(error) => return http::error(&error),
    };
    let (tx, stream) = http::channel();
    std::thread::spawn(move || {
        let mut out = ChannelWriter(Box::new(move |bytes| tx.blocking_send(bytes.into()).is_ok()));
        let _ = fs.export(&mut out);
    });
    http::response(200, Some("application/x-tar"), stream)
}

/// Bytes written to the response's channel (a closed one: the client left).
struct ChannelWriter(Box<dyn FnMut(Vec<u8>) -> bool + Send>);

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !(self.0)(buf.to_vec()) {
            let left = std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client left");
            return Err(left);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type MakeFreezer = fn(&ch05_run::Engine) -> Box<dyn crate::commit::Freezer>;

// ANCHOR: post_commit
/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`,
/// with an optional body: a container config to merge over the container's
/// (docker-py's `commit(conf=…)`; the docker CLI sends none).
async fn post_commit(daemon: Arc<Daemon>, routed: Routed, freezer: MakeFreezer) -> Response {
    let request = *routed.request;
    let query = http::query(&request);
    let changes = every(request.uri().query().unwrap_or_default(), "changes");
    let body = match http::body_bytes(request).await {
        Ok(body) => body,
        Err(error) => return http::error(&error),
    };
    let config = match crate::merge::body_config(&body) {
        Ok(config) => config,
        Err(e) => return http::error(&ApiError::bad_request(format!("invalid JSON body: {e}"))),
    };
    let local = daemon.local.clone();
    let work = move || commit_of(&local, &query, changes, config, freezer);
    match ch09_engine::server::blocking(work).await {
        Ok(id) => http::json(201, &json!({ "Id": id })),
        Err(error) => http::error(&error),
    }
}
// ANCHOR_END: post_commit

fn commit_of(
    local: &ch09_engine::Local,
    query: &std::collections::BTreeMap<String, String>,
    changes: Vec<String>,
    config: Option<crate::config::RunConfig>,
    freezer: MakeFreezer,
) -> Result<String, ApiError> {
    let get = |key: &str| query.get(key).filter(|v| !v.is_empty()).cloned();
    let wanted = get("container").ok_or_else(|| ApiError::bad_request("no container given"))?;
    let id = local.find(&wanted)?;
    let tag = match get("repo") {
        Some(repo) => {
            let name = match get("tag") {
                Some(tag) => format!("{repo}:{tag}"),
                None => repo,
            };
            let reference = Reference::parse(&name)
                .map_err(|e| ApiError::bad_request(format!("invalid reference format: {e}")))?;
            Some(reference)
        }
        None => None,
    };
    let options = crate::commit::CommitOptions {
        tag,
        author: get("author"),
        message: get("comment"),
        changes,
        config,
        // dockerd pauses unless told `pause=0`.
        pause: query.get("pause").is_none_or(|p| !matches!(p.as_str(), "0" | "false")),
        times: TimePolicy::from_env(),
    };
    let store = Store::open(local.root()).map_err(internal)?;
    let freezer = freezer(&local.engine);
    let image = crate::commit::commit(&local.engine, &store, &id, &options, freezer.as_ref())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(image.id)
}

/// `mini-docker -H … diff`: `GET /containers/{id}/changes`, printed as `C /etc`.
pub fn diff_remote(
    remote: &ch09_engine::Remote,
    args: &crate::cli::DiffArgs,
) -> anyhow::Result<u8> {
    let path = format!("/containers/{}/changes", encode(&args.container));
    let changes =
        remote.request("GET", &path, None).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    for change in changes.as_array().into_iter().flatten() {
        let letter = match change["Kind"].as_u64() {
            Some(1) => 'A',
            Some(2) => 'D',
            _ => 'C',
        };
        println!("{letter} {}", change["Path"].as_str().unwrap_or_default());
    }
    Ok(0)
}

/// `mini-docker -H … commit`: `POST /commit`, the new image's id printed.
pub fn commit_remote(
    remote: &ch09_engine::Remote,
    args: &crate::cli::CommitArgs,
) -> anyhow::Result<u8> {
    let mut path = format!("/commit?container={}&pause={}", encode(&args.container), args.pause);
    if let Some(repository) = &args.repository {
        let reference = Reference::parse(repository)?;
        anyhow::ensure!(
            reference.digest.is_none(),
            "refusing to create a tag with a digest reference"
        );
        path.push_str(&format!(
            "&repo={}&tag={}",
            encode(&reference.name()),
            encode(reference.tag.as_deref().unwrap_or("latest"))
        ));
    }
    for (key, value) in [("author", &args.author), ("comment", &args.message)] {
        if let Some(value) = value {
            path.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    for change in &args.changes {
        path.push_str(&format!("&changes={}", encode(change)));
    }
    let made = remote.request("POST", &path, None).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    println!("{}", made["Id"].as_str().unwrap_or_default());
    Ok(0)
}

/// `mini-docker -H … export`: `GET /containers/{id}/export`, to a file or stdout.
pub fn export_remote(
    remote: &ch09_engine::Remote,
    args: &crate::cli::ExportArgs,
) -> anyhow::Result<u8> {
    let path = format!("/containers/{}/export", encode(&args.container));
    crate::cli::to_file_or_stdout(args.output.as_deref(), |out| {
        remote.get_to(&path, out).map_err(|e| anyhow::anyhow!("{}", e.message))
    })?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::{encode, every};

    #[test]
    fn a_repeated_query_key_keeps_every_value_in_order() {
        let raw = "container=c&changes=CMD+cat+%2Fmade&changes=ENV+A%3D1&tag=1";
        assert_eq!(every(raw, "changes"), ["CMD cat /made", "ENV A=1"]);
        assert_eq!(every(raw, "tag"), ["1"]);
        assert!(every(raw, "repo").is_empty());
        assert_eq!(every("t=a%3Ab&t=&t=c+d", "t"), ["a:b", "c d"]);
    }

    #[test]
    fn encoded_values_decode_to_themselves() {
        let text = r#"{"A":"1 2"}&t=x/y:z~_.-é"#;
        assert_eq!(encode(text), "%7B%22A%22%3A%221%202%22%7D%26t%3Dx%2Fy%3Az~_.-%C3%A9");
        assert_eq!(every(&format!("k={}", encode(text)), "k"), [text]);
    }
}
