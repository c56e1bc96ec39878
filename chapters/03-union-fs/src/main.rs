//! Chapter 3 demo: run a command in a root filesystem made of layers.
//!
//! ```text
//! sudo ch03-union-fs --rootfs ./busybox-rootfs -- /bin/sh
//! sudo ch03-union-fs --driver vfs --layer ./base --layer ./top -- cat /etc/motd
//! ```

use std::path::{Path, PathBuf};
use std::process::exit;

use ch01_namespaces::exec::DEFAULT_PATH;
use ch01_namespaces::{explain, Process, Spawn};
use ch03_union_fs::driver::{prepare, Driver, Rootfs};
use ch03_union_fs::etc_files::write_etc_files;
use ch03_union_fs::{cleanup, rootfs_hook, RootfsSetup};
use clap::Parser;

/// Run a command in new namespaces, in a writable root made of read-only layers.
#[derive(Parser)]
#[command(name = "ch03-union-fs", version)]
struct Args {
    /// overlay (the kernel's union mount) or vfs (a full copy of the layers).
    /// Default: overlay where the kernel has it, otherwise vfs.
    #[arg(long)]
    driver: Option<Driver>,
    /// A root filesystem directory: the bottom layer.
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// A layer directory, stacked on the ones before it (repeat, bottom first).
    #[arg(long = "layer", value_name = "DIR")]
    layers: Vec<PathBuf>,
    /// The container's hostname; default: its 12-character id, as in Docker.
    #[arg(long)]
    hostname: Option<String>,
    /// Where containers' directories are made.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/mini-docker/ch03")]
    state: PathBuf,
    /// Keep the container's directory afterwards, to look at its writes.
    #[arg(long)]
    keep: bool,
    /// Print every privileged step with its shell equivalent.
    #[arg(long)]
    explain: bool,
    /// The command and its arguments, run inside the new root.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<String>,
}

fn main() {
    let args = Args::parse();
    explain::init(args.explain);
    if !nix::unistd::geteuid().is_root() {
        fail("needs root: run with sudo", 125);
    }
    let layers: Vec<PathBuf> = args.rootfs.iter().chain(&args.layers).cloned().collect();
    let driver = args.driver.unwrap_or_else(Driver::for_this_host);
    let id = new_container_id();
    let container_dir = args.state.join(&id);
    if let Err(e) = std::fs::create_dir_all(&container_dir) {
        fail(&format!("creating {}: {e}", container_dir.display()), 125);
    }
    let hostname = args.hostname.clone().unwrap_or_else(|| id.clone());
    match run(&args, driver, &layers, &container_dir, &hostname) {
        Ok(code) => {
            finish(&container_dir, args.keep, driver);
            exit(code);
        }
        Err((message, code)) => {
            // A container that never ran has nothing worth keeping.
            finish(&container_dir, false, driver);
            fail(&message, code);
        }
    }
}

/// Prepare the root, run the container, wait: its exit code, or why not.
fn run(
    args: &Args,
    driver: Driver,
    layers: &[PathBuf],
    container_dir: &Path,
    hostname: &str,
) -> Result<i32, (String, i32)> {
    let rootfs: Rootfs =
        prepare(driver, layers, container_dir).map_err(|e| (e.to_string(), 125))?;
    let etc = write_etc_files(container_dir, hostname, None)
        .map_err(|e| (format!("writing the /etc files: {e}"), 125))?;
    let mut spawn =
        Spawn::new(Process { argv: args.command.clone(), env: container_env(hostname), cwd: None });
    spawn.hostname = Some(hostname.to_string());
    spawn.child_hook(rootfs_hook(RootfsSetup::new(rootfs, Some(etc))));
    let child = spawn.spawn().map_err(|e| (e.to_string(), e.exit_code()))?;
    let status = child
        .wait_forwarding_signals()
        .map_err(|e| (format!("waiting for the container: {e}"), 125))?;
    Ok(status.code())
}

/// The image decides the environment from chapter 5 on; until then,
/// Docker's defaults plus the terminal type.
fn container_env(hostname: &str) -> Vec<String> {
    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={hostname}"),
        "HOME=/root".to_string(),
    ];
    if let Ok(term) = std::env::var("TERM") {
        env.push(format!("TERM={term}"));
    }
    env
}

fn finish(container_dir: &Path, keep: bool, driver: Driver) {
    if keep {
        let writes = if driver == Driver::Overlay {
            container_dir.join("upper")
        } else {
            container_dir.join("rootfs")
        };
        eprintln!(
            "ch03-union-fs: kept {}; the container's writes are in {}",
            container_dir.display(),
            writes.display()
        );
    } else if let Err(e) = cleanup::remove_container_dir(container_dir) {
        eprintln!("ch03-union-fs: removing {}: {e}", container_dir.display());
    }
}

/// 12 hex digits, like the short form of a Docker container id.
fn new_container_id() -> String {
    let uuid = std::fs::read_to_string("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let hex: String = uuid.chars().filter(|c| c.is_ascii_hexdigit()).take(12).collect();
    if hex.len() == 12 {
        hex
    } else {
        format!("{:012x}", std::process::id())
    }
}

fn fail(message: &str, code: i32) -> ! {
    eprintln!("ch03-union-fs: {message}");
    exit(code)
}
