//! Chapter 10 demo: make images from containers, and send them on.
//!
//! ```text
//! sudo ch04-image-pull load -i busybox.tar
//! sudo ch10-images run --name box busybox sh -c 'echo hi > /hello; rm /etc/motd'
//! sudo ch10-images diff box
//! sudo ch10-images commit -m 'says hi' -c 'CMD ["cat", "/hello"]' box 127.0.0.1:5000/hello:1
//! sudo ch10-images history 127.0.0.1:5000/hello:1
//! sudo ch10-images push 127.0.0.1:5000/hello:1
//! sudo ch10-images save -o hello.tar 127.0.0.1:5000/hello:1
//! sudo ch10-images build -t hello:2 ./context
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::anyhow;
use ch05_run::cli::{self as run_cli, ContainerFlags, ImageAndCommand};
use ch05_run::image::local_image;
use ch05_run::Engine;
use ch09_engine::local::Settings;
use ch09_engine::Local;
use ch10_images::cli;
use ch10_images::commit::NoFreezer;
use clap::{Parser, Subcommand};

/// Make images from containers and Dockerfiles: diff, commit, export, history, push, save, build.
#[derive(Parser)]
#[command(name = "ch10-images", version)]
struct Args {
    /// The state root: images (chapter 4) and containers (chapter 5).
    #[arg(long, global = true, env = "MINI_DOCKER_ROOT", default_value = "/var/lib/mini-docker")]
    root: PathBuf,
    /// Print every step with its shell equivalent.
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(cli::DiffArgs),
    /// Create a new image from a container's changes.
    Commit(cli::CommitArgs),
    /// Export a container's filesystem as a tar archive.
    Export(cli::ExportArgs),
    /// Show the history of an image.
    History(cli::HistoryArgs),
    /// Upload an image to a registry.
    Push(cli::PushArgs),
    /// Save one or more images to a tar archive.
    Save(cli::SaveArgs),
    /// Build an image from a Dockerfile (the classic builder).
    Build(cli::BuildArgs),
    /// Create and run a container to make an image from (chapter 5).
    Run(Box<RunArgs>),
    /// List containers (chapter 5).
    Ps(run_cli::PsArgs),
    /// Remove containers (chapter 5).
    Rm(run_cli::RmArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    flags: ContainerFlags,
    #[command(flatten)]
    target: ImageAndCommand,
}

fn main() -> ExitCode {
    let args = Args::parse();
    ch01_namespaces::explain::init(args.explain);
    let engine = Engine::new(&args.root);
    let runs = matches!(args.command, Command::Run(_));
    let result = match args.command {
        Command::Diff(a) => cli::diff(&engine, &a),
        Command::Commit(a) => cli::commit(&engine, &a, &NoFreezer),
        Command::Export(a) => cli::export(&engine, &a),
        Command::History(a) => cli::history(&args.root, &a),
        Command::Push(a) => cli::push(&cli::in_process(&args.root, &a), &a),
        Command::Save(a) => cli::save(&args.root, &a),
        // The chapter's own engine: RUN steps get no network here (that
        // is chapter 6's, which `mini-docker build` composes in).
        Command::Build(a) => cli::build(&Local::new(engine.clone(), Settings::defaults()), &a),
        Command::Run(a) => run(&engine, &a),
        Command::Ps(a) => run_cli::ps(&engine, &a),
        Command::Rm(a) => run_cli::rm(&engine, &a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("ch10-images: {}", run_cli::one_line(&error));
            // Docker's CLI: 125 when `run` fails itself, 1 for the other verbs.
            let default = if runs { 125 } else { 1 };
            ExitCode::from(run_cli::exit_code_of(&error).unwrap_or(default) as u8)
        }
    }
}

/// `run`, as chapter 5's demo runs it: only what chapter 4 stored.
fn run(engine: &Engine, args: &RunArgs) -> anyhow::Result<u8> {
    let name = args.target.image();
    let image = local_image(&engine.root, name)
        .and_then(|found| found.ok_or_else(|| anyhow!("Unable to find image '{name}' locally")))
        .map_err(|e| run_cli::with_code(e, 125))?;
    let request =
        args.flags.request(&args.target, image).map_err(|e| run_cli::with_code(e, 125))?;
    let id = run_cli::create(engine, &request)?;
    run_cli::run_created(engine, &id, args.detach)
}
