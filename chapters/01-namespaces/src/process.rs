//! Telling one process from another over time: a pid is reused once its
//! process is gone, so "pid 4242 holds this" needs the process's start
//! time beside it (chapter 4's temporary files, chapter 6's leases).

// ANCHOR: start_time
/// When process `pid` started, in clock ticks after boot: field 22 of
/// `/proc/<pid>/stat`. `None` when there is no such process. A new process
/// that gets an old pid has a later start time, so (pid, start time) names
/// one process for the whole life of the machine.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_time(&stat)
}

/// Field 22, counted after the command in parentheses, which may itself
/// contain spaces and parentheses: hence the *last* `)`.
pub fn parse_start_time(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    // After ")" come field 3 (state) onwards: field 22 is the 20th of them.
    after_comm.split_whitespace().nth(19)?.parse().ok()
}

/// Is the process that started at `start_time` with this `pid` still alive?
pub fn is_alive(pid: i32, start_time: u64) -> bool {
    self::start_time(pid) == Some(start_time)
}
// ANCHOR_END: start_time

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_survives_spaces_and_parens_in_the_command() {
        let stat = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(parse_start_time(stat), Some(987654));
        let me = std::process::id() as i32;
        let started = start_time(me).expect("our own start time");
        assert!(is_alive(me, started));
        assert!(!is_alive(me, started + 1), "the same pid, another process");
        assert_eq!(start_time(i32::MAX), None);
    }
}
