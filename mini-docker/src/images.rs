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

#[derive(Args)]
pub struct PullArgs {
    /// The image: NAME[:TAG|@DIGEST], e.g. busybox or 127.0.0.1:5000/app:1.
    image: String,
    /// os/arch[/variant] to choose from a multi-platform image (default: this host).
    #[arg(long)]
    platform: Option<String>,
    /// A registry (host:port) that speaks plain HTTP; loopback always may.
    #[arg(long = "insecure-registry")]
    insecure: Vec<String>,
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
    /// Containers or images.
    #[arg(required = true)]
    images: Vec<String>,
}

impl InspectArgs {
    pub fn names(&self) -> &[String] {
        &self.images
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
/// stdout, each layer's progress on stderr (bars on a terminal).
pub fn pull(api: &dyn Api, args: &PullArgs) -> Result<u8> {
    if args.platform.is_some() || !args.insecure.is_empty() {
        bail!("--platform and --insecure-registry are not supported by this pull: the engine pulls for its own platform, and loopback registries may always speak plain HTTP");
    }
    pull_to(api, &args.image, &mut std::io::stdout())?;
    Ok(0)
}

/// Pull `image`, writing Docker's status lines to `out` (stdout for `pull`,
/// stderr for `run`, whose stdout belongs to the container).
pub fn pull_to(api: &dyn Api, image: &str, out: &mut dyn std::io::Write) -> Result<()> {
    let reference = Reference::parse(image)?;
    let mut display = Display::for_stderr();
    let mut failed = None;
    let pulled = api.image_pull(&reference.to_string(), &mut |message| {
        match ch09_engine::local::progress::from_json(message) {
            Some(event) => display.show(&event),
            None => {
                if let Some(line) = ch09_engine::local::progress::status_line(message) {
                    failed = writeln!(out, "{line}").err();
                }
            }
        }
    });
    pulled.map_err(|e| anyhow!("{}", e.message))?;
    if let Some(error) = failed {
        return Err(error.into());
    }
    writeln!(out, "{reference}")?;
    Ok(())
}
// ANCHOR_END: pull

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

/// `images`: REPOSITORY TAG IMAGE ID CREATED SIZE, newest first.
pub fn images(root: &Path) -> Result<u8> {
    let store = Store::open(root)?;
    let mut rows = Vec::new();
    let tags = store.tags()?;
    let mut tagged = HashSet::new();
    for (tag, id) in &tags {
        let reference = Reference::parse(tag)?;
        tagged.insert(id.clone());
        rows.push((
            reference.familiar_name(),
            reference.tag.clone().unwrap_or_default(),
            store.image(id)?,
        ));
    }
    for image in store.images()?.into_iter().filter(|i| !tagged.contains(&i.id)) {
        rows.push(("<none>".into(), "<none>".into(), image));
    }
    rows.sort_by(|a, b| b.2.created.cmp(&a.2.created).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    println!("{:<40} {:<12} {:<14} {:<24} SIZE", "REPOSITORY", "TAG", "IMAGE ID", "CREATED");
    for (repository, tag, image) in rows {
        let created = image
            .created
            .as_deref()
            .and_then(parse_rfc3339)
            .map(|t| ago(now - t))
            .unwrap_or_else(|| "N/A".into());
        println!(
            "{repository:<40} {tag:<12} {:<14} {created:<24} {}",
            short(&image.id),
            human_size(image.size)
        );
    }
    Ok(0)
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

pub fn inspect(root: &Path, args: InspectArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let mut out = Vec::new();
    for name in &args.images {
        let (id, _) = store.resolve(name)?.ok_or_else(|| anyhow!("no such image: {name}"))?;
        out.push(inspect_json(&store, &store.image(&id)?)?);
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(0)
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
    }
}
