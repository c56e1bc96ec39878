//! Transcripts that cannot be replayed on CI's host, checked against a run
//! recorded elsewhere: chapter 2's pure cgroup v2 and v1 sessions, run in
//! the cgroup test VM (`scripts/vm/book-sessions.sh`) whose serial console
//! is the record. The same matching rules as a replay.

use crate::replay::Outcome;
use crate::transcript::{self, Step};

/// What the VM's plan prints around the sessions.
const START: &str = "mini-docker-vm: ---- sessions on";
const END: &str = "mini-docker-vm: ---- end of sessions";

// ANCHOR: recorded
/// The steps of a recorded console: the lines between the plan's markers,
/// split at each `$ ` as a transcript is.
pub fn steps_of_console(console: &str) -> Result<Vec<Step>, String> {
    let lines: Vec<&str> = console.lines().map(|l| l.trim_end_matches('\r')).collect();
    let start = lines.iter().position(|l| l.starts_with(START)).ok_or("no sessions in it")?;
    let end = lines[start..].iter().position(|l| l.starts_with(END)).ok_or("sessions never end")?;
    transcript::parse(&lines[start + 1..start + end].join("\n"))
}

/// Each step of `session` against the recorded step with the same command,
/// taken in order: a step never recorded gets no output, and so differs.
pub fn compare(session: &str, steps: Vec<Step>, recorded: &[Step]) -> Vec<Outcome> {
    let mut from = 0;
    let mut outcomes = Vec::new();
    for step in steps {
        let found = recorded[from..].iter().position(|r| r.command == step.command);
        let actual = match found {
            Some(at) => {
                from += at + 1;
                recorded[from - 1].expected.clone()
            }
            None => vec![format!("(not in the recording: {})", step.command)],
        };
        outcomes.push(Outcome { session: session.to_string(), step, actual });
    }
    outcomes
}
// ANCHOR_END: recorded

#[cfg(test)]
mod tests {
    use super::*;

    const CONSOLE: &str = "boot noise\r\nmini-docker-vm: ---- sessions on v2\r\n$ echo a\r\na\r\n\
                           $ echo b\r\nb\r\nmini-docker-vm: ---- end of sessions\r\nmini-docker-vm: ok\r\n";

    #[test]
    fn a_recording_matches_its_transcript_and_an_edited_line_does_not() {
        let recorded = steps_of_console(CONSOLE).unwrap();
        assert_eq!(recorded.len(), 2);
        let good = transcript::parse("$ echo b\nb\n").unwrap();
        assert!(compare("s", good, &recorded).iter().all(Outcome::ok));
        let edited = transcript::parse("$ echo a\nA\n").unwrap();
        assert!(!compare("s", edited, &recorded)[0].ok());
    }

    #[test]
    fn a_step_never_recorded_differs() {
        let recorded = steps_of_console(CONSOLE).unwrap();
        let missing = transcript::parse("$ echo c\n").unwrap();
        assert!(!compare("s", missing, &recorded)[0].ok());
        assert!(steps_of_console("no markers").is_err());
    }
}
