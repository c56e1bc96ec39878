//! The verbs that look after running containers — `events`, `top`,
//! `stats`, `port`, `rename`, `update`, `cp`, `container prune` — written
//! once against [`Api`] (its `Manage` part): in-process or through a
//! daemon, the same code.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Result};
use ch09_engine::manage::{EventsOptions, UpdateBody};
use ch09_engine::{Api, ApiError};
use clap::Args;
use serde_json::Value;

use crate::containers::{parse_filter_flags, since_seconds};
use crate::format;

fn message(error: ApiError) -> anyhow::Error {
    anyhow!("{}", error.message)
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Show events created since this time (unix seconds, RFC 3339, or a duration like 10m).
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this time.
    #[arg(long)]
    until: Option<String>,
    /// Filter: type=, event=, container=, image=, label=, network=, volume=.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format each event with a Go template (`{{json .}}`).
    #[arg(long)]
    format: Option<String>,
}

// ANCHOR: events
/// `events`: each event as one line, Docker's way —
/// `TIME TYPE ACTION ID (key=value, …)` — or through `--format`.
pub fn events(api: &dyn Api, args: EventsArgs) -> Result<u8> {
    let options = EventsOptions {
        since: args.since.as_deref().map(since_seconds).transpose()?,
        until: args.until.as_deref().map(since_seconds).transpose()?,
        filters: parse_filter_flags(&args.filter)?,
    };
    let mut failed = None;
    let mut print = |event: &Value| {
        let line = match &args.format {
            Some(template) => format::render_each(template, std::slice::from_ref(event)),
            None => Ok(format!("{}\n", event_line(event))),
        };
        match line {
            Ok(line) => {
                let _ = std::io::stdout().write_all(line.as_bytes());
                let _ = std::io::stdout().flush();
            }
            Err(error) => failed = Some(error),
        }
    };
    api.events(&options, &mut print).map_err(message)?;
    failed.map_or(Ok(0), Err)
}

/// `2026-12-02T03:00:00.123456789Z container die 4f3c… (exitCode=0, name=web)`.
pub fn event_line(event: &Value) -> String {
    let nanos = event["timeNano"].as_u64().unwrap_or(0);
    let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
    let attributes = event["Actor"]["Attributes"].as_object().cloned().unwrap_or_default();
    let mut pairs: Vec<String> =
        attributes.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    pairs.sort();
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut line = format!(
        "{} {} {} {}",
        humantime::format_rfc3339_nanos(at),
        text(&event["Type"]),
        text(&event["Action"]),
        text(&event["Actor"]["ID"])
    );
    if !pairs.is_empty() {
        line.push_str(&format!(" ({})", pairs.join(", ")));
    }
    line
}
// ANCHOR_END: events

#[derive(Args, Debug)]
pub struct TopArgs {
    container: String,
    /// Options for ps (default -ef).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
}

pub fn top(api: &dyn Api, args: TopArgs) -> Result<u8> {
    let top = api.container_top(&args.container, &args.ps_args.join(" ")).map_err(message)?;
    let strings = |v: &Value| -> Vec<String> {
        let each = v.as_array().into_iter().flatten();
        each.map(|s| s.as_str().unwrap_or_default().to_string()).collect()
    };
    let mut rows = vec![strings(&top["Titles"])];
    rows.extend(top["Processes"].as_array().into_iter().flatten().map(strings));
    print!("{}", tab_aligned(&rows, 20));
    Ok(0)
}

/// The docker CLI's `tabwriter` with a minimum cell width and 3 spaces.
fn tab_aligned(rows: &[Vec<String>], min_width: usize) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            let widest = rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max();
            (widest.unwrap_or(0) + 3).max(min_width)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            match c + 1 == row.len() {
                true => out.push_str(cell),
                false => out.push_str(&format!("{cell:<width$}", width = widths[c])),
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    all: bool,
    /// One sample of each, then exit.
    #[arg(long = "no-stream")]
    no_stream: bool,
    containers: Vec<String>,
}

// ANCHOR: stats
/// `stats`: one table of samples (`--no-stream`), or one a second.
pub fn stats(
    api: &dyn Api,
    connect: &(dyn Fn() -> Result<Box<dyn Api>> + Sync),
    args: StatsArgs,
) -> Result<u8> {
    let wanted = match args.containers.is_empty() {
        false => args.containers.clone(),
        true => {
            let listed = api.container_list(args.all, &Default::default()).map_err(message)?;
            listed.iter().filter_map(|s| s["Id"].as_str().map(str::to_string)).collect()
        }
    };
    let latest = std::sync::Mutex::new(vec![Value::Null; wanted.len()]);
    let stream = !args.no_stream;
    let failures = std::thread::scope(|scope| {
        let each = wanted.iter().enumerate().map(|(i, id)| {
            let latest = &latest;
            scope.spawn(move || -> Result<()> {
                connect()?
                    .container_stats(id, stream, &mut |sample| {
                        latest.lock().unwrap_or_else(|e| e.into_inner())[i] = sample.clone();
                        true
                    })
                    .map_err(message)
            })
        });
        let handles: Vec<_> = each.collect();
        while stream && handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(std::time::Duration::from_secs(1));
            print!(
                "\x1b[2J\x1b[H{}",
                stats_table(&latest.lock().unwrap_or_else(|e| e.into_inner()))
            );
            let _ = std::io::stdout().flush();
        }
        handles.into_iter().filter_map(|h| h.join().ok()?.err()).collect::<Vec<_>>()
    });
    if let Some(error) = failures.into_iter().next() {
        return Err(error);
    }
    print!("{}", stats_table(&latest.into_inner().unwrap_or_default()));
    Ok(0)
}
// ANCHOR_END: stats

const STATS_COLUMNS: [&str; 8] =
    ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"];

fn stats_table(samples: &[Value]) -> String {
    let mut rows = vec![STATS_COLUMNS.map(String::from).to_vec()];
    rows.extend(samples.iter().filter(|s| !s.is_null()).map(stats_row));
    ch05_run::ps::aligned(&rows)
}

// ANCHOR: stats_row
/// The docker CLI's sums: CPU % over the two samples' deltas, memory
/// without the inactive page cache, network and block I/O added up.
pub fn stats_row(s: &Value) -> Vec<String> {
    let number = |v: &Value| v.as_f64().unwrap_or(0.0);
    let cpu = &s["cpu_stats"];
    let pre = &s["precpu_stats"];
    let cpu_delta =
        number(&cpu["cpu_usage"]["total_usage"]) - number(&pre["cpu_usage"]["total_usage"]);
    let system_delta = number(&cpu["system_cpu_usage"]) - number(&pre["system_cpu_usage"]);
    let cpus = number(&cpu["online_cpus"]).max(1.0);
    let cpu_percent = match cpu_delta > 0.0 && system_delta > 0.0 {
        true => cpu_delta / system_delta * cpus * 100.0,
        false => 0.0,
    };
    let memory = &s["memory_stats"];
    let (usage, limit) = (number(&memory["usage"]), number(&memory["limit"]));
    let inactive = memory["stats"]["total_inactive_file"]
        .as_f64()
        .or(memory["stats"]["inactive_file"].as_f64())
        .filter(|i| *i < usage)
        .unwrap_or(0.0);
    let used = usage - inactive;
    let memory_percent = if limit > 0.0 { used / limit * 100.0 } else { 0.0 };
    let networks = s["networks"].as_object().cloned().unwrap_or_default();
    let net = |key: &str| networks.values().map(|n| number(&n[key])).sum::<f64>();
    let blkio =
        s["blkio_stats"]["io_service_bytes_recursive"].as_array().cloned().unwrap_or_default();
    let block =
        |op: &str| blkio.iter().filter(|e| e["op"] == op).map(|e| number(&e["value"])).sum::<f64>();
    let id = s["id"].as_str().unwrap_or_default();
    vec![
        id[..id.len().min(12)].to_string(),
        s["name"].as_str().unwrap_or_default().trim_start_matches('/').to_string(),
        format!("{cpu_percent:.2}%"),
        format!("{} / {}", size(used, 1024.0, &BINARY), size(limit, 1024.0, &BINARY)),
        format!("{memory_percent:.2}%"),
        format!(
            "{} / {}",
            size(net("rx_bytes"), 1000.0, &DECIMAL),
            size(net("tx_bytes"), 1000.0, &DECIMAL)
        ),
        format!(
            "{} / {}",
            size(block("read"), 1000.0, &DECIMAL),
            size(block("write"), 1000.0, &DECIMAL)
        ),
        s["pids_stats"]["current"].as_u64().unwrap_or(0).to_string(),
    ]
}
// ANCHOR_END: stats_row

const BINARY: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
const DECIMAL: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];

/// go-units' `%.4g` sizes: `1.5MiB`, `0B`, `12.3kB`.
pub fn size(mut bytes: f64, base: f64, units: &[&str]) -> String {
    let mut unit = 0;
    while bytes >= base && unit + 1 < units.len() {
        bytes /= base;
        unit += 1;
    }
    let digits = if bytes >= 1000.0 {
        0
    } else if bytes >= 100.0 {
        1
    } else if bytes >= 10.0 {
        2
    } else {
        3
    };
    let text = format!("{bytes:.digits$}");
    let text =
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{}", units[unit])
}

#[derive(Args, Debug)]
pub struct PortArgs {
    container: String,
    /// PRIVATE_PORT[/PROTO]
    port: Option<String>,
}

// ANCHOR: port
/// `port`: the published ports, from `inspect`'s `NetworkSettings.Ports`.
pub fn port(api: &dyn Api, args: PortArgs) -> Result<u8> {
    let described = api.container_inspect(&args.container).map_err(message)?;
    let ports = described["NetworkSettings"]["Ports"].as_object().cloned().unwrap_or_default();
    let binding = |b: &Value| {
        let ip = b["HostIp"].as_str().unwrap_or_default();
        let ip = if ip.is_empty() { "0.0.0.0" } else { ip };
        format!("{ip}:{}", b["HostPort"].as_str().unwrap_or_default())
    };
    let Some(wanted) = &args.port else {
        let mut lines: Vec<String> = ports
            .iter()
            .flat_map(|(key, list)| {
                let each = list.as_array().cloned().unwrap_or_default();
                each.into_iter().map(move |b| format!("{key} -> {}", binding(&b)))
            })
            .collect();
        lines.sort();
        lines.iter().for_each(|l| println!("{l}"));
        return Ok(0);
    };
    let key = if wanted.contains('/') { wanted.clone() } else { format!("{wanted}/tcp") };
    match ports.get(&key).and_then(Value::as_array).filter(|l| !l.is_empty()) {
        Some(list) => list.iter().for_each(|b| println!("{}", binding(b))),
        None => bail!("No public port '{key}' published for {}", args.container),
    }
    Ok(0)
}
// ANCHOR_END: port

#[derive(Args, Debug)]
pub struct RenameArgs {
    container: String,
    new_name: String,
}

pub fn rename(api: &dyn Api, args: RenameArgs) -> Result<u8> {
    api.container_rename(&args.container, &args.new_name).map_err(message)?;
    Ok(0)
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Memory limit (e.g. 64m).
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory plus swap: a size, or -1 for unlimited.
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Number of CPUs (e.g. 0.5).
    #[arg(long)]
    cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares")]
    cpu_shares: Option<i64>,
    /// Tune the container's pids limit (-1 for unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    restart: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

// ANCHOR: update
/// `update`: new limits for running containers (chapter 2 writes them
/// into the cgroup at once), or a new restart policy.
pub fn update(api: &dyn Api, args: UpdateArgs) -> Result<u8> {
    let bytes = |text: &str, flag| ch02_cgroups::limits::parse_size(text, flag).map(|b| b as i64);
    let body = UpdateBody {
        memory: args.memory.as_deref().map(|m| bytes(m, "--memory")).transpose()?.unwrap_or(0),
        memory_swap: match args.memory_swap.as_deref() {
            None => 0,
            Some("-1") => -1,
            Some(text) => bytes(text, "--memory-swap")?,
        },
        nano_cpus: args.cpus.as_deref().map(crate::run_flags::nano_cpus).transpose()?.unwrap_or(0),
        cpu_shares: args.cpu_shares.unwrap_or(0),
        pids_limit: args.pids_limit,
        restart_policy: args
            .restart
            .as_deref()
            .map(crate::run_flags::restart_policy)
            .transpose()?,
    };
    if body == UpdateBody::default() {
        bail!("you must provide one or more flags when using this command");
    }
    let mut failed = false;
    for container in &args.containers {
        match api.container_update(container, &body) {
            Ok(warnings) => {
                warnings.iter().for_each(|w| eprintln!("WARNING: {w}"));
                println!("{container}");
            }
            Err(error) => {
                eprintln!("mini-docker: {}", error.message);
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}
// ANCHOR_END: update

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
    /// Filter: until=, label=.
    #[arg(long = "filter")]
    filter: Vec<String>,
}

pub fn prune(api: &dyn Api, args: PruneArgs) -> Result<u8> {
    if !args.force {
        eprint!("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ");
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer)?;
        if !answer.trim().eq_ignore_ascii_case("y") {
            return Ok(0);
        }
    }
    let report = api.container_prune(&parse_filter_flags(&args.filter)?).map_err(message)?;
    let deleted = report["ContainersDeleted"].as_array().cloned().unwrap_or_default();
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        deleted.iter().for_each(|id| println!("{}", id.as_str().unwrap_or_default()));
        println!();
    }
    let space = report["SpaceReclaimed"].as_f64().unwrap_or(0.0);
    println!("Total reclaimed space: {}", size(space, 1000.0, &DECIMAL));
    Ok(0)
}

#[derive(Args, Debug)]
pub struct CpArgs {
    /// CONTAINER:SRC_PATH or a host path (- for a tar on stdin)
    source: String,
    /// CONTAINER:DEST_PATH or a host path (- for a tar on stdout)
    destination: String,
    /// Suppress the progress line.
    #[arg(short, long)]
    quiet: bool,
}

/// `web:/etc/hosts` → (`web`, `/etc/hosts`); a host path has no `:` before
/// its first `/` (Docker's rule, so `./a:b` is a host path).
fn container_path(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    arg.split_once(':').filter(|(c, _)| !c.is_empty() && !c.contains('/'))
}

// ANCHOR: cp
/// `cp`: one side is a container's path, the other the host's. A
/// destination that is a directory receives the source inside it; one
/// that does not exist becomes the source, renamed.
pub fn cp(api: &dyn Api, args: CpArgs) -> Result<u8> {
    match (container_path(&args.source), container_path(&args.destination)) {
        (Some((container, path)), None) => {
            let (_, tar) = api.archive_get(container, path).map_err(message)?;
            let size = tar.len();
            match args.destination.as_str() {
                "-" => std::io::stdout().write_all(&tar)?,
                dest => unpack_on_host(&tar, Path::new(dest))?,
            }
            if !args.quiet && args.destination != "-" {
                eprintln!("Successfully copied {} to {}", size_of(size), args.destination);
            }
        }
        (None, Some((container, path))) => {
            let tar = match args.source.as_str() {
                "-" => {
                    let mut tar = Vec::new();
                    std::io::Read::read_to_end(&mut std::io::stdin(), &mut tar)?;
                    api.archive_put(container, path, &tar).map_err(message)?;
                    tar
                }
                source => copy_in(api, Path::new(source), container, path)?,
            };
            if !args.quiet {
                eprintln!("Successfully copied {} to {}", size_of(tar.len()), args.destination);
            }
        }
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
    }
    Ok(0)
}
// ANCHOR_END: cp

fn size_of(bytes: usize) -> String {
    size(bytes as f64, 1000.0, &DECIMAL)
}

/// Host → container: into `path` if it is a directory, else as `path`.
fn copy_in(api: &dyn Api, source: &Path, container: &str, path: &str) -> Result<Vec<u8>> {
    if !source.exists() && source.symlink_metadata().is_err() {
        bail!("could not find the file {} on the host", source.display());
    }
    let dest = api.archive_stat(container, path);
    let into_dir = matches!(&dest, Ok(stat) if stat.mode & (1 << 31) != 0);
    let (dir, name) = match (&dest, into_dir) {
        (_, true) => (path.to_string(), file_name(source)?),
        (Ok(_), false) | (Err(ApiError { status: 404, .. }), _) => {
            if path.ends_with('/') {
                bail!("destination directory {path} does not exist in the container");
            }
            let parent = Path::new(path).parent().map_or("/".into(), |p| p.display().to_string());
            (if parent.is_empty() { ".".into() } else { parent }, file_name(Path::new(path))?)
        }
        (Err(error), _) => bail!("{}", error.message),
    };
    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    match source.is_dir() {
        true => builder.append_dir_all(&name, source)?,
        false => builder.append_path_with_name(source, &name)?,
    }
    let tar = builder.into_inner()?;
    api.archive_put(container, &dir, &tar).map_err(message)?;
    Ok(tar)
}

fn file_name(path: &Path) -> Result<String> {
    let name = path.file_name().ok_or_else(|| anyhow!("{}: no file name", path.display()))?;
    Ok(name.to_string_lossy().into_owned())
}

/// Container → host: the archive's top entry lands in `dest` if that is a
/// directory, or becomes `dest`.
fn unpack_on_host(tar: &[u8], dest: &Path) -> Result<()> {
    let (dir, rename): (PathBuf, Option<String>) = match dest.is_dir() {
        true => (dest.to_path_buf(), None),
        false => {
            let parent =
                dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            if !parent.is_dir() {
                bail!("destination directory {} does not exist", parent.display());
            }
            (parent.to_path_buf(), Some(file_name(dest)?))
        }
    };
    let renamed = match rename {
        None => tar.to_vec(),
        Some(name) => renamed_top(tar, &name)?,
    };
    let mut archive = tar::Archive::new(renamed.as_slice());
    archive.set_preserve_permissions(true);
    // `unpack` refuses entries that would land outside `dir` (`..`, links).
    archive.unpack(&dir)?;
    Ok(())
}

/// The same archive with its top entry (and what is below it) renamed.
fn renamed_top(tar: &[u8], name: &str) -> Result<Vec<u8>> {
    let mut archive = tar::Archive::new(tar);
    let mut builder = tar::Builder::new(Vec::new());
    for entry in archive.entries()? {
        let entry = entry?;
        let path = entry.path()?.into_owned();
        let mut parts = path.components();
        parts.next();
        let rest = parts.as_path();
        let new = match rest.as_os_str().is_empty() {
            true => PathBuf::from(name),
            false => Path::new(name).join(rest),
        };
        let mut header = entry.header().clone();
        builder.append_data(&mut header, new, entry)?;
    }
    Ok(builder.into_inner()?)
}
