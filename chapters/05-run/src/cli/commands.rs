//! The container verbs over an [`Engine`]: what `ch05-run` and the
//! in-process `mini-docker` do for `start`, `stop`, `rm`, `ps`, `logs`, …

use std::io::Write;
use std::time::{Duration, SystemTime};

use anyhow::{anyhow, bail, Result};
use nix::sys::signal::Signal;

use super::errors::{one_line, start_error, with_code};
use super::flags::*;
use crate::create::{CreateRequest, Created};
use crate::ids::short_id;
use crate::lifecycle::Engine;
use crate::logs::{Entry, Stream};
use crate::state::Status;

/// `create`: make the container, print its warnings (as `docker run` prints
/// the daemon's) and return its id.
pub fn create(engine: &Engine, request: &CreateRequest) -> Result<String> {
    let Created { id, warnings } = engine.create(request).map_err(|e| with_code(e, 125))?;
    for warning in warnings {
        eprintln!("WARNING: {warning}");
    }
    Ok(id)
}

/// `run` once the container exists: detached (print the id) or attached
/// (this process supervises it), exiting with the container's code.
pub fn run_created(engine: &Engine, id: &str, detach: bool) -> Result<u8> {
    if detach {
        engine.start_detached(id).map_err(start_error)?;
        println!("{id}");
        return Ok(0);
    }
    Ok(engine.start_attached(id).map_err(start_error)? as u8)
}

pub fn start(engine: &Engine, args: &StartArgs) -> Result<u8> {
    if args.attach {
        let [one] = args.containers.as_slice() else {
            bail!("you cannot start and attach multiple containers at once")
        };
        let id = engine.find(one)?;
        return Ok(engine.start_attached(&id).map_err(start_error)? as u8);
    }
    for_each(engine, &args.containers, |engine, id| engine.start_detached(id))
}

pub fn stop(engine: &Engine, args: &StopArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.time);
    for_each(engine, &args.containers, |engine, id| engine.stop(id, timeout))
}

pub fn restart(engine: &Engine, args: &StopArgs) -> Result<u8> {
    let timeout = Duration::from_secs(args.time);
    for_each(engine, &args.containers, |engine, id| {
        engine.stop(id, timeout)?;
        engine.start_detached(id)
    })
}

pub fn kill(engine: &Engine, args: &KillArgs) -> Result<u8> {
    let signal = parse_signal(&args.signal)?;
    for_each(engine, &args.containers, |engine, id| engine.kill(id, signal))
}

pub fn rm(engine: &Engine, args: &RmArgs) -> Result<u8> {
    for_each(engine, &args.containers, |engine, id| engine.remove(id, args.force, args.volumes))
}

pub fn wait(engine: &Engine, args: &ContainersArgs) -> Result<u8> {
    let mut failed = false;
    for wanted in &args.containers {
        match engine.find(wanted).and_then(|id| engine.wait(&id)) {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("{}: {e:#}", program());
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

/// Do `action` for each named container, print each name as Docker does,
/// and report errors one line each; exit 1 if any failed.
pub fn for_each(
    engine: &Engine,
    wanted: &[String],
    action: impl Fn(&Engine, &str) -> Result<()>,
) -> Result<u8> {
    let mut failed = false;
    for name in wanted {
        match engine.find(name).and_then(|id| action(engine, &id)) {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("{}: {}", program(), one_line(&e));
                failed = true;
            }
        }
    }
    Ok(u8::from(failed))
}

/// The name errors start with: `mini-docker`, `ch05-run`.
fn program() -> String {
    let arg0 = std::env::args().next().unwrap_or_default();
    arg0.rsplit('/').next().unwrap_or("mini-docker").to_string()
}

/// `KILL`, `SIGKILL`, `kill` or `9`.
pub fn parse_signal(text: &str) -> Result<Signal> {
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| anyhow!("invalid signal: {text}"));
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    name.parse::<Signal>().map_err(|_| anyhow!("invalid signal: {text}"))
}

/// `ps`: running containers (all with `-a`), newest first.
pub fn ps(engine: &Engine, args: &PsArgs) -> Result<u8> {
    let now = SystemTime::now();
    let mut all = engine.list()?;
    all.reverse(); // newest first, as Docker lists them
    let shown = all.iter().filter(|(_, state)| args.all || state.is_running());
    if args.quiet {
        shown.for_each(|(config, _)| println!("{}", short_id(&config.id)));
        return Ok(0);
    }
    let summaries: Vec<_> =
        shown.map(|(c, s)| crate::summary::summarize(engine, c, s, now)).collect();
    print!("{}", crate::ps::table(&summaries, now));
    Ok(0)
}

pub fn logs(engine: &Engine, args: &LogsArgs) -> Result<u8> {
    let id = engine.find(&args.container)?;
    let path = engine.store.container_dir(&id).join("container.log");
    let tail = match args.tail.as_str() {
        "all" => None,
        n => Some(
            n.parse::<usize>()
                .map_err(|_| anyhow!("invalid --tail {n:?}: give a number or \"all\""))?,
        ),
    };
    let offset = crate::logs::size(&path);
    for entry in crate::logs::read(&path, tail)? {
        print_entry(&entry);
    }
    if args.follow {
        let running = || engine.state(&id).map(|s| s.is_running()).unwrap_or(false);
        crate::logs::follow(&path, offset, running, print_entry)?;
    }
    Ok(0)
}

fn print_entry(entry: &Entry) {
    let _ = match entry.stream {
        Stream::Stdout => std::io::stdout()
            .write_all(entry.log.as_bytes())
            .and_then(|_| std::io::stdout().flush()),
        Stream::Stderr => std::io::stderr().write_all(entry.log.as_bytes()),
    };
}

/// `inspect`: a JSON array, one object per container; `None` when a name
/// is not a container (the caller may look for an image of that name).
pub fn inspect(engine: &Engine, names: &[String]) -> Result<Option<u8>> {
    let ids: Vec<String> = match names.iter().map(|n| engine.find(n)).collect::<Result<_>>() {
        Ok(ids) => ids,
        Err(_) => return Ok(None),
    };
    let mut all = Vec::new();
    for id in ids {
        let (config, state) = (engine.config(&id)?, engine.state(&id)?);
        all.push(crate::inspect::describe(engine, &config, &state));
    }
    println!("{}", serde_json::to_string_pretty(&all)?);
    Ok(Some(0))
}

/// `exec`: run a command in a running container, with its exit code.
pub fn exec(engine: &Engine, args: ExecArgs) -> Result<u8> {
    let id = engine.find(&args.target[0])?;
    let state = engine.state(&id)?;
    let Some(pid) = state.pid.filter(|_| state.status == Status::Running) else {
        bail!("container {} is not running", short_id(&id));
    };
    let config = engine.config(&id)?;
    let env = crate::env::collect(&[] as &[&std::path::Path], &args.env)?;
    let request = crate::exec::ExecRequest {
        target: nix::unistd::Pid::from_raw(pid),
        argv: args.target[1..].to_vec(),
        env,
        workdir: args.workdir,
        tty: args.tty,
        interactive: args.interactive,
        sizes: None,
    };
    let code =
        crate::exec::run(engine, &config, request).map_err(|e| match e
            .downcast_ref::<ch01_namespaces::SpawnError>()
        {
            Some(spawn) => with_code(anyhow!("{spawn}"), spawn.exit_code()),
            None => with_code(e, 126),
        })?;
    Ok(code as u8)
}

/// `internal-exited`: finish the run of a container whose shim saw it exit.
pub fn exited(engine: &Engine, args: &ExitedArgs) -> anyhow::Result<u8> {
    engine.finish_exited(&args.id, args.exit_code, &args.attach_fds)?;
    Ok(0)
}
