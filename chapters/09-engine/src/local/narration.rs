//! A helper process's `--explain` steps: its stderr is the start's error
//! channel, so the steps travel on a pipe of their own, fd 3 in the helper
//! (`MINI_DOCKER_EXPLAIN_FD=3`, chapter 1's sink). The supervisor the
//! helper leaves behind writes to it too, until its container runs.

use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use ch01_namespaces::explain;

/// The fd the helper narrates to.
const HELPER_FD: i32 = 3;

/// Our end of a helper's narration.
pub struct HelperSteps {
    write_end: OwnedFd,
    steps: mpsc::Receiver<String>,
}

/// Give `command` a narration pipe, when anyone is to see its steps.
pub fn pass_to(command: &mut Command) -> std::io::Result<Option<HelperSteps>> {
    if !explain::capturing() && !explain::enabled() {
        return Ok(None);
    }
    let (read_end, write_end) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let raw = write_end.as_raw_fd();
    // SAFETY: dup2 and fcntl are async-signal-safe; nothing else runs here.
    unsafe {
        command.pre_exec(move || {
            let done = match raw == HELPER_FD {
                true => libc::fcntl(raw, libc::F_SETFD, 0),
                false => libc::dup2(raw, HELPER_FD),
            };
            if done < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command.env(explain::SINK_FD_VAR, HELPER_FD.to_string());
    let (tx, steps) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::fs::File::from(read_end).read_to_string(&mut text);
        let _ = tx.send(text);
    });
    Ok(Some(HelperSteps { write_end, steps }))
}

impl HelperSteps {
    /// After the helper exited: its steps, kept for the request (or printed).
    pub fn finish(self) {
        drop(self.write_end);
        // The supervisor closes its end once the container runs; one that
        // died holding it must not hold the request.
        let steps = self.steps.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
        explain::note(&steps);
    }
}
