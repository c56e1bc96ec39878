//! The container operations of the in-process engine.

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use ch01_namespaces::explain;
use ch05_run::attach::AttachClient;
use ch05_run::image::local_image;
use ch05_run::logs::Stream;
use ch05_run::state::{State, Status};
use ch05_run::{summary, StartOptions};
use serde_json::Value;

use super::{translate, Local};
use crate::api::{LogsOptions, Output, WaitCondition};
use crate::error::{ApiError, ApiResult};
use crate::types::{ContainerCreateBody, CreateResponse, Filters};

impl Local {
    // ANCHOR: create
    /// `POST /containers/create`: a missing image is a 404, which makes
    /// `docker run` pull it and try again.
    pub fn create(
        &self,
        name: Option<&str>,
        body: &ContainerCreateBody,
    ) -> ApiResult<CreateResponse> {
        let image = local_image(self.root(), &body.image)?.ok_or_else(|| {
            ApiError::not_found(format!("No such image: {}", familiar(&body.image)))
        })?;
        let request = translate::request(&self.settings, name, body, image)?;
        let created = self.engine.create(&request)?;
        Ok(CreateResponse { id: created.id, warnings: created.warnings })
    }
    // ANCHOR_END: create

    /// The container's full id, from an id, a name or a unique prefix.
    pub fn find(&self, wanted: &str) -> ApiResult<String> {
        Ok(self.engine.find(wanted.trim_start_matches('/'))?)
    }

    pub fn state_of(&self, id: &str) -> ApiResult<State> {
        Ok(self.engine.state(id)?)
    }

    /// `GET /containers/json`: newest first, the stopped ones only with `all`.
    pub fn list(&self, all: bool, filters: &Filters) -> ApiResult<Vec<Value>> {
        super::filters::check(filters)?;
        let now = SystemTime::now();
        let mut listed = self.engine.list()?;
        listed.reverse();
        let summaries = listed
            .iter()
            .map(|(config, state)| (state, summary::summarize(&self.engine, config, state, now)))
            .filter(|(state, summary)| {
                all || state.is_running()
                    || summary["State"] == "restarting"
                    || filters.contains_key("status")
            })
            .map(|(_, summary)| summary)
            .filter(|summary| super::matches(summary, filters))
            .collect();
        Ok(summaries)
    }

    pub fn inspect(&self, wanted: &str) -> ApiResult<Value> {
        let id = self.find(wanted)?;
        let (config, state) = (self.engine.config(&id)?, self.engine.state(&id)?);
        Ok(ch05_run::inspect::describe(&self.engine, &config, &state))
    }

    // ANCHOR: start
    /// `POST /containers/{id}/start`; false when it was already running
    /// (the API's 304). A start by hand begins `RestartCount` again, as
    /// dockerd's. With a start helper, the start happens in a process of
    /// its own, which has one thread, as forking a supervisor needs.
    pub fn start(&self, wanted: &str, options: StartOptions) -> ApiResult<bool> {
        self.start_counting(wanted, options, true)
    }

    /// The restart policy's start: `RestartCount` goes up first, as
    /// dockerd's, so whoever sees it run sees it counted.
    pub fn start_by_policy(&self, wanted: &str) -> ApiResult<bool> {
        self.start_counting(wanted, StartOptions::default(), false)
    }

    fn start_counting(
        &self,
        wanted: &str,
        options: StartOptions,
        by_hand: bool,
    ) -> ApiResult<bool> {
        let id = self.find(wanted)?;
        self.refuse_if_paused(&id, super::pause::START_PAUSED)?;
        if self.engine.state(&id)?.is_running() {
            return Ok(false);
        }
        let dir = self.engine.store.container_dir(&id);
        crate::lifecycle::update(&dir, |r| {
            r.manually_stopped = false;
            match by_hand {
                true => (r.restarting, r.restart_count) = (false, 0),
                // Still `restarting` until the policy's caller sees it run.
                false => r.restart_count += 1,
            }
        });
        match &self.settings.start_helper {
            None => self.engine.start_detached_with(&id, options)?,
            Some(helper) => match self.spawned(&id, options) {
                Some(started) => started?,
                None => run_start_helper(helper, self.root(), &id, options)?,
            },
        }
        Ok(true)
    }
    // ANCHOR_END: start

    /// `POST /containers/{id}/stop`; false when it was not running (304).
    /// A stop is the user's: no restart policy undoes it (Docker's
    /// `HasBeenManuallyStopped`), and a pending restart is called off.
    pub fn stop(&self, wanted: &str, timeout: Option<u64>) -> ApiResult<bool> {
        let id = self.find(wanted)?;
        let dir = self.engine.store.container_dir(&id);
        crate::lifecycle::update(&dir, |r| (r.manually_stopped, r.restarting) = (true, false));
        if !self.engine.state(&id)?.is_running() {
            return Ok(false);
        }
        self.engine.stop(&id, Duration::from_secs(timeout.unwrap_or(10)))?;
        Ok(true)
    }

    pub fn restart(&self, wanted: &str, timeout: Option<u64>) -> ApiResult<()> {
        self.stop(wanted, timeout)?;
        self.start(wanted, StartOptions::default()).map(drop)
    }

    pub fn kill(&self, wanted: &str, signal: &str) -> ApiResult<()> {
        let id = self.find(wanted)?;
        let signal = ch05_run::cli::parse_signal(if signal.is_empty() { "KILL" } else { signal })
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if !self.engine.state(&id)?.is_running() {
            let message = format!("cannot kill container: {wanted}: container {id} is not running");
            return Err(ApiError::conflict(message));
        }
        Ok(self.engine.kill(&id, signal)?)
    }

    pub fn remove(&self, wanted: &str, force: bool, volumes: bool) -> ApiResult<()> {
        let id = self.find(wanted)?;
        if !force && self.engine.state(&id)?.is_running() {
            let message = format!("cannot remove container \"{wanted}\": container is running: stop the container before removing or force remove");
            return Err(ApiError::conflict(message));
        }
        Ok(self.engine.remove(&id, force, volumes)?)
    }

    // ANCHOR: wait
    /// `POST /containers/{id}/wait`: block until `condition`, then the exit
    /// code. A running container's supervisor tells the exit on its attach
    /// socket, so no one polls while it runs.
    pub fn wait(&self, wanted: &str, condition: WaitCondition) -> ApiResult<i64> {
        let id = self.find(wanted)?;
        let dir = self.engine.store.container_dir(&id);
        let first = self.engine.state(&id)?;
        if condition == WaitCondition::NotRunning && !first.is_running() {
            return Ok(first.exit_code.unwrap_or(0) as i64);
        }
        let mut exit = first.exit_code.unwrap_or(0);
        loop {
            match self.engine.state(&id) {
                Err(_) if !self.engine.store.is_retiring(&id) => {
                    return Ok(self.engine.store.kept_exit_code(&id).unwrap_or(exit) as i64);
                    // removed
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
                Ok(state) if state.is_running() => {
                    match AttachClient::connect(&dir, false, Duration::ZERO) {
                        Ok(mut client) => {
                            exit = client.wait_for_exit().ok().flatten().unwrap_or(exit)
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                Ok(state) if ended_since(&first, &state) || first_is_final(&first, condition) => {
                    exit = state.exit_code.unwrap_or(exit);
                    if condition != WaitCondition::Removed {
                        return Ok(exit as i64);
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    // ANCHOR_END: wait

    /// `GET /containers/{id}/logs`: the entries, then (with `follow`) the new ones.
    pub fn logs(
        &self,
        wanted: &str,
        options: &LogsOptions,
        out: &mut dyn FnMut(Output, &[u8]),
    ) -> ApiResult<()> {
        self.logs_until(wanted, options, out, &|| false)
    }

    /// [`Local::logs`], following only until `stop` says so (the client left).
    pub fn logs_until(
        &self,
        wanted: &str,
        options: &LogsOptions,
        out: &mut dyn FnMut(Output, &[u8]),
        stop: &dyn Fn() -> bool,
    ) -> ApiResult<()> {
        let id = self.find(wanted)?;
        let path = self.engine.store.container_dir(&id).join("container.log");
        let mut emit = |entry: &ch05_run::logs::Entry| {
            let wanted_stream = match entry.stream {
                Stream::Stdout => options.stdout,
                Stream::Stderr => options.stderr,
            };
            if !wanted_stream || !after(entry, options.since) {
                return;
            }
            let stream =
                if entry.stream == Stream::Stdout { Output::Stdout } else { Output::Stderr };
            match options.timestamps {
                true => out(stream, format!("{} {}", entry.time, entry.log).as_bytes()),
                false => out(stream, entry.log.as_bytes()),
            }
        };
        let offset = ch05_run::logs::size(&path);
        for entry in ch05_run::logs::read(&path, options.tail).map_err(io)? {
            emit(&entry);
        }
        if options.follow {
            let running =
                || !stop() && self.engine.state(&id).map(|s| s.is_running()).unwrap_or(false);
            ch05_run::logs::follow(&path, offset, running, emit).map_err(io)?;
        }
        Ok(())
    }

    /// This process's terminal on a running container, through its
    /// supervisor's attach socket, until it exits; its exit code.
    pub fn attach_terminal(&self, wanted: &str) -> ApiResult<i64> {
        let id = self.find(wanted)?;
        if !self.engine.state(&id)?.is_running() {
            return Err(ApiError::conflict(
                "You cannot attach to a stopped container, start it first",
            ));
        }
        self.refuse_if_paused(&id, super::pause::ATTACH_PAUSED)?;
        let dir = self.engine.store.container_dir(&id);
        let mut client = AttachClient::connect(&dir, true, Duration::from_secs(5)).map_err(io)?;
        let mut sender = client.sender().map_err(io)?;
        std::thread::spawn(move || copy_stdin(&mut sender));
        loop {
            match client.next_event().map_err(io)? {
                ch05_run::attach::Event::Output(stream, bytes) => write_out(stream, &bytes),
                ch05_run::attach::Event::Exited(code) => return Ok(code as i64),
                ch05_run::attach::Event::Gone => return self.wait(&id, WaitCondition::NotRunning),
            }
        }
    }
}

/// Has `now` exited after `before` was read (a new `finished_at`)?
pub(crate) fn ended_since(before: &State, now: &State) -> bool {
    now.status == Status::Exited && now.finished_at != before.finished_at
}

/// `not-running` and `removed` are satisfied by the end that was already there.
pub(crate) fn first_is_final(first: &State, condition: WaitCondition) -> bool {
    condition != WaitCondition::NextExit && first.status == Status::Exited
}

fn after(entry: &ch05_run::logs::Entry, since: Option<i64>) -> bool {
    let Some(since) = since else { return true };
    let time = humantime::parse_rfc3339(&entry.time).ok();
    let secs = time.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
    secs.is_some_and(|d| d.as_secs() as i64 >= since)
}

fn io(error: std::io::Error) -> ApiError {
    ApiError::new(500, error.to_string())
}

/// `busybox` → `busybox:latest`, as Docker names a missing image.
fn familiar(name: &str) -> String {
    ch04_image_pull::Reference::parse(name).map(|r| r.familiar()).unwrap_or(name.to_string())
}

fn write_out(stream: Stream, bytes: &[u8]) {
    let _ = match stream {
        Stream::Stdout => {
            std::io::stdout().write_all(bytes).and_then(|()| std::io::stdout().flush())
        }
        Stream::Stderr => std::io::stderr().write_all(bytes),
    };
}

fn copy_stdin(sender: &mut ch05_run::attach::AttachSender) {
    let mut buf = [0u8; 4096];
    loop {
        match std::io::Read::read(&mut std::io::stdin(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) if sender.stdin(&buf[..n]).is_err() => return,
            Ok(_) => {}
        }
    }
    let _ = sender.close_stdin();
}

impl Local {
    // ANCHOR: spawned
    /// Start `id` through the spawner, where it can: not with `--explain`
    /// (the helper narrates on a pipe of its own) nor for `--init` (whose
    /// start runs from a sealed copy of the binary, chapter 8). `None`:
    /// run the helper instead.
    fn spawned(&self, id: &str, options: StartOptions) -> Option<ApiResult<()>> {
        let spawner = self.settings.spawner.as_ref()?;
        if explain::capturing()
            || explain::enabled()
            || self.engine.config(id).map_or(true, |c| c.init)
        {
            return None;
        }
        spawner.start(id, options)
    }
    // ANCHOR_END: spawned
}

// ANCHOR: start_helper
/// Start `id` by running `helper internal-start` (the composition's own
/// binary), and wait for it: it returns once the container runs, its
/// supervisor left behind. A failure is one line on its stderr, and its
/// exit code is the start's (126, 127, …).
fn run_start_helper(helper: &Path, root: &Path, id: &str, options: StartOptions) -> ApiResult<()> {
    let mut command = Command::new(helper);
    command.arg("--root").arg(root).arg("internal-start");
    if options.wait_for_attach {
        command.arg("--wait-for-attach");
    }
    let failed =
        |e: std::io::Error| ApiError::new(500, format!("starting {}: {e}", helper.display()));
    let steps = super::narration::pass_to(&mut command).map_err(failed)?;
    let out = command.arg(id).output().map_err(failed)?;
    steps.into_iter().for_each(super::narration::HelperSteps::finish);
    if out.status.success() {
        return Ok(());
    }
    let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
    let error = ApiError::bad_request(message);
    Err(ApiError { exit_code: out.status.code(), ..error })
}
// ANCHOR_END: start_helper
