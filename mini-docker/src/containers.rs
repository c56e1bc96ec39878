//! The container commands: chapter 5's verbs (`ch05_run::cli`) over the
//! composed engine, and `run`/`create` with the flags of chapters 6–8.
//! Argument parsing and output only; the work is the chapters'.

use std::path::Path;

use anyhow::{anyhow, bail, Result};
use ch05_run::cli::{self, with_code, ContainerFlags, ImageAndCommand};
use ch05_run::image::{local_image, ImageInfo};
use ch05_run::CreateRequest;
use clap::Args;

use crate::compose;
use crate::images;

/// Options shared by `run` and `create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    #[command(flatten)]
    flags: ContainerFlags,
    #[command(flatten)]
    walls: ch08_security::WallFlags,
    /// Mount the container's root filesystem read-only.
    #[arg(long = "read-only")]
    read_only: bool,
    /// Run in a user namespace whose root is USER's unprivileged range from
    /// /etc/subuid and /etc/subgid ("default": the user mini-docker). Like
    /// dockerd's --userns-remap, also set for every container by the variable.
    #[arg(long = "userns-remap", value_name = "USER", num_args = 0..=1, require_equals = true,
          default_missing_value = "default", env = "MINI_DOCKER_USERNS_REMAP")]
    userns_remap: Option<String>,
    /// "host": no user namespace for this container, whatever --userns-remap says.
    #[arg(long, value_name = "MODE")]
    userns: Option<String>,
    #[command(flatten)]
    mounts: ch07_volumes::MountFlags,
    /// Connect the container to a network: bridge, none, host or a network's name.
    #[arg(long, default_value = "bridge")]
    network: String,
    /// Publish a port: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp].
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    #[command(flatten)]
    target: ImageAndCommand,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run in the background and print the container id.
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    create: CreateArgs,
}

impl RunArgs {
    pub fn uses_init(&self) -> bool {
        self.create.flags.init
    }
}

/// Does any of the named containers run our `--init` as its PID 1?
pub fn any_uses_init(root: &Path, names: &[String]) -> bool {
    let engine = compose::engine(root);
    names
        .iter()
        .any(|name| engine.find(name).and_then(|id| engine.config(&id)).is_ok_and(|c| c.init))
}

/// `run`: create, then start attached (or detached with `-d`). Returns the
/// container's exit code, or Docker's 125/126/127 for our own failures.
pub fn run(root: &Path, args: RunArgs) -> Result<u8> {
    let engine = compose::engine(root);
    let id = create_container(&engine, &args.create)?;
    cli::run_created(&engine, &id, args.detach)
}

pub fn create(root: &Path, args: CreateArgs) -> Result<u8> {
    let id = create_container(&compose::engine(root), &args)?;
    println!("{id}");
    Ok(0)
}

fn create_container(engine: &ch05_run::Engine, args: &CreateArgs) -> Result<String> {
    let request = create_request(&engine.root, args).map_err(|e| with_code(e, 125))?;
    cli::create(engine, &request)
}

// ANCHOR: create_request
/// Chapter 5's request from its flags, plus the settings of chapters 6–8,
/// each under its own key.
fn create_request(root: &Path, args: &CreateArgs) -> Result<CreateRequest> {
    let mounts = ch07_volumes::MountRequest(args.mounts.specs()?);
    let network = ch06_networking::NetworkSettings {
        mode: args.network.parse()?,
        ports: args.publish.iter().map(|p| p.parse()).collect::<Result<_, _>>()?,
    };
    let security = ch08_security::SecurityOptions {
        read_only: args.read_only,
        userns_remap: userns_remap(args)?,
        ..args.walls.options()
    };
    args.flags.check()?;
    let image = find_or_pull(root, args.target.image())?;
    let mut request = args.flags.request(&args.target, image)?;
    request.extensions.set(&network);
    request.extensions.set(&mounts);
    request.extensions.set(&security);
    Ok(request)
}
// ANCHOR_END: create_request

/// `--userns-remap[=USER]` looked up in the subordinate id files, unless
/// `--userns=host` (Docker's only value for it) turns it off.
fn userns_remap(args: &CreateArgs) -> Result<Option<ch08_security::userns::Remap>> {
    match args.userns.as_deref() {
        None => {}
        Some("host") => return Ok(None),
        Some(other) => bail!("invalid --userns {other:?}: the only mode is \"host\" (no user namespace for this container)"),
    }
    let Some(user) = args.userns_remap.as_deref().filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    let (subuid, subgid) = ch08_security::userns::subid_files();
    Ok(Some(ch08_security::userns::lookup(user, &subuid, &subgid)?))
}

/// The image, from the store or — like `docker run` — pulled first.
fn find_or_pull(root: &Path, name: &str) -> Result<ImageInfo> {
    if let Some(image) = local_image(root, name)? {
        return Ok(image);
    }
    let reference = ch04_image_pull::Reference::parse(name)?;
    eprintln!("Unable to find image '{}' locally", reference.familiar());
    images::pull_reporting_to(root, &images::PullArgs::for_image(name), &mut std::io::stderr())?;
    local_image(root, name)?
        .ok_or_else(|| anyhow!("the image {name} was pulled but cannot be found in the store"))
}
