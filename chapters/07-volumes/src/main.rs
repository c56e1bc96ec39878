//! Chapter 7 demo: run a command in a layered root with volumes, bind
//! mounts and tmpfs, and manage the volumes.
//!
//! ```text
//! sudo ch07-volumes run --rootfs ./busybox-rootfs -v counter:/data -- sh -c 'echo x >> /data/n; wc -l < /data/n'
//! sudo ch07-volumes volume ls
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::exit;

use ch01_namespaces::exec::DEFAULT_PATH;
use ch01_namespaces::{explain, Process, Spawn};
use ch03_union_fs::driver::{prepare, Driver};
use ch03_union_fs::etc_files::write_etc_files;
use ch03_union_fs::{cleanup, rootfs_hook, RootfsSetup};
use ch07_volumes::prune::{human_size, prune, table};
use ch07_volumes::{
    containers_using, mount_hook, remove_anonymous_volumes, resolve, undo, ContainerMount,
    MountFlags, VolumeStore,
};
use clap::{Parser, Subcommand};

/// Containers with data that outlives them.
#[derive(Parser)]
#[command(name = "ch07-volumes", version)]
struct Args {
    /// Where volumes and this demo's containers live.
    #[arg(long, global = true, value_name = "DIR", default_value = "/var/lib/mini-docker/ch07")]
    root: PathBuf,
    /// Print every privileged step with its shell equivalent.
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command in a root made of layers, with mounts.
    Run(RunArgs),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCommand),
}

#[derive(clap::Args)]
struct RunArgs {
    /// A root filesystem directory: the bottom layer.
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// A layer directory stacked on the ones before it (repeat, bottom first).
    #[arg(long = "layer", value_name = "DIR")]
    layers: Vec<PathBuf>,
    #[command(flatten)]
    mounts: MountFlags,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
}

#[derive(Subcommand)]
enum VolumeCommand {
    /// Create a volume (a random name when none is given).
    Create {
        name: Option<String>,
        /// KEY=VALUE
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// List volumes.
    Ls {
        #[arg(short, long)]
        quiet: bool,
    },
    /// Show volumes as JSON.
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove volumes no container uses.
    Rm {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove unused anonymous volumes (all unused ones with --all).
    Prune {
        #[arg(short, long)]
        all: bool,
    },
}

fn main() {
    let args = Args::parse();
    explain::init(args.explain);
    let code = match &args.command {
        Command::Run(run_args) => run(&args.root, run_args),
        Command::Volume(command) => volume(&args.root, command),
    };
    exit(code.unwrap_or_else(|(message, code)| fail(&message, code)));
}

type Outcome = Result<i32, (String, i32)>;

fn run(root: &Path, args: &RunArgs) -> Outcome {
    let specs = args.mounts.specs().map_err(|e| (e.to_string(), 125))?;
    if !nix::unistd::geteuid().is_root() {
        return Err(("needs root: run with sudo".into(), 125));
    }
    let resolved = resolve(root, &specs, &[]).map_err(|e| (e.to_string(), 125))?;
    for notice in &resolved.notices {
        eprintln!("ch07-volumes: {notice}");
    }
    let id = ch07_volumes::store::random_name();
    let container_dir = root.join("containers").join(&id);
    let result = run_container(args, &container_dir, &id[..12], &resolved.mounts);
    // The container is gone: its directory, then its anonymous volumes.
    if let Err(e) = cleanup::remove_container_dir(&container_dir) {
        eprintln!("ch07-volumes: removing {}: {e}", container_dir.display());
    }
    if result.is_err() {
        undo(root, &resolved.made);
    } else if let Err(e) = remove_anonymous_volumes(root, &resolved.mounts) {
        eprintln!("ch07-volumes: {e}");
    }
    result
}

fn run_container(
    args: &RunArgs,
    container_dir: &Path,
    hostname: &str,
    mounts: &[ContainerMount],
) -> Outcome {
    let tool = |e: &dyn std::fmt::Display| (e.to_string(), 125);
    std::fs::create_dir_all(container_dir).map_err(|e| tool(&e))?;
    // Written like chapter 5's config.json, so that `volume rm` sees this container as a user.
    let config = serde_json::json!({ "id": hostname, "mounts": mounts });
    std::fs::write(container_dir.join("config.json"), config.to_string()).map_err(|e| tool(&e))?;
    let layers: Vec<PathBuf> = args.rootfs.iter().chain(&args.layers).cloned().collect();
    let rootfs = prepare(Driver::for_this_host(), &layers, container_dir).map_err(|e| tool(&e))?;
    let etc = write_etc_files(container_dir, hostname, None).map_err(|e| tool(&e))?;
    let env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={hostname}"),
        "HOME=/root".to_string(),
    ];
    let mut spawn = Spawn::new(Process { argv: args.command.clone(), env, cwd: None });
    spawn.hostname = Some(hostname.to_string());
    let mut setup = RootfsSetup::new(rootfs, Some(etc));
    setup.before_pivot.push(mount_hook(mounts.to_vec()));
    spawn.child_hook(rootfs_hook(setup));
    let child = spawn.spawn().map_err(|e| (e.to_string(), e.exit_code()))?;
    let status = child.wait_forwarding_signals().map_err(|e| tool(&e))?;
    Ok(status.code())
}

fn volume(root: &Path, command: &VolumeCommand) -> Outcome {
    let tool = |e: &dyn std::fmt::Display| (e.to_string(), 1);
    let store = VolumeStore::new(root);
    match command {
        VolumeCommand::Create { name, labels } => {
            let labels: BTreeMap<String, String> = labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .unwrap_or((l.clone(), String::new()))
                })
                .collect();
            let _lock = store.lock().map_err(|e| tool(&e))?;
            let (volume, _) = store.create(name.as_deref(), labels, false).map_err(|e| tool(&e))?;
            println!("{}", volume.name);
        }
        VolumeCommand::Ls { quiet } => {
            let volumes = store.list().map_err(|e| tool(&e))?;
            if *quiet {
                volumes.iter().for_each(|v| println!("{}", v.name));
            } else {
                print!("{}", table(&volumes));
            }
        }
        VolumeCommand::Inspect { names } => {
            let found: Result<Vec<_>, _> =
                names.iter().map(|n| store.get(n).map(|v| store.inspect(&v))).collect();
            let found = found.map_err(|e| tool(&e))?;
            println!("{}", serde_json::to_string_pretty(&found).unwrap_or_default());
        }
        VolumeCommand::Rm { names } => {
            let mut failed = false;
            for name in names {
                let _lock = store.lock().map_err(|e| tool(&e))?;
                match store.remove(name, containers_using(root, name)) {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("ch07-volumes: {e}");
                        failed = true;
                    }
                }
            }
            return Ok(i32::from(failed));
        }
        VolumeCommand::Prune { all } => {
            let pruned = prune(root, *all).map_err(|e| tool(&e))?;
            if !pruned.names.is_empty() {
                println!("Deleted Volumes:\n{}\n", pruned.names.join("\n"));
            }
            println!("Total reclaimed space: {}", human_size(pruned.bytes));
        }
    }
    Ok(0)
}

fn fail(message: &str, code: i32) -> i32 {
    eprintln!("ch07-volumes: {message}");
    code
}
