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
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};

use anyhow::Context;
use ch01_namespaces::ChildHook;
use nix::fcntl::OFlag;
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, Winsize};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::termios::{self, SetArg, Termios};
use nix::unistd::{dup2_stderr, dup2_stdin, dup2_stdout, pipe2, setsid};

use crate::relay::relay::set_size;

use crate::attach::AttachServer;
use crate::logs::{LogWriter, Stream};

/// What the container's stdio should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StdioMode {
    /// `-t`: a pseudo-terminal instead of pipes.
    pub tty: bool,
    /// `-i`: keep stdin open and feed it ours.
    pub interactive: bool,
    /// `-t`: the terminal's first size (rows, columns), if known.
    pub size: Option<[u16; 2]>,
}

/// Our side of the container's stdio.
pub struct ParentSide {
    /// The pty master, or the read ends of the stdout and stderr pipes.
    outputs: Vec<(OwnedFd, Stream)>,
    /// Where our stdin goes: the pty master or the stdin pipe.
    input: Option<OwnedFd>,
    /// For `-t`: the socket the child sends its pty master over, and `-i`.
    console: Option<(UnixStream, bool)>,
}

nix::ioctl_write_int_bad!(set_controlling_terminal, libc::TIOCSCTTY);
nix::ioctl_read_bad!(get_window_size, libc::TIOCGWINSZ, Winsize);

// ANCHOR: prepare
/// Make the pipes (or the console socket, for `-t`), and the child hook
/// that puts the container's ends on its fds 0, 1 and 2. Add the hook
/// *after* chapter 3's root filesystem hook: a pty must come from the
/// container's own /dev/pts.
pub fn prepare(mode: StdioMode) -> anyhow::Result<(ChildHook, ParentSide)> {
    if mode.tty {
        let (ours, theirs) = UnixStream::pair().context("creating the console socket")?;
        let size = mode.size;
        let hook = ChildHook::new("creating the container's terminal", move || {
            make_console(&theirs, size)
        });
        return Ok((
            hook,
            ParentSide {
                outputs: Vec::new(),
                input: None,
                console: Some((ours, mode.interactive)),
            },
        ));
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
    Ok((
        hook,
        ParentSide {
            outputs: vec![(out_read, Stream::Stdout), (err_read, Stream::Stderr)],
            input,
            console: None,
        },
    ))
}
// ANCHOR_END: prepare

// ANCHOR: make_console
/// In the child, inside its new root: open a pty from the container's own
/// `/dev/ptmx`, make its slave our controlling terminal and fds 0-2, and
/// send the master to the parent over the console socket (runc's
/// `--console-socket`). A pty opened on the host would belong to the host's
/// devpts, which the container cannot see: `tty` would say "not a tty".
fn make_console(socket: &UnixStream, size: Option<[u16; 2]>) -> anyhow::Result<()> {
    let master = posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY).context("opening /dev/ptmx")?;
    grantpt(&master)?;
    unlockpt(&master)?;
    let slave_path = ptsname_r(&master)?;
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&slave_path)
        .with_context(|| format!("opening {slave_path}"))?;
    if let Some([rows, cols]) = size {
        let size = Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
        set_size(slave.as_raw_fd(), &size).context("TIOCSWINSZ")?;
    }
    setsid().context("setsid")?;
    // SAFETY: TIOCSCTTY on a pty slave we own; 0 = do not steal.
    unsafe { set_controlling_terminal(slave.as_raw_fd(), 0) }.context("TIOCSCTTY")?;
    dup2_stdin(&slave)?;
    dup2_stdout(&slave)?;
    dup2_stderr(&slave)?;
    let fds = [master.as_raw_fd()];
    let message = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[std::io::IoSlice::new(b"pty")],
        &message,
        MsgFlags::empty(),
        None,
    )
    .context("sending the terminal to the parent")?;
    Ok(())
}
// ANCHOR_END: make_console

/// In the parent: receive the pty master the child sent.
fn receive_console(socket: &UnixStream) -> anyhow::Result<OwnedFd> {
    let mut buf = [0u8; 8];
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let message =
        recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), MsgFlags::MSG_CMSG_CLOEXEC)
            .context("receiving the terminal")?;
    for cmsg in message.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel just gave us this new descriptor.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    anyhow::bail!("the container did not send its terminal")
}

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
            // ioctl is async-signal-safe; both fds are ours.
            let _ = set_size(master, &size);
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
    /// For `-t`, after the spawn: take the pty master the child sent, and
    /// give it our terminal's size.
    pub fn receive_terminal(&mut self) -> anyhow::Result<()> {
        let Some((socket, interactive)) = self.console.take() else { return Ok(()) };
        let master = receive_console(&socket)?;
        if let Some(size) = terminal_size() {
            let _ = set_size(master.as_raw_fd(), &size);
        }
        self.input = if interactive { Some(master.try_clone()?) } else { None };
        self.outputs = vec![(master, Stream::Stdout)];
        Ok(())
    }

    /// Set the container's terminal to `rows` × `cols` whenever a line
    /// `ROWS COLS` arrives on `sizes` (a daemon's resize requests).
    pub fn follow_sizes_from(&self, sizes: OwnedFd) {
        let Some((master, Stream::Stdout)) = self.outputs.first() else { return };
        let Ok(master) = master.try_clone() else { return };
        std::thread::spawn(move || {
            let lines = std::io::BufRead::lines(std::io::BufReader::new(File::from(sizes)));
            for line in lines.map_while(Result::ok) {
                let mut words = line.split_whitespace().map(|w| w.parse::<u16>());
                if let (Some(Ok(rows)), Some(Ok(cols))) = (words.next(), words.next()) {
                    let size = Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
                    let _ = set_size(master.as_raw_fd(), &size);
                }
            }
        });
    }

    /// Follow terminal resizes (SIGWINCH) onto the container's pty.
    pub fn forward_window_size(&self) {
        if let Some((master, Stream::Stdout)) =
            self.outputs.first().filter(|_| self.outputs.len() == 1)
        {
            PTY_MASTER.store(master.as_raw_fd(), Ordering::Relaxed);
            let action = nix::sys::signal::SigAction::new(
                nix::sys::signal::SigHandler::Handler(resize),
                nix::sys::signal::SaFlags::SA_RESTART,
                nix::sys::signal::SigSet::empty(),
            );
            // SAFETY: the handler only calls ioctl.
            let _ =
                unsafe { nix::sys::signal::sigaction(nix::sys::signal::Signal::SIGWINCH, &action) };
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
    /// Copy the container's output to the log, to our stdout/stderr when
    /// `terminal`, and to every attached client, until every output is
    /// closed; clients' input goes to the container (the shim's relay,
    /// which a detached container's shim runs too).
    pub fn relay(
        self,
        log: &mut LogWriter,
        terminal: bool,
        attach: Option<&mut AttachServer>,
    ) -> std::io::Result<()> {
        crate::relay::relay::relay(self.outputs, self.input, log, terminal, attach)
    }
    // ANCHOR_END: relay

    /// Our ends, to hand over to the shim: the outputs and the input.
    pub fn descriptors(&self) -> (Vec<(RawFd, Stream)>, Option<RawFd>) {
        let outputs = self.outputs.iter().map(|(fd, stream)| (fd.as_raw_fd(), *stream)).collect();
        (outputs, self.input.as_ref().map(|fd| fd.as_raw_fd()))
    }
}
