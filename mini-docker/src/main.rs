//! mini-docker: the Docker CLI's verbs, made of the book's chapters.
//!
//! This crate is glue only: parsing the command line and calling the
//! chapters. No container mechanism lives here.

mod doctor;
mod images;

use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Show an image's details as JSON.
    Inspect(images::InspectArgs),
    /// Load images from a `docker save` tarball or an OCI layout.
    Load(images::LoadArgs),
    /// Create a tag TARGET that refers to SOURCE.
    Tag(images::TagArgs),
    /// Log in to a registry.
    Login(images::LoginArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    ch01_namespaces::explain::init(cli.explain);
    let result = match cli.command {
        Command::Doctor => doctor::run(),
        Command::Pull(args) => images::pull(&cli.root, args),
        Command::Images => images::images(&cli.root),
        Command::Rmi(args) => images::rmi(&cli.root, args),
        Command::Inspect(args) => images::inspect(&cli.root, args),
        Command::Load(args) => images::load(&cli.root, args),
        Command::Tag(args) => images::tag(&cli.root, args),
        Command::Login(args) => images::login(&cli.root, args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("mini-docker: {error:#}");
            ExitCode::from(125)
        }
    }
}
