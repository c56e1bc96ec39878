//! The hand-over: what the full supervisor passes to the shim across
//! `execve` (as arguments and inherited descriptors), and what the shim
//! passes on to the exit command.
//!
//! ```text
//! mini-docker-shim --pid 4242 --log …/container.log --dir …/<id>
//!     --stdout 5 --stderr 6 [--stdin 8] --listener 9 [--client 10:1:1 …] [--keeper 4250]
//!     -- /usr/bin/mini-docker --root /var/lib/mini-docker internal-exited <id>
//! the exit command gets:   … internal-exited <id> --exit-code 0 --attach-fds 9,10
//! ```

use std::ffi::CString;
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::relay::log::LogWriter;
use crate::relay::server::AttachServer;
use crate::relay::Stream;

/// What the shim needs to go on supervising a container it did not start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    /// The container's main process: our child, across the exec.
    pub pid: i32,
    pub log: PathBuf,
    /// The container's directory, where the attach socket is.
    pub dir: PathBuf,
    /// Our ends of its stdout and stderr (or the one pty master).
    pub outputs: Vec<(RawFd, Stream)>,
    pub input: Option<RawFd>,
    pub listener: RawFd,
    /// The attach clients: descriptor, wants the output, may still send.
    pub clients: Vec<(RawFd, bool, bool)>,
    /// The process that keeps what extensions started (port proxies), if any.
    pub keeper: Option<i32>,
    /// Where `run -d` waits for the word that the start went well (`0`).
    pub report: Option<RawFd>,
    /// The program and arguments that finish the container's run.
    pub exit_command: Vec<String>,
}

impl Handover {
    /// As the shim's command line (without the program).
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec!["--pid".to_string(), self.pid.to_string()];
        args.extend(["--log".into(), self.log.display().to_string()]);
        args.extend(["--dir".into(), self.dir.display().to_string()]);
        for (fd, stream) in &self.outputs {
            args.extend([format!("--{}", stream.name()), fd.to_string()]);
        }
        args.extend(self.input.iter().flat_map(|fd| ["--stdin".into(), fd.to_string()]));
        args.extend(["--listener".into(), self.listener.to_string()]);
        for (fd, output, sending) in &self.clients {
            args.extend(["--client".into(), format!("{fd}:{}:{}", *output as u8, *sending as u8)]);
        }
        args.extend(self.keeper.iter().flat_map(|pid| ["--keeper".into(), pid.to_string()]));
        args.extend(self.report.iter().flat_map(|fd| ["--report".into(), fd.to_string()]));
        args.push("--".into());
        args.extend(self.exit_command.iter().cloned());
        args
    }

    /// Read [`Handover::to_args`]'s command line back.
    pub fn from_args(mut args: impl Iterator<Item = String>) -> Result<Handover, String> {
        let mut handover = Handover {
            pid: 0,
            log: PathBuf::new(),
            dir: PathBuf::new(),
            outputs: Vec::new(),
            input: None,
            listener: -1,
            clients: Vec::new(),
            keeper: None,
            report: None,
            exit_command: Vec::new(),
        };
        while let Some(flag) = args.next() {
            if flag == "--" {
                handover.exit_command = args.collect();
                break;
            }
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            handover.set(&flag, &value)?;
        }
        match handover.pid > 0 && handover.listener >= 0 && !handover.exit_command.is_empty() {
            true => Ok(handover),
            false => Err("--pid, --listener and an exit command after -- are needed".into()),
        }
    }

    fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        let number = |v: &str| v.parse::<i32>().map_err(|_| format!("{flag}: not a number: {v}"));
        match flag {
            "--pid" => self.pid = number(value)?,
            "--log" => self.log = value.into(),
            "--dir" => self.dir = value.into(),
            "--stdout" => self.outputs.push((number(value)?, Stream::Stdout)),
            "--stderr" => self.outputs.push((number(value)?, Stream::Stderr)),
            "--stdin" => self.input = Some(number(value)?),
            "--listener" => self.listener = number(value)?,
            "--keeper" => self.keeper = Some(number(value)?),
            "--report" => self.report = Some(number(value)?),
            "--client" => {
                let mut parts = value.split(':');
                let (fd, output, sending) = (parts.next(), parts.next(), parts.next());
                let flag = |v: Option<&str>| v == Some("1");
                self.clients.push((number(fd.unwrap_or(""))?, flag(output), flag(sending)));
            }
            _ => return Err(format!("unknown flag {flag}")),
        }
        Ok(())
    }

    /// Every descriptor handed over.
    pub fn descriptors(&self) -> Vec<RawFd> {
        let outputs = self.outputs.iter().map(|(fd, _)| *fd);
        let clients = self.clients.iter().map(|(fd, ..)| *fd);
        let single = self.input.into_iter().chain([self.listener]).chain(self.report);
        outputs.chain(single).chain(clients).collect()
    }
}

/// Let `fds` survive the next `execve` (clear their close-on-exec flag).
pub fn inherit(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY: F_SETFD on a descriptor number; no memory is involved.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
    }
}

/// Close `fds` on the next `execve` again (the hand-over did not happen).
pub fn close_on_exec(fds: &[RawFd]) {
    for &fd in fds {
        // SAFETY: F_SETFD on a descriptor number; no memory is involved.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// Replace this process with `command` (its first word is the program);
/// returns only if that failed.
pub fn exec(command: &[String]) -> Errno {
    let Ok(args) = command.iter().map(|a| CString::new(a.as_str())).collect::<Result<Vec<_>, _>>()
    else {
        return Errno::EINVAL;
    };
    match args.first() {
        Some(program) => nix::unistd::execv(program, &args).unwrap_err(),
        None => Errno::EINVAL,
    }
}

// ANCHOR: run
/// The shim's life: relay until the container's outputs close, wait for
/// it, stop the keeper, and become the exit command — which tells the
/// attach clients the exit on the descriptors it inherits.
pub fn run(handover: Handover) -> ! {
    // SAFETY: the supervisor handed these descriptors to us alone.
    let own = |fd| unsafe { OwnedFd::from_raw_fd(fd) };
    let outputs = handover.outputs.iter().map(|&(fd, stream)| (own(fd), stream)).collect();
    let input = handover.input.map(own);
    let mut attach =
        unsafe { AttachServer::adopt(&handover.dir, handover.listener, &handover.clients) };
    if let Some(pipe) = handover.report.map(own) {
        let _ = std::fs::File::from(pipe).write_all(b"0\n"); // the start went well
    }
    let mut log = LogWriter::open(&handover.log);
    let _ = crate::relay::relay::relay(outputs, input, &mut log, false, Some(&mut attach));
    let code = wait_for_exit(Pid::from_raw(handover.pid));
    if let Some(keeper) = handover.keeper.map(Pid::from_raw) {
        let _ = kill(keeper, Signal::SIGKILL);
        let _ = waitpid(keeper, None);
    }
    let (listener, clients) = attach.descriptors();
    let fds: Vec<RawFd> = [listener].into_iter().chain(clients.iter().map(|c| c.0)).collect();
    let list = fds.iter().map(|fd| fd.to_string()).collect::<Vec<_>>().join(",");
    let mut command = handover.exit_command;
    command.extend(["--exit-code".into(), code.to_string(), "--attach-fds".into(), list]);
    inherit(&fds);
    let error = exec(&command);
    eprintln!("mini-docker-shim: running the exit command {:?}: {error}", command[0]);
    std::process::exit(1)
}
// ANCHOR_END: run

/// Wait for our child `pid`: its exit code, or 128+N for signal N.
fn wait_for_exit(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, signal, _)) => return 128 + signal as i32,
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(_) => return 125,
        }
    }
}

/// The shim program's `main`.
pub fn main() -> ! {
    match Handover::from_args(std::env::args().skip(1)) {
        Ok(handover) => run(handover),
        Err(error) => {
            eprintln!("mini-docker-shim: {error}");
            eprintln!("(it is started by mini-docker's supervisor, not by people)");
            std::process::exit(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_reads_back() {
        let handover = Handover {
            pid: 42,
            log: "/r/c/container.log".into(),
            dir: "/r/c".into(),
            outputs: vec![(5, Stream::Stdout), (6, Stream::Stderr)],
            input: Some(8),
            listener: 9,
            clients: vec![(10, true, false), (11, false, true)],
            keeper: Some(43),
            report: Some(12),
            exit_command: vec!["/bin/md".into(), "--root".into(), "/r".into()],
        };
        let args = handover.to_args();
        assert_eq!(Handover::from_args(args.into_iter()), Ok(handover.clone()));
        assert_eq!(handover.descriptors(), [5, 6, 8, 9, 12, 10, 11]);
        let missing = Handover::from_args(["--pid", "1"].map(String::from).into_iter());
        assert!(missing.unwrap_err().contains("exit command"));
        let bad = Handover::from_args(["--pid", "x"].map(String::from).into_iter());
        assert_eq!(bad.unwrap_err(), "--pid: not a number: x");
    }
}
