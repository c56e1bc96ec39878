//! Chapter 6 demo: run a command in its own network namespace, connected
//! to a bridge, with published ports; and manage networks.
//!
//! ```text
//! sudo ch06-networking run -- ip addr                 # eth0 on the default network
//! sudo ch06-networking run -p 8080:80 -- busybox httpd -f -p 80
//! sudo ch06-networking network create --subnet 10.99.0.0/24 lab
//! sudo ch06-networking run --network lab -- ping -c1 10.99.0.1
//! sudo ch06-networking network prune                   # undo every host change
//! ```
//! The command sees the host's files (chapter 3's root is not used here),
//! so `ip`, `ping` and `busybox` come from the host.

use std::path::PathBuf;
use std::process::exit;

use ch01_namespaces::{explain, Process, Spawn};
use ch06_networking::attach::{AttachRequest, Attachment, NetworkMode};
use ch06_networking::{network::random_id, Networks, PortMapping, Subnet};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ch06-networking", version)]
struct Args {
    /// Where networks and leases are kept.
    #[arg(long, global = true, default_value = "/var/lib/mini-docker/ch06")]
    root: PathBuf,
    /// Print every privileged step with its shell equivalent.
    #[arg(long, global = true)]
    explain: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a command in new namespaces, connected to a network.
    Run {
        /// bridge (default), none, host or a network's name.
        #[arg(long, default_value = "bridge")]
        network: NetworkMode,
        /// Publish a port: [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp].
        #[arg(short = 'p', long = "publish")]
        publish: Vec<PortMapping>,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// Networks: create, ls, rm, prune.
    #[command(subcommand)]
    Network(NetworkCommand),
}

#[derive(Subcommand)]
enum NetworkCommand {
    Create {
        #[arg(long)]
        subnet: Option<Subnet>,
        name: String,
    },
    Ls,
    Rm {
        name: String,
    },
    Prune,
}

fn main() {
    let args = Args::parse();
    explain::init(args.explain);
    if !nix::unistd::geteuid().is_root() {
        fail("needs root: run with sudo".into(), 125);
    }
    let result = match args.command {
        Command::Run { network, publish, command } => run(&args.root, network, &publish, command),
        Command::Network(NetworkCommand::Create { subnet, name }) => Networks::new(&args.root)
            .create(&name, subnet, None)
            .map(|n| println!("{}", n.id))
            .map(|_| 0)
            .map_err(|e| (e.to_string(), 125)),
        Command::Network(NetworkCommand::Ls) => Networks::new(&args.root)
            .list()
            .map(|all| {
                all.iter().for_each(|n| {
                    println!("{}\t{}\t{}\t{}", &n.id[..12], n.name, n.subnet, n.bridge)
                })
            })
            .map(|_| 0)
            .map_err(|e| (e.to_string(), 125)),
        Command::Network(NetworkCommand::Rm { name }) => {
            ch06_networking::remove_network(&args.root, &name)
                .map(|n| println!("{}", n.name))
                .map(|_| 0)
                .map_err(|e| (e.to_string(), 125))
        }
        Command::Network(NetworkCommand::Prune) => ch06_networking::prune(&args.root)
            .map(|gone| gone.iter().for_each(|n| println!("{n}")))
            .map(|_| 0)
            .map_err(|e| (e.to_string(), 125)),
    };
    match result {
        Ok(code) => exit(code),
        Err((message, code)) => fail(message, code),
    }
}

fn run(
    root: &std::path::Path,
    mode: NetworkMode,
    ports: &[PortMapping],
    argv: Vec<String>,
) -> Result<i32, (String, i32)> {
    let id = random_id();
    let hosts_file = root.join(format!("hosts-{}", &id[..12]));
    let networks: Vec<String> = match &mode {
        NetworkMode::Bridge(name) => vec![name.clone()],
        _ => Vec::new(),
    };
    let request = AttachRequest {
        root,
        container_id: &id,
        name: &id[..12],
        hostname: &id[..12],
        hosts_file: hosts_file.clone(),
        mode: &mode,
        networks: &networks,
        aliases: &Default::default(),
        ports,
    };
    let mut attachment = Attachment::prepare(&request).map_err(|e| (e.to_string(), 125))?;
    let _ = std::fs::write(&hosts_file, ch03_hosts_line(&attachment, &id[..12]));
    let _ = attachment.announce();
    let env = vec![format!("PATH={}", ch01_namespaces::exec::DEFAULT_PATH)];
    let mut spawn = Spawn::new(Process { argv, env, cwd: None });
    spawn.namespaces.net = attachment.own_namespace();
    spawn.hostname = Some(id[..12].to_string());
    if let Some(hook) = attachment.parent_hook() {
        spawn.parent_hook(hook);
    }
    let child = match spawn.spawn() {
        Ok(child) => child,
        Err(e) => {
            attachment.release();
            let _ = std::fs::remove_file(&hosts_file);
            return Err((e.to_string(), e.exit_code()));
        }
    };
    attachment.start_proxies();
    let code = child.wait_forwarding_signals().map(|s| s.code()).unwrap_or(125);
    attachment.release();
    let _ = std::fs::remove_file(&hosts_file);
    Ok(code)
}

/// The demo has no root filesystem to mount an /etc/hosts into; it keeps
/// the file beside the leases so `network inspect`-style tools can read it.
fn ch03_hosts_line(attachment: &Attachment, name: &str) -> String {
    attachment.ip().map(|ip| format!("{ip}\t{name}\n")).unwrap_or_default()
}

fn fail(message: String, code: i32) -> ! {
    eprintln!("ch06-networking: {message}");
    exit(code)
}
