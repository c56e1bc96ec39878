//! `pull`, `images`, `rmi`, `inspect`, `load`, `tag`, `login`: the image
//! verbs, calling chapter 4.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ch04_image_pull::auth::{self, Credentials};
use ch04_image_pull::digest::short;
use ch04_image_pull::platform::Platform;
use ch04_image_pull::progress::Display;
use ch04_image_pull::registry::{Registry, RegistryOptions};
use ch04_image_pull::store::{ImageRecord, Store};
use ch04_image_pull::{load, Reference};
use ch09_engine::Api;
use clap::Args;
use serde_json::{json, Value};

use crate::format;

#[derive(Args)]
pub struct PullArgs {
    /// The image: NAME[:TAG|@DIGEST], e.g. busybox or 127.0.0.1:5000/app:1.
    image: String,
    /// Suppress verbose output: print only the image's reference.
    #[arg(short, long)]
    quiet: bool,
    /// Download every tagged image of the repository.
    #[arg(short = 'a', long = "all-tags")]
    all_tags: bool,
    /// os/arch[/variant] to choose from a multi-platform image (default: this host).
    #[arg(long)]
    platform: Option<String>,
    /// Pull Docker Hub images through this mirror (URL or host:port).
    #[arg(long, env = "MINI_DOCKER_REGISTRY_MIRROR")]
    registry_mirror: Option<String>,
}

#[derive(Args)]
pub struct RmiArgs {
    /// Remove even if a container uses the image, and every tag of an id.
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// Format the output using a Go template (one line per object).
    #[arg(short, long)]
    format: Option<String>,
    /// Containers or images.
    #[arg(required = true)]
    images: Vec<String>,
}

impl InspectArgs {
    pub fn names(&self) -> &[String] {
        &self.images
    }

    /// With `--format`, every object is formatted here (containers too).
    pub fn formatted(&self) -> bool {
        self.format.is_some()
    }
}

#[derive(Args)]
pub struct LoadArgs {
    /// A `docker save` tarball, or an OCI image layout (directory or tar).
    #[arg(short, long)]
    input: PathBuf,
}

#[derive(Args)]
pub struct TagArgs {
    source: String,
    target: String,
}

#[derive(Args)]
pub struct LoginArgs {
    /// The registry (host[:port]); Docker Hub when omitted.
    server: Option<String>,
    #[arg(short, long)]
    username: Option<String>,
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    password_stdin: bool,
    /// The registry speaks plain HTTP.
    #[arg(long = "insecure-registry")]
    insecure: bool,
}

// ANCHOR: pull
/// `pull`: the registry's answer as Docker prints it — the status lines on
/// stdout, each layer's progress on stderr (bars on a terminal); with `-q`
/// only the reference, with `-a` every tag of the repository.
pub fn pull(api: &dyn Api, root: &Path, args: &PullArgs) -> Result<u8> {
    let out: &mut dyn std::io::Write = &mut std::io::stdout();
    let reference = Reference::parse(&args.image)?;
    if args.all_tags {
        return pull_all_tags(api, root, args, &reference, out).map(|()| 0);
    }
    let report = Report { quiet: args.quiet, status: true, platform: args.platform.as_deref() };
    pull_image(api, &reference, report, out)?;
    writeln!(out, "{reference}")?;
    Ok(0)
}

/// Pull `image`, writing Docker's status lines to `out` (stdout for `pull`,
/// stderr for `run`, whose stdout belongs to the container).
pub fn pull_to(api: &dyn Api, image: &str, out: &mut dyn std::io::Write) -> Result<()> {
    let reference = Reference::parse(image)?;
    pull_image(api, &reference, Report { quiet: false, status: true, platform: None }, out)?;
    writeln!(out, "{reference}")?;
    Ok(())
}

/// What of the engine's messages to print.
#[derive(Clone, Copy)]
struct Report<'a> {
    /// Nothing at all (`-q`).
    quiet: bool,
    /// The `Status:` line too (`-a` prints one for all the tags instead).
    status: bool,
    /// `--platform`: which manifest of a multi-platform image.
    platform: Option<&'a str>,
}

/// One image through the engine; true when something new came (a tag
/// moved, or content arrived).
fn pull_image(
    api: &dyn Api,
    reference: &Reference,
    report: Report<'_>,
    out: &mut dyn std::io::Write,
) -> Result<bool> {
    let mut display = (!report.quiet).then(Display::for_stderr);
    let (mut failed, mut newer) = (None, false);
    let pulled = api.image_pull(&reference.to_string(), report.platform, &mut |message| {
        if let Some(event) = ch09_engine::local::progress::from_json(message) {
            display.iter_mut().for_each(|d| d.show(&event));
            return;
        }
        let Some(line) = ch09_engine::local::progress::status_line(message) else { return };
        newer |= line.starts_with("Status: Downloaded newer");
        if !report.quiet && (report.status || !line.starts_with("Status: ")) {
            failed = writeln!(out, "{line}").err();
        }
    });
    pulled.map_err(|e| anyhow!("{}", e.message))?;
    match failed {
        Some(error) => Err(error.into()),
        None => Ok(newer),
    }
}
// ANCHOR_END: pull

// ANCHOR: all_tags
/// `pull -a`: the tags the registry lists for the repository, each pulled
/// by the engine in turn, then one status line for the repository.
fn pull_all_tags(
    api: &dyn Api,
    root: &Path,
    args: &PullArgs,
    reference: &Reference,
    out: &mut dyn std::io::Write,
) -> Result<()> {
    let last = args.image.rsplit('/').next().unwrap_or(&args.image);
    if last.contains(':') || last.contains('@') {
        bail!("tag can't be used with --all-tags/-a");
    }
    let options = RegistryOptions {
        mirror: args.registry_mirror.clone(),
        credential_files: auth::credential_files(root),
        ..RegistryOptions::default()
    };
    let mut tags = Registry::new(reference, &options).tags()?;
    tags.sort();
    if tags.is_empty() {
        bail!("{} has no tags to pull", reference.familiar_name());
    }
    let report = Report { quiet: args.quiet, status: false, platform: args.platform.as_deref() };
    let mut newer = false;
    for tag in tags {
        let tagged = Reference { tag: Some(tag), digest: None, ..reference.clone() };
        newer |= pull_image(api, &tagged, report, out)?;
    }
    if !args.quiet {
        let status = if newer { "Downloaded newer image for" } else { "Image is up to date for" };
        writeln!(out, "Status: {status} {}", reference.familiar_name())?;
    }
    writeln!(out, "{}", reference.name())?;
    Ok(())
}
// ANCHOR_END: all_tags

/// `busybox` → `busybox:latest`, as Docker names an image in its messages.
pub fn familiar(name: &str) -> String {
    Reference::parse(name).map(|r| r.familiar()).unwrap_or(name.to_string())
}

/// `version`: the engine's (or the daemon's) `GET /version`.
pub fn version(api: &dyn Api) -> Result<u8> {
    let server = api.version().map_err(|e| anyhow!("{}", e.message))?;
    println!(
        "Client:\n Version:           {}\n API version:       {}",
        env!("CARGO_PKG_VERSION"),
        ch09_engine::system::API_VERSION
    );
    println!("\nServer: {}", server["Platform"]["Name"].as_str().unwrap_or("mini-docker"));
    for (label, key) in [
        ("Version", "Version"),
        ("API version", "ApiVersion"),
        ("OS/Arch", "Os"),
        ("Kernel Version", "KernelVersion"),
    ] {
        let value = match key {
            "Os" => format!(
                "{}/{}",
                server["Os"].as_str().unwrap_or(""),
                server["Arch"].as_str().unwrap_or("")
            ),
            key => server[key].as_str().unwrap_or("").to_string(),
        };
        println!(" {:<18} {value}", format!("{label}:"));
    }
    Ok(0)
}

/// `info`: the daemon's `GET /info`, a line per field as `docker info` prints them.
pub fn info(api: &dyn Api) -> Result<u8> {
    let info = api.info().map_err(|e| anyhow!("{}", e.message))?;
    let text = |key: &str| match &info[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    println!("Server:");
    println!(" Containers: {}", text("Containers"));
    println!(
        "  Running: {}\n  Paused: {}\n  Stopped: {}",
        text("ContainersRunning"),
        text("ContainersPaused"),
        text("ContainersStopped")
    );
    println!(" Images: {}", text("Images"));
    for (label, key) in [
        ("Server Version", "ServerVersion"),
        ("Storage Driver", "Driver"),
        ("Logging Driver", "LoggingDriver"),
        ("Cgroup Driver", "CgroupDriver"),
        ("Cgroup Version", "CgroupVersion"),
        ("Kernel Version", "KernelVersion"),
        ("Operating System", "OperatingSystem"),
        ("OSType", "OSType"),
        ("Architecture", "Architecture"),
        ("CPUs", "NCPU"),
        ("Total Memory", "MemTotal"),
        ("Name", "Name"),
        ("Docker Root Dir", "DockerRootDir"),
    ] {
        println!(" {label}: {}", text(key));
    }
    println!(" Swarm: {}", info["Swarm"]["LocalNodeState"].as_str().unwrap_or("inactive"));
    Ok(0)
}

#[derive(Args)]
pub struct ImagesArgs {
    /// Only this repository (and tag): REPOSITORY[:TAG].
    repository: Option<String>,
    /// Only show image IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Show digests.
    #[arg(long)]
    digests: bool,
    /// Filter the list: dangling=true|false, reference=PATTERN.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format the output: table, table TEMPLATE, json, or a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Don't truncate output (full image IDs).
    #[arg(long)]
    no_trunc: bool,
}

/// The fields of an `images` row, and their column headers (Docker's).
const IMAGE_HEADERS: &format::Headers = &[
    ("ID", "IMAGE ID"),
    ("Repository", "REPOSITORY"),
    ("Tag", "TAG"),
    ("Digest", "DIGEST"),
    ("CreatedSince", "CREATED"),
    ("CreatedAt", "CREATED AT"),
    ("Size", "SIZE"),
    ("Containers", "CONTAINERS"),
    ("SharedSize", "SHARED SIZE"),
    ("UniqueSize", "UNIQUE SIZE"),
    ("VirtualSize", "VIRTUAL SIZE"),
];
const IMAGES_TABLE: &str =
    r"table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const IMAGES_TABLE_DIGESTS: &str =
    r"table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

/// One row of `images`: a tag (or `<none>`) and its image.
struct ImageRow {
    repository: String,
    tag: String,
    image: ImageRecord,
}

/// `images`: one row per tag and one per untagged image, newest first,
/// through Docker's default table or `--format`.
pub fn images(root: &Path, args: ImagesArgs) -> Result<u8> {
    let filters = ImageFilters::parse(&args.filter)?;
    let store = Store::open(root)?;
    let mut rows = image_rows(&store)?;
    rows.retain(|row| filters.keep(row) && matches_repository(row, args.repository.as_deref()));
    let format = match (&args.format, args.quiet) {
        (_, true) => "{{.ID}}",
        (Some(format), false) => format.as_str(),
        (None, false) if args.digests => IMAGES_TABLE_DIGESTS,
        (None, false) => IMAGES_TABLE,
    };
    let default = if args.digests { IMAGES_TABLE_DIGESTS } else { IMAGES_TABLE };
    let format = format::Format::parse(format, default)?;
    let now = unix_now();
    let objects: Vec<Value> = rows.iter().map(|r| image_fields(r, now, args.no_trunc)).collect();
    print!("{}", format.render(&objects, IMAGE_HEADERS)?);
    Ok(0)
}

/// Every tag, then every image no tag points at.
fn image_rows(store: &Store) -> Result<Vec<ImageRow>> {
    let mut rows = Vec::new();
    let mut tagged = HashSet::new();
    for (tag, id) in &store.tags()? {
        let reference = Reference::parse(tag)?;
        tagged.insert(id.clone());
        rows.push(ImageRow {
            repository: reference.familiar_name(),
            tag: reference.tag.clone().unwrap_or_default(),
            image: store.image(id)?,
        });
    }
    for image in store.images()?.into_iter().filter(|i| !tagged.contains(&i.id)) {
        rows.push(ImageRow { repository: "<none>".into(), tag: "<none>".into(), image });
    }
    rows.sort_by(|a, b| {
        b.image
            .created
            .cmp(&a.image.created)
            .then(a.repository.cmp(&b.repository))
            .then(a.tag.cmp(&b.tag))
    });
    Ok(rows)
}

/// A row as Docker's template fields.
fn image_fields(row: &ImageRow, now: i64, no_trunc: bool) -> Value {
    let image = &row.image;
    let created = image.created.as_deref().and_then(parse_rfc3339);
    let digest = image
        .repo_digests
        .iter()
        .find(|d| Reference::parse(d).is_ok_and(|r| r.familiar_name() == row.repository))
        .and_then(|d| d.split_once('@'))
        .map_or("<none>".to_string(), |(_, digest)| digest.to_string());
    let id = if no_trunc { image.id.clone() } else { short(&image.id).to_string() };
    let size = human_size(image.size);
    json!({
        "ID": id,
        "Repository": row.repository,
        "Tag": row.tag,
        "Digest": digest,
        "CreatedSince": created.map_or("N/A".to_string(), |t| ago(now - t)),
        "CreatedAt": created.map_or(String::new(), docker_time),
        "Size": size,
        "VirtualSize": size,
        "Containers": "N/A",
        "SharedSize": "N/A",
        "UniqueSize": "N/A",
    })
}

/// `images REPOSITORY[:TAG]`: the rows of that repository (and tag).
fn matches_repository(row: &ImageRow, wanted: Option<&str>) -> bool {
    let Some(wanted) = wanted else { return true };
    match Reference::parse(wanted) {
        Ok(reference) if wanted.rsplit('/').next().is_some_and(|last| last.contains(':')) => {
            row.repository == reference.familiar_name() && Some(&row.tag) == reference.tag.as_ref()
        }
        Ok(reference) => row.repository == reference.familiar_name(),
        Err(_) => false,
    }
}

// ANCHOR: image_filters
/// `images --filter`: `dangling=true` keeps only the images no tag points
/// at (`<none>`), `dangling=false` only tagged ones; `reference=PATTERN`
/// keeps the rows whose `repository` or `repository:tag` matches the glob.
#[derive(Default)]
struct ImageFilters {
    dangling: Option<bool>,
    references: Vec<String>,
}

impl ImageFilters {
    fn parse(filters: &[String]) -> Result<ImageFilters> {
        let mut parsed = ImageFilters::default();
        for filter in filters {
            match filter.split_once('=') {
                Some(("dangling", "true" | "1")) => parsed.dangling = Some(true),
                Some(("dangling", "false" | "0")) => parsed.dangling = Some(false),
                Some(("reference", pattern)) => parsed.references.push(pattern.to_string()),
                _ => {
                    bail!("invalid filter {filter:?}: use dangling=true|false or reference=PATTERN")
                }
            }
        }
        Ok(parsed)
    }

    fn keep(&self, row: &ImageRow) -> bool {
        let dangling = row.repository == "<none>";
        let full = format!("{}:{}", row.repository, row.tag);
        self.dangling.is_none_or(|wanted| wanted == dangling)
            && (self.references.is_empty()
                || self.references.iter().any(|p| glob(p, &row.repository) || glob(p, &full)))
    }
}
// ANCHOR_END: image_filters

/// Go's `path.Match` for `*` (any run of characters but `/`) and `?`.
fn glob(pattern: &str, text: &str) -> bool {
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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Image ids used by containers: `<root>/containers/*/config.json` `"image_id"`
/// (chapter 5 writes it).
/// Chapter 5 writes those files; until then there are none.
pub fn images_in_use(root: &Path) -> HashSet<String> {
    let Ok(containers) = std::fs::read_dir(root.join("containers")) else { return HashSet::new() };
    containers
        .flatten()
        .filter_map(|c| std::fs::read(c.path().join("config.json")).ok())
        .filter_map(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        .filter_map(|config| config.get("image_id").and_then(Value::as_str).map(str::to_string))
        .collect()
}

pub fn rmi(root: &Path, args: RmiArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let in_use = images_in_use(root);
    let mut failed = false;
    for name in &args.images {
        if let Err(e) = remove_one(&store, name, args.force, &in_use) {
            eprintln!("mini-docker: {e:#}");
            failed = true;
        }
    }
    Ok(if failed { 1 } else { 0 })
}

fn remove_one(store: &Store, name: &str, force: bool, in_use: &HashSet<String>) -> Result<()> {
    let lock = store.lock()?;
    let (id, tag) = store.resolve(name)?.ok_or_else(|| anyhow!("no such image: {name}"))?;
    if in_use.contains(&id) && !force {
        bail!(
            "conflict: unable to remove {name} (must force) - a container is using image {}",
            short(&id)
        );
    }
    let tags: Vec<String> =
        store.tags()?.into_iter().filter(|(_, v)| *v == id).map(|(k, _)| k).collect();
    if let Some(tag) = &tag {
        store.remove_tag(&lock, tag)?;
        println!("Untagged: {}", Reference::parse(tag)?.familiar());
        if tags.len() > 1 {
            return Ok(());
        }
    } else if tags.len() > 1 && !force {
        bail!(
            "conflict: unable to delete {} (must be forced) - image is referenced in {} tags",
            short(&id),
            tags.len()
        );
    } else {
        for tag in &tags {
            println!("Untagged: {}", Reference::parse(tag)?.familiar());
        }
    }
    store.remove_image(&lock, &id)?;
    println!("Deleted: {id}");
    Ok(())
}

// ANCHOR: inspect
/// `inspect`: images as JSON (containers are the engine's, see main); with
/// `-f`, each container or image through the template, a line each.
pub fn inspect(api: &dyn Api, root: &Path, args: InspectArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let mut out = Vec::new();
    for name in &args.images {
        let container = args.format.as_ref().map(|_| api.container_inspect(name));
        match container {
            Some(Ok(container)) => out.push(container),
            Some(Err(error)) if error.status != 404 => bail!("{}", error.message),
            _ => out.push(image_json(&store, name)?),
        }
    }
    match &args.format {
        Some(template) => print!("{}", format::render_each(template, &out)?),
        None => println!("{}", serde_json::to_string_pretty(&out)?),
    }
    Ok(0)
}
// ANCHOR_END: inspect

fn image_json(store: &Store, name: &str) -> Result<Value> {
    let (id, _) = store.resolve(name)?.ok_or_else(|| anyhow!("no such image: {name}"))?;
    inspect_json(store, &store.image(&id)?)
}

fn inspect_json(store: &Store, image: &ImageRecord) -> Result<Value> {
    let config: Value = serde_json::from_slice(&store.read_blob(&image.id)?)?;
    let repo_tags: Vec<String> = store
        .tags()?
        .into_iter()
        .filter(|(_, id)| *id == image.id)
        .filter_map(|(tag, _)| Reference::parse(&tag).ok().map(|r| r.familiar()))
        .collect();
    Ok(json!({
        "Id": image.id,
        "RepoTags": repo_tags,
        "RepoDigests": image.repo_digests,
        "Created": image.created,
        "Size": image.size,
        "Architecture": config.get("architecture"),
        "Os": config.get("os"),
        "Config": config.get("config"),
        "Manifest": image.manifest,
        "RootFS": { "Type": "layers", "Layers": image.layers.iter().map(|l| &l.diff_id).collect::<Vec<_>>() },
        "LayerDirs": image.layers.iter().map(|l| store.layer_path(&l.diff_id)).collect::<Vec<_>>(),
    }))
}

pub fn load(root: &Path, args: LoadArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let mut display = Display::for_stderr();
    let loaded = load::load(&store, &args.input, &Platform::host(), &mut |p| display.show(p))?;
    for image in loaded {
        if image.tags.is_empty() {
            println!("Loaded image ID: {}", image.image.id);
        }
        for tag in image.tags {
            println!("Loaded image: {}", Reference::parse(&tag)?.familiar());
        }
    }
    Ok(0)
}

pub fn tag(root: &Path, args: TagArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let target = Reference::parse(&args.target)?;
    if target.digest.is_some() {
        bail!("refusing to create a tag with a digest reference: {}", args.target);
    }
    let lock = store.lock()?;
    let (id, _) =
        store.resolve(&args.source)?.ok_or_else(|| anyhow!("no such image: {}", args.source))?;
    store.set_tag(&lock, &target.to_string(), &id)?;
    Ok(0)
}

// ANCHOR: login
/// `login`: check the credentials against the registry (`GET /v2/`), then
/// keep them in `<root>/auth.json`. Not in `~/.docker/config.json`: mini-docker
/// runs under sudo, where `~` is root's home, and Docker's file may delegate
/// to a credential helper we would silently bypass. Pulls read both.
pub fn login(root: &Path, args: LoginArgs) -> Result<u8> {
    let server = args.server.unwrap_or_else(|| "docker.io".into());
    let domain = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .trim_end_matches("/v1");
    let domain = if domain == "index.docker.io" || domain == "registry-1.docker.io" {
        "docker.io"
    } else {
        domain
    };
    let username = match args.username {
        Some(u) => u,
        None => prompt("Username: ")?,
    };
    let password = match (args.password, args.password_stdin) {
        (Some(p), _) => p,
        (None, true) => read_line()?,
        (None, false) => prompt("Password: ")?,
    };
    let credentials = Credentials { username, password };
    let probe = Reference {
        domain: domain.to_string(),
        path: "library/login".into(),
        tag: None,
        digest: None,
    };
    let options = RegistryOptions {
        insecure: if args.insecure { vec![domain.to_string()] } else { vec![] },
        ..RegistryOptions::default()
    };
    let mut registry = Registry::new(&probe, &options).with_credentials(credentials.clone());
    registry.ping().with_context(|| format!("login to {domain} failed"))?;
    let file = auth::store_credentials(root, domain, &credentials)
        .with_context(|| format!("saving credentials under {}", root.display()))?;
    println!("Login Succeeded (credentials saved in {})", file.display());
    Ok(0)
}
// ANCHOR_END: login

fn prompt(text: &str) -> Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "{}needed: pass it with a flag (-u, -p or --password-stdin)",
            text.trim_end_matches(' ')
        );
    }
    eprint!("{text}");
    read_line()
}

fn read_line() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Docker's sizes: decimal units, three significant digits.
fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < units.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes}B")
    } else {
        format!("{value:.3}").trim_end_matches('0').trim_end_matches('.').to_string() + units[unit]
    }
}

fn ago(seconds: i64) -> String {
    let (n, unit) = match seconds.max(0) {
        s if s < 60 => return "Less than a minute ago".into(),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86_400 => (s / 3600, "hour"),
        s if s < 86_400 * 14 => (s / 86_400, "day"),
        s if s < 86_400 * 60 => (s / (86_400 * 7), "week"),
        s if s < 86_400 * 730 => (s / (86_400 * 30), "month"),
        s => (s / (86_400 * 365), "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// Docker's `CreatedAt`: `2024-01-02 03:04:05 +0000 UTC`.
pub(crate) fn docker_time(seconds: i64) -> String {
    let (days, rest) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // The civil date of a day number (Howard Hinnant's algorithm, backwards).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (rest / 3600, rest % 3600 / 60, rest % 60);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02} +0000 UTC")
}

/// Seconds since the epoch of `2024-01-02T03:04:05.678Z` (or with an offset).
fn parse_rfc3339(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (clock, offset) = match time.find(['Z', '+', '-']) {
        Some(i) => (&time[..i], &time[i..]),
        None => (time, "Z"),
    };
    let mut c = clock.split(':');
    let (h, min) = (c.next()?.parse::<i64>().ok()?, c.next()?.parse::<i64>().ok()?);
    let s = c.next().and_then(|s| s.split('.').next()?.parse::<i64>().ok()).unwrap_or(0);
    let offset_seconds = match offset.as_bytes().first() {
        Some(b'+') | Some(b'-') => {
            let sign = if offset.starts_with('-') { -1 } else { 1 };
            let (oh, om) = offset[1..].split_once(':')?;
            sign * (oh.parse::<i64>().ok()? * 3600 + om.parse::<i64>().ok()? * 60)
        }
        _ => 0,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + min * 60 + s - offset_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates_look_like_dockers() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(4_261_000), "4.261MB");
        assert_eq!(human_size(1_000_000), "1MB");
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2024-01-02T03:04:05.678Z"), Some(1_704_164_645));
        assert_eq!(parse_rfc3339("2024-01-02T04:04:05+01:00"), Some(1_704_164_645));
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(docker_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(docker_time(1_704_164_645), "2024-01-02 03:04:05 +0000 UTC");
        assert_eq!(docker_time(951_782_400), "2000-02-29 00:00:00 +0000 UTC");
    }

    fn row(repository: &str, tag: &str) -> ImageRow {
        let image = ImageRecord {
            id: format!("sha256:{}", "ab".repeat(32)),
            manifest: String::new(),
            layers: Vec::new(),
            repo_digests: vec![format!("docker.io/library/busybox@sha256:{}", "cd".repeat(32))],
            created: Some("2024-01-02T03:04:05Z".into()),
            size: 4_261_000,
            parent: None,
        };
        ImageRow { repository: repository.into(), tag: tag.into(), image }
    }

    #[test]
    fn filters_keep_dangling_or_matching_rows() {
        let filters =
            |f: &[&str]| ImageFilters::parse(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let dangling = filters(&["dangling=true"]).unwrap();
        assert!(
            dangling.keep(&row("<none>", "<none>")) && !dangling.keep(&row("busybox", "latest"))
        );
        assert!(!filters(&["dangling=false"]).unwrap().keep(&row("<none>", "<none>")));
        let busy = filters(&["reference=busy*"]).unwrap();
        assert!(busy.keep(&row("busybox", "latest")) && !busy.keep(&row("alpine", "3")));
        assert!(filters(&["reference=*:latest"]).unwrap().keep(&row("busybox", "latest")));
        assert!(!glob("*", "127.0.0.1:5000/app"), "* stops at a slash, as in Go");
        let error = filters(&["size=big"]).err().unwrap().to_string();
        assert_eq!(
            error,
            "invalid filter \"size=big\": use dangling=true|false or reference=PATTERN"
        );
    }

    #[test]
    fn a_row_has_dockers_fields() {
        let fields = image_fields(&row("busybox", "latest"), 1_704_164_645 + 7200, false);
        assert_eq!(fields["ID"], "abababababab");
        assert_eq!(fields["Digest"], format!("sha256:{}", "cd".repeat(32)));
        assert_eq!(fields["CreatedSince"], "2 hours ago");
        assert_eq!(fields["CreatedAt"], "2024-01-02 03:04:05 +0000 UTC");
        assert_eq!(fields["Size"], "4.261MB");
        assert_eq!(image_fields(&row("<none>", "<none>"), 0, true)["Digest"], "<none>");
        assert!(matches_repository(&row("busybox", "latest"), Some("busybox:latest")));
        assert!(!matches_repository(&row("busybox", "latest"), Some("busybox:1")));
        assert!(matches_repository(&row("busybox", "1"), Some("busybox")));
    }
}
