//! Chapter 8 demo: run a command in new namespaces behind the walls —
//! Docker's capabilities, a seccomp filter, no_new_privs — and see what
//! root can no longer do.
//!
//! ```text
//! sudo ch08-security -- sh -c 'grep Cap /proc/self/status; mount -t tmpfs none /mnt'
//! sudo ch08-security --cap-add SYS_ADMIN -- mount -t tmpfs none /mnt
//! ch08-security --print-filter
//! ch08-security -- id                       # as a normal user: rootless
//! ```

use ch01_namespaces::{explain, proc_mount, Namespaces, Process, Spawn};
use ch08_security::{caps, seccomp, userns, WallFlags};
use clap::Parser;

/// Run a command in new namespaces, with a container's capabilities and seccomp filter.
#[derive(Parser)]
#[command(name = "ch08-security", version)]
struct Args {
    #[command(flatten)]
    walls: WallFlags,
    /// Run in a user namespace whose root is USER's range from /etc/subuid
    /// and /etc/subgid (default user: mini-docker). Without root, a user
    /// namespace mapping root to you is used anyway (rootless).
    #[arg(long = "userns-remap", value_name = "USER", num_args = 0..=1, default_missing_value = userns::DEFAULT_REMAP_USER)]
    userns_remap: Option<String>,
    /// Print the capability set and the seccomp program, then exit.
    #[arg(long)]
    print_filter: bool,
    /// Print every privileged step with its shell equivalent.
    #[arg(long)]
    explain: bool,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn main() {
    let args = Args::parse();
    explain::init(args.explain);
    let options = args.walls.options();
    // This demo does not use cgroups: without device rules, no CAP_MKNOD.
    let profile = match options.profile(caps::last_cap(), false) {
        Ok(profile) => profile,
        Err(e) => fail(&e.to_string(), 125),
    };
    if args.print_filter {
        print_profile(&profile);
        return;
    }
    if args.command.is_empty() {
        fail("no command given: ch08-security [FLAGS] -- COMMAND [ARGS...]", 125);
    }
    let env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
    let mut spawn = Spawn::new(Process { argv: args.command.clone(), env, cwd: None });
    spawn.namespaces = Namespaces::default();
    spawn.hostname = Some("walled".into());
    // ANCHOR: demo_userns
    if let Some(user) = &args.userns_remap {
        let (subuid, subgid) = userns::subid_files();
        let remap =
            userns::lookup(user, &subuid, &subgid).unwrap_or_else(|e| fail(&e.to_string(), 125));
        spawn.namespaces.user = true;
        spawn.parent_hook(userns::map_range_hook(&remap));
        spawn.child_hook(ch01_namespaces::userns::become_root_hook());
    } else if !nix::unistd::geteuid().is_root() {
        // Rootless: chapter 1's mapping of root inside to ourselves outside.
        spawn.namespaces.user = true;
        spawn.parent_hook(ch01_namespaces::userns::map_root_hook());
    }
    // ANCHOR_END: demo_userns
    spawn.child_hook(proc_mount::remount_proc_hook());
    let walls = ch08_security::hooks(profile);
    spawn.child_hook(walls.before_user);
    spawn.child_hook(walls.after_user);
    let code = match spawn.spawn() {
        Ok(child) => child.wait_forwarding_signals().map(|s| s.code()).unwrap_or(125),
        Err(e) => fail(&e.to_string(), e.exit_code()),
    };
    std::process::exit(code);
}

fn print_profile(profile: &ch08_security::Profile) {
    println!("capabilities ({}): {}", profile.caps.caps().len(), profile.caps.names().join(" "));
    println!("no_new_privs: {}", profile.no_new_privs);
    if !profile.seccomp {
        println!("seccomp: unconfined");
        return;
    }
    let denied = seccomp::denied_for(profile.caps);
    println!(
        "seccomp: {} calls refused: {}",
        denied.len(),
        denied.iter().map(|d| d.name).collect::<Vec<_>>().join(" ")
    );
    for (i, ins) in seccomp::filter_for(profile.caps).iter().enumerate() {
        println!(
            "{i:4}: code={:#06x} jt={:<2} jf={:<2} k={:#010x}",
            ins.code, ins.jt, ins.jf, ins.k
        );
    }
}

fn fail(message: &str, code: i32) -> ! {
    eprintln!("ch08-security: {message}");
    std::process::exit(code)
}
