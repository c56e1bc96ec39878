//! mini-docker: the Docker CLI's verbs, made of the book's chapters.
//!
//! This crate is glue only: parsing the command line and calling the
//! chapters. No container mechanism lives here.

mod compose;
mod containers;
mod doctor;
mod images;
mod networks;
mod volumes;

use std::path::PathBuf;
use std::process::ExitCode;

use ch05_run::cli;
use clap::{Parser, Subcommand};

/// An educational container engine: every step is a chapter of the book.
#[derive(Parser)]
#[command(name = "mini-docker", version, about, propagate_version = true)]
struct Cli {
    /// Where images, containers and volumes are kept.
    #[arg(long, global = true, env = "MINI_DOCKER_ROOT", default_value = "/var/lib/mini-docker")]
    root: PathBuf,
    /// Print every privileged step with the equivalent shell command and the
    /// book section that explains it (also: MINI_DOCKER_EXPLAIN=1).
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check what this host offers for containers, and what to do where
    /// something is missing.
    Doctor,
    /// Download an image from a registry.
    Pull(images::PullArgs),
    /// List images.
    Images,
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
    Ps(cli::PsArgs),
    /// Show a container's output.
    Logs(cli::LogsArgs),
    /// Run a command in a running container.
    Exec(cli::ExecArgs),
    /// Block until containers stop, then print their exit codes.
    Wait(cli::ContainersArgs),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(networks::NetworkCommand),
}

// ANCHOR: needs_sealed_copy
/// CVE-2019-5736 needs a process inside the container that can reach our
/// binary through `/proc/<pid>/exe`. `exec` joins a PID namespace that is
/// already populated, and `--init` keeps our binary as the container's
/// PID 1: those run from a sealed copy. A plain `run` needs none: its child
/// is alone in a new PID namespace until it execs the container's program.
fn needs_sealed_copy(root: &std::path::Path, command: &Command) -> bool {
    match command {
        Command::Exec(_) => true,
        Command::Run(args) => args.uses_init(),
        Command::Start(args) => containers::any_uses_init(root, &args.containers),
        Command::Restart(args) => containers::any_uses_init(root, &args.containers),
        _ => false,
    }
}
// ANCHOR_END: needs_sealed_copy

fn main() -> ExitCode {
    let cli = Cli::parse();
    ch01_namespaces::explain::init(cli.explain);
    let uid = nix::unistd::geteuid();
    if !uid.is_root()
        && matches!(
            cli.command,
            Command::Run(_)
                | Command::Create(_)
                | Command::Start(_)
                | Command::Restart(_)
                | Command::Exec(_)
        )
    {
        eprintln!("mini-docker: {}", ch08_security::userns::rootless_refusal(uid.as_raw()));
        return ExitCode::from(125);
    }
    if needs_sealed_copy(&cli.root, &cli.command) {
        if let Err(error) = ch08_security::seal::reexec_sealed() {
            eprintln!("mini-docker: {error}");
            return ExitCode::from(125);
        }
    }
    // Docker's CLI: 125 when `run`/`create` fail themselves, 1 for other commands.
    let default_code =
        if matches!(cli.command, Command::Run(_) | Command::Create(_)) { 125 } else { 1 };
    let engine = || compose::engine(&cli.root);
    let result = match cli.command {
        Command::Doctor => doctor::run(),
        Command::Pull(args) => images::pull(&cli.root, args),
        Command::Images => images::images(&cli.root),
        Command::Rmi(args) => images::rmi(&cli.root, args),
        Command::Inspect(args) => match cli::inspect(&engine(), args.names()) {
            Ok(Some(code)) => Ok(code),
            Ok(None) => images::inspect(&cli.root, args),
            Err(e) => Err(e),
        },
        Command::Load(args) => images::load(&cli.root, args),
        Command::Tag(args) => images::tag(&cli.root, args),
        Command::Login(args) => images::login(&cli.root, args),
        Command::Run(args) => containers::run(&cli.root, args),
        Command::Create(args) => containers::create(&cli.root, args),
        Command::Start(args) => cli::start(&engine(), &args),
        Command::Stop(args) => cli::stop(&engine(), &args),
        Command::Restart(args) => cli::restart(&engine(), &args),
        Command::Kill(args) => cli::kill(&engine(), &args),
        Command::Rm(args) => cli::rm(&engine(), &args),
        Command::Ps(args) => cli::ps(&engine(), &args),
        Command::Logs(args) => cli::logs(&engine(), &args),
        Command::Exec(args) => cli::exec(&engine(), args),
        Command::Wait(args) => cli::wait(&engine(), &args),
        Command::Volume(command) => volumes::run(&cli.root, command),
        Command::Network(command) => networks::run(&cli.root, command),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mini-docker: {error:#}");
            ExitCode::from(cli::exit_code_of(&error).unwrap_or(default_code) as u8)
        }
    }
}
