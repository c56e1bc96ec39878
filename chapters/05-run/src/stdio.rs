//! The container's standard input and output.
//!
//! Without `-t` the container writes into two pipes, so stdout and stderr
//! stay separate; with `-t` it gets a pseudo-terminal (a pty): the
//! container's side (the *slave*) becomes its controlling terminal, and we
//! keep the *master*. Either way the supervisor copies everything into the
//! log, and to our terminal when attached.
//!
//! ```text
//!  terminal ◀──▶ supervisor ◀── master ══ pty ══ slave ──▶ container (0,1,2)
//!                    │
//!                    └──▶ container.log
//! ```

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;
use ch01_namespaces::ChildHook;
use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{self, SetArg, Termios};
use nix::unistd::{dup2_stdin, dup2_stdout, dup2_stderr, pipe2, setsid};

use crate::logs::{LogWriter, Stream};

/// What the container's stdio should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioMode {
    /// `-t`: a pseudo-terminal instead of pipes.
    pub tty: bool,
    /// `-i`: keep stdin open and feed it ours.
    pub interactive: bool,
}

/// Our side of the container's stdio.
pub struct ParentSide {
    /// The pty master, or the read ends of the stdout and stderr pipes.
    outputs: Vec<(OwnedFd, Stream)>,
    /// Where our stdin goes: the pty master or the stdin pipe.
    input: Option<OwnedFd>,
}

nix::ioctl_write_int_bad!(set_controlling_terminal, libc::TIOCSCTTY);
nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, Winsize);
nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, Winsize);

// ANCHOR: prepare
/// Make the pipes or the pty, and the child hook that puts the container's
/// ends on its fds 0, 1 and 2.
pub fn prepare(mode: StdioMode) -> anyhow::Result<(ChildHook, ParentSide)> {
    if mode.tty {
        let size = terminal_size().unwrap_or(Winsize { ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0 });
        let pty = openpty(Some(&size), None).context("opening a pseudo-terminal")?;
        let input = if mode.interactive { Some(pty.master.try_clone()?) } else { None };
        let hook = ChildHook::new("attaching the terminal", move || attach_terminal(&pty.slave));
        return Ok((hook, ParentSide { outputs: vec![(pty.master, Stream::Stdout)], input }));
    }
    let (out_read, out_write) = pipe2(OFlag::O_CLOEXEC)?;
    let (err_read, err_write) = pipe2(OFlag::O_CLOEXEC)?;
    let (in_read, input) = if mode.interactive {
        let (r, w) = pipe2(OFlag::O_CLOEXEC)?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    let hook = ChildHook::new("connecting stdin, stdout and stderr", move || {
        match &in_read {
            Some(fd) => dup2_stdin(fd)?,
            None => dup2_stdin(File::open("/dev/null")?)?,
        }
        dup2_stdout(&out_write)?;
        dup2_stderr(&err_write)?;
        Ok(())
    });
    Ok((hook, ParentSide { outputs: vec![(out_read, Stream::Stdout), (err_read, Stream::Stderr)], input }))
}
// ANCHOR_END: prepare

// ANCHOR: attach_terminal
/// In the child: start a new session and make the pty slave its
/// controlling terminal, so Ctrl-C on the terminal becomes SIGINT for the
/// container's foreground process group — not for us.
fn attach_terminal(slave: &OwnedFd) -> anyhow::Result<()> {
    setsid().context("setsid")?;
    // SAFETY: TIOCSCTTY on a pty slave we own; 0 = do not steal.
    unsafe { set_controlling_terminal(slave.as_raw_fd(), 0) }.context("TIOCSCTTY")?;
    dup2_stdin(slave)?;
    dup2_stdout(slave)?;
    dup2_stderr(slave)?;
    Ok(())
}
// ANCHOR_END: attach_terminal

fn terminal_size() -> Option<Winsize> {
    let mut size = Winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ fills the struct we pass.
    unsafe { get_window_size(std::io::stdin().as_raw_fd(), &mut size) }.ok()?;
    Some(size)
}

static PTY_MASTER: AtomicI32 = AtomicI32::new(-1);

extern "C" fn resize(_: libc::c_int) {
    let master = PTY_MASTER.load(Ordering::Relaxed);
    if master >= 0 {
        if let Some(size) = terminal_size() {
            // SAFETY: ioctl is async-signal-safe; both fds are ours.
            let _ = unsafe { set_window_size(master, &size) };
        }
    }
}

/// Our terminal in raw mode while attached to a `-t` container: every key
/// goes to the container as it is typed (Ctrl-C and Ctrl-D included).
/// Restored when dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enable() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        termios::cfmakeraw(&mut raw);
        termios::tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

impl ParentSide {
    /// Follow terminal resizes (SIGWINCH) onto the container's pty.
    pub fn forward_window_size(&self) {
        if let Some((master, Stream::Stdout)) = self.outputs.first().filter(|_| self.outputs.len() == 1) {
            PTY_MASTER.store(master.as_raw_fd(), Ordering::Relaxed);
            let action = nix::sys::signal::SigAction::new(
                nix::sys::signal::SigHandler::Handler(resize),
                nix::sys::signal::SaFlags::SA_RESTART,
                nix::sys::signal::SigSet::empty(),
            );
            // SAFETY: the handler only calls ioctl.
            let _ = unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGWINCH, &action) };
        }
    }

    /// Copy our stdin to the container in a background thread (`-i`).
    pub fn feed_stdin(&mut self) {
        let Some(input) = self.input.take() else { return };
        std::thread::spawn(move || {
            let mut input = File::from(input);
            let mut buf = [0u8; 4096];
            loop {
                match std::io::stdin().read(&mut buf) {
                    Ok(0) | Err(_) => break, // EOF: dropping `input` closes the container's stdin
                    Ok(n) => {
                        if input.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }

    // ANCHOR: relay
    /// Copy the container's output to the log (and to our stdout/stderr when
    /// `attached`) until every output is closed — that is, until the
    /// container and everything it started have exited or closed them.
    pub fn relay(self, log: &mut LogWriter, attached: bool) -> std::io::Result<()> {
        let mut open: Vec<(OwnedFd, Stream)> = self.outputs;
        let mut buf = [0u8; 16 * 1024];
        while !open.is_empty() {
            let mut fds: Vec<PollFd> = open.iter().map(|(fd, _)| PollFd::new(fd.as_fd(), PollFlags::POLLIN)).collect();
            poll(&mut fds, PollTimeout::NONE).or_else(|e| if e == nix::errno::Errno::EINTR { Ok(0) } else { Err(e) })?;
            let ready: Vec<bool> = fds.iter().map(|p| p.revents().is_some_and(|r| !r.is_empty())).collect();
            drop(fds);
            let mut closed = Vec::new();
            for (i, (fd, stream)) in open.iter().enumerate().filter(|(i, _)| ready[*i]) {
                match read_some(fd.as_fd(), &mut buf) {
                    0 => closed.push(i),
                    n => {
                        log.write(*stream, &buf[..n])?;
                        if attached {
                            write_to_terminal(*stream, &buf[..n]);
                        }
                    }
                }
            }
            for i in closed.into_iter().rev() {
                open.remove(i);
            }
        }
        log.flush()
    }
    // ANCHOR_END: relay
}

/// Read what is there; 0 means closed. A pty master reports EIO once the
/// last slave fd is closed: for us that is the same as end of file.
fn read_some(fd: BorrowedFd<'_>, buf: &mut [u8]) -> usize {
    loop {
        match nix::unistd::read(fd, buf) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(n) => return n,
            Err(_) => return 0,
        }
    }
}

fn write_to_terminal(stream: Stream, bytes: &[u8]) {
    let _ = match stream {
        Stream::Stdout => std::io::stdout().write_all(bytes).and_then(|_| std::io::stdout().flush()),
        Stream::Stderr => std::io::stderr().write_all(bytes),
    };
}
