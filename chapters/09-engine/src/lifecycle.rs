//! What needs a long-lived process to happen, and what it records: restart
//! policies and health checks. The rules are here, with no I/O beyond one
//! small file per container; the daemon's tasks (`server::restart`,
//! `server::health`) act on them. Without a daemon nothing acts on them —
//! as with Docker, where the daemon is the one that restarts and probes.
//!
//! ```text
//!  <root>/containers/<id>/engine-state.json   { RestartCount, ManuallyStopped, Restarting, Health, Watching }
//! ```

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::types::{HealthConfig, RestartPolicy};

/// The file, beside chapter 5's `state.json`.
const FILE: &str = "engine-state.json";

// ANCHOR: record
/// What the daemon keeps about a container between its runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Record {
    /// How many times the restart policy started it again (`RestartCount`).
    pub restart_count: i64,
    /// `docker stop` said so: no policy restarts it (until `docker start`).
    pub manually_stopped: bool,
    /// Between an exit and the policy's restart (`State.Restarting`).
    pub restarting: bool,
    /// The last health checks (`State.Health`), while it runs.
    pub health: Option<Health>,
    /// The run (its `StartedAt`) whose exit a daemon waits for: if it ended
    /// while no daemon ran, the next one handles that exit.
    pub watching: Option<String>,
}
// ANCHOR_END: record

/// `State.Health`: `starting`, `healthy` or `unhealthy`, and the last probes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<Probe>,
}

/// One probe's result, as `docker inspect` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Probe {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(FILE)
}

/// The container's record (the default one if there is none yet).
pub fn read(dir: &Path) -> Record {
    std::fs::read(path(dir)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// Change the record under a lock of its own: the daemon's tasks and a
/// `mini-docker stop` without a daemon may write it at the same time.
/// Nothing happens when the container is gone.
pub fn update(dir: &Path, change: impl FnOnce(&mut Record)) -> Option<Record> {
    if !dir.join("config.json").exists() {
        return None;
    }
    let lock =
        OpenOptions::new().create(true).truncate(false).write(true).open(dir.join("engine.lock"));
    let _lock = lock.ok().and_then(|f: File| Flock::lock(f, FlockArg::LockExclusive).ok());
    let mut record = read(dir);
    change(&mut record);
    let tmp = dir.join(format!(".{FILE}.tmp"));
    let written = serde_json::to_vec(&record).ok().and_then(|b| std::fs::write(&tmp, b).ok());
    written.and_then(|()| std::fs::rename(&tmp, path(dir)).ok()).map(|()| record)
}

// ANCHOR: should_restart
/// Docker's restart rules, after an exit with `exit_code`: `always` and
/// `unless-stopped` restart unless someone stopped it; `on-failure` only
/// after a non-zero exit, at most `N` times if `:N` was given.
pub fn should_restart(policy: &RestartPolicy, exit_code: i64, record: &Record) -> bool {
    if record.manually_stopped {
        return false;
    }
    match policy.name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            let max = policy.maximum_retry_count;
            exit_code != 0 && (max == 0 || record.restart_count < max)
        }
        _ => false,
    }
}

/// When a daemon starts, a container that is not running is started again
/// if its exit came while no daemon watched (or its restart was pending),
/// and the policy says so; `always` brings back even a stopped one
/// (Docker's docs: "restarted when the daemon restarts"), `unless-stopped`
/// does not.
pub fn restart_at_daemon_start(policy: &RestartPolicy, exit_code: i64, record: &Record) -> bool {
    if policy.name == "always" && record.manually_stopped {
        return true;
    }
    (record.restarting || record.watching.is_some()) && should_restart(policy, exit_code, record)
}

/// The wait before restart number `count` (from 0): 100 ms, doubled each
/// time, at most a minute — dockerd's restart manager. A run that lasted
/// 10 seconds or more starts the doubling again.
pub fn restart_delay(count: i64, ran_for: Duration) -> Duration {
    if ran_for >= Duration::from_secs(10) {
        return Duration::from_millis(100);
    }
    let doubled = 100u64.saturating_mul(1u64 << count.clamp(0, 20));
    Duration::from_millis(doubled.min(60_000))
}
// ANCHOR_END: should_restart

// ANCHOR: health_check
/// The check's timing with Docker's defaults filled in (30 s, 30 s, 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub retries: i64,
    pub start_period: Duration,
    /// Between probes while it is still starting, in the start period (5 s).
    pub start_interval: Duration,
}

/// `["CMD-SHELL", "curl -f …"]` → `sh -c`; `["CMD", …]` → the words;
/// `["NONE"]` or no test: no check.
pub fn check_of(config: &HealthConfig) -> Option<Check> {
    let test = config.test.as_deref().unwrap_or_default();
    let argv = match test.split_first() {
        Some((kind, rest)) if kind == "CMD-SHELL" && !rest.is_empty() => {
            vec!["/bin/sh".to_string(), "-c".to_string(), rest.join(" ")]
        }
        Some((kind, rest)) if kind == "CMD" && !rest.is_empty() => rest.to_vec(),
        _ => return None,
    };
    let or = |nanos: i64, default: u64| match nanos {
        n if n > 0 => Duration::from_nanos(n as u64),
        _ => Duration::from_secs(default),
    };
    Some(Check {
        argv,
        interval: or(config.interval, 30),
        timeout: or(config.timeout, 30),
        retries: if config.retries > 0 { config.retries } else { 3 },
        start_period: Duration::from_nanos(config.start_period.max(0) as u64),
        start_interval: or(config.start_interval, 5),
    })
}

// ANCHOR_END: health_check

// ANCHOR: next_interval
impl Check {
    /// How long to wait before the next probe: the start interval while the
    /// container is `starting` within its start period, as Docker 25+.
    pub fn next_interval(&self, since_start: Duration, status: &str) -> Duration {
        let starting = since_start < self.start_period && status == "starting";
        if starting {
            self.start_interval
        } else {
            self.interval
        }
    }
}
// ANCHOR_END: next_interval

// ANCHOR: record_probe
/// Record one probe: success makes it healthy; a failure counts (unless
/// it is still in its start period) and `retries` of them in a row make it
/// unhealthy. Only the last 5 probes are kept, as dockerd keeps them.
pub fn record_probe(health: &mut Health, probe: Probe, retries: i64, in_start_period: bool) {
    if probe.exit_code == 0 {
        health.failing_streak = 0;
        health.status = "healthy".to_string();
    } else if !(in_start_period && health.status == "starting") {
        health.failing_streak += 1;
        if health.failing_streak >= retries {
            health.status = "unhealthy".to_string();
        }
    }
    health.log.push(probe);
    let extra = health.log.len().saturating_sub(5);
    health.log.drain(..extra);
}
// ANCHOR_END: record_probe

/// A new run's health: `starting`, no probes yet.
pub fn starting() -> Health {
    Health { status: "starting".to_string(), failing_streak: 0, log: Vec::new() }
}

/// The image's HEALTHCHECK under the container's: each field the
/// container leaves empty comes from the image, as dockerd merges them.
pub fn merge_health(
    container: Option<&HealthConfig>,
    image: Option<&HealthConfig>,
) -> Option<HealthConfig> {
    let Some(image) = image else { return container.cloned() };
    let Some(container) = container else { return Some(image.clone()) };
    let pick = |own: i64, theirs: i64| if own != 0 { own } else { theirs };
    Some(HealthConfig {
        test: container.test.clone().filter(|t| !t.is_empty()).or_else(|| image.test.clone()),
        interval: pick(container.interval, image.interval),
        timeout: pick(container.timeout, image.timeout),
        retries: pick(container.retries, image.retries),
        start_period: pick(container.start_period, image.start_period),
        start_interval: pick(container.start_interval, image.start_interval),
    })
}

/// `docker ps`'s suffix: ` (healthy)`, ` (unhealthy)`, ` (health: starting)`.
pub fn status_suffix(health: &Health) -> String {
    match health.status.as_str() {
        "starting" => " (health: starting)".to_string(),
        "" => String::new(),
        other => format!(" ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, max: i64) -> RestartPolicy {
        RestartPolicy { name: name.into(), maximum_retry_count: max }
    }

    #[test]
    fn restart_rules_are_dockers() {
        let fresh = Record::default();
        assert!(!should_restart(&policy("no", 0), 1, &fresh));
        assert!(should_restart(&policy("always", 0), 0, &fresh));
        assert!(should_restart(&policy("unless-stopped", 0), 0, &fresh));
        assert!(!should_restart(&policy("on-failure", 0), 0, &fresh));
        assert!(should_restart(&policy("on-failure", 0), 3, &fresh));
        let twice = Record { restart_count: 2, ..Record::default() };
        assert!(!should_restart(&policy("on-failure", 2), 1, &twice));
        assert!(should_restart(&policy("on-failure", 3), 1, &twice));
        let stopped = Record { manually_stopped: true, ..Record::default() };
        assert!(!should_restart(&policy("always", 0), 137, &stopped));
        assert!(restart_at_daemon_start(&policy("always", 0), 0, &stopped));
        assert!(!restart_at_daemon_start(&policy("unless-stopped", 0), 0, &stopped));
        let unseen = Record { watching: Some("t".into()), ..Record::default() };
        assert!(restart_at_daemon_start(&policy("on-failure", 0), 1, &unseen));
        assert!(!restart_at_daemon_start(&policy("on-failure", 0), 0, &unseen));
        assert!(!restart_at_daemon_start(&policy("always", 0), 0, &fresh));
    }

    #[test]
    fn restart_delays_double_and_reset() {
        let quick = Duration::from_millis(5);
        assert_eq!(restart_delay(0, quick), Duration::from_millis(100));
        assert_eq!(restart_delay(3, quick), Duration::from_millis(800));
        assert_eq!(restart_delay(30, quick), Duration::from_secs(60));
        assert_eq!(restart_delay(5, Duration::from_secs(11)), Duration::from_millis(100));
    }

    #[test]
    fn checks_get_dockers_defaults() {
        let shell = HealthConfig {
            test: Some(vec!["CMD-SHELL".into(), "true".into()]),
            ..Default::default()
        };
        let check = check_of(&shell).unwrap();
        assert_eq!(check.argv, ["/bin/sh", "-c", "true"]);
        assert_eq!((check.interval, check.retries), (Duration::from_secs(30), 3));
        let none = HealthConfig { test: Some(vec!["NONE".into()]), ..Default::default() };
        assert_eq!(check_of(&none), None);
        let words = HealthConfig {
            test: Some(vec!["CMD".into(), "ls".into(), "/".into()]),
            interval: 1_000_000_000,
            ..Default::default()
        };
        assert_eq!(check_of(&words).unwrap().argv, ["ls", "/"]);
        assert_eq!(check_of(&words).unwrap().interval, Duration::from_secs(1));
        assert_eq!(check.start_interval, Duration::from_secs(5));
    }

    #[test]
    fn the_start_interval_holds_while_starting_in_the_start_period() {
        let config = HealthConfig {
            test: Some(vec!["CMD".into(), "true".into()]),
            interval: 30_000_000_000,
            start_period: 10_000_000_000,
            start_interval: 1_000_000_000,
            ..Default::default()
        };
        let check = check_of(&config).unwrap();
        let (second, eleventh) = (Duration::from_secs(1), Duration::from_secs(11));
        assert_eq!(check.next_interval(second, "starting"), Duration::from_secs(1));
        assert_eq!(check.next_interval(second, "healthy"), Duration::from_secs(30));
        assert_eq!(check.next_interval(eleventh, "starting"), Duration::from_secs(30));
        let no_period = HealthConfig { start_period: 0, ..config };
        assert_eq!(check_of(&no_period).unwrap().next_interval(second, "starting"), check.interval);
    }

    #[test]
    fn probes_make_it_healthy_then_unhealthy() {
        let probe = |code| Probe { exit_code: code, ..Probe::default() };
        let mut health = starting();
        record_probe(&mut health, probe(1), 2, true);
        assert_eq!((health.status.as_str(), health.failing_streak), ("starting", 0));
        record_probe(&mut health, probe(0), 2, true);
        assert_eq!(health.status, "healthy");
        record_probe(&mut health, probe(1), 2, false);
        assert_eq!((health.status.as_str(), health.failing_streak), ("healthy", 1));
        record_probe(&mut health, probe(1), 2, false);
        assert_eq!(health.status, "unhealthy");
        for _ in 0..5 {
            record_probe(&mut health, probe(0), 2, false);
        }
        assert_eq!((health.log.len(), health.status.as_str()), (5, "healthy"));
        assert_eq!(status_suffix(&starting()), " (health: starting)");
    }

    #[test]
    fn the_containers_check_overrides_the_images_field_by_field() {
        let image = HealthConfig {
            test: Some(vec!["CMD".into(), "a".into()]),
            interval: 5,
            retries: 2,
            ..Default::default()
        };
        let own = HealthConfig { interval: 9, ..Default::default() };
        let merged = merge_health(Some(&own), Some(&image)).unwrap();
        assert_eq!((merged.test, merged.interval, merged.retries), (image.test.clone(), 9, 2));
        assert_eq!(merge_health(None, Some(&image)), Some(image));
    }
}
