//! Chapter 4 demo: pull an image into a store, or unpack one layer tar.
//!
//! ```text
//! sudo ch04-image-pull --root /tmp/store pull 127.0.0.1:5000/busybox
//! sudo ch04-image-pull unpack layer.tar.gz /tmp/layer
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use ch01_namespaces::explain;
use ch04_image_pull::platform::Platform;
use ch04_image_pull::progress::Display;
use ch04_image_pull::registry::RegistryOptions;
use ch04_image_pull::store::Store;
use ch04_image_pull::{auth, digest, load, pull, unpack, Reference};
use clap::{Parser, Subcommand};

/// Pull images from a registry into a verified store; unpack layers safely.
#[derive(Parser)]
#[command(name = "ch04-image-pull", version)]
struct Args {
    /// The state root: blobs/, layers/, images/.
    #[arg(long, env = "MINI_DOCKER_ROOT", default_value = "/var/lib/mini-docker")]
    root: PathBuf,
    /// Print every step (HTTP requests, renames, whiteouts) with its shell equivalent.
    #[arg(long)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Pull IMAGE (e.g. 127.0.0.1:5000/busybox:latest) and unpack its layers.
    Pull {
        image: String,
        /// A registry (host:port) that speaks plain HTTP; loopback always may.
        #[arg(long = "insecure-registry")]
        insecure: Vec<String>,
        /// Pull Docker Hub images through this mirror (URL or host:port).
        #[arg(long, env = "MINI_DOCKER_REGISTRY_MIRROR")]
        registry_mirror: Option<String>,
        /// os/arch[/variant] to choose from a multi-platform image (default: this host).
        #[arg(long)]
        platform: Option<String>,
    },
    /// Unpack one layer tar (plain, gzip or zstd) into DIR, whiteouts in overlayfs form.
    Unpack { layer: PathBuf, dir: PathBuf },
    /// Load a `docker save` tarball or an OCI layout.
    Load {
        #[arg(short = 'i', long = "input")]
        input: PathBuf,
    },
    /// List the images in the store.
    Images,
}

fn main() -> ExitCode {
    let args = Args::parse();
    explain::init(args.explain);
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("ch04-image-pull: {message}");
            ExitCode::from(125)
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    match args.command {
        Command::Pull { image, insecure, registry_mirror, platform } => {
            let reference = Reference::parse(&image).map_err(|e| e.to_string())?;
            let platform = match platform {
                Some(p) => Platform::parse(&p).ok_or_else(|| {
                    format!("invalid platform {p:?}: write os/arch[/variant], e.g. linux/amd64")
                })?,
                None => Platform::host(),
            };
            let store = Store::open(&args.root).map_err(|e| e.to_string())?;
            let options = RegistryOptions {
                insecure,
                mirror: registry_mirror,
                credential_files: auth::credential_files(&args.root),
                credentials: None,
            };
            println!("{}: Pulling from {}", reference.tag_or_digest(), reference.familiar_name());
            let mut display = Display::for_stderr();
            let pulled =
                pull::pull(&store, &reference, &options, &platform, &mut |p| display.show(p))
                    .map_err(|e| e.to_string())?;
            println!("Digest: {}", pulled.digest);
            let status = if pulled.changed {
                "Downloaded newer image for"
            } else {
                "Image is up to date for"
            };
            println!("Status: {status} {}", reference.familiar());
            println!("{reference}");
            Ok(())
        }
        Command::Unpack { layer, dir } => {
            let file =
                std::fs::File::open(&layer).map_err(|e| format!("{}: {e}", layer.display()))?;
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let reader = ch04_image_pull::store::decompress(file).map_err(|e| e.to_string())?;
            let mut hashing = digest::HashingReader::new(reader);
            let stats = unpack::unpack(&mut hashing, &dir).map_err(|e| e.to_string())?;
            let (diff_id, size) = hashing.finish().map_err(|e| e.to_string())?;
            println!(
                "{} entries, {} whiteouts, {size} bytes, DiffID {diff_id}",
                stats.entries, stats.whiteouts
            );
            Ok(())
        }
        Command::Load { input } => {
            let store = Store::open(&args.root).map_err(|e| e.to_string())?;
            let mut display = Display::for_stderr();
            let loaded = load::load(&store, &input, &Platform::host(), &mut |p| display.show(p))
                .map_err(|e| e.to_string())?;
            for image in loaded {
                if image.tags.is_empty() {
                    println!("Loaded image ID: {}", image.image.id);
                }
                for tag in image.tags {
                    println!("Loaded image: {tag}");
                }
            }
            Ok(())
        }
        Command::Images => {
            let store = Store::open(&args.root).map_err(|e| e.to_string())?;
            for (tag, id) in store.tags().map_err(|e| e.to_string())? {
                println!("{tag}\t{}", digest::short(&id));
            }
            Ok(())
        }
    }
}
