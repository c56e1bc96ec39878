//! The container commands, written once against the Engine API's
//! interface ([`Api`]): in-process or through a daemon, the same code.
//! Argument parsing and output only; the work is the chapters'.

use std::io::Write;
use std::time::SystemTime;

use anyhow::{anyhow, bail, Result};
use ch05_run::cli::{ContainerFlags, ImageAndCommand};
use ch09_engine::types::{ContainerCreateBody, ExecCreateBody, Filters};
use ch09_engine::{Api, ApiError, Attached, LogsOptions, Output, WaitCondition};
use clap::Args;

use crate::run_flags::{create_body, DaemonFlags, Extra};
use crate::{images, Coded};

/// Options shared by `run` and `create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    pub flags: ContainerFlags,
    #[command(flatten)]
    walls: ch08_security::WallFlags,
    /// Mount the container's root filesystem read-only.
    #[arg(long = "read-only")]
    read_only: bool,
    /// Run in a user namespace whose root is USER's unprivileged range from
    /// /etc/subuid and /etc/subgid ("default": the user mini-docker). A
    /// daemon setting in dockerd; without a daemon, this run's (or
    /// every run's, by the variable).
    #[arg(long = "userns-remap", value_name = "USER", num_args = 0..=1, require_equals = true,
          default_missing_value = "default", env = "MINI_DOCKER_USERNS_REMAP")]
    pub userns_remap: Option<String>,
    /// "host": no user namespace for this container, whatever --userns-remap says.
    #[arg(long, value_name = "MODE")]
    userns: Option<String>,
    #[command(flatten)]
    mounts: ch07_volumes::MountFlags,
    /// Connect the container to a network: bridge, none, host or a network's
    /// name; again for more networks (the first has the default route).
    #[arg(long, default_value = "bridge")]
    network: Vec<String>,
    /// Add a network-scoped alias for the container (on its first network).
    #[arg(long = "network-alias")]
    network_alias: Vec<String>,
    /// Publish a port: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp].
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    #[command(flatten)]
    daemon: DaemonFlags,
    #[command(flatten)]
    target: ImageAndCommand,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    pub create: CreateArgs,
}

impl RunArgs {
    pub fn uses_init(&self) -> bool {
        self.create.flags.init
    }
}

impl CreateArgs {
    /// `--userns`: only `host` exists.
    pub fn userns_host(&self) -> Result<bool> {
        match self.userns.as_deref() {
            None => Ok(false),
            Some("host") => Ok(true),
            Some(other) => bail!("invalid --userns {other:?}: the only mode is \"host\" (no user namespace for this container)"),
        }
    }

    fn body(&self) -> Result<ContainerCreateBody> {
        self.flags.check()?;
        let extra = Extra {
            walls: &self.walls,
            read_only: self.read_only,
            userns_host: self.userns_host()?,
            mounts: &self.mounts,
            network: &self.network,
            network_alias: &self.network_alias,
            publish: &self.publish,
            daemon: &self.daemon,
        };
        create_body(&self.flags, &self.target, &extra)
    }
}

/// An API error with the exit code `run` gives it (125 unless it has its own).
fn coded(error: ApiError, default: i32) -> anyhow::Error {
    let code = error.exit_code.unwrap_or(default);
    Coded { code, error: anyhow!("{}", error.message) }.into()
}

// ANCHOR: run
/// `run`: create (pulling the image on a 404, as `docker run` does), then
/// start attached — or detached with `-d` — and exit with the container's code.
pub fn run(api: &dyn Api, args: RunArgs) -> Result<u8> {
    let (id, how) = create_container(api, &args.create)?;
    if args.detach {
        api.container_start(&id).map_err(|e| coded(e, 125))?;
        println!("{id}");
        return Ok(0);
    }
    let code = api.container_run_attached(&id, how).map_err(|e| coded(e, 125))?;
    Ok(code as u8)
}
// ANCHOR_END: run

pub fn create(api: &dyn Api, args: CreateArgs) -> Result<u8> {
    println!("{}", create_container(api, &args)?.0);
    Ok(0)
}

/// The new container's id, and how it attaches (as its body asked).
fn create_container(api: &dyn Api, args: &CreateArgs) -> Result<(String, Attached)> {
    let body = args.body().map_err(|e| Coded { code: 125, error: e })?;
    let name = args.flags.name.as_deref();
    let created = match api.container_create(name, &body) {
        Err(error) if error.status == 404 && error.message.starts_with("No such image") => {
            let image = args.target.image();
            eprintln!("Unable to find image '{}' locally", images::familiar(image));
            images::pull_to(api, image, &mut std::io::stderr())
                .map_err(|e| Coded { code: 125, error: e })?;
            api.container_create(name, &body)
        }
        other => other,
    };
    let created = created.map_err(|e| coded(e, 125))?;
    for warning in created.warnings {
        eprintln!("WARNING: {warning}");
    }
    Ok((created.id, Attached::of(&body)))
}

/// Do `action` for each named container, print each name as Docker does,
/// and report errors one line each; exit 1 if any failed.
fn for_each(wanted: &[String], action: impl Fn(&str) -> Result<(), ApiError>) -> Result<u8> {
    let mut failed = false;
    for name in wanted {
        match action(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("mini-docker: {}", e.message);
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

pub fn start(api: &dyn Api, args: ch05_run::cli::StartArgs) -> Result<u8> {
    if args.attach {
        let [one] = args.containers.as_slice() else {
            bail!("you cannot start and attach multiple containers at once")
        };
        return Ok(api.container_start_attached(one).map_err(|e| coded(e, 1))? as u8);
    }
    for_each(&args.containers, |id| api.container_start(id))
}

pub fn stop(api: &dyn Api, args: ch05_run::cli::StopArgs) -> Result<u8> {
    for_each(&args.containers, |id| api.container_stop(id, Some(args.time)))
}

pub fn restart(api: &dyn Api, args: ch05_run::cli::StopArgs) -> Result<u8> {
    for_each(&args.containers, |id| api.container_restart(id, Some(args.time)))
}

pub fn kill(api: &dyn Api, args: ch05_run::cli::KillArgs) -> Result<u8> {
    ch05_run::cli::parse_signal(&args.signal)?;
    for_each(&args.containers, |id| api.container_kill(id, &args.signal))
}

pub fn rm(api: &dyn Api, args: ch05_run::cli::RmArgs) -> Result<u8> {
    for_each(&args.containers, |id| api.container_remove(id, args.force, args.volumes))
}

/// `pause` (`frozen`) and `unpause`: each name printed, as Docker does.
pub fn pause(api: &dyn Api, args: ch05_run::cli::ContainersArgs, frozen: bool) -> Result<u8> {
    for_each(&args.containers, |id| match frozen {
        true => api.container_pause(id),
        false => api.container_unpause(id),
    })
}

pub fn wait(api: &dyn Api, args: ch05_run::cli::ContainersArgs) -> Result<u8> {
    let mut failed = false;
    for wanted in &args.containers {
        match api.container_wait(wanted, WaitCondition::NotRunning) {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("mini-docker: {}", e.message);
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    all: bool,
    /// Only print ids.
    #[arg(short, long)]
    quiet: bool,
    /// Filter: name=, status=, label=, ancestor=, id=, network=.
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Don't truncate the ids.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Format the output: table, table TEMPLATE, json, or a Go template.
    #[arg(long)]
    format: Option<String>,
}

/// `KEY=VALUE` filters into the API's map.
pub fn parse_filter_flags(flags: &[String]) -> Result<Filters> {
    let mut filters = Filters::new();
    for flag in flags {
        let Some((key, value)) = flag.split_once('=') else {
            bail!("bad format of filter (expected name=value): {flag}");
        };
        filters.entry(key.to_string()).or_default().push(value.to_string());
    }
    Ok(filters)
}

pub fn ps(api: &dyn Api, args: PsArgs) -> Result<u8> {
    let filters = parse_filter_flags(&args.filter)?;
    let summaries = api.container_list(args.all, &filters).map_err(|e| anyhow!(e.message))?;
    let template = match (args.quiet, &args.format) {
        (true, _) => "{{.ID}}",
        (false, Some(format)) => format.as_str(),
        (false, None) => crate::ps::PS_TABLE,
    };
    let format = crate::format::Format::parse(template, crate::ps::PS_TABLE)?;
    let now = SystemTime::now();
    let rows: Vec<_> = summaries.iter().map(|s| crate::ps::row(s, now, args.no_trunc)).collect();
    print!("{}", format.render(&rows, crate::ps::PS_HEADERS)?);
    Ok(0)
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow the output.
    #[arg(short, long)]
    follow: bool,
    /// Number of lines from the end ("all" for every line).
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps.
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since a time: RFC 3339, unix seconds, or a duration like 10m.
    #[arg(long)]
    since: Option<String>,
    container: String,
}

pub fn logs(api: &dyn Api, args: LogsArgs) -> Result<u8> {
    let tail = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| anyhow!("invalid --tail {n:?}: give a number or \"all\""))?,
        ),
    };
    let options = LogsOptions {
        follow: args.follow,
        tail,
        since: args.since.as_deref().map(since_seconds).transpose()?,
        timestamps: args.timestamps,
        stdout: true,
        stderr: true,
    };
    let mut print = |stream: Output, bytes: &[u8]| {
        let _ = match stream {
            Output::Stdout => {
                std::io::stdout().write_all(bytes).and_then(|()| std::io::stdout().flush())
            }
            Output::Stderr => std::io::stderr().write_all(bytes),
        };
    };
    api.container_logs(&args.container, &options, &mut print).map_err(|e| anyhow!(e.message))?;
    Ok(0)
}

/// `--since`: unix seconds, RFC 3339, or a duration before now (`10m`).
pub(crate) fn since_seconds(text: &str) -> Result<i64> {
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds);
    }
    let now = SystemTime::now();
    let at = match humantime::parse_rfc3339_weak(text) {
        Ok(at) => at,
        Err(_) => {
            now - humantime::parse_duration(text)
                .map_err(|e| anyhow!("invalid --since {text:?}: {e}"))?
        }
    };
    Ok(at.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0))
}

pub fn exec(api: &dyn Api, args: ch05_run::cli::ExecArgs) -> Result<u8> {
    let body = ExecCreateBody {
        attach_stdin: args.interactive,
        attach_stdout: true,
        attach_stderr: true,
        tty: args.tty,
        env: Some(ch05_run::env::collect(&[] as &[&std::path::Path], &args.env)?),
        working_dir: args.workdir.clone().unwrap_or_default(),
        cmd: Some(args.target[1..].to_vec()),
        ..ExecCreateBody::default()
    };
    let code = api.container_exec(&args.target[0], &body).map_err(|e| coded(e, 1))?;
    Ok(code as u8)
}

pub fn attach(api: &dyn Api, container: &str) -> Result<u8> {
    Ok(api.container_attach(container).map_err(|e| coded(e, 1))? as u8)
}
