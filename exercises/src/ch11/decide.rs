//! Exercise `decide` (medium). Book: ch11-services.md, "The agent".
//!
//! Each heartbeat the agent looks at every task assigned to its node: what
//! the manager wants (`desired`: ready, running, shutdown or remove), what
//! the manager last heard (`reported`), and the task's container if there
//! is one. It does one step:
//! - a task already past running (reported) needs nothing more;
//! - asked to stop (desired past running): stop a running container,
//!   otherwise report `Shutdown`;
//! - no container: prepare one, unless the task had started (then it is
//!   gone: report `Failed` with no exit code);
//! - a running container: report `Running` if the manager does not know yet;
//! - a stopped container of a task that had started: report `Complete` on
//!   exit 0, `Failed` otherwise, with the exit code;
//! - a container not started yet: start it if desired is running; if
//!   desired is ready, report `Ready` once (reported before ready), then wait.

use ch11_services::agent::{Action, Container};
use ch11_services::state::TaskState;

/// The one thing to do for a task.
pub fn decide(desired: TaskState, reported: TaskState, container: Option<&Container>) -> Action {
    todo!("a match on (container, desired, reported), in the order above")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: every stopped container reported Complete,
    // whatever its exit code. Checked by pasting it into the reference implementation: it fails
    // `exits_are_reported_with_their_code`.
    //
    //     let stopped = |c: &Container| Action::Report(TaskState::Complete, c.exit_code);

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch11_services::agent as solution;
    use ch11_services::agent::{Action, Container};
    use ch11_services::state::TaskState::*;

    fn c(running: bool, exit_code: Option<i64>) -> Container {
        Container { id: "c".into(), running, exit_code }
    }

    #[test]
    fn a_new_task_is_prepared_then_started() {
        assert_eq!(solution::decide(Running, Assigned, None), Action::Prepare);
        assert_eq!(solution::decide(Running, Ready, Some(&c(false, None))), Action::Start);
        assert_eq!(
            solution::decide(Running, Starting, Some(&c(true, None))),
            Action::Report(Running, None)
        );
        assert_eq!(solution::decide(Running, Running, Some(&c(true, None))), Action::Nothing);
    }

    #[test]
    fn a_task_waiting_at_ready_is_reported_once() {
        assert_eq!(
            solution::decide(Ready, Preparing, Some(&c(false, None))),
            Action::Report(Ready, None)
        );
        assert_eq!(solution::decide(Ready, Ready, Some(&c(false, None))), Action::Nothing);
    }

    #[test]
    fn exits_are_reported_with_their_code() {
        assert_eq!(
            solution::decide(Running, Running, Some(&c(false, Some(137)))),
            Action::Report(Failed, Some(137))
        );
        assert_eq!(
            solution::decide(Running, Running, Some(&c(false, Some(0)))),
            Action::Report(Complete, Some(0))
        );
        assert_eq!(solution::decide(Running, Running, None), Action::Report(Failed, None));
    }

    #[test]
    fn stopping_and_what_is_already_over() {
        assert_eq!(solution::decide(Shutdown, Running, Some(&c(true, None))), Action::Stop);
        assert_eq!(
            solution::decide(Remove, Running, Some(&c(false, Some(0)))),
            Action::Report(Shutdown, None)
        );
        assert_eq!(solution::decide(Shutdown, Assigned, None), Action::Report(Shutdown, None));
        assert_eq!(solution::decide(Shutdown, Failed, Some(&c(false, Some(1)))), Action::Nothing);
        assert_eq!(solution::decide(Running, Rejected, None), Action::Nothing);
    }
}
