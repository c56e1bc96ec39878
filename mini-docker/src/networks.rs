//! The network commands: `network create`, `ls`, `rm`, `inspect`, `prune`,
//! `connect`, `disconnect`.
//! Argument parsing and output only; the work is chapter 6's, in this
//! process or the daemon's.

use anyhow::Result;
use ch09_engine::Api;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use crate::format;

#[derive(Subcommand, Debug)]
#[command(defer = true)]
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
    /// Connect a container to a network (a running one at once).
    Connect(ConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(DisconnectArgs),
}

#[derive(Args, Debug)]
pub struct ConnectArgs {
    /// IPv4 address (refused: the network's next free address is given).
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address (refused: no IPv6 here).
    #[arg(long)]
    ip6: Option<String>,
    /// A network-scoped alias for the container (another name in the others' /etc/hosts).
    #[arg(long)]
    alias: Vec<String>,
    /// Add a link to another container (refused, as links are legacy).
    #[arg(long)]
    link: Vec<String>,
    /// A link-local address (refused).
    #[arg(long)]
    link_local_ip: Vec<String>,
    /// Driver options for the network (refused).
    #[arg(long)]
    driver_opt: Vec<String>,
    /// Which network gives the default route (accepted if 0, the default).
    #[arg(long, default_value_t = 0)]
    gw_priority: i64,
    network: String,
    container: String,
}

#[derive(Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network (even when it is gone).
    #[arg(short, long)]
    force: bool,
    network: String,
    container: String,
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

pub fn run(api: &dyn Api, command: NetworkCommand) -> Result<u8> {
    match command {
        NetworkCommand::Create(args) => create(api, args),
        NetworkCommand::Ls(args) => ls(api, args),
        NetworkCommand::Rm(args) => rm(api, args),
        NetworkCommand::Inspect(args) => inspect(api, args),
        NetworkCommand::Prune(_) => prune(api),
        NetworkCommand::Connect(args) => connect(api, args),
        NetworkCommand::Disconnect(args) => disconnect(api, args),
    }
}

fn api_error(error: ch09_engine::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.message)
}

// ANCHOR: create
/// `network create`: the body the `docker` CLI sends to `POST /networks/create`.
fn create(api: &dyn Api, args: CreateArgs) -> Result<u8> {
    let mut options = serde_json::Map::new();
    for opt in &args.opt {
        let Some((key, value)) = opt.split_once('=') else {
            return Err(ch06_networking::NetError::InvalidOption(opt.clone()).into());
        };
        options.insert(key.to_string(), json!(value));
    }
    let config: Vec<Value> = args.subnet.iter().map(|s| json!({ "Subnet": s })).collect();
    let body = json!({
        "Name": args.name, "Driver": args.driver, "Options": options,
        "IPAM": { "Driver": "default", "Options": {}, "Config": config },
        "Internal": false, "Attachable": false, "Labels": {},
    });
    let created = api.network_create(&body).map_err(api_error)?;
    println!("{}", created["Id"].as_str().unwrap_or_default());
    Ok(0)
}
// ANCHOR_END: create

// ANCHOR: connect
/// `network connect`: the body the `docker` CLI sends to `POST /networks/{id}/connect`.
fn connect(api: &dyn Api, args: ConnectArgs) -> Result<u8> {
    if args.gw_priority != 0 {
        anyhow::bail!("network connect --gw-priority is not supported here: the first network gives the default route");
    }
    let driver_opts: serde_json::Map<String, Value> = args
        .driver_opt
        .iter()
        .map(|o| o.split_once('=').unwrap_or((o, "")))
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let ipam = json!({
        "IPv4Address": args.ip.unwrap_or_default(), "IPv6Address": args.ip6.unwrap_or_default(),
        "LinkLocalIPs": args.link_local_ip,
    });
    let links = Some(args.link).filter(|l| !l.is_empty());
    let aliases = Some(args.alias).filter(|a| !a.is_empty());
    let body = json!({
        "Container": args.container,
        "EndpointConfig": { "IPAMConfig": ipam, "Links": links, "Aliases": aliases,
            "MacAddress": "", "DriverOpts": driver_opts, "GwPriority": 0 },
    });
    api.network_connect(&args.network, &body).map_err(api_error)?;
    Ok(0)
}

/// `network disconnect [-f]`: `{"Container": …, "Force": …}`.
fn disconnect(api: &dyn Api, args: DisconnectArgs) -> Result<u8> {
    let body = json!({ "Container": args.container, "Force": args.force });
    api.network_disconnect(&args.network, &body).map_err(api_error)?;
    Ok(0)
}
// ANCHOR_END: connect

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

/// `network ls`: ours, then the built-in `host` and `none` (which have no
/// bridge of ours: their id shows as `-`, and `-q` leaves them out).
fn ls(api: &dyn Api, args: LsArgs) -> Result<u8> {
    let id = |id: &str| if args.no_trunc { id.to_string() } else { id.chars().take(12).collect() };
    let mut rows = Vec::new();
    for network in api.network_list().map_err(api_error)? {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let (name, driver) = (text(&network["Name"]), text(&network["Driver"]));
        if driver != "bridge" {
            if !args.quiet {
                rows.push(network_row("-", &name, &driver, "", "", ""));
            }
            continue;
        }
        let subnet = text(&network["IPAM"]["Config"][0]["Subnet"]);
        let bridge = text(&network["Options"]["com.docker.network.bridge.name"]);
        let created = text(&network["Created"]);
        rows.push(network_row(
            &id(&text(&network["Id"])),
            &name,
            "bridge",
            &created,
            &subnet,
            &bridge,
        ));
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

fn rm(api: &dyn Api, args: NamesArgs) -> Result<u8> {
    let mut failed = false;
    for name in &args.networks {
        match api.network_remove(name) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("mini-docker: {}", e.message);
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

fn inspect(api: &dyn Api, args: InspectArgs) -> Result<u8> {
    let mut all = Vec::new();
    for name in &args.networks {
        all.push(api.network_inspect(name).map_err(api_error)?);
    }
    match &args.format {
        Some(template) => print!("{}", format::render_each(template, &all)?),
        None => println!("{}", serde_json::to_string_pretty(&all)?),
    }
    Ok(0)
}

fn prune(api: &dyn Api) -> Result<u8> {
    let pruned = api.network_prune().map_err(api_error)?;
    let removed = pruned["NetworksDeleted"].as_array().cloned().unwrap_or_default();
    if !removed.is_empty() {
        println!("Deleted Networks:");
        for name in removed {
            println!("{}", name.as_str().unwrap_or_default());
        }
    }
    Ok(0)
}
