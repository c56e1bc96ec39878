//! mini-docker: the Docker CLI's verbs, made of the book's chapters.
//!
//! This crate is glue only: parsing the command line and calling the
//! chapters — in this process, or through a daemon (`-H`, `DOCKER_HOST`,
//! `MINI_DOCKER_HOST`), with the same code for both.

mod container_cmd;
mod containers;
mod doctor;
mod format;
mod images;
mod making;
mod manage;
mod networks;
mod ps;
mod run_flags;
mod system;
mod volumes;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ch05_run::cli;
use ch09_engine::local::Settings;
use ch09_engine::Api;
use clap::{Parser, Subcommand};
use mini_docker::compose;

/// An educational container engine: every step is a chapter of the book.
#[derive(Parser)]
#[command(name = "mini-docker", version, about, propagate_version = true)]
struct Cli {
    /// Where images, containers and volumes are kept.
    #[arg(long, global = true, env = "MINI_DOCKER_ROOT", default_value = "/var/lib/mini-docker")]
    root: PathBuf,
    /// The daemon to talk to (unix:///run/mini-docker.sock, tcp://127.0.0.1:2375);
    /// without one, the engine runs in this process.
    #[arg(short = 'H', long = "host", global = true, env = "MINI_DOCKER_HOST")]
    host: Option<String>,
    /// Print every privileged step with the equivalent shell command and the
    /// book section that explains it (also: MINI_DOCKER_EXPLAIN=1).
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

// ANCHOR: defer
/// Every verb's flags are built only when that verb is used (`defer`):
/// building all of them — `run` alone has about fifty — took 1 ms of our
/// 2.3 ms of start-up, before any container work (chapter 5, "How fast is it?").
#[derive(Subcommand)]
#[command(defer = true)]
enum Command {
    /// Check what this host offers for containers, and what to do where
    /// something is missing.
    Doctor,
    /// Show the version of the engine (and of the daemon, with -H).
    Version,
    // ANCHOR_END: defer
    /// Show what the engine holds and how it is set up.
    Info,
    /// Download an image from a registry.
    Pull(images::PullArgs),
    /// List images.
    Images(images::ImagesArgs),
    /// Remove one or more images.
    Rmi(images::RmiArgs),
    /// Show a container's or an image's details as JSON.
    Inspect(images::InspectArgs),
    /// Load images from a `docker save` tarball or an OCI layout.
    Load(images::LoadArgs),
    /// Create a tag TARGET that refers to SOURCE.
    Tag(images::TagArgs),
    /// Log in to a registry.
    Login(images::LoginArgs),
    /// Create and start a container from an image.
    Run(containers::RunArgs),
    /// Create a container without starting it.
    Create(containers::CreateArgs),
    /// Start stopped containers.
    Start(cli::StartArgs),
    /// Stop running containers: SIGTERM, then SIGKILL after a grace period.
    Stop(cli::StopArgs),
    /// Stop, then start containers.
    Restart(cli::StopArgs),
    /// Send a signal to running containers.
    Kill(cli::KillArgs),
    /// Remove containers.
    Rm(cli::RmArgs),
    /// List containers.
    Ps(containers::PsArgs),
    /// Show a container's output.
    Logs(containers::LogsArgs),
    /// Run a command in a running container.
    Exec(cli::ExecArgs),
    /// Attach this terminal to a running container.
    Attach { container: String },
    /// Block until containers stop, then print their exit codes.
    Wait(cli::ContainersArgs),
    /// Show the daemon's events, as they happen (or in a window: --since, --until).
    Events(manage::EventsArgs),
    /// Show the processes of a container.
    Top(manage::TopArgs),
    /// Show containers' resource usage (--no-stream: one sample).
    Stats(manage::StatsArgs),
    /// Show a container's published ports.
    Port(manage::PortArgs),
    /// Rename a container.
    Rename(manage::RenameArgs),
    /// Change the limits or restart policy of containers, running or not.
    Update(manage::UpdateArgs),
    /// Copy files between a container and the host.
    Cp(manage::CpArgs),
    /// Manage containers (`container ls`, `container rm`, `container prune`, …).
    #[command(subcommand)]
    Container(container_cmd::ContainerCommand),
    /// `container prune` (its only form).
    #[command(hide = true)]
    ContainerPrune(manage::PruneArgs),
    /// Pause all processes within one or more containers.
    Pause(cli::ContainersArgs),
    /// Unpause all processes within one or more containers.
    Unpause(cli::ContainersArgs),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(networks::NetworkCommand),
    /// Manage images.
    #[command(subcommand)]
    Image(system::ImageCommand),
    /// Manage the engine: disk usage, prune, info.
    #[command(subcommand)]
    System(system::SystemCommand),
    /// What a daemon runs to start a container (not for people).
    #[command(hide = true)]
    InternalStart {
        #[arg(long)]
        wait_for_attach: bool,
        id: String,
    },
    /// The exit command of a detached container's shim (not for people).
    #[command(hide = true)]
    InternalExited(cli::ExitedArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(making::DiffArgs),
    /// Create a new image from a container's changes.
    Commit(making::CommitArgs),
    /// Export a container's filesystem as a tar archive.
    Export(making::ExportArgs),
    /// Show the history of an image.
    History(making::HistoryArgs),
    /// Upload an image to a registry.
    Push(making::PushArgs),
    /// Save one or more images to a tar archive.
    Save(making::SaveArgs),
    /// Manage the swarm (a daemon's swarm mode, chapter 11).
    #[cfg(feature = "api")]
    #[command(subcommand)]
    Swarm(ch11_services::cli::SwarmCommand),
    /// Manage the swarm's nodes.
    #[cfg(feature = "api")]
    #[command(subcommand)]
    Node(ch11_services::cli::NodeCommand),
    /// Manage services.
    #[cfg(feature = "api")]
    #[command(subcommand)]
    Service(ch11_services::cli::ServiceCommand),
    /// Build an image from a Dockerfile (the classic builder).
    Build(making::BuildArgs),
    /// Manage builds (`builder prune`: the build cache).
    #[command(subcommand)]
    Builder(making::BuilderCommand),
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

// ANCHOR: needs_sealed_copy
/// CVE-2019-5736 needs a process inside the container that can reach our
/// binary through `/proc/<pid>/exe`. `exec` joins a PID namespace that is
/// already populated, and `--init` keeps our binary as the container's
/// PID 1: those run from a sealed copy. A plain `run` needs none: its child
/// is alone in a new PID namespace until it execs the container's program.
fn needs_sealed_copy(cli: &Cli) -> bool {
    if cli.host.is_some() {
        return false; // the daemon starts the containers
    }
    let uses_init = |names: &[String]| {
        let engine = compose::engine(&cli.root);
        names.iter().any(|n| engine.find(n).and_then(|id| engine.config(&id)).is_ok_and(|c| c.init))
    };
    match &cli.command {
        Command::Exec(_) => true,
        Command::Run(args) => args.uses_init(),
        Command::Start(args) => uses_init(&args.containers),
        Command::Restart(args) => uses_init(&args.containers),
        _ => false,
    }
}
// ANCHOR_END: needs_sealed_copy

// ANCHOR: client
/// The engine to talk to: a daemon when one is named, this process otherwise.
fn client(root: &Path, host: Option<&str>, remap: Option<&str>) -> anyhow::Result<Box<dyn Api>> {
    let host = host.map(str::to_string).or_else(|| std::env::var("DOCKER_HOST").ok());
    let host = host.filter(|h| !h.is_empty());
    if let Some(host) = host {
        return remote(&host, remap);
    }
    let mut settings = Settings::defaults();
    settings.driver = match std::env::var("MINI_DOCKER_STORAGE_DRIVER") {
        Ok(name) => name.parse().map_err(anyhow::Error::msg)?,
        Err(_) => settings.driver,
    };
    settings.registry_mirror = std::env::var("MINI_DOCKER_REGISTRY_MIRROR").ok();
    // dockerd's --insecure-registry, for the engine in this process.
    settings.insecure_registries = std::env::var("MINI_DOCKER_INSECURE_REGISTRY")
        .map(|list| list.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    settings.userns_remap = remap.map(compose::lookup_remap).transpose()?;
    Ok(Box::new(compose::local(root, settings)))
}

// ANCHOR_END: client

#[cfg(feature = "api")]
fn remote(host: &str, remap: Option<&str>) -> anyhow::Result<Box<dyn Api>> {
    let host = ch09_engine::server::Host::parse(host)?;
    let remote = ch09_engine::Remote::new(host)?;
    if let Some(user) = remap {
        daemon_remaps_as(&remote, user)?;
    }
    Ok(Box::new(remote))
}

// ANCHOR: daemon_remaps
/// `--userns-remap` is a daemon setting, as in dockerd: asked of a daemon,
/// it is a check that the daemon remaps its containers, to `user`'s range.
#[cfg(feature = "api")]
fn daemon_remaps_as(remote: &dyn Api, user: &str) -> anyhow::Result<()> {
    let info = remote.info().map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let remapped = info["UsernsRemap"]["User"].as_str();
    let wanted = if user == "default" { ch08_security::userns::DEFAULT_REMAP_USER } else { user };
    match remapped {
        Some(daemons) if daemons == wanted => Ok(()),
        Some(daemons) => anyhow::bail!("--userns-remap {user}: the daemon remaps every container to {daemons}'s range, not {wanted}'s"),
        None => anyhow::bail!("--userns-remap is a daemon setting: start mini-dockerd with --userns-remap"),
    }
}
// ANCHOR_END: daemon_remaps

#[cfg(not(feature = "api"))]
fn remote(_: &str, _: Option<&str>) -> anyhow::Result<Box<dyn Api>> {
    anyhow::bail!("this mini-docker was built without the API client (feature \"api\"): build it with `cargo build -p mini-docker`")
}

// ANCHOR: swarm_verb
/// `swarm`, `node`, `service`: swarm mode lives in a daemon, so these talk
/// to one (`-H`, `DOCKER_HOST`, or the default socket).
#[cfg(feature = "api")]
fn swarm_verb(
    host: Option<String>,
    verb: impl FnOnce(&ch09_engine::Remote) -> Result<(), ch09_engine::ApiError>,
) -> anyhow::Result<u8> {
    let host = host.or_else(|| std::env::var("DOCKER_HOST").ok()).filter(|h| !h.is_empty());
    let host = host.unwrap_or_else(|| ch09_engine::server::listen::DEFAULT_HOST.to_string());
    let remote = ch09_engine::Remote::new(ch09_engine::server::Host::parse(&host)?)?;
    verb(&remote).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    Ok(0)
}
// ANCHOR_END: swarm_verb

fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if let Command::Container(command) = cli.command {
        cli.command = command.into_command();
    }
    ch01_namespaces::explain::init(cli.explain);
    let starts = matches!(
        cli.command,
        Command::Run(_)
            | Command::Create(_)
            | Command::Start(_)
            | Command::Restart(_)
            | Command::Exec(_)
            | Command::Build(_)
    );
    let uid = nix::unistd::geteuid();
    if !uid.is_root() && starts && cli.host.is_none() {
        eprintln!("mini-docker: {}", ch08_security::userns::rootless_refusal(uid.as_raw()));
        return ExitCode::from(125);
    }
    if needs_sealed_copy(&cli) {
        if let Err(error) = ch08_security::seal::reexec_sealed() {
            eprintln!("mini-docker: {error}");
            return ExitCode::from(125);
        }
    }
    // Docker's CLI: 125 when `run`/`create` fail themselves, 1 for other commands.
    let default_code =
        if matches!(cli.command, Command::Run(_) | Command::Create(_)) { 125 } else { 1 };
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mini-docker: {error:#}");
            let code =
                error.downcast_ref::<Coded>().map(|c| c.code).or_else(|| cli::exit_code_of(&error));
            ExitCode::from(code.unwrap_or(default_code) as u8)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    let Cli { root, host, command, .. } = cli;
    let remap = match &command {
        Command::Run(args) if !args.create.userns_host()? => args.create.userns_remap.clone(),
        Command::Create(args) if !args.userns_host()? => args.userns_remap.clone(),
        _ => None,
    };
    let remap = remap.filter(|r| !r.is_empty());
    let api = || client(&root, host.as_deref(), remap.as_deref());
    match command {
        Command::Doctor => doctor::run(),
        Command::Version => images::version(api()?.as_ref()),
        Command::Info => images::info(api()?.as_ref()),
        Command::Pull(args) => images::pull(api()?.as_ref(), &root, &args),
        Command::Images(args) => images::images(api()?.as_ref(), args),
        Command::Rmi(args) => images::rmi(api()?.as_ref(), args),
        Command::Inspect(args) => images::inspect_any(api()?.as_ref(), args),
        Command::Load(args) => images::load(api()?.as_ref(), args),
        Command::Tag(args) => images::tag(api()?.as_ref(), args),
        Command::Login(args) => images::login(&root, args),
        Command::Run(args) => containers::run(api()?.as_ref(), args),
        Command::Create(args) => containers::create(api()?.as_ref(), args),
        Command::Start(args) => containers::start(api()?.as_ref(), args),
        Command::Stop(args) => containers::stop(api()?.as_ref(), args),
        Command::Restart(args) => containers::restart(api()?.as_ref(), args),
        Command::Kill(args) => containers::kill(api()?.as_ref(), args),
        Command::Rm(args) => containers::rm(api()?.as_ref(), args),
        Command::Ps(args) => containers::ps(api()?.as_ref(), args),
        Command::Logs(args) => containers::logs(api()?.as_ref(), args),
        Command::Exec(args) => containers::exec(api()?.as_ref(), args),
        Command::Attach { container } => containers::attach(api()?.as_ref(), &container),
        Command::Wait(args) => containers::wait(api()?.as_ref(), args),
        Command::Volume(command) => volumes::run(api()?.as_ref(), command),
        Command::Network(command) => networks::run(api()?.as_ref(), command),
        Command::Image(command) => system::image(api()?.as_ref(), &root, command),
        Command::System(command) => system::system(api()?.as_ref(), command),
        Command::Events(args) => manage::events(api()?.as_ref(), args),
        Command::Top(args) => manage::top(api()?.as_ref(), args),
        Command::Stats(args) => manage::stats(api()?.as_ref(), &api, args),
        Command::Port(args) => manage::port(api()?.as_ref(), args),
        Command::Rename(args) => manage::rename(api()?.as_ref(), args),
        Command::Update(args) => manage::update(api()?.as_ref(), args),
        Command::Cp(args) => manage::cp(api()?.as_ref(), args),
        Command::ContainerPrune(args) => manage::prune(api()?.as_ref(), args),
        Command::Container(_) => unreachable!("main turns it into its short form"),
        Command::Pause(args) => containers::pause(api()?.as_ref(), args, true),
        Command::Unpause(args) => containers::pause(api()?.as_ref(), args, false),
        Command::Diff(args) => making::diff(&root, host.as_deref(), &args),
        Command::Commit(args) => making::commit(&root, host.as_deref(), &args),
        Command::Export(args) => making::export(&root, host.as_deref(), &args),
        Command::History(args) => making::history(api()?.as_ref(), &args),
        Command::Push(args) => making::push(&root, host.as_deref(), &args),
        Command::Save(args) => making::save(api()?.as_ref(), &args),
        #[cfg(feature = "api")]
        Command::Swarm(command) => swarm_verb(host, |api| ch11_services::cli::swarm(api, command)),
        #[cfg(feature = "api")]
        Command::Node(command) => swarm_verb(host, |api| ch11_services::cli::node(api, command)),
        #[cfg(feature = "api")]
        Command::Service(command) => {
            swarm_verb(host, |api| ch11_services::cli::service(api, command))
        }
        Command::Build(args) => making::build(&root, host.as_deref(), &args),
        Command::Builder(command) => making::builder(&root, host.as_deref(), command),
        Command::InternalStart { wait_for_attach, id } => {
            compose::internal_start(&root, &id, wait_for_attach).map(|()| 0)
        }
        Command::InternalExited(args) => cli::exited(&compose::engine(&root), &args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// With `defer`, clap checks a verb's flags only when it builds that
    /// verb: building them all here checks every one of them.
    #[test]
    fn every_verb_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn the_help_lists_the_deferred_verbs() {
        let help = Cli::command().render_help().to_string();
        assert!(help.contains("Create and start a container from an image"), "{help}");
        assert!(help.contains("Manage containers"), "{help}");
    }

    #[test]
    fn a_deferred_verb_parses_its_flags() {
        let cli = Cli::try_parse_from([
            "mini-docker",
            "run",
            "--rm",
            "-e",
            "A=1",
            "busybox",
            "sh",
            "-c",
            "true",
        ]);
        assert!(matches!(cli.expect("run parses").command, Command::Run(_)));
        let nested = Cli::try_parse_from(["mini-docker", "container", "ls", "-a"]);
        assert!(nested.is_ok(), "container ls -a parses");
        let wrong = Cli::try_parse_from(["mini-docker", "run", "--bogus", "busybox"]);
        assert!(wrong.is_err(), "an unknown flag of a deferred verb is refused");
    }
}
