//! `pull`, `images`, `rmi`, `inspect`, `load`, `tag`, `login`: the image
//! verbs, calling chapter 4.

use std::io::Write as _;
use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use ch04_image_pull::auth::{self, Credentials};
use ch04_image_pull::digest::short;
use ch04_image_pull::progress::Display;
use ch04_image_pull::registry::{Registry, RegistryOptions};
use ch04_image_pull::Reference;
use ch09_engine::types::Filters;
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
    /// Show all images (by default the intermediate images of a build are hidden).
    #[arg(short, long)]
    all: bool,
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
    id: String,
    repo_digests: Vec<String>,
    /// Unix seconds; `None` when the image does not say.
    created: Option<i64>,
    size: u64,
}

// ANCHOR: images
/// `images`: one row per tag and one per untagged image, newest first,
/// through Docker's default table or `--format`. The engine filters
/// (`GET /images/json?filters=`); the rows are the CLI's.
pub fn images(api: &dyn Api, args: ImagesArgs) -> Result<u8> {
    let filters = image_filters(&args.filter)?;
    let summaries = api.image_list(args.all, &filters).map_err(|e| anyhow!("{}", e.message))?;
    let mut rows = image_rows(&summaries);
    rows.retain(|row| matches_repository(row, args.repository.as_deref()));
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
// ANCHOR_END: images

/// Every tag of every summary, and a `<none>` row for an image without one.
fn image_rows(summaries: &[Value]) -> Vec<ImageRow> {
    let mut rows = Vec::new();
    for summary in summaries {
        let strings = |key: &str| -> Vec<String> {
            let list = summary[key].as_array().map(Vec::as_slice).unwrap_or_default();
            list.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
        };
        let row = |repository: String, tag: String| ImageRow {
            repository,
            tag,
            id: summary["Id"].as_str().unwrap_or_default().to_string(),
            repo_digests: strings("RepoDigests"),
            created: summary["Created"].as_i64().filter(|c| *c > 0),
            size: summary["Size"].as_u64().unwrap_or(0),
        };
        let tags = strings("RepoTags");
        if tags.is_empty() {
            rows.push(row("<none>".into(), "<none>".into()));
        }
        for tag in tags {
            let Ok(reference) = Reference::parse(&tag) else { continue };
            rows.push(row(reference.familiar_name(), reference.tag.clone().unwrap_or_default()));
        }
    }
    rows.sort_by(|a, b| {
        b.created.cmp(&a.created).then(a.repository.cmp(&b.repository)).then(a.tag.cmp(&b.tag))
    });
    rows
}

/// A row as Docker's template fields.
fn image_fields(row: &ImageRow, now: i64, no_trunc: bool) -> Value {
    let digest = row
        .repo_digests
        .iter()
        .find(|d| Reference::parse(d).is_ok_and(|r| r.familiar_name() == row.repository))
        .and_then(|d| d.split_once('@'))
        .map_or("<none>".to_string(), |(_, digest)| digest.to_string());
    let id = if no_trunc { row.id.clone() } else { short(&row.id).to_string() };
    let size = human_size(row.size);
    json!({
        "ID": id,
        "Repository": row.repository,
        "Tag": row.tag,
        "Digest": digest,
        "CreatedSince": row.created.map_or("N/A".to_string(), |t| ago(now - t)),
        "CreatedAt": row.created.map_or(String::new(), docker_time),
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
/// `images --filter KEY=VALUE` as the API's `filters`: `dangling=true|false`
/// and `reference=PATTERN` (the engine applies them).
fn image_filters(filters: &[String]) -> Result<Filters> {
    let mut parsed = Filters::new();
    for filter in filters {
        let (key, value) = match filter.split_once('=') {
            Some(("dangling", "true" | "1")) => ("dangling", "true"),
            Some(("dangling", "false" | "0")) => ("dangling", "false"),
            Some(("reference", pattern)) => ("reference", pattern),
            _ => bail!("invalid filter {filter:?}: use dangling=true|false or reference=PATTERN"),
        };
        parsed.entry(key.to_string()).or_default().push(value.to_string());
    }
    Ok(parsed)
}
// ANCHOR_END: image_filters

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

// ANCHOR: rmi
/// `rmi`: one `DELETE /images/{name}` per name, printing what went.
pub fn rmi(api: &dyn Api, args: RmiArgs) -> Result<u8> {
    let mut failed = false;
    for name in &args.images {
        match api.image_remove(name, args.force) {
            Ok(removed) => print_removed(&removed, "Untagged", "Deleted"),
            Err(e) => {
                eprintln!("mini-docker: {}", e.message);
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}
// ANCHOR_END: rmi

/// `[{"Untagged": …}, {"Deleted": …}]`, a line each.
fn print_removed(removed: &[Value], untagged: &str, deleted: &str) {
    for item in removed {
        if let Some(tag) = item["Untagged"].as_str() {
            println!("{untagged}: {tag}");
        }
        if let Some(id) = item["Deleted"].as_str() {
            println!("{deleted}: {id}");
        }
    }
}

/// `image prune [-a]`: the dangling images (every unused one with `-a`).
pub fn prune(api: &dyn Api, all: bool) -> Result<u8> {
    let filters = Filters::from([("dangling".to_string(), vec![(!all).to_string()])]);
    let pruned = api.image_prune(&filters).map_err(|e| anyhow!("{}", e.message))?;
    let removed = pruned["ImagesDeleted"].as_array().cloned().unwrap_or_default();
    if !removed.is_empty() {
        println!("Deleted Images:");
        print_removed(&removed, "untagged", "deleted");
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        human_size(pruned["SpaceReclaimed"].as_u64().unwrap_or(0))
    );
    Ok(0)
}

// ANCHOR: inspect
/// `image inspect`: images as JSON; with `-f`, each through the template,
/// a line each.
pub fn inspect(api: &dyn Api, args: InspectArgs) -> Result<u8> {
    let mut out = Vec::new();
    for name in &args.images {
        out.push(api.image_inspect(name).map_err(|e| anyhow!("{}", e.message))?);
    }
    print_inspected(&args, &out)
}

/// `inspect NAME` without a type, as `docker inspect`: a container, else
/// an image, a network, a volume — the first that knows the name.
pub fn inspect_any(api: &dyn Api, args: InspectArgs) -> Result<u8> {
    let mut out = Vec::new();
    for name in &args.images {
        let kinds: [&dyn Fn() -> ch09_engine::ApiResult<Value>; 4] = [
            &|| api.container_inspect(name),
            &|| api.image_inspect(name),
            &|| api.network_inspect(name),
            &|| api.volume_inspect(name),
        ];
        let mut found = None;
        for inspect in kinds {
            match inspect() {
                Ok(object) => {
                    found = Some(object);
                    break;
                }
                Err(error) if error.status == 404 => continue,
                Err(error) => bail!("{}", error.message),
            }
        }
        out.push(found.ok_or_else(|| anyhow!("No such object: {name}"))?);
    }
    print_inspected(&args, &out)
}

fn print_inspected(args: &InspectArgs, out: &[Value]) -> Result<u8> {
    match &args.format {
        Some(template) => print!("{}", format::render_each(template, out)?),
        None => println!("{}", serde_json::to_string_pretty(out)?),
    }
    Ok(0)
}
// ANCHOR_END: inspect

/// `load -i FILE`: `POST /images/load`, printing its `stream` lines.
pub fn load(api: &dyn Api, args: LoadArgs) -> Result<u8> {
    let mut failed = None;
    let loaded = api.image_load(&args.input, &mut |message| {
        if let Some(text) = message["stream"].as_str() {
            failed = failed.take().or(write!(std::io::stdout(), "{text}").err());
        }
    });
    loaded.map_err(|e| anyhow!("{}", e.message))?;
    failed.map_or(Ok(0), |e| Err(e.into()))
}

/// `tag SOURCE TARGET`: `POST /images/SOURCE/tag?repo=&tag=`.
pub fn tag(api: &dyn Api, args: TagArgs) -> Result<u8> {
    let target = Reference::parse(&args.target)?;
    if target.digest.is_some() {
        bail!("refusing to create a tag with a digest reference: {}", args.target);
    }
    let tag = target.tag.clone().unwrap_or_else(|| "latest".into());
    api.image_tag(&args.source, &target.name(), &tag).map_err(|e| anyhow!("{}", e.message))?;
    Ok(0)
}

// ANCHOR: login
/// `login`: check the credentials against the registry (`GET /v2/`), then
/// keep them in `<root>/auth.json`. Not in `~/.docker/config.json`: mini-docker
/// runs under sudo, where `~` is root's home, and Docker's file may delegate
/// to a credential helper we would silently bypass. Pulls read both.
pub fn login(root: &Path, args: LoginArgs) -> Result<u8> {
    let domain = &login_domain(args.server.as_deref().unwrap_or("docker.io"));
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

/// The registry a `login SERVER` means, as the docker CLI reads it: no
/// scheme, no trailing `/` or `/v1`, and Docker Hub's other names are
/// `docker.io`, the domain pulls look up.
fn login_domain(server: &str) -> String {
    let domain = server
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .trim_end_matches("/v1");
    match domain {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => domain.to_string(),
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_dates_look_like_dockers() {
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(4_261_000), "4.261MB");
        assert_eq!(human_size(1_000_000), "1MB");
        assert_eq!(ago(3 * 86_400), "3 days ago");
        assert_eq!(ago(3600), "1 hour ago");
        assert_eq!(docker_time(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(docker_time(1_704_164_645), "2024-01-02 03:04:05 +0000 UTC");
        assert_eq!(docker_time(951_782_400), "2000-02-29 00:00:00 +0000 UTC");
    }

    fn row(repository: &str, tag: &str) -> ImageRow {
        ImageRow {
            repository: repository.into(),
            tag: tag.into(),
            id: format!("sha256:{}", "ab".repeat(32)),
            repo_digests: vec![format!("docker.io/library/busybox@sha256:{}", "cd".repeat(32))],
            created: Some(1_704_164_645),
            size: 4_261_000,
        }
    }

    #[test]
    fn filters_become_the_apis() {
        let filters =
            |f: &[&str]| image_filters(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(filters(&["dangling=1"]).unwrap()["dangling"], ["true"]);
        assert_eq!(
            filters(&["reference=busy*", "reference=a"]).unwrap()["reference"],
            ["busy*", "a"]
        );
        let error = filters(&["size=big"]).err().unwrap().to_string();
        assert_eq!(
            error,
            "invalid filter \"size=big\": use dangling=true|false or reference=PATTERN"
        );
    }

    #[test]
    fn summaries_become_a_row_per_tag() {
        let summaries = [
            json!({"Id": "sha256:1", "RepoTags": ["busybox:latest", "127.0.0.1:5000/a:1"], "Created": 2, "Size": 1}),
            json!({"Id": "sha256:2", "RepoTags": [], "Created": 3, "Size": 1}),
        ];
        let rows = image_rows(&summaries);
        let names: Vec<(&str, &str)> =
            rows.iter().map(|r| (r.repository.as_str(), r.tag.as_str())).collect();
        assert_eq!(names, [("<none>", "<none>"), ("127.0.0.1:5000/a", "1"), ("busybox", "latest")]);
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
