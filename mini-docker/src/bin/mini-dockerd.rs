//! mini-dockerd: the engine as a daemon behind the Docker Engine API, as
//! dockerd is — its flags are dockerd's where they exist.
//!
//! ```text
//! sudo mini-dockerd --data-root /var/lib/mini-docker -H unix:///run/mini-docker.sock
//! docker -H unix:///run/mini-docker.sock run --rm busybox echo hello
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ch09_engine::local::spawner::Spawner;
use ch09_engine::local::Settings;
use ch09_engine::server::{self, Host};
use clap::{Parser, Subcommand};
use mini_docker::compose;

/// The mini-docker daemon: the Docker Engine API on a unix socket.
#[derive(Parser)]
#[command(name = "mini-dockerd", version)]
struct Args {
    /// Where to listen: unix:///PATH or tcp://127.0.0.1:PORT (repeatable).
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Where images, containers, networks and volumes are kept.
    #[arg(
        long = "data-root",
        alias = "root",
        env = "MINI_DOCKER_ROOT",
        default_value = "/var/lib/mini-docker"
    )]
    data_root: PathBuf,
    /// The cgroup parent of containers that do not name one.
    #[arg(long = "cgroup-parent", env = "MINI_DOCKER_CGROUP_PARENT")]
    cgroup_parent: Option<String>,
    /// A registry (host:port) that speaks plain HTTP (repeatable).
    #[arg(long = "insecure-registry")]
    insecure_registries: Vec<String>,
    /// A mirror for Docker Hub (URL or host:port).
    #[arg(long = "registry-mirror", env = "MINI_DOCKER_REGISTRY_MIRROR")]
    registry_mirror: Option<String>,
    /// Run every container in a user namespace of USER's subordinate ranges
    /// ("default": the user mini-docker), as dockerd's --userns-remap.
    #[arg(long = "userns-remap", value_name = "USER")]
    userns_remap: Option<String>,
    /// The group that may use the unix socket (default: root's own).
    #[arg(short = 'G', long)]
    group: Option<String>,
    /// overlay or vfs (default: overlay where the kernel has it).
    #[arg(long = "storage-driver", env = "MINI_DOCKER_STORAGE_DRIVER")]
    storage_driver: Option<String>,
    /// Print every privileged step, as mini-docker --explain does.
    #[arg(long)]
    explain: bool,
    #[command(subcommand)]
    internal: Option<Internal>,
}

// The variants name the hidden subcommands: internal-start, internal-exec…
#[allow(clippy::enum_variant_names)]
#[derive(Subcommand)]
enum Internal {
    /// Start a container from a process of its own (the daemon has threads).
    #[command(hide = true)]
    InternalStart {
        #[arg(long)]
        wait_for_attach: bool,
        id: String,
    },
    /// Run an exec of a container, its stdio the daemon's pipes.
    #[command(hide = true)]
    InternalExec {
        #[arg(long)]
        body: String,
        id: String,
    },
    /// The exit command of a detached container's shim.
    #[command(hide = true)]
    InternalExited(ch05_run::cli::ExitedArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    ch01_namespaces::explain::init(args.explain);
    if let Some(Internal::InternalStart { wait_for_attach, ref id }) = args.internal {
        // The daemon reads our stderr as the start's error and our exit code as its code.
        return match compose::internal_start(&args.data_root, id, wait_for_attach) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => told(&error, 125),
        };
    }
    if let Some(Internal::InternalExec { ref body, ref id }) = args.internal {
        return match compose::internal_exec(&args.data_root, id, body) {
            Ok(code) => ExitCode::from(code as u8),
            Err(error) => told(&error, 126),
        };
    }
    if let Some(Internal::InternalExited(ref exited)) = args.internal {
        let engine = compose::engine(&args.data_root);
        return match ch05_run::cli::exited(&engine, exited) {
            Ok(_) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("mini-dockerd: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    let result = run(&args);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let code = ch05_run::cli::exit_code_of(&error)
                .or_else(|| error.downcast_ref::<ch05_run::StartFailed>().map(|f| f.exit_code))
                .unwrap_or(1);
            eprintln!("mini-dockerd: {error:#}");
            ExitCode::from(code as u8)
        }
    }
}

/// An internal command's failure, as the daemon reads it: the line on
/// stderr, the code as the exit status.
fn told(error: &anyhow::Error, otherwise: i32) -> ExitCode {
    let (code, line) = ch05_run::cli::code_and_line(error, otherwise);
    eprintln!("{line}");
    ExitCode::from(code as u8)
}

// ANCHOR: run
fn run(args: &Args) -> anyhow::Result<()> {
    if !nix::unistd::geteuid().is_root() {
        anyhow::bail!("needs root: run with sudo");
    }
    let hosts = match args.hosts.is_empty() {
        true => vec![Host::parse(server::listen::DEFAULT_HOST)?],
        false => args.hosts.iter().map(|h| Host::parse(h)).collect::<Result<_, _>>()?,
    };
    for host in &hosts {
        if let Host::Tcp(address) = host {
            eprintln!("WARNING: listening on tcp://{address} without TLS: anyone who can reach it is root on this host");
        }
    }
    let group = args.group.as_deref().map(server::listen::group_id).transpose()?;
    std::fs::create_dir_all(&args.data_root)?;
    let mut settings = settings(args)?;
    // Forked now, while this process has one thread (ch09's `spawner`).
    let spawner = Spawner::fork(args.data_root.clone(), compose::internal_start)?;
    settings.spawner = Some(std::sync::Arc::new(spawner));
    let daemon = compose::daemon(&args.data_root, settings);
    // Said once every socket is bound: a script may connect from here on.
    let ready = || {
        let (version, on) = (ch09_engine::system::API_VERSION, describe(&hosts));
        eprintln!("mini-dockerd: serving the Engine API (version {version}) on {on}");
    };
    server::serve(daemon, &hosts, group, ready)
}
// ANCHOR_END: run

fn settings(args: &Args) -> anyhow::Result<Settings> {
    let mut settings = Settings::defaults();
    if let Some(parent) = &args.cgroup_parent {
        settings.cgroup_parent = parent.clone();
    }
    if let Some(driver) = &args.storage_driver {
        settings.driver = driver.parse().map_err(anyhow::Error::msg)?;
    }
    settings.insecure_registries = args.insecure_registries.clone();
    settings.registry_mirror = args.registry_mirror.clone();
    settings.userns_remap = args.userns_remap.as_deref().map(compose::lookup_remap).transpose()?;
    settings.start_helper = Some(std::env::current_exe()?);
    Ok(settings)
}

fn describe(hosts: &[Host]) -> String {
    let each = hosts.iter().map(|host| match host {
        Host::Unix(path) => format!("unix://{}", path.display()),
        Host::Tcp(address) => format!("tcp://{address}"),
    });
    each.collect::<Vec<_>>().join(", ")
}
