//! Chapter 5 demo: containers from the images chapter 4 stored, with
//! chapters 1–5 only — a network namespace with just `lo`, no bridge, no
//! iptables rule, no volumes, no seccomp.
//!
//! ```text
//! sudo ch04-image-pull pull 127.0.0.1:5000/busybox
//! sudo ch05-run run --rm 127.0.0.1:5000/busybox echo hello
//! sudo ch05-run run -d --name web 127.0.0.1:5000/busybox sh -c 'while true; do date; sleep 1; done'
//! sudo ch05-run ps; sudo ch05-run logs web; sudo ch05-run exec web ps; sudo ch05-run rm -f web
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use ch05_run::cli::{self, ContainerFlags, ImageAndCommand};
use ch05_run::image::local_image;
use ch05_run::Engine;
use clap::{Parser, Subcommand};

/// Run containers from the images chapter 4 stored: the lifecycle alone.
#[derive(Parser)]
#[command(name = "ch05-run", version)]
struct Args {
    /// The state root: images (chapter 4) and containers.
    #[arg(long, global = true, env = "MINI_DOCKER_ROOT", default_value = "/var/lib/mini-docker")]
    root: PathBuf,
    /// Print every privileged step with its shell equivalent.
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create and start a container.
    Run(RunArgs),
    /// Create a container without starting it.
    Create(CreateArgs),
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
    /// Show containers' details as JSON.
    Inspect(cli::ContainersArgs),
    /// Block until containers stop, then print their exit codes.
    Wait(cli::ContainersArgs),
    /// The exit command of a detached container's shim (not for people).
    #[command(hide = true)]
    InternalExited(cli::ExitedArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    create: CreateArgs,
}

#[derive(clap::Args)]
struct CreateArgs {
    #[command(flatten)]
    flags: ContainerFlags,
    #[command(flatten)]
    target: ImageAndCommand,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ch01_namespaces::explain::init(args.explain);
    let creates = matches!(args.command, Command::Run(_) | Command::Create(_));
    // Chapter 5's own extension: the container's view of its cgroup.
    // It answers `internal-exited`, so its detached supervisors become the shim.
    let engine =
        Engine::new(&args.root).with(ch05_run::cgroup_view::CgroupView).exiting_through_shim();
    match dispatch(&engine, args.command) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ch05-run: {error:#}");
            let default = if creates { 125 } else { 1 };
            ExitCode::from(cli::exit_code_of(&error).unwrap_or(default) as u8)
        }
    }
}

fn dispatch(engine: &Engine, command: Command) -> anyhow::Result<u8> {
    match command {
        Command::Run(run) => {
            let id = create(engine, &run.create)?;
            cli::run_created(engine, &id, run.detach)
        }
        Command::Create(args) => create(engine, &args).map(|id| println!("{id}")).map(|()| 0),
        Command::Start(args) => cli::start(engine, &args),
        Command::Stop(args) => cli::stop(engine, &args),
        Command::Restart(args) => cli::restart(engine, &args),
        Command::Kill(args) => cli::kill(engine, &args),
        Command::Rm(args) => cli::rm(engine, &args),
        Command::Ps(args) => cli::ps(engine, &args),
        Command::Logs(args) => cli::logs(engine, &args),
        Command::Exec(args) => cli::exec(engine, args),
        Command::Inspect(args) => cli::inspect(engine, &args.containers)?
            .ok_or_else(|| anyhow!("no such container: {}", args.containers.join(", "))),
        Command::Wait(args) => cli::wait(engine, &args),
        Command::InternalExited(args) => cli::exited(engine, &args),
    }
}

/// Chapter 5 runs only what chapter 4 stored: there is no pull here.
fn create(engine: &Engine, args: &CreateArgs) -> anyhow::Result<String> {
    let name = args.target.image();
    let image = local_image(&engine.root, name)
        .and_then(|found| {
            found.ok_or_else(|| {
                anyhow!("Unable to find image '{name}' locally: pull it first with `ch04-image-pull pull {name}`")
            })
        })
        .map_err(|e| cli::with_code(e, 125))?;
    let request = args.flags.request(&args.target, image).map_err(|e| cli::with_code(e, 125))?;
    cli::create(engine, &request)
}
