//! Exercise `advance` (easy). Book: ch11-services.md, "The task state machine".
//!
//! Task states are ordered (`TaskState` derives `Ord`, in swarmkit's order:
//! new < pending < … < running < complete < shutdown < failed < …). A
//! report moves a task forward only: a late or repeated report of an
//! earlier state must change nothing.

use ch11_services::state::TaskState;

/// Apply `reported` to `current` if it is later; true when it changed.
pub fn advance(current: &mut TaskState, reported: TaskState) -> bool {
    todo!("compare, assign, say whether it changed")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: any different state taken (`reported !=
    // *current`): a late report moves a task back. Checked by pasting it into the stub: it fails
    // `an_earlier_or_equal_state_changes_nothing`.
    //
    //     if reported != *current {
    //         *current = reported;
    //         true
    //     } else {
    //         false
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch11_services::state as solution;
    use ch11_services::state::TaskState;

    #[test]
    fn a_later_state_is_taken() {
        let mut state = TaskState::Assigned;
        assert!(solution::advance(&mut state, TaskState::Running));
        assert_eq!(state, TaskState::Running);
    }

    #[test]
    fn an_earlier_or_equal_state_changes_nothing() {
        let mut state = TaskState::Running;
        assert!(!solution::advance(&mut state, TaskState::Starting));
        assert!(!solution::advance(&mut state, TaskState::Running));
        assert_eq!(state, TaskState::Running);
        let mut failed = TaskState::Failed;
        assert!(
            !solution::advance(&mut failed, TaskState::Running),
            "a failed task never runs again"
        );
    }
}
