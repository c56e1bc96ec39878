//! The spawner: a copy of the daemon made before its first thread, which
//! forks each container's start. A process with threads must not fork a
//! supervisor (see "Why the daemon never forks a supervisor"), so the
//! daemon ran its own binary for every start — an `execve`, the dynamic
//! loader and the command line's parsing, before any of the start's work.
//! Forked while the daemon still has one thread, the spawner has one thread
//! for ever, and may fork as often as it likes. Android's *zygote* starts
//! apps the same way.
//!
//! ```text
//!  mini-dockerd ──fork (before the runtime)──▶ spawner (one thread)
//!     │  request: "ID 0|1" + a pipe's write end  │
//!     └──────────── SOCK_SEQPACKET ─────────────▶ fork ──▶ start (double fork, supervisor)
//!        ◀──── "0" or "CODE MESSAGE" on the pipe ───────────┘
//! ```

use std::io::{BufRead, BufReader, IoSlice, IoSliceMut, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

use ch05_run::supervisor::{failure_line, parse_report};
use ch05_run::{StartFailed, StartOptions};
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::socket::{self, AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType};
use nix::unistd::{fork, ForkResult, Pid};

use crate::error::{ApiError, ApiResult};

/// What a start is, in the composition: `compose::internal_start`.
pub type StartFn = fn(&Path, &str, bool) -> anyhow::Result<()>;

/// The daemon's end of the spawner.
#[derive(Debug)]
pub struct Spawner {
    socket: OwnedFd,
    pid: Pid,
}

impl Spawner {
    // ANCHOR: fork
    /// Fork the spawner for the state root `root`. Call it while this
    /// process has one thread: before the runtime starts.
    pub fn fork(root: PathBuf, start: StartFn) -> nix::Result<Spawner> {
        let (ours, theirs) = socket::socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )?;
        let daemon = nix::unistd::getpid();
        // SAFETY: the caller has one thread, so no lock is held in the copy.
        match unsafe { fork() }? {
            ForkResult::Parent { child } => Ok(Spawner { socket: ours, pid: child }),
            ForkResult::Child => {
                drop(ours);
                // It goes with the daemon; a daemon gone before this line is told too.
                let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
                if nix::unistd::getppid() == daemon {
                    let _ = nix::sys::prctl::set_name(c"md-spawner");
                    serve(&theirs, &root, start);
                }
                // SAFETY: leave without running the daemon's exit handlers.
                unsafe { libc::_exit(0) }
            }
        }
    }
    // ANCHOR_END: fork

    /// The spawner's pid.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    // ANCHOR: start
    /// Start `id` through the spawner, and return once it runs (or failed
    /// to start, with the start's exit code). `None` when the spawner is
    /// gone: the caller starts it some other way.
    pub fn start(&self, id: &str, options: StartOptions) -> Option<ApiResult<()>> {
        let (answer, their_end) = match nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC) {
            Ok(pipe) => pipe,
            Err(e) => return Some(Err(ApiError::new(500, format!("a pipe for the start: {e}")))),
        };
        let request = format!("{id} {}", u8::from(options.wait_for_attach));
        let fds = [their_end.as_raw_fd()];
        let sent = socket::sendmsg::<()>(
            self.socket.as_raw_fd(),
            &[IoSlice::new(request.as_bytes())],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        );
        drop(their_end); // the started process holds the only other copy
        sent.ok()?;
        let mut line = String::new();
        let _ = BufReader::new(std::fs::File::from(answer)).read_line(&mut line);
        Some(match parse_report(&line) {
            Some(Ok(())) => Ok(()),
            Some(Err(StartFailed { message, exit_code })) => {
                Err(ApiError { exit_code: Some(exit_code), ..ApiError::bad_request(message) })
            }
            None => Err(ApiError::new(500, "the start ended before it said how it went")),
        })
    }
    // ANCHOR_END: start
}

/// The spawner reads the closed socket as the end, and is reaped.
impl Drop for Spawner {
    fn drop(&mut self) {
        let _ = socket::shutdown(self.socket.as_raw_fd(), socket::Shutdown::Both);
        let _ = nix::sys::wait::waitpid(self.pid, None);
    }
}

// ANCHOR: serve
/// The spawner's loop: one request per message, each started in a process
/// of its own, so that twenty starts at once run side by side. Children
/// are reaped by the kernel (`SIGCHLD` ignored); each start's own child
/// handling is back to normal in its copy.
fn serve(socket: &OwnedFd, root: &Path, start: StartFn) {
    // SAFETY: setting a disposition; no handler runs.
    let _ = unsafe { signal(Signal::SIGCHLD, SigHandler::SigIgn) };
    while let Some((request, answer)) = next_request(socket) {
        // SAFETY: this process has one thread.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                // SAFETY: as above; the start waits for its own children.
                let _ = unsafe { signal(Signal::SIGCHLD, SigHandler::SigDfl) };
                let _ = nix::sys::prctl::set_name(c"md-start"); // `ps` tells it apart
                let said = run_one(root, start, &request);
                let _ = std::fs::File::from(answer).write_all(said.as_bytes());
                // SAFETY: the start is over; nothing of the spawner's to clean up.
                unsafe { libc::_exit(0) }
            }
            Ok(ForkResult::Parent { .. }) => drop(answer),
            Err(e) => {
                let _ = std::fs::File::from(answer)
                    .write_all(failure_line(125, &format!("fork: {e}")).as_bytes());
            }
        }
    }
}
// ANCHOR_END: serve

/// `"ID 0|1"` and the pipe to answer on; `None` once the daemon is gone.
fn next_request(socket: &OwnedFd) -> Option<(String, OwnedFd)> {
    loop {
        let mut buf = [0u8; 256];
        let mut space = nix::cmsg_space!([RawFd; 1]);
        let mut iov = [IoSliceMut::new(&mut buf)];
        let flags = MsgFlags::MSG_CMSG_CLOEXEC;
        let received =
            match socket::recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), flags) {
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return None,
                Ok(received) => received,
            };
        let fd = received.cmsgs().ok()?.find_map(|c| match c {
            socket::ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        });
        let length = received.bytes;
        match fd {
            // SAFETY: the kernel gave us this descriptor with the message.
            Some(fd) => {
                return Some((String::from_utf8_lossy(&buf[..length]).into(), unsafe {
                    OwnedFd::from_raw_fd(fd)
                }))
            }
            None if length == 0 => return None, // the daemon closed its end
            None => continue,
        }
    }
}

/// Start what `request` names; the answer line for the daemon.
fn run_one(root: &Path, start: StartFn, request: &str) -> String {
    let Some((id, wait)) = request.split_once(' ') else {
        return failure_line(
            125,
            &format!("a request the spawner does not understand: {request:?}"),
        );
    };
    match start(root, id, wait == "1") {
        Ok(()) => "0\n".to_string(),
        Err(error) => {
            let (code, line) = ch05_run::cli::code_and_line(&error, 125);
            failure_line(code, &line)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_start(root: &Path, id: &str, wait: bool) -> anyhow::Result<()> {
        match id {
            "bad" => {
                Err(StartFailed { message: "no such file: /nope".into(), exit_code: 127 }.into())
            }
            _ => Ok(std::fs::write(root.join(id), if wait { "waited" } else { "started" })?),
        }
    }

    #[test]
    fn a_spawner_starts_in_processes_of_its_own_and_tells_failures() {
        let root = tempfile::tempdir().unwrap();
        let spawner = Spawner::fork(root.path().to_path_buf(), fake_start).unwrap();
        let attached = StartOptions { wait_for_attach: true };
        spawner.start("one", StartOptions::default()).unwrap().unwrap();
        spawner.start("two", attached).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(root.path().join("one")).unwrap(), "started");
        assert_eq!(std::fs::read_to_string(root.path().join("two")).unwrap(), "waited");
        let failed = spawner.start("bad", StartOptions::default()).unwrap().unwrap_err();
        assert_eq!((failed.status, failed.exit_code), (400, Some(127)));
        assert_eq!(failed.message, "no such file: /nope");
    }

    #[test]
    fn a_spawner_gone_is_told_as_none() {
        let root = tempfile::tempdir().unwrap();
        let spawner = Spawner::fork(root.path().to_path_buf(), fake_start).unwrap();
        nix::sys::signal::kill(spawner.pid(), Signal::SIGKILL).unwrap();
        nix::sys::wait::waitpid(spawner.pid(), None).unwrap();
        assert!(spawner.start("one", StartOptions::default()).is_none());
    }
}
