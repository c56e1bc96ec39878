//! The command line of the image-making verbs — `diff`, `commit`,
//! `export`, `history`, `push`, `save` — with Docker's flags and output,
//! shared by this chapter's demo and the final `mini-docker`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::{anyhow, bail, Context, Result};
use ch04_image_pull::registry::RegistryOptions;
use ch04_image_pull::store::Store;
use ch04_image_pull::{auth, Reference};
use ch05_run::Engine;
use clap::{ArgAction, Args};

use crate::commit::{self, CommitOptions, Freezer};
use crate::display::PushDisplay;
use crate::history::{self, TableOptions};
use crate::push::{PushOptions, DEFAULT_CHUNK_SIZE};
use crate::push_stream::{progress_of, InProcess, PushTarget};
use crate::save;
use crate::tarball::TimePolicy;

#[derive(Args, Debug)]
pub struct DiffArgs {
    pub container: String,
}

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Author (e.g. "Jane Doe <jane@example.com>").
    #[arg(short, long)]
    pub author: Option<String>,
    /// Apply a Dockerfile instruction to the image's config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL).
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Pause the container while its layer is read (--pause=false not to).
    #[arg(short, long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG] for the new image.
    pub repository: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to a file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Sizes and dates in human-readable form (--human=false for raw numbers).
    /// (Docker's `-H` short form is left out: `mini-docker -H` names a daemon.)
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub human: bool,
    /// Do not truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub quiet: bool,
    pub image: String,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// A registry (host:port) that speaks plain HTTP; loopback always may.
    #[arg(long = "insecure-registry")]
    pub insecure: Vec<String>,
    /// Bytes per PATCH of a chunked upload; smaller blobs go in one PUT.
    #[arg(long, env = "MINI_DOCKER_PUSH_CHUNK_SIZE", default_value_t = DEFAULT_CHUNK_SIZE)]
    pub chunk_size: u64,
    /// NAME[:TAG]
    pub name: String,
}

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to a file instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `diff CONTAINER`: one `A`, `C` or `D` line per change.
pub fn diff(engine: &Engine, args: &DiffArgs) -> Result<u8> {
    let container = engine.config(&engine.find(&args.container)?)?;
    let changes = commit::container_fs(engine, &container)?.changes()?;
    let mut out = std::io::stdout().lock();
    for change in changes {
        writeln!(out, "{change}")?;
    }
    Ok(0)
}

// ANCHOR: commit_command
/// `commit`: prints the new image's id, as `docker commit` does.
pub fn commit(engine: &Engine, args: &CommitArgs, freezer: &dyn Freezer) -> Result<u8> {
    let tag = args.repository.as_deref().map(Reference::parse).transpose()?;
    if tag.as_ref().is_some_and(|t| t.digest.is_some()) {
        bail!("refusing to create a tag with a digest reference");
    }
    let options = CommitOptions {
        tag,
        author: args.author.clone(),
        message: args.message.clone(),
        changes: args.changes.clone(),
        config: None,
        pause: args.pause,
        times: TimePolicy::from_env(),
    };
    let store = Store::open(&engine.root)?;
    let image = commit::commit(engine, &store, &args.container, &options, freezer)?;
    println!("{}", image.id);
    Ok(0)
}
// ANCHOR_END: commit_command

/// `export CONTAINER`: its whole filesystem as a tar.
pub fn export(engine: &Engine, args: &ExportArgs) -> Result<u8> {
    let container = engine.config(&engine.find(&args.container)?)?;
    let fs = commit::container_fs(engine, &container)?;
    to_file_or_stdout(args.output.as_deref(), |out| Ok(fs.export(out).map(drop)?))?;
    Ok(0)
}

/// `history IMAGE`.
pub fn history(root: &Path, args: &HistoryArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let (id, _) =
        store.resolve(&args.image)?.ok_or_else(|| anyhow!("No such image: {}", args.image))?;
    let rows = history::history(&store, &id)?;
    let options = TableOptions { no_trunc: args.no_trunc, human: args.human, quiet: args.quiet };
    print!("{}", history::table(&rows, SystemTime::now(), options));
    Ok(0)
}

// ANCHOR: push_command
/// `push NAME[:TAG]`: the messages of a push — in this process or in a
/// daemon, the same — as `docker push` prints them: the progress of each
/// layer, then `TAG: digest: sha256:… size: N`.
pub fn push(target: &dyn PushTarget, args: &PushArgs) -> Result<u8> {
    let reference = Reference::parse(&args.name)?;
    if reference.digest.is_some() {
        bail!("cannot push a digest reference");
    }
    let last = args.name.rsplit('/').next().unwrap_or(&args.name);
    if !last.contains(':') {
        println!("Using default tag: latest");
    }
    let mut display = PushDisplay::for_stdout();
    let tag = reference.tag.as_deref();
    target.push(&reference.name(), tag, &mut |message| match progress_of(message) {
        Some(event) => display.show(&event),
        None => {
            if let Some(status) = message["status"].as_str() {
                println!("{status}");
            }
        }
    })?;
    Ok(0)
}
// ANCHOR_END: push_command

/// The push in this process: the registry settings of the flags, the
/// credentials of `login` (or Docker's config.json).
pub fn in_process(root: &Path, args: &PushArgs) -> InProcess {
    let registry = RegistryOptions {
        insecure: args.insecure.clone(),
        mirror: None,
        credential_files: auth::credential_files(root),
        credentials: None,
    };
    InProcess {
        root: root.to_path_buf(),
        options: PushOptions { registry, chunk_size: args.chunk_size.max(1) },
    }
}

// ANCHOR_END: push_command

/// `save IMAGE...`.
pub fn save(root: &Path, args: &SaveArgs) -> Result<u8> {
    let store = Store::open(root)?;
    let images = save::choose(&store, &args.images)?;
    to_file_or_stdout(args.output.as_deref(), |out| save::save(&store, &images, out))?;
    Ok(0)
}

/// Write a tar to `path` (under a temporary name, renamed when complete)
/// or to standard output — never to a terminal, as Docker refuses too.
pub fn to_file_or_stdout(
    path: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let Some(path) = path else {
        if std::io::stdout().is_terminal() {
            bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
        }
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        write(&mut out)?;
        return Ok(out.flush()?);
    };
    let name = path.file_name().ok_or_else(|| anyhow!("{}: not a file name", path.display()))?;
    let temp =
        path.with_file_name(format!(".{}.{}.partial", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let file =
            std::fs::File::create(&temp).with_context(|| format!("creating {}", temp.display()))?;
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&temp, path).with_context(|| format!("renaming into {}", path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Name and optionally a tag (name:tag); repeatable.
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: CONTEXT/Dockerfile).
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Set a build-time variable: KEY=VALUE, or KEY to take it from the environment.
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// The stage to build up to.
    #[arg(long)]
    pub target: Option<String>,
    /// Do not use the cache when building the image.
    #[arg(long)]
    pub no_cache: bool,
    /// Suppress the build output and print the image ID on success.
    #[arg(short, long)]
    pub quiet: bool,
    /// The build context: a directory.
    pub context: PathBuf,
}

impl BuildArgs {
    /// What the builder is asked, the Dockerfile read and the tags checked.
    pub fn options(&self) -> Result<crate::build::BuildOptions> {
        if !self.context.is_dir() {
            bail!(
                "unable to prepare context: path {:?} not found",
                self.context.display().to_string()
            );
        }
        let file = match &self.file {
            Some(file) => file.clone(),
            None => crate::build::default_dockerfile(&self.context),
        };
        let dockerfile = std::fs::read_to_string(&file).map_err(|e| {
            anyhow!("unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat {}: {e}", file.display())
        })?;
        let mut tags = Vec::new();
        for tag in &self.tags {
            let reference = Reference::parse(tag)
                .map_err(|e| anyhow!("invalid argument {tag:?} for \"-t, --tag\" flag: {e}"))?;
            if reference.digest.is_some() {
                bail!(
                    "invalid argument {tag:?} for \"-t, --tag\" flag: a tag cannot carry a digest"
                );
            }
            tags.push(reference);
        }
        let build_args = self
            .build_args
            .iter()
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (kv.clone(), None),
            })
            .collect();
        Ok(crate::build::BuildOptions {
            context: self.context.clone(),
            dockerfile,
            tags,
            build_args,
            target: self.target.clone(),
            no_cache: self.no_cache,
            times: TimePolicy::from_env(),
        })
    }
}

/// The builder's output on this terminal, as `docker build` prints the
/// classic builder's stream (nothing but the id with `-q`).
pub struct TerminalProgress {
    pub quiet: bool,
}

impl crate::build::Progress for TerminalProgress {
    fn stream(&mut self, text: &str) {
        if !self.quiet {
            print!("{text}");
            let _ = std::io::stdout().flush();
        }
    }

    fn output(&mut self, stderr: bool, bytes: &[u8]) {
        if self.quiet {
            return;
        }
        let mut out = std::io::stdout().lock();
        // dockerd sends a RUN's stderr in red; the CLI prints it as it comes.
        let red = stderr && out.is_terminal();
        let _ = out.write_all(if red { b"\x1b[91m" } else { b"" });
        let _ = out.write_all(bytes);
        let _ = out.write_all(if red { b"\x1b[0m" } else { b"" });
        let _ = out.flush();
    }
}

// ANCHOR: build_command
/// `build`: the steps as they go, then the id (`-q`: only the id).
pub fn build(local: &ch09_engine::Local, args: &BuildArgs) -> Result<u8> {
    let options = args.options()?;
    let mut progress = TerminalProgress { quiet: args.quiet };
    let built = crate::build::build(local, &options, &mut progress)?;
    if args.quiet {
        println!("{}", built.id);
    }
    Ok(0)
}
// ANCHOR_END: build_command

/// `builder prune [-a] [-f]`: the build cache (the steps' images that no
/// tag or container stands on). `-a` and `-f` are Docker's; the classic
/// builder's cache has one kind, and mini-docker does not ask.
#[derive(Args, Debug)]
pub struct BuilderPruneArgs {
    /// Remove all unused build cache (there is one kind: the same).
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation (mini-docker never asks).
    #[arg(short, long)]
    pub force: bool,
}

// ANCHOR: builder_prune
/// Print what a prune removed, as `docker builder prune` does; `prune` is
/// the engine in this process or a daemon's `POST /build/prune`.
pub fn builder_prune(prune: impl FnOnce() -> Result<crate::build::prune::Pruned>) -> Result<u8> {
    let pruned = prune()?;
    if !pruned.deleted.is_empty() {
        println!("Deleted build cache objects:");
        for id in &pruned.deleted {
            println!("{}", id.trim_start_matches("sha256:"));
        }
    }
    println!("Total reclaimed space: {}", history::human_size(pruned.reclaimed));
    Ok(0)
}
// ANCHOR_END: builder_prune

/// The prune in this process: the store under `root`, and its containers' images.
pub fn prune_here(root: &Path) -> Result<crate::build::prune::Pruned> {
    let store = Store::open(root)?;
    let in_use = ch09_engine::local::objects::images::images_in_use(root);
    crate::build::prune::prune(&store, &in_use)
}
