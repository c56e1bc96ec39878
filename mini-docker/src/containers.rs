//! The container commands: `run`, `create`, `start`, `stop`, `kill`,
//! `restart`, `rm`, `ps`, `logs`, `exec`, `inspect`, `wait`.
//! Argument parsing and output only; the work is chapter 5's.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Result};
use ch02_cgroups::limits::{check_shares, parse_cpus, parse_size, parse_swap, pids_limit};
use ch02_cgroups::Limits;
use ch03_union_fs::Driver;
use ch05_run::ids::short_id;
use ch05_run::image::{local_image, ImageInfo};
use ch05_run::merge::UserOverrides;
use ch05_run::state::{human_duration, Status};
use ch05_run::{CreateRequest, Engine, StartFailed};
use clap::Args;
use nix::sys::signal::Signal;

use crate::images;

/// Options shared by `run` and `create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Keep STDIN open and connect it to the container.
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    tty: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    rm: bool,
    /// A name for the container.
    #[arg(long)]
    name: Option<String>,
    /// Set an environment variable: KEY=VALUE, or KEY to take it from here.
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Read environment variables from a file.
    #[arg(long = "env-file")]
    env_file: Vec<std::path::PathBuf>,
    /// Working directory inside the container.
    #[arg(short, long)]
    workdir: Option<String>,
    /// User: name|uid[:group|gid].
    #[arg(short, long)]
    user: Option<String>,
    /// Overwrite the image's entrypoint ("" clears it).
    #[arg(long)]
    entrypoint: Option<String>,
    /// Container hostname (default: the short id).
    #[arg(long)]
    hostname: Option<String>,
    /// Memory limit (e.g. 64m, 1g).
    #[arg(short, long)]
    memory: Option<String>,
    /// Memory plus swap (-1: unlimited swap).
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Number of CPUs (e.g. 0.5).
    #[arg(long)]
    cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true)]
    cpu_shares: Option<i64>,
    /// Most processes the container may have at once (-1: unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Run a minimal init as PID 1 that forwards signals and reaps orphans.
    #[arg(long)]
    init: bool,
    #[command(flatten)]
    walls: ch08_security::WallFlags,
    /// Mount the container's root filesystem read-only.
    #[arg(long = "read-only")]
    read_only: bool,
    /// Run in a user namespace whose root is USER's unprivileged range from
    /// /etc/subuid and /etc/subgid ("default": the user mini-docker). Like
    /// dockerd's --userns-remap, also set for every container by the variable.
    #[arg(long = "userns-remap", value_name = "USER", num_args = 0..=1, require_equals = true,
          default_missing_value = "default", env = "MINI_DOCKER_USERNS_REMAP")]
    userns_remap: Option<String>,
    /// "host": no user namespace for this container, whatever --userns-remap says.
    #[arg(long, value_name = "MODE")]
    userns: Option<String>,
    /// The cgroup parent for the container's cgroup.
    #[arg(long = "cgroup-parent", env = "MINI_DOCKER_CGROUP_PARENT", default_value = ch02_cgroups::DEFAULT_PARENT)]
    cgroup_parent: String,
    #[command(flatten)]
    mounts: ch07_volumes::MountFlags,
    /// Connect the container to a network: bridge, none, host or a network's name.
    #[arg(long, default_value = "bridge")]
    network: String,
    /// Publish a port: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp].
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    /// overlay or vfs (default: overlay where the kernel has it).
    #[arg(long = "storage-driver", env = "MINI_DOCKER_STORAGE_DRIVER")]
    storage_driver: Option<String>,
    /// The image to make the container from.
    image: String,
    /// The command and its arguments (default: the image's).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    create: CreateArgs,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach to the container's output and wait for it.
    #[arg(short, long)]
    attach: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before SIGKILL.
    #[arg(short = 't', long = "time", default_value_t = 10)]
    time: u64,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// The signal to send (name or number).
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Kill and remove a running container.
    #[arg(short, long)]
    force: bool,
    /// Remove the container's anonymous volumes too.
    #[arg(short, long)]
    volumes: bool,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    all: bool,
    /// Only print ids.
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow the output.
    #[arg(short, long)]
    follow: bool,
    /// Number of lines from the end ("all" for every line).
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    container: String,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    #[arg(short, long)]
    interactive: bool,
    #[arg(short, long)]
    tty: bool,
    #[arg(short, long = "env")]
    env: Vec<String>,
    #[arg(short, long)]
    workdir: Option<String>,
    container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainersArgs {
    #[arg(required = true)]
    containers: Vec<String>,
}

impl RunArgs {
    pub fn uses_init(&self) -> bool {
        self.create.init
    }
}

impl StartArgs {
    pub fn names(&self) -> &[String] {
        &self.containers
    }
}

impl StopArgs {
    pub fn names(&self) -> &[String] {
        &self.containers
    }
}

/// Does any of the named containers run our `--init` as its PID 1?
pub fn any_uses_init(root: &Path, names: &[String]) -> bool {
    let engine = Engine::new(root);
    names
        .iter()
        .any(|name| engine.find(name).and_then(|id| engine.config(&id)).is_ok_and(|c| c.init))
}

// ---------------------------------------------------------------- run

/// `run`: create, then start attached (or detached with `-d`). Returns the
/// container's exit code, or Docker's 125/126/127 for our own failures.
pub fn run(root: &Path, args: RunArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let id = match create_container(&engine, &args.create) {
        Ok(id) => id,
        Err(error) => return Err(with_code(error, 125)),
    };
    if args.detach {
        engine.start_detached(&id).map_err(start_error)?;
        println!("{id}");
        return Ok(0);
    }
    let code = engine.start_attached(&id).map_err(start_error)?;
    Ok(code as u8)
}

pub fn create(root: &Path, args: CreateArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let id = create_container(&engine, &args).map_err(|e| with_code(e, 125))?;
    println!("{id}");
    Ok(0)
}

fn create_container(engine: &Engine, args: &CreateArgs) -> Result<String> {
    let (request, made) = create_request(&engine.root, args)?;
    let created = engine.create(&request);
    if created.is_err() {
        ch07_volumes::undo(&engine.root, &made);
    }
    created
}

/// The request, and what resolving its mounts made (to undo if `create` fails).
fn create_request(root: &Path, args: &CreateArgs) -> Result<(CreateRequest, ch07_volumes::Made)> {
    let mount_specs = args.mounts.specs()?;
    let limits = parse_limits(args)?;
    let env = ch05_run::env::collect(&args.env_file, &args.env)?;
    let driver = match &args.storage_driver {
        Some(name) => name.parse::<Driver>().map_err(|e| anyhow!(e))?,
        None => Driver::for_this_host(),
    };
    let network: ch06_networking::NetworkMode = args.network.parse()?;
    let mut ports = args
        .publish
        .iter()
        .map(|p| p.parse())
        .collect::<Result<Vec<ch06_networking::PortMapping>, _>>()?;
    let image = find_or_pull(root, &args.image)?;
    if network == ch06_networking::NetworkMode::Host && !ports.is_empty() {
        eprintln!("WARNING: Published ports are discarded when using host network mode");
        ports.clear();
    }
    let resolved = ch07_volumes::resolve(root, &mount_specs, &image.volumes)?;
    for notice in &resolved.notices {
        eprintln!("mini-docker: {notice}");
    }
    let request = CreateRequest {
        image: args.image.clone(),
        image_id: image.id,
        layers: image.layers,
        defaults: image.defaults,
        overrides: UserOverrides {
            entrypoint: args.entrypoint.clone(),
            cmd: args.command.clone(),
            env,
            workdir: args.workdir.clone(),
            user: args.user.clone(),
        },
        name: args.name.clone(),
        hostname: args.hostname.clone(),
        tty: args.tty,
        interactive: args.interactive,
        auto_remove: args.rm,
        init: args.init,
        limits,
        cgroup_parent: args.cgroup_parent.clone(),
        driver,
        mounts: resolved.mounts,
        network,
        ports,
        security: ch08_security::SecurityOptions {
            read_only: args.read_only,
            userns_remap: userns_remap(args)?,
            ..args.walls.options()
        },
    };
    Ok((request, resolved.made))
}

/// `--userns-remap[=USER]` looked up in the subordinate id files, unless
/// `--userns=host` (Docker's only value for it) turns it off.
fn userns_remap(args: &CreateArgs) -> Result<Option<ch08_security::userns::Remap>> {
    match args.userns.as_deref() {
        None => {}
        Some("host") => return Ok(None),
        Some(other) => bail!("invalid --userns {other:?}: the only mode is \"host\" (no user namespace for this container)"),
    }
    let Some(user) = args.userns_remap.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let (subuid, subgid) = ch08_security::userns::subid_files();
    Ok(Some(ch08_security::userns::lookup(user, &subuid, &subgid)?))
}

fn parse_limits(args: &CreateArgs) -> Result<Limits> {
    let host_cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let limits = Limits {
        memory: args.memory.as_deref().map(|m| parse_size(m, "--memory")).transpose()?,
        memory_swap: args.memory_swap.as_deref().map(parse_swap).transpose()?,
        cpu_quota_us: args.cpus.as_deref().map(|c| parse_cpus(c, host_cpus)).transpose()?,
        cpu_shares: args.cpu_shares.map(check_shares).transpose()?.flatten(),
        pids: args.pids_limit.and_then(pids_limit),
    };
    limits.check()?;
    Ok(limits)
}

/// The image, from the store or — like `docker run` — pulled first.
fn find_or_pull(root: &Path, name: &str) -> Result<ImageInfo> {
    if let Some(image) = local_image(root, name)? {
        return Ok(image);
    }
    let reference = ch04_image_pull::Reference::parse(name)?;
    eprintln!("Unable to find image '{}' locally", reference.familiar());
    images::pull_reporting_to(root, &images::PullArgs::for_image(name), &mut std::io::stderr())?;
    local_image(root, name)?
        .ok_or_else(|| anyhow!("the image {name} was pulled but cannot be found in the store"))
}

fn start_error(error: anyhow::Error) -> anyhow::Error {
    match error.downcast_ref::<StartFailed>() {
        Some(failed) => with_code(anyhow!("{}", failed.message), failed.exit_code),
        None => with_code(error, 125),
    }
}

/// An error that carries the exit code `main` should use; it prints as
/// the error it wraps.
#[derive(Debug)]
pub struct Coded {
    pub code: i32,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Coded {}

fn with_code(error: anyhow::Error, code: i32) -> anyhow::Error {
    if error.is::<Coded>() {
        return error;
    }
    Coded { code, error }.into()
}

// ---------------------------------------------------------------- lifecycle

pub fn start(root: &Path, args: StartArgs) -> Result<u8> {
    let engine = Engine::new(root);
    if args.attach {
        let [one] = args.containers.as_slice() else {
            bail!("you cannot start and attach multiple containers at once")
        };
        let id = engine.find(one)?;
        return Ok(engine.start_attached(&id).map_err(start_error)? as u8);
    }
    for_each(&engine, &args.containers, |engine, id| engine.start_detached(id))
}

pub fn stop(root: &Path, args: StopArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.time);
    for_each(&Engine::new(root), &args.containers, |engine, id| engine.stop(id, timeout))
}

pub fn restart(root: &Path, args: StopArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.time);
    for_each(&Engine::new(root), &args.containers, |engine, id| {
        engine.stop(id, timeout)?;
        engine.start_detached(id)
    })
}

pub fn kill(root: &Path, args: KillArgs) -> Result<u8> {
    let signal = parse_signal(&args.signal)?;
    for_each(&Engine::new(root), &args.containers, |engine, id| engine.kill(id, signal))
}

pub fn rm(root: &Path, args: RmArgs) -> Result<u8> {
    for_each(&Engine::new(root), &args.containers, |engine, id| {
        if args.volumes {
            engine.remove_with_volumes(id, args.force)
        } else {
            engine.remove(id, args.force)
        }
    })
}

pub fn wait(root: &Path, args: ContainersArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let mut failed = false;
    for wanted in &args.containers {
        match engine.find(wanted).and_then(|id| engine.wait(&id)) {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("mini-docker: {e:#}");
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

/// Do `action` for each named container, print each name as Docker does,
/// and report errors one line each; exit 1 if any failed.
fn for_each(
    engine: &Engine,
    wanted: &[String],
    action: impl Fn(&Engine, &str) -> Result<()>,
) -> Result<u8> {
    let mut failed = false;
    for name in wanted {
        match engine.find(name).and_then(|id| action(engine, &id)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("mini-docker: {}", one_line(&e));
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

fn one_line(error: &anyhow::Error) -> String {
    match error.downcast_ref::<StartFailed>() {
        Some(failed) => failed.message.clone(),
        None => format!("{error:#}"),
    }
}

/// `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| anyhow!("invalid signal: {text}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse::<Signal>().map_err(|_| anyhow!("invalid signal: {text}"))
}

// ---------------------------------------------------------------- ps, logs, inspect

pub fn ps(root: &Path, args: PsArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let mut all = engine.list()?;
    all.reverse(); // newest first, as Docker lists them
    let shown: Vec<_> =
        all.into_iter().filter(|(_, state)| args.all || state.is_running()).collect();
    if args.quiet {
        for (config, _) in &shown {
            println!("{}", short_id(&config.id));
        }
        return Ok(0);
    }
    let now = SystemTime::now();
    let mut rows =
        vec![["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]
            .map(String::from)
            .to_vec()];
    for (config, state) in &shown {
        let created = humantime::parse_rfc3339(&config.created)
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or_default();
        rows.push(vec![
            short_id(&config.id).to_string(),
            config.image.clone(),
            quoted_command(&config.argv),
            format!("{} ago", human_duration(created)),
            state.status_line(now),
            published_ports(root, &config.id),
            config.name.clone(),
        ]);
    }
    print_table(&rows);
    Ok(0)
}

/// `0.0.0.0:8080->80/tcp, …` while the container runs (chapter 6).
fn published_ports(root: &Path, id: &str) -> String {
    let ports = ch06_networking::endpoint_of(root, id).map(|(_, e)| e.ports).unwrap_or_default();
    ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
}

/// `"sh -c 'sleep 1…"`: the command, shortened to 20 characters like `ps`.
fn quoted_command(argv: &[String]) -> String {
    let full = argv.join(" ");
    let short: String = full.chars().take(20).collect();
    let ellipsis = if full.chars().count() > 20 { "…" } else { "" };
    format!("\"{short}{ellipsis}\"")
}

fn print_table(rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = std::io::stdout().lock();
    for row in rows {
        let last = row.len() - 1;
        let line: String = row
            .iter()
            .enumerate()
            .map(
                |(i, cell)| {
                    if i == last {
                        cell.clone()
                    } else {
                        format!("{cell:<w$}   ", w = widths[i])
                    }
                },
            )
            .collect();
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

pub fn logs(root: &Path, args: LogsArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let id = engine.find(&args.container)?;
    let path = engine.store.container_dir(&id).join("container.log");
    let tail = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| anyhow!("invalid --tail {n:?}: give a number or \"all\""))?,
        ),
    };
    let offset = ch05_run::logs::size(&path);
    for entry in ch05_run::logs::read(&path, tail)? {
        print_entry(&entry);
    }
    if args.follow {
        let running = || engine.state(&id).map(|s| s.is_running()).unwrap_or(false);
        ch05_run::logs::follow(&path, offset, running, print_entry)?;
    }
    Ok(0)
}

fn print_entry(entry: &ch05_run::logs::Entry) {
    let _ = match entry.stream {
        ch05_run::logs::Stream::Stdout => std::io::stdout()
            .write_all(entry.log.as_bytes())
            .and_then(|_| std::io::stdout().flush()),
        ch05_run::logs::Stream::Stderr => std::io::stderr().write_all(entry.log.as_bytes()),
    };
}

/// `inspect`: a JSON array, one object per container, with Docker's field names.
pub fn inspect_containers(root: &Path, names: &[String]) -> Result<Option<u8>> {
    let engine = Engine::new(root);
    let ids: Vec<String> = match names.iter().map(|n| engine.find(n)).collect::<Result<_>>() {
        Ok(ids) => ids,
        Err(_) => return Ok(None), // not containers: let the image inspect try
    };
    let mut all = Vec::new();
    for id in ids {
        let config = engine.config(&id)?;
        let state = engine.state(&id)?;
        all.push(ch05_run::inspect::describe(&engine, &config, &state));
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(Some(0))
}

// ---------------------------------------------------------------- exec

pub fn exec(root: &Path, args: ExecArgs) -> Result<u8> {
    let engine = Engine::new(root);
    let id = engine.find(&args.container)?;
    let state = engine.state(&id)?;
    let Some(pid) = state.pid.filter(|_| state.status == Status::Running) else {
        bail!("container {} is not running", short_id(&id));
    };
    let config = engine.config(&id)?;
    let env = ch05_run::env::collect(&[] as &[&Path], &args.env)?;
    let request = ch05_run::exec::ExecRequest {
        target: nix::unistd::Pid::from_raw(pid),
        argv: args.command,
        env,
        workdir: args.workdir,
        tty: args.tty,
        interactive: args.interactive,
    };
    let code = ch05_run::exec::run(&config, request).map_err(|e| match e
        .downcast_ref::<ch01_namespaces::SpawnError>()
    {
        Some(spawn) => with_code(anyhow!("{spawn}"), spawn.exit_code()),
        None => with_code(e, 126),
    })?;
    Ok(code as u8)
}

/// Used by `main` to turn an error into Docker's exit code.
pub fn exit_code_of(error: &anyhow::Error) -> Option<i32> {
    error.downcast_ref::<Coded>().map(|c| c.code)
}
