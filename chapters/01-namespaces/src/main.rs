//! Chapter 1 demo: run a command in new namespaces on the host's filesystem.
//!
//! ```text
//! sudo ch01-namespaces --hostname box /bin/sh -c 'hostname; echo $$; ps'
//! ```

use ch01_namespaces::{explain, proc_mount, userns, Namespaces, Process, Spawn};
use clap::Parser;

/// Run a command in new UTS, PID, mount, IPC and network namespaces.
#[derive(Parser)]
#[command(name = "ch01-namespaces", version)]
struct Args {
    /// Hostname inside the new UTS namespace.
    #[arg(long, default_value = "container")]
    hostname: String,
    /// Also create a user namespace, mapping root inside to you outside
    /// (works without sudo).
    #[arg(long)]
    user_ns: bool,
    /// Keep the host's network (no network namespace).
    #[arg(long)]
    host_network: bool,
    /// Run a minimal init as PID 1 that reaps orphans; the command is PID 2.
    #[arg(long)]
    init: bool,
    /// Print every privileged step with its shell equivalent.
    #[arg(long)]
    explain: bool,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() {
    let args = Args::parse();
    explain::init(args.explain);
    let process = Process { argv: args.command.clone(), env: host_env(), cwd: None };
    let mut spawn = Spawn::new(process);
    spawn.namespaces =
        Namespaces { user: args.user_ns, net: !args.host_network, ..Namespaces::default() };
    spawn.hostname = Some(args.hostname.clone());
    spawn.init = args.init;
    if args.user_ns {
        spawn.parent_hook(userns::map_root_hook());
    }
    spawn.child_hook(proc_mount::remount_proc_hook());
    let code = match spawn.spawn() {
        Ok(child) => match child.wait_forwarding_signals() {
            Ok(status) => status.code(),
            Err(e) => fail(&format!("waiting for the container: {e}"), 125),
        },
        Err(e) => fail(&e.to_string(), e.exit_code()),
    };
    std::process::exit(code);
}

/// The container shares the host's filesystem in this chapter, so it keeps
/// the host's environment too (chapter 5 builds it from the image).
fn host_env() -> Vec<String> {
    std::env::vars().map(|(k, v)| format!("{k}={v}")).collect()
}

fn fail(message: &str, code: i32) -> i32 {
    eprintln!("ch01-namespaces: {message}");
    code
}
