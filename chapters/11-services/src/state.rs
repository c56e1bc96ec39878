//! The task state machine. A task only ever moves forward: its states are
//! ordered, and a report of an earlier state than the one recorded is
//! ignored, so reports that arrive late or twice do no harm.
//!
//! ```text
//!  new → pending → assigned → accepted → preparing → ready → starting → running
//!   (manager: orchestrator, scheduler)   (worker: the agent)               │
//!                                                        complete ◀────────┤ exit 0
//!                                                        failed   ◀────────┤ exit ≠ 0, or a start that failed
//!                 rejected ◀── an error before starting  shutdown ◀────────┘ asked to stop
//! ```

use serde::{Deserialize, Serialize};

// ANCHOR: task_state
/// swarmkit's `TaskState`, in its order (the proto spaces them 64 apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    New,
    Pending,
    Assigned,
    Accepted,
    Preparing,
    Ready,
    Starting,
    Running,
    Complete,
    Shutdown,
    Failed,
    Rejected,
    Remove,
    Orphaned,
}
// ANCHOR_END: task_state

impl TaskState {
    /// The API's lowercase name (`docker service ps` capitalizes it).
    pub fn name(self) -> &'static str {
        match self {
            TaskState::New => "new",
            TaskState::Pending => "pending",
            TaskState::Assigned => "assigned",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "ready",
            TaskState::Starting => "starting",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "remove",
            TaskState::Orphaned => "orphaned",
        }
    }

    pub fn parse(name: &str) -> Option<TaskState> {
        ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Has the task stopped for good (past running)?
    pub fn is_terminal(self) -> bool {
        self > TaskState::Running
    }

    /// The message the agent reports with each state, as swarmkit's does.
    pub fn message(self) -> &'static str {
        match self {
            TaskState::New => "created",
            TaskState::Pending => "pending task scheduling",
            TaskState::Assigned => "scheduler assigned task to node",
            TaskState::Accepted => "accepted",
            TaskState::Preparing => "preparing",
            TaskState::Ready => "prepared",
            TaskState::Starting => "starting",
            TaskState::Running => "started",
            TaskState::Complete => "finished",
            TaskState::Shutdown => "shutdown",
            TaskState::Failed => "failed",
            TaskState::Rejected => "rejected",
            TaskState::Remove => "removed",
            TaskState::Orphaned => "orphaned",
        }
    }
}

const ALL: [TaskState; 14] = [
    TaskState::New,
    TaskState::Pending,
    TaskState::Assigned,
    TaskState::Accepted,
    TaskState::Preparing,
    TaskState::Ready,
    TaskState::Starting,
    TaskState::Running,
    TaskState::Complete,
    TaskState::Shutdown,
    TaskState::Failed,
    TaskState::Rejected,
    TaskState::Remove,
    TaskState::Orphaned,
];

// ANCHOR: advance
/// Apply a reported state: forward only. True when it changed.
pub fn advance(current: &mut TaskState, reported: TaskState) -> bool {
    if reported > *current {
        *current = reported;
        return true;
    }
    false
}
// ANCHOR_END: advance

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_only_move_forward() {
        let mut state = TaskState::Assigned;
        assert!(advance(&mut state, TaskState::Running));
        assert!(!advance(&mut state, TaskState::Starting), "a late report is ignored");
        assert_eq!(state, TaskState::Running);
        assert!(advance(&mut state, TaskState::Failed));
        assert!(!advance(&mut state, TaskState::Running), "a failed task never runs again");
    }

    #[test]
    fn names_round_trip_and_match_the_api() {
        for state in ALL {
            assert_eq!(TaskState::parse(state.name()), Some(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.name()));
        }
        assert!(TaskState::Complete.is_terminal() && !TaskState::Running.is_terminal());
    }
}
