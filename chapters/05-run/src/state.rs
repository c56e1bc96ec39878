//! A container's state: the small state machine `docker ps` reports.
//!
//! ```text
//!            create            start                  the command exits
//!  (none) ──────────▶ created ────────▶ running ─────────────────────────▶ exited
//!                        ▲                 │  stop: SIGTERM, then SIGKILL     │
//!                        │                 └──────────────────────────────────┤
//!                        │                        start / restart             │
//!                        └────────────────────────────────────────────────────┘
//!                                       rm (rm -f also from running) ──▶ (gone)
//! ```

use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Exited,
}

// ANCHOR: state
/// What `state.json` holds; the names follow `docker inspect`'s `State`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub status: Status,
    /// The container's main process, as the host numbers it.
    pub pid: Option<i32>,
    /// The process that waits for the container and records its exit.
    pub supervisor_pid: Option<i32>,
    pub exit_code: Option<i32>,
    #[serde(rename = "oom_killed")]
    pub oom_killed: bool,
    /// Why the container could not start, or why it ended abnormally.
    pub error: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// Running, but frozen by `pause` (chapter 2's freezer): Docker's
    /// `State.Paused`, with `Running` still true.
    #[serde(default)]
    pub paused: bool,
}
// ANCHOR_END: state

impl State {
    pub fn created() -> State {
        State {
            status: Status::Created,
            pid: None,
            supervisor_pid: None,
            exit_code: None,
            oom_killed: false,
            error: None,
            started_at: None,
            finished_at: None,
            paused: false,
        }
    }

    pub fn is_running(&self) -> bool {
        self.status == Status::Running
    }

    /// Running and frozen (`docker pause`).
    pub fn is_paused(&self) -> bool {
        self.is_running() && self.paused
    }

    // ANCHOR: repair
    /// A state that says "running" although its supervisor is gone (it was
    /// killed with SIGKILL, or the machine rebooted) is corrected to
    /// "exited". Returns true when it changed anything.
    pub fn repair_if_supervisor_died(&mut self) -> bool {
        let supervisor_alive = self.supervisor_pid.is_some_and(process_exists);
        if self.status != Status::Running || supervisor_alive {
            return false;
        }
        self.status = Status::Exited;
        self.exit_code = Some(137);
        self.error = Some("the supervisor died; the container was killed with it".to_string());
        self.finished_at = Some(now());
        self.pid = None;
        self.supervisor_pid = None;
        self.paused = false;
        true
    }
    // ANCHOR_END: repair

    /// `docker ps`'s STATUS column: `Up 5 seconds`, `Exited (0) 3 minutes ago`, `Created`.
    pub fn status_line(&self, at: SystemTime) -> String {
        match self.status {
            Status::Created => "Created".to_string(),
            Status::Running => {
                let up = human_duration(since(self.started_at.as_deref(), at));
                if self.paused {
                    format!("Up {up} (Paused)")
                } else {
                    format!("Up {up}")
                }
            }
            Status::Exited => format!(
                "Exited ({}) {} ago",
                self.exit_code.unwrap_or(0),
                human_duration(since(self.finished_at.as_deref(), at))
            ),
        }
    }
}

/// Is there a process with this pid? (A zombie still counts.)
pub fn process_exists(pid: i32) -> bool {
    !matches!(kill(Pid::from_raw(pid), None), Err(Errno::ESRCH))
}

/// The current time as RFC 3339, like Docker's timestamps.
pub fn now() -> String {
    humantime::format_rfc3339_nanos(SystemTime::now()).to_string()
}

fn since(stamp: Option<&str>, at: SystemTime) -> Duration {
    stamp
        .and_then(|s| humantime::parse_rfc3339(s).ok())
        .and_then(|t| at.duration_since(t).ok())
        .unwrap_or_default()
}

/// Docker's (go-units `HumanDuration`) wording.
pub fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "Less than a second".to_string(),
        1 => "1 second".to_string(),
        2..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".to_string(),
        120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".to_string(),
        7200..=172_799 => format!("{} hours", s / 3600),
        _ => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_read_like_dockers() {
        assert_eq!(human_duration(Duration::from_millis(300)), "Less than a second");
        assert_eq!(human_duration(Duration::from_secs(5)), "5 seconds");
        assert_eq!(human_duration(Duration::from_secs(90)), "About a minute");
        assert_eq!(human_duration(Duration::from_secs(600)), "10 minutes");
        assert_eq!(human_duration(Duration::from_secs(3 * 3600)), "3 hours");
        assert_eq!(human_duration(Duration::from_secs(3 * 86400)), "3 days");
    }

    #[test]
    fn status_lines() {
        let start = SystemTime::now();
        let mut state = State::created();
        assert_eq!(state.status_line(start), "Created");
        state.status = Status::Running;
        state.started_at = Some(humantime::format_rfc3339_nanos(start).to_string());
        assert_eq!(state.status_line(start + Duration::from_secs(5)), "Up 5 seconds");
        state.paused = true;
        assert_eq!(state.status_line(start + Duration::from_secs(3)), "Up 3 seconds (Paused)");
        state.paused = false;
        state.status = Status::Exited;
        state.exit_code = Some(3);
        state.finished_at = state.started_at.clone();
        assert_eq!(state.status_line(start + Duration::from_secs(120)), "Exited (3) 2 minutes ago");
    }

    #[test]
    fn running_state_with_dead_supervisor_is_repaired() {
        let mut state = State::created();
        state.status = Status::Running;
        state.supervisor_pid = Some(i32::MAX - 1); // no such process
        assert!(state.repair_if_supervisor_died());
        assert_eq!((state.status, state.exit_code), (Status::Exited, Some(137)));
        assert!(!state.repair_if_supervisor_died(), "a second repair must change nothing");

        let mut alive = State::created();
        alive.status = Status::Running;
        alive.supervisor_pid = Some(std::process::id() as i32);
        assert!(!alive.repair_if_supervisor_died());
    }

    #[test]
    fn state_round_trips_through_json() {
        let state = State { exit_code: Some(1), ..State::created() };
        let json = serde_json::to_string(&state).unwrap();
        assert!(json.contains("\"status\":\"created\""));
        assert_eq!(serde_json::from_str::<State>(&json).unwrap(), state);
    }
}
