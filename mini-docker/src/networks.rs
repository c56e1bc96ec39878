//! The network commands: `network create`, `ls`, `rm`, `inspect`, `prune`.
//! Argument parsing and output only; the work is chapter 6's.

use std::path::Path;

use anyhow::{bail, Result};
use ch06_networking::network::DEFAULT_NETWORK;
use ch06_networking::{Networks, Subnet};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a network (a bridge with a subnet of its own).
    Create(CreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls,
    /// Remove one or more networks.
    #[command(alias = "remove")]
    Rm(NamesArgs),
    /// Show networks as JSON.
    Inspect(NamesArgs),
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
pub struct PruneArgs {
    /// Do not ask for confirmation (we never ask: accepted for Docker's sake).
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, command: NetworkCommand) -> Result<u8> {
    match command {
        NetworkCommand::Create(args) => create(root, args),
        NetworkCommand::Ls => ls(root),
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

fn ls(root: &Path) -> Result<u8> {
    let mut rows = vec![["NETWORK ID", "NAME", "DRIVER", "SCOPE", "SUBNET", "BRIDGE"]
        .map(String::from)
        .to_vec()];
    for network in Networks::new(root).list()? {
        rows.push(vec![
            network.id[..12].to_string(),
            network.name,
            "bridge".into(),
            "local".into(),
            network.subnet.to_string(),
            network.bridge,
        ]);
    }
    for builtin in ["host", "none"] {
        rows.push(vec![
            "-".into(),
            builtin.into(),
            builtin.replace("none", "null"),
            "local".into(),
            "".into(),
            "".into(),
        ]);
    }
    let widths: Vec<usize> =
        (0..rows[0].len()).map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0)).collect();
    for row in rows {
        let line: String =
            row.iter().zip(&widths).map(|(cell, w)| format!("{cell:<w$}   ")).collect();
        println!("{}", line.trim_end());
    }
    Ok(0)
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

fn inspect(root: &Path, args: NamesArgs) -> Result<u8> {
    let networks = Networks::new(root);
    let mut all = Vec::new();
    for name in &args.networks {
        let wanted = if name == "default" { DEFAULT_NETWORK } else { name };
        all.push(ch06_networking::inspect::describe_network(&networks, &networks.get(wanted)?));
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
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
