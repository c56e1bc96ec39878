//! `volume create | ls | inspect | rm | prune`: argument parsing and
//! output only; the work is chapter 7's.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use ch07_volumes::prune::{human_size, prune, table};
use ch07_volumes::{containers_using, VolumeStore};
use clap::Subcommand;

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
    },
    /// Show volumes as JSON.
    Inspect {
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
        VolumeCommand::Ls { quiet } => {
            let volumes = store.list()?;
            if quiet {
                volumes.iter().for_each(|v| println!("{}", v.name));
            } else {
                print!("{}", table(&volumes));
            }
        }
        VolumeCommand::Inspect { names } => {
            let found = names
                .iter()
                .map(|n| store.get(n).map(|v| store.inspect(&v)))
                .collect::<Result<Vec<_>, _>>()?;
            println!("{}", serde_json::to_string_pretty(&found)?);
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
