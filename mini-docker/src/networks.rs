//! The network commands: `network create`, `ls`, `rm`, `inspect`, `prune`.
//! Argument parsing and output only; the work is chapter 6's.

use std::path::Path;

use anyhow::{bail, Result};
use ch06_networking::network::DEFAULT_NETWORK;
use ch06_networking::{Networks, Subnet};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format;

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a network (a bridge with a subnet of its own).
    Create(CreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Remove one or more networks.
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Show networks as JSON.
    Inspect(InspectArgs),
    /// Remove every network no container uses, and with the last one our
    /// iptables chains (ip_forward is put back as it was).
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The subnet in CIDR notation (default: a free /24 of 10.78.0.0/16).
    #[arg(long)]
    subnet: Option<String>,
    /// Driver option; only com.docker.network.bridge.name=NAME is known.
    #[arg(short = 'o', long = "opt")]
    opt: Vec<String>,
    /// Only "bridge" exists here.
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    name: String,
}

#[derive(Args, Debug)]
pub struct NamesArgs {
    #[arg(required = true)]
    networks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only display network IDs.
    #[arg(short, long)]
    quiet: bool,
    /// Format the output: table, table TEMPLATE, json, or a Go template.
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate the output (full network IDs).
    #[arg(long)]
    no_trunc: bool,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Format the output using a Go template (one line per network).
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true)]
    networks: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation (we never ask: accepted for Docker's sake).
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, command: NetworkCommand) -> Result<u8> {
    match command {
        NetworkCommand::Create(args) => create(root, args),
        NetworkCommand::Ls(args) => ls(root, args),
        NetworkCommand::Rm(args) => rm(root, args),
        NetworkCommand::Inspect(args) => inspect(root, args),
        NetworkCommand::Prune(_) => prune(root),
    }
}

fn create(root: &Path, args: CreateArgs) -> Result<u8> {
    if args.driver != "bridge" {
        bail!("plugin \"{}\" not found: only the bridge driver exists here", args.driver);
    }
    let mut bridge = None;
    for opt in &args.opt {
        match opt.split_once('=') {
            Some(("com.docker.network.bridge.name", name)) => bridge = Some(name.to_string()),
            _ => return Err(ch06_networking::NetError::InvalidOption(opt.clone()).into()),
        }
    }
    let subnet = args.subnet.as_deref().map(str::parse::<Subnet>).transpose()?;
    let network = Networks::new(root).create(&args.name, subnet, bridge)?;
    println!("{}", network.id);
    Ok(0)
}

/// The fields of a `network ls` row and their headers: Docker's, and the
/// subnet and bridge that ours show too.
const NETWORK_HEADERS: &format::Headers = &[
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("IPv6", "IPV6"),
    ("Internal", "INTERNAL"),
    ("Labels", "LABELS"),
    ("CreatedAt", "CREATED"),
    ("Subnet", "SUBNET"),
    ("Bridge", "BRIDGE"),
];
const NETWORKS_TABLE: &str =
    r"table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}\t{{.Subnet}}\t{{.Bridge}}";

/// `network ls`: ours, then the built-in `host` and `none`.
fn ls(root: &Path, args: LsArgs) -> Result<u8> {
    let id = |id: &str| if args.no_trunc { id.to_string() } else { id[..12].to_string() };
    let mut rows: Vec<Value> = Networks::new(root)
        .list()?
        .into_iter()
        .map(|n| {
            let (subnet, bridge) = (n.subnet.to_string(), n.bridge.clone());
            network_row(&id(&n.id), &n.name, "bridge", &n.created, &subnet, &bridge)
        })
        .collect();
    if !args.quiet {
        rows.push(network_row("-", "host", "host", "", "", ""));
        rows.push(network_row("-", "none", "null", "", "", ""));
    }
    let format = match (&args.format, args.quiet) {
        (_, true) => "{{.ID}}",
        (Some(format), false) => format.as_str(),
        (None, false) => NETWORKS_TABLE,
    };
    print!("{}", format::Format::parse(format, NETWORKS_TABLE)?.render(&rows, NETWORK_HEADERS)?);
    Ok(0)
}

fn network_row(
    id: &str,
    name: &str,
    driver: &str,
    created: &str,
    subnet: &str,
    bridge: &str,
) -> Value {
    json!({
        "ID": id, "Name": name, "Driver": driver, "Scope": "local", "IPv6": "false",
        "Internal": "false", "Labels": "", "CreatedAt": created, "Subnet": subnet, "Bridge": bridge,
    })
}

fn rm(root: &Path, args: NamesArgs) -> Result<u8> {
    let mut failed = false;
    for name in &args.networks {
        match ch06_networking::remove_network(root, name) {
            Ok(_) => println!("{name}"),
            Err(e) => {
                eprintln!("mini-docker: {e}");
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

fn inspect(root: &Path, args: InspectArgs) -> Result<u8> {
    let networks = Networks::new(root);
    let mut all = Vec::new();
    for name in &args.networks {
        let wanted = if name == "default" { DEFAULT_NETWORK } else { name };
        all.push(ch06_networking::inspect::describe_network(&networks, &networks.get(wanted)?));
    }
    match &args.format {
        Some(template) => print!("{}", format::render_each(template, &all)?),
        None => println!("{}", serde_json::to_string_pretty(&all)?),
    }
    Ok(0)
}

fn prune(root: &Path) -> Result<u8> {
    let removed = ch06_networking::prune(root)?;
    if !removed.is_empty() {
        println!("Deleted Networks:");
        for name in removed {
            println!("{name}");
        }
    }
    Ok(0)
}
