//! The relay: the container's output to the log, to our terminal when
//! attached, and to every attach client; the clients' input to the
//! container. The attached supervisor runs it in-process, the shim runs it
//! for a detached container.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::Winsize;

use crate::relay::log::LogWriter;
use crate::relay::server::{AttachServer, ClientSaid};
use crate::relay::Stream;

nix::ioctl_write_ptr_bad!(set_window_size, libc::TIOCSWINSZ, Winsize);

/// Set the terminal `fd` (a pty master) to `size`; on a pipe it just fails.
pub fn set_size(fd: RawFd, size: &Winsize) -> nix::Result<()> {
    // SAFETY: TIOCSWINSZ reads the Winsize we pass; `fd` is the caller's.
    unsafe { set_window_size(fd, size) }.map(drop)
}

// ANCHOR: relay
/// Copy the container's output to the log, to our stdout/stderr when
/// `terminal`, and to every attached client, until every output is
/// closed — that is, until the container and everything it started have
/// exited or closed them. Clients' input goes to `input`.
pub fn relay(
    mut open: Vec<(OwnedFd, Stream)>,
    mut input: Option<OwnedFd>,
    log: &mut LogWriter,
    terminal: bool,
    mut attach: Option<&mut AttachServer>,
) -> io::Result<()> {
    let mut buf = [0u8; 16 * 1024];
    while !open.is_empty() {
        let ready = wait_until_ready(&open, attach.as_deref())?;
        let mut closed = Vec::new();
        for (i, (fd, stream)) in open.iter().enumerate().filter(|(i, _)| ready.outputs[*i]) {
            match read_some(fd.as_fd(), &mut buf) {
                0 => closed.push(i),
                n => {
                    // A log that cannot be written must not stop the relay.
                    let _ = log.write(*stream, &buf[..n]);
                    if terminal {
                        write_to_terminal(*stream, &buf[..n]);
                    }
                    attach.iter_mut().for_each(|a| a.broadcast(*stream, &buf[..n]));
                }
            }
        }
        if let Some(attach) = attach.as_mut() {
            serve_clients(attach, &ready, &mut input, open.first().map(|(fd, _)| fd));
        }
        for i in closed.into_iter().rev() {
            open.remove(i);
        }
    }
    log.flush()
}
// ANCHOR_END: relay

/// Which of the relay's descriptors have something to read.
struct Ready {
    outputs: Vec<bool>,
    listener: bool,
    /// The indexes of the clients that said something.
    clients: Vec<usize>,
}

/// poll(2) on the outputs, the attach socket and its clients at once.
fn wait_until_ready(
    open: &[(OwnedFd, Stream)],
    attach: Option<&AttachServer>,
) -> io::Result<Ready> {
    let mut fds: Vec<BorrowedFd<'_>> = open.iter().map(|(fd, _)| fd.as_fd()).collect();
    let mut client_index = Vec::new();
    if let Some(attach) = attach {
        fds.push(attach.listener_fd());
        for (index, fd) in attach.client_fds() {
            client_index.push(index);
            fds.push(fd);
        }
    }
    let mut polled: Vec<PollFd> =
        fds.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)).collect();
    match poll(&mut polled, PollTimeout::NONE) {
        Ok(_) | Err(nix::errno::Errno::EINTR) => {}
        Err(e) => return Err(e.into()),
    }
    let mut ready = polled.iter().map(|p| p.revents().is_some_and(|r| !r.is_empty()));
    let outputs: Vec<bool> = ready.by_ref().take(open.len()).collect();
    let listener = ready.next().unwrap_or(false);
    let clients = ready.zip(client_index).filter(|(r, _)| *r).map(|(_, i)| i).collect();
    Ok(Ready { outputs, listener, clients })
}

/// New clients, and what the ready ones say: input goes to the container,
/// a resize to its terminal (`pty`, the first output when there is one).
fn serve_clients(
    attach: &mut AttachServer,
    ready: &Ready,
    input: &mut Option<OwnedFd>,
    pty: Option<&OwnedFd>,
) {
    for &i in ready.clients.iter().rev() {
        if let ClientSaid::Resize { rows, cols } = attach.serve(i, input) {
            let size = Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
            let _ = pty.map(|fd| set_size(fd.as_raw_fd(), &size));
        }
    }
    if ready.listener {
        attach.accept();
    }
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
        Stream::Stdout => io::stdout().write_all(bytes).and_then(|_| io::stdout().flush()),
        Stream::Stderr => io::stderr().write_all(bytes),
    };
}
