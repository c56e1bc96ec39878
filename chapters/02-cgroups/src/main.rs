//! Chapter 2 demo: run a command in new namespaces, inside a cgroup with
//! limits, seeing its own cgroup at /sys/fs/cgroup; pause and unpause it.
//!
//! ```text
//! sudo ch02-cgroups -m 64m --cpus 0.5 --pids-limit 20 --stats -- /bin/sh -c '...'
//! sudo ch02-cgroups --name ticker -- /bin/sh -c 'while :; do date; sleep 1; done'
//! sudo ch02-cgroups pause ticker        # from another terminal
//! sudo ch02-cgroups unpause ticker
//! ```

use ch01_namespaces::{explain, proc_mount, ExitStatus, Namespaces, Process, Spawn};
use ch02_cgroups::limits::{self, human_bytes, Limits};
use ch02_cgroups::view::view_hook;
use ch02_cgroups::{join_at_spawn, new_id, unshare_hook, Cgroup, CgroupNs, View, DEFAULT_PARENT};
use clap::{Args, Parser, Subcommand};
use nix::sys::signal::Signal;

/// Run a command in new namespaces and a new cgroup with Docker's limits.
#[derive(Parser)]
#[command(name = "ch02-cgroups", version)]
#[command(subcommand_negates_reqs = true, disable_help_subcommand = true)]
struct Cli {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    run: RunArgs,
    /// The parent cgroup of the containers' cgroups.
    #[arg(long, global = true, default_value = DEFAULT_PARENT, env = "MINI_DOCKER_CGROUP_PARENT")]
    cgroup_parent: String,
    /// Print every privileged step with its shell equivalent.
    #[arg(long, global = true)]
    explain: bool,
}

#[derive(Subcommand)]
enum Action {
    /// Freeze every process of the running container NAME (docker pause).
    Pause(Target),
    /// Let the frozen container NAME run again (docker unpause).
    Unpause(Target),
}

#[derive(Args)]
struct Target {
    /// The container's name, as given to --name.
    name: String,
}

#[derive(Args)]
struct RunArgs {
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
    /// The container's cgroup name, for pause and unpause (default: a new id).
    #[arg(long)]
    name: Option<String>,
    /// Cgroup namespace: private or host (default: private on cgroup v2, host on v1 and hybrid).
    #[arg(long)]
    cgroupns: Option<String>,
    /// Mount the container's view of its cgroup writable, as Docker's
    /// --privileged does (chapter 8 adds the rest of what it means).
    #[arg(long)]
    privileged: bool,
    /// Print what the container used when it ends (stderr).
    #[arg(long)]
    stats: bool,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() {
    // Docker exits 125 for a flag it cannot parse; clap would exit 2.
    let cli = Cli::try_parse().unwrap_or_else(|e| {
        let _ = e.print();
        std::process::exit(if e.use_stderr() { 125 } else { 0 })
    });
    explain::init(cli.explain);
    let result = match &cli.action {
        Some(Action::Pause(target)) => freeze(&cli.cgroup_parent, target, true),
        Some(Action::Unpause(target)) => freeze(&cli.cgroup_parent, target, false),
        None => run(&cli.cgroup_parent, &cli.run),
    };
    let code = result.unwrap_or_else(|message| fail(&message, 125));
    std::process::exit(code);
}

// ANCHOR: run
fn run(cgroup_parent: &str, args: &RunArgs) -> Result<i32, String> {
    let limits = parse_limits(args).map_err(|e| e.to_string())?;
    let layout =
        ch02_cgroups::detect().map_err(|e| format!("reading /proc/self/mountinfo: {e}"))?;
    let cgroupns = match &args.cgroupns {
        Some(mode) => mode.parse::<CgroupNs>().map_err(|e| e.to_string())?,
        None => CgroupNs::default_for(&layout),
    };
    let name = args.name.clone().unwrap_or_else(new_id);
    let cgroup =
        Cgroup::create(&layout, cgroup_parent, &name, &limits).map_err(|e| e.to_string())?;
    let view = View::plan(&layout, &cgroup, cgroupns, args.privileged);
    let status = run_in(&cgroup, cgroupns, view, args);
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
// ANCHOR_END: run

// ANCHOR: run_in
/// Start the command in the cgroup (joined before exec) and wait for it.
fn run_in(
    cgroup: &Cgroup,
    cgroupns: CgroupNs,
    view: View,
    args: &RunArgs,
) -> Result<ExitStatus, String> {
    let process = Process { argv: args.command.clone(), env: host_env(), cwd: None };
    let mut spawn = Spawn::new(process);
    spawn.namespaces = Namespaces::default();
    spawn.hostname = Some("container".into());
    join_at_spawn(&mut spawn, cgroup);
    if cgroupns == CgroupNs::Private {
        // A new cgroup namespace is rooted where its creator is: the join
        // must be done before the child's first step, not only before exec.
        spawn.background_before_release = true;
        spawn.child_hook(unshare_hook()); // after the join, before any mount
    }
    spawn.child_hook(proc_mount::remount_proc_hook());
    spawn.child_hook(view_hook(view));
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
// ANCHOR_END: run_in

// ANCHOR: freeze
/// `pause NAME` / `unpause NAME`: find the running container's cgroup and
/// freeze or thaw it. Like `docker pause`, it prints the name.
fn freeze(cgroup_parent: &str, target: &Target, frozen: bool) -> Result<i32, String> {
    let layout =
        ch02_cgroups::detect().map_err(|e| format!("reading /proc/self/mountinfo: {e}"))?;
    if frozen {
        ch02_cgroups::freezer::require_freezer(&layout).map_err(|e| e.to_string())?;
    }
    let cgroup = Cgroup::open(&layout, cgroup_parent, &target.name).map_err(|e| e.to_string())?;
    let done = if frozen { cgroup.freeze() } else { cgroup.thaw() };
    done.map_err(|e| e.to_string())?;
    println!("{}", target.name);
    Ok(0)
}
// ANCHOR_END: freeze

/// The flags, checked with Docker's rules before anything is created.
fn parse_limits(args: &RunArgs) -> Result<Limits, limits::LimitError> {
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
