//! Attaching to a container: its supervisor listens on a unix socket in the
//! container's directory. Whoever connects receives the output as it is
//! produced, and may send input, close it, or resize the terminal — what
//! `docker attach` needs, and what a daemon needs to serve `docker run`.
//!
//! ```text
//!  supervisor ── container.log                (every byte, always)
//!      │
//!      ├── attach.sock ◀──▶ client  frame = [kind, 0, 0, 0, length (u32, big-endian)] + payload
//!      │                     first from it:  kind 6 hello "output" (attach) or "exit" (wait)
//!      │                     to the client:   kind 1 stdout, 2 stderr (output clients), 5 exit "CODE"
//!      └── attach.sock ◀──▶ client  from it:  kind 0 stdin, 3 close stdin, 4 resize "ROWS COLS"
//! ```
//!
//! The frame is the Docker Engine API's own stream framing (chapter 9 sends
//! it on to clients unchanged), extended by two kinds for the way back.
//! The frames and the server side live in the shim's module ([`crate::relay`]),
//! since the small program a detached supervisor becomes serves them too;
//! this module has the client.

use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

pub use crate::relay::frame::{frame, parse_header, read_frame, Kind};
pub use crate::relay::server::{socket_path, AttachServer, ClientSaid, SOCKET};

use crate::logs::Stream;

// ANCHOR: client
/// A client's side: connect to a container's supervisor.
pub struct AttachClient {
    socket: UnixStream,
}

impl AttachClient {
    /// Connect to the supervisor of the container whose directory is `dir`,
    /// waiting up to `timeout` for its socket to appear (a start is on its way).
    /// With `output`, the client receives the output; without, only the exit.
    pub fn connect(dir: &Path, output: bool, timeout: Duration) -> io::Result<AttachClient> {
        let deadline = Instant::now() + timeout;
        let (_dir, short) = socket_path(dir)?;
        let mut socket = loop {
            match UnixStream::connect(&short) {
                Ok(socket) => break socket,
                Err(e) if Instant::now() > deadline => return Err(e),
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        };
        let hello: &[u8] = if output { b"output" } else { b"exit" };
        socket.write_all(&frame(Kind::Hello, hello))?;
        Ok(AttachClient { socket })
    }

    /// The next piece of output, or the exit code once the container is done.
    pub fn next_event(&mut self) -> io::Result<Event> {
        loop {
            match read_frame(&mut self.socket)? {
                None => return Ok(Event::Gone),
                Some((Kind::Stdout, bytes)) => return Ok(Event::Output(Stream::Stdout, bytes)),
                Some((Kind::Stderr, bytes)) => return Ok(Event::Output(Stream::Stderr, bytes)),
                Some((Kind::Exit, code)) => {
                    let code = String::from_utf8_lossy(&code).parse().unwrap_or(-1);
                    return Ok(Event::Exited(code));
                }
                Some(_) => continue,
            }
        }
    }

    /// Skip the output until the container exits: its exit code, or
    /// `None` if the supervisor went away without saying (it was killed).
    pub fn wait_for_exit(&mut self) -> io::Result<Option<i32>> {
        loop {
            match self.next_event()? {
                Event::Output(..) => continue,
                Event::Exited(code) => return Ok(Some(code)),
                Event::Gone => return Ok(None),
            }
        }
    }

    /// The connection itself, hello said, for a caller that reads the frames
    /// its own way (chapter 9's daemon, with async I/O).
    pub fn into_socket(self) -> UnixStream {
        self.socket
    }

    /// A second handle on the same connection, for the way back (stdin, resize).
    pub fn sender(&self) -> io::Result<AttachSender> {
        Ok(AttachSender { socket: self.socket.try_clone()? })
    }
}

/// What an attached client hears next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Output(Stream, Vec<u8>),
    Exited(i32),
    /// The socket closed without an exit: the supervisor died.
    Gone,
}

/// Input and control for an attached container.
pub struct AttachSender {
    socket: UnixStream,
}

impl AttachSender {
    pub fn stdin(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.socket.write_all(&frame(Kind::Stdin, bytes))
    }

    pub fn close_stdin(&mut self) -> io::Result<()> {
        self.socket.write_all(&frame(Kind::CloseStdin, b""))
    }

    pub fn resize(&mut self, rows: u16, cols: u16) -> io::Result<()> {
        self.socket.write_all(&frame(Kind::Resize, format!("{rows} {cols}").as_bytes()))
    }
}
// ANCHOR_END: client

impl AsRawFd for AttachClient {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_receives_output_and_sends_input() {
        let long = tempfile::tempdir().unwrap();
        let dir = long.path().join("d".repeat(120));
        std::fs::create_dir(&dir).unwrap();
        let dir = &dir;
        let mut server = AttachServer::listen(dir).unwrap();
        let mut waiter = AttachClient::connect(dir, false, Duration::from_secs(1)).unwrap();
        let mut client = AttachClient::connect(dir, true, Duration::from_secs(1)).unwrap();
        server.wait_for_client(Duration::from_secs(1)).unwrap();
        server.broadcast(Stream::Stdout, b"hello\n");
        assert_eq!(
            client.next_event().unwrap(),
            Event::Output(Stream::Stdout, b"hello\n".to_vec())
        );
        let index = server.first_output_client().unwrap();
        let (read, write) = nix::unistd::pipe().unwrap();
        let mut input = Some(write);
        client.sender().unwrap().stdin(b"typed").unwrap();
        assert_eq!(server.serve(index, &mut input), ClientSaid::Nothing);
        let mut got = [0u8; 5];
        nix::unistd::read(&read, &mut got).unwrap();
        assert_eq!(&got, b"typed");
        client.sender().unwrap().resize(30, 100).unwrap();
        assert_eq!(server.serve(index, &mut input), ClientSaid::Resize { rows: 30, cols: 100 });
        client.sender().unwrap().close_stdin().unwrap();
        server.serve(index, &mut input);
        assert!(input.is_none(), "closing stdin drops the write end");
        server.broadcast_exit(3);
        assert_eq!(
            waiter.wait_for_exit().unwrap(),
            Some(3),
            "the waiter got no output, then the exit"
        );
        assert_eq!(client.next_event().unwrap(), Event::Exited(3));
        drop(client);
        assert_eq!(server.serve(index, &mut input), ClientSaid::Done);
        assert!(server.client_fds().iter().all(|(i, _)| *i != index), "no longer polled");
    }

    #[test]
    fn a_handed_over_server_tells_the_exit_to_the_same_clients() {
        let dir = tempfile::tempdir().unwrap();
        let server = AttachServer::listen(dir.path()).unwrap();
        let mut waiter = AttachClient::connect(dir.path(), false, Duration::from_secs(1)).unwrap();
        let mut server = server;
        server.accept();
        let (listener, clients) = server.descriptors();
        assert_eq!(clients.len(), 1);
        std::mem::forget(server); // as an execve would: the descriptors stay open
        let mut adopted = unsafe { AttachServer::adopt(dir.path(), listener, &clients) };
        adopted.broadcast_exit(7);
        drop(adopted);
        assert_eq!(waiter.wait_for_exit().unwrap(), Some(7));
        assert!(!dir.path().join(SOCKET).exists(), "the adopted server removes the socket");
    }
}
