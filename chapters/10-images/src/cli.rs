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
use crate::push::{self, PushOptions, DEFAULT_CHUNK_SIZE};
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
/// `push NAME[:TAG]`: the progress, then `TAG: digest: sha256:… size: N`.
pub fn push(root: &Path, args: &PushArgs) -> Result<u8> {
    let reference = Reference::parse(&args.name)?;
    let store = Store::open(root)?;
    let options = PushOptions {
        registry: RegistryOptions {
            insecure: args.insecure.clone(),
            mirror: None,
            credential_files: auth::credential_files(root),
            credentials: None,
        },
        chunk_size: args.chunk_size.max(1),
    };
    println!("The push refers to repository [{}]", reference.name());
    let mut display = PushDisplay::for_stdout();
    let pushed = push::push(&store, &reference, &options, &mut |p| display.show(p))?;
    println!("{}: digest: {} size: {}", pushed.tag, pushed.digest, pushed.size);
    Ok(0)
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
