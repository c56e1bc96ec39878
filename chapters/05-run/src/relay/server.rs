//! Attaching to a container: its supervisor listens on a unix socket in the
//! container's directory. Whoever connects receives the output as it is
//! produced, and may send input, close it, or resize the terminal — what
//! `docker attach` needs, and what a daemon needs to serve `docker run`.
//! The frames are [`crate::relay::frame`]'s; chapter 5's `attach` has the client.

use std::io::{self, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use crate::relay::frame::{frame, parse_size, read_frame, Kind};
use crate::relay::Stream;

/// The socket's name in the container's directory.
pub const SOCKET: &str = "attach.sock";

// ANCHOR: short_path
/// A unix socket's path may have at most 107 bytes, and
/// `/var/lib/mini-docker/containers/<64 hex>/attach.sock` has more. So we
/// open the directory and name the socket through the open descriptor:
/// `/proc/self/fd/7/attach.sock` (runc and containerd do the same). Keep
/// the returned directory open while the path is used.
pub fn socket_path(dir: &Path) -> io::Result<(std::fs::File, PathBuf)> {
    let opened = std::fs::File::open(dir)?;
    let path = PathBuf::from(format!("/proc/self/fd/{}/{SOCKET}", opened.as_raw_fd()));
    Ok((opened, path))
}
// ANCHOR_END: short_path

/// The supervisor's side: the listening socket and the clients connected.
pub struct AttachServer {
    path: PathBuf,
    listener: UnixListener,
    clients: Vec<Client>,
}

/// A connected client, and whether it wants the output or only the exit.
struct Client {
    socket: UnixStream,
    wants_output: bool,
    /// False once it closed its side: it sends nothing more, but may
    /// still want the output (as a `docker run` with no stdin does).
    sending: bool,
}

impl AttachServer {
    /// Listen in `dir` (the container's directory); only root may connect.
    pub fn listen(dir: &Path) -> io::Result<AttachServer> {
        let path = dir.join(SOCKET);
        let _ = std::fs::remove_file(&path);
        let (_dir, short) = socket_path(dir)?;
        let listener = UnixListener::bind(&short)?;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(AttachServer { path, listener, clients: Vec::new() })
    }

    /// The server another process handed over (the shim, or its exit
    /// command): the listening socket `listener` in `dir`, and its clients.
    ///
    /// # Safety
    /// Every descriptor must be open, ours, and used by nothing else.
    pub unsafe fn adopt(dir: &Path, listener: RawFd, clients: &[(RawFd, bool, bool)]) -> Self {
        let listener = UnixListener::from_raw_fd(listener);
        let _ = listener.set_nonblocking(true);
        let clients = clients.iter().map(|&(fd, wants_output, sending)| Client {
            socket: UnixStream::from_raw_fd(fd),
            wants_output,
            sending,
        });
        AttachServer { path: dir.join(SOCKET), listener, clients: clients.collect() }
    }

    /// The descriptors to hand over: the listener, and each client with
    /// whether it wants the output and may still send.
    pub fn descriptors(&self) -> (RawFd, Vec<(RawFd, bool, bool)>) {
        let clients = self.clients.iter();
        let clients = clients.map(|c| (c.socket.as_raw_fd(), c.wants_output, c.sending));
        (self.listener.as_raw_fd(), clients.collect())
    }

    /// Wait until a first client connects (a client that attached before
    /// the start must not miss the first byte), at most `timeout`. Between
    /// looks this process sleeps in `poll(2)` on the listener, which wakes
    /// it as a client knocks: no interval to wait out.
    pub fn wait_for_client(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            self.accept();
            if self.clients.iter().any(|c| c.wants_output) {
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no client attached"));
            }
            let mut knock = [PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
            match poll(&mut knock, PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub fn listener_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// The clients that may still send something, and their index.
    pub fn client_fds(&self) -> Vec<(usize, BorrowedFd<'_>)> {
        let sending = self.clients.iter().enumerate().filter(|(_, c)| c.sending);
        sending.map(|(i, c)| (i, c.socket.as_fd())).collect()
    }

    /// The index of the first client that wants the output.
    pub fn first_output_client(&self) -> Option<usize> {
        self.clients.iter().position(|c| c.wants_output)
    }

    /// Take every client waiting on the socket, once it said hello.
    pub fn accept(&mut self) {
        while let Ok((mut socket, _)) = self.listener.accept() {
            let _ = socket.set_nonblocking(false);
            let _ = socket.set_write_timeout(Some(Duration::from_secs(5)));
            let _ = socket.set_read_timeout(Some(Duration::from_secs(1)));
            let wants_output = match read_frame(&mut socket) {
                Ok(Some((Kind::Hello, what))) => what == b"output",
                _ => continue, // not one of ours: drop it
            };
            let _ = socket.set_read_timeout(None);
            self.clients.push(Client { socket, wants_output, sending: true });
        }
    }

    /// Send output to every client that wants it; one that cannot take it is dropped.
    pub fn broadcast(&mut self, stream: Stream, bytes: &[u8]) {
        let message = frame(Kind::of(stream), bytes);
        self.clients.retain_mut(|c| !c.wants_output || c.socket.write_all(&message).is_ok());
    }

    /// Tell every client how the container ended: the last frame they get.
    pub fn broadcast_exit(&mut self, code: i32) {
        let message = frame(Kind::Exit, code.to_string().as_bytes());
        for client in &mut self.clients {
            let _ = client.socket.write_all(&message);
        }
    }

    /// Serve client `index`, which has something to say: input goes to
    /// `input`; the answer says what to do with the rest.
    pub fn serve(&mut self, index: usize, input: &mut Option<OwnedFd>) -> ClientSaid {
        let said = match read_frame(&mut self.clients[index].socket) {
            Ok(Some((Kind::Stdin, bytes))) => {
                let written = input.as_ref().map(|fd| write_all_fd(fd.as_fd(), &bytes));
                if written.is_some_and(|w| w.is_err()) {
                    *input = None;
                }
                ClientSaid::Nothing
            }
            Ok(Some((Kind::CloseStdin, _))) => {
                *input = None; // dropping the write end: the container reads end of file
                ClientSaid::Nothing
            }
            Ok(Some((Kind::Resize, text))) => parse_size(&text)
                .map_or(ClientSaid::Nothing, |s| ClientSaid::Resize { rows: s.0, cols: s.1 }),
            Ok(Some(_)) => ClientSaid::Nothing,
            Ok(None) => ClientSaid::Done,
            Err(_) => ClientSaid::Gone,
        };
        match said {
            ClientSaid::Gone => drop(self.clients.remove(index)),
            ClientSaid::Done => self.clients[index].sending = false,
            _ => {}
        }
        said
    }
}

impl Drop for AttachServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// What serving a client asked of the supervisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSaid {
    Nothing,
    Resize {
        rows: u16,
        cols: u16,
    },
    /// It closed its side: nothing more from it, but it still listens.
    Done,
    Gone,
}

fn write_all_fd(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(dir: &Path, what: &[u8]) -> UnixStream {
        let (_dir, short) = socket_path(dir).unwrap();
        let mut socket = UnixStream::connect(short).unwrap();
        socket.write_all(&frame(Kind::Hello, what)).unwrap();
        socket
    }

    #[test]
    fn waiting_for_a_client_wakes_when_it_knocks() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = AttachServer::listen(dir.path()).unwrap();
        let path = dir.path().to_path_buf();
        // The client comes from another thread while the server is in poll(2).
        let client = std::thread::spawn(move || hello(&path, b"output"));
        server.wait_for_client(Duration::from_secs(10)).unwrap();
        assert_eq!(server.first_output_client(), Some(0));
        drop(client.join().unwrap());
    }

    #[test]
    fn a_client_for_the_exit_only_does_not_end_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let mut server = AttachServer::listen(dir.path()).unwrap();
        let _exit_only = hello(dir.path(), b"exit");
        let waited = server.wait_for_client(Duration::from_millis(50));
        assert_eq!(waited.unwrap_err().kind(), io::ErrorKind::TimedOut);
        assert_eq!(server.clients.len(), 1, "it was accepted all the same");
    }
}
