//! `volume create | ls | inspect | rm | prune`: argument parsing and
//! output only; the work is chapter 7's, in this process or the daemon's.

use anyhow::Result;
use ch07_volumes::prune::{human_size, table};
use ch07_volumes::Volume;
use ch09_engine::types::Filters;
use ch09_engine::Api;
use clap::Subcommand;
use serde_json::{json, Value};
use std::collections::BTreeMap;

use crate::format;

#[derive(Subcommand, Debug)]
#[command(defer = true)]
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
fn formatted(volumes: &[Value], format: &str) -> Result<String> {
    let rows: Vec<Value> = volumes
        .iter()
        .map(|v| {
            let labels = v["Labels"].as_object().map(|l| {
                l.iter()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect::<Vec<_>>()
            });
            json!({
                "Name": v["Name"], "Driver": "local", "Scope": "local",
                "Mountpoint": v["Mountpoint"], "Labels": labels.unwrap_or_default().join(","),
                "Links": "N/A", "Size": "N/A",
            })
        })
        .collect();
    format::Format::parse(format, VOLUMES_TABLE)?.render(&rows, VOLUME_HEADERS)
}

fn api_error(error: ch09_engine::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", error.message)
}

fn name_of(volume: &Value) -> String {
    volume["Name"].as_str().unwrap_or_default().to_string()
}

/// The API's volume as chapter 7's record, for chapter 7's table.
fn as_volume(volume: &Value) -> Volume {
    let labels = serde_json::from_value(volume["Labels"].clone()).unwrap_or_default();
    let created_at = volume["CreatedAt"].as_str().unwrap_or_default().to_string();
    Volume { name: name_of(volume), created_at, labels, anonymous: false }
}

pub fn run(api: &dyn Api, command: VolumeCommand) -> Result<u8> {
    match command {
        VolumeCommand::Create { name, driver, labels } => {
            let labels: BTreeMap<String, String> = labels
                .iter()
                .map(|l| {
                    l.split_once('=')
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .unwrap_or((l.clone(), String::new()))
                })
                .collect();
            let body =
                json!({ "Name": name, "Driver": driver, "Labels": labels, "DriverOpts": {} });
            println!("{}", name_of(&api.volume_create(&body).map_err(api_error)?));
        }
        VolumeCommand::Ls { quiet, format } => {
            let listed = api.volume_list().map_err(api_error)?;
            let volumes = listed["Volumes"].as_array().cloned().unwrap_or_default();
            match (quiet, format) {
                (true, _) => volumes.iter().for_each(|v| println!("{}", name_of(v))),
                (false, Some(format)) => print!("{}", formatted(&volumes, &format)?),
                (false, None) => {
                    print!("{}", table(&volumes.iter().map(as_volume).collect::<Vec<_>>()))
                }
            }
        }
        VolumeCommand::Inspect { format, names } => {
            let found = names
                .iter()
                .map(|n| api.volume_inspect(n).map_err(api_error))
                .collect::<Result<Vec<_>>>()?;
            match format {
                Some(template) => print!("{}", format::render_each(&template, &found)?),
                None => println!("{}", serde_json::to_string_pretty(&found)?),
            }
        }
        VolumeCommand::Rm { force, names } => {
            let mut failed = false;
            for name in names {
                match api.volume_remove(&name, false) {
                    Ok(()) => println!("{name}"),
                    Err(e) if e.status == 404 && force => {}
                    Err(e) => {
                        eprintln!("mini-docker: {}", e.message);
                        failed = true;
                    }
                }
            }
            return Ok(u8::from(failed));
        }
        VolumeCommand::Prune { all, force: _ } => {
            let filters = if all {
                Filters::from([("all".to_string(), vec!["true".to_string()])])
            } else {
                Filters::new()
            };
            let pruned = api.volume_prune(&filters).map_err(api_error)?;
            let names: Vec<String> = pruned["VolumesDeleted"]
                .as_array()
                .map(|n| n.iter().filter_map(|n| n.as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            if !names.is_empty() {
                println!("Deleted Volumes:\n{}\n", names.join("\n"));
            }
            let bytes = pruned["SpaceReclaimed"].as_u64().unwrap_or(0);
            println!("Total reclaimed space: {}", human_size(bytes));
        }
    }
    Ok(0)
}
