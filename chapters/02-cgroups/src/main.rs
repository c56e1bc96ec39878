//! Chapter 2 demo: run a command in new namespaces, inside a cgroup with limits.
//!
//! ```text
//! sudo ch02-cgroups -m 64m --cpus 0.5 --pids-limit 20 --stats -- /bin/sh -c '...'
//! ```

use ch01_namespaces::{explain, proc_mount, ExitStatus, Namespaces, Process, Spawn};
use ch02_cgroups::limits::{self, human_bytes, Limits};
use ch02_cgroups::{join_hook, new_id, Cgroup, DEFAULT_PARENT};
use clap::Parser;
use nix::sys::signal::Signal;

/// Run a command in new namespaces and a new cgroup with Docker's limits.
#[derive(Parser)]
#[command(name = "ch02-cgroups", version)]
struct Args {
    /// Memory limit: bytes or a number with a unit (64m, 1g, 1.5g).
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    memory: Option<String>,
    /// Memory plus swap; -1 for unlimited swap. Default: twice --memory.
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Number of CPUs (0.5 = half of one CPU's time).
    #[arg(long, allow_hyphen_values = true)]
    cpus: Option<String>,
    /// Relative CPU weight under contention (default 1024).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0)]
    cpu_shares: i64,
    /// Most processes and threads at once (0 or -1: unlimited).
    #[arg(long, allow_hyphen_values = true, default_value_t = 0)]
    pids_limit: i64,
    /// The parent cgroup of the container's cgroup.
    #[arg(long, default_value = DEFAULT_PARENT)]
    cgroup_parent: String,
    /// Print what the container used when it ends (stderr).
    #[arg(long)]
    stats: bool,
    /// Print every privileged step with its shell equivalent.
    #[arg(long)]
    explain: bool,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() {
    // Docker exits 125 for a flag it cannot parse; clap would exit 2.
    let args = Args::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 125 } else { 0 })
    });
    explain::init(args.explain);
    let code = match run(&args) {
        Ok(code) => code,
        Err(message) => fail(&message, 125),
    };
    std::process::exit(code);
}

// ANCHOR: run
fn run(args: &Args) -> Result<i32, String> {
    let limits = parse_limits(args).map_err(|e| e.to_string())?;
    let layout =
        ch02_cgroups::detect().map_err(|e| format!("reading /proc/self/mountinfo: {e}"))?;
    let cgroup = Cgroup::create(&layout, &args.cgroup_parent, &new_id(), &limits)
        .map_err(|e| e.to_string())?;
    let status = run_in(&cgroup, args);
    let usage = cgroup.usage();
    let removed = cgroup.remove();
    let status = status?;
    if args.stats {
        eprintln!("stats: {}", usage.render());
    }
    removed.map_err(|e| e.to_string())?;
    if status == ExitStatus::Signaled(Signal::SIGKILL) && usage.oom_kills.unwrap_or(0) > 0 {
        let limit = limits.memory.map(human_bytes).unwrap_or_else(|| "none".into());
        eprintln!("ch02-cgroups: container was OOM-killed (memory limit {limit})");
    }
    Ok(status.code())
}

/// Start the command in the cgroup (joined before exec) and wait for it.
fn run_in(cgroup: &Cgroup, args: &Args) -> Result<ExitStatus, String> {
    let process = Process { argv: args.command.clone(), env: host_env(), cwd: None };
    let mut spawn = Spawn::new(process);
    spawn.namespaces = Namespaces::default();
    spawn.hostname = Some("container".into());
    spawn.parent_hook(join_hook(cgroup));
    spawn.child_hook(proc_mount::remount_proc_hook());
    let child = match spawn.spawn() {
        Ok(child) => child,
        Err(e) if e.exit_code() != 125 => {
            eprintln!("ch02-cgroups: {e}");
            return Ok(ExitStatus::Exited(e.exit_code()));
        }
        Err(e) => return Err(e.to_string()),
    };
    child.wait_forwarding_signals().map_err(|e| format!("waiting for the container: {e}"))
}
// ANCHOR_END: run

/// The flags, checked with Docker's rules before anything is created.
fn parse_limits(args: &Args) -> Result<Limits, limits::LimitError> {
    let host_cpus =
        usize::try_from(unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }).unwrap_or(1).max(1);
    let limits = Limits {
        memory: args.memory.as_deref().map(|m| limits::parse_size(m, "--memory")).transpose()?,
        memory_swap: args.memory_swap.as_deref().map(limits::parse_swap).transpose()?,
        cpu_quota_us: args.cpus.as_deref().map(|c| limits::parse_cpus(c, host_cpus)).transpose()?,
        cpu_shares: limits::check_shares(args.cpu_shares)?,
        pids: limits::pids_limit(args.pids_limit),
    };
    limits.check()?;
    Ok(limits)
}

/// As in chapter 1, the container shares the host's filesystem, and so its environment.
fn host_env() -> Vec<String> {
    std::env::vars().map(|(k, v)| format!("{k}={v}")).collect()
}

fn fail(message: &str, code: i32) -> i32 {
    eprintln!("ch02-cgroups: {message}");
    code
}
