//! `volume create | ls | inspect | rm | prune`: argument parsing and
//! output only; the work is chapter 7's.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use ch07_volumes::prune::{human_size, prune, table};
use ch07_volumes::{containers_using, Volume, VolumeStore};
use clap::Subcommand;

use crate::format;

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume (a random name when none is given).
    Create {
        name: Option<String>,
        /// Volume driver: only "local".
        #[arg(short, long, default_value = "local")]
        driver: String,
        /// Set metadata: KEY=VALUE.
        #[arg(long = "label")]
        labels: Vec<String>,
    },
    /// List volumes.
    #[command(alias = "list")]
    Ls {
        /// Only print volume names.
        #[arg(short, long)]
        quiet: bool,
        /// Format the output: table, table TEMPLATE, json, or a Go template.
        #[arg(long)]
        format: Option<String>,
    },
    /// Show volumes as JSON.
    Inspect {
        /// Format the output using a Go template (one line per volume).
        #[arg(short, long)]
        format: Option<String>,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove volumes; a volume a container uses is refused.
    #[command(alias = "remove")]
    Rm {
        /// Do not complain about volumes that do not exist.
        #[arg(short, long)]
        force: bool,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove unused anonymous volumes (all unused volumes with --all).
    Prune {
        /// Remove unused named volumes too.
        #[arg(short, long)]
        all: bool,
        /// Do not ask for confirmation (mini-docker never asks).
        #[arg(short, long)]
        force: bool,
    },
}

/// The fields of a `volume ls` row and their headers (Docker's).
const VOLUME_HEADERS: &format::Headers = &[
    ("Name", "VOLUME NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
    ("Mountpoint", "MOUNTPOINT"),
    ("Labels", "LABELS"),
    ("Links", "LINKS"),
    ("Size", "SIZE"),
];
const VOLUMES_TABLE: &str = r"table {{.Driver}}\t{{.Name}}";

/// `volume ls --format`: each volume as Docker's fields.
fn formatted(store: &VolumeStore, volumes: &[Volume], format: &str) -> Result<String> {
    let rows: Vec<serde_json::Value> = volumes
        .iter()
        .map(|v| {
            let labels: Vec<String> = v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            serde_json::json!({
                "Name": v.name, "Driver": "local", "Scope": "local",
                "Mountpoint": store.inspect(v)["Mountpoint"], "Labels": labels.join(","),
                "Links": "N/A", "Size": "N/A",
            })
        })
        .collect();
    format::Format::parse(format, VOLUMES_TABLE)?.render(&rows, VOLUME_HEADERS)
}

pub fn run(root: &Path, command: VolumeCommand) -> Result<u8> {
    let store = VolumeStore::new(root);
    match command {
        VolumeCommand::Create { name, driver, labels } => {
            if driver != "local" {
                bail!("volume driver {driver:?} is not supported: only \"local\" is");
            }
            let labels: BTreeMap<String, String> = labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .unwrap_or((l.clone(), String::new()))
                })
                .collect();
            let _lock = store.lock()?;
            let (volume, _) = store.create(name.as_deref(), labels, false)?;
            println!("{}", volume.name);
        }
        VolumeCommand::Ls { quiet, format } => {
            let volumes = store.list()?;
            match (quiet, format) {
                (true, _) => volumes.iter().for_each(|v| println!("{}", v.name)),
                (false, Some(format)) => print!("{}", formatted(&store, &volumes, &format)?),
                (false, None) => print!("{}", table(&volumes)),
            }
        }
        VolumeCommand::Inspect { format, names } => {
            let found = names
                .iter()
                .map(|n| store.get(n).map(|v| store.inspect(&v)))
                .collect::<Result<Vec<_>, _>>()?;
            match format {
                Some(template) => print!("{}", format::render_each(&template, &found)?),
                None => println!("{}", serde_json::to_string_pretty(&found)?),
            }
        }
        VolumeCommand::Rm { force, names } => {
            let mut failed = false;
            for name in names {
                let _lock = store.lock()?;
                match store.remove(&name, containers_using(root, &name)) {
                    Ok(()) => println!("{name}"),
                    Err(ch07_volumes::VolumeError::NotFound(_)) if force => {}
                    Err(e) => {
                        eprintln!("mini-docker: {e}");
                        failed = true;
                    }
                }
            }
            return Ok(u8::from(failed));
        }
        VolumeCommand::Prune { all, force: _ } => {
            let pruned = prune(root, all)?;
            if !pruned.names.is_empty() {
                println!("Deleted Volumes:\n{}\n", pruned.names.join("\n"));
            }
            println!("Total reclaimed space: {}", human_size(pruned.bytes));
        }
    }
    Ok(0)
}
