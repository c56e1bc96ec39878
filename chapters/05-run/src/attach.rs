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

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::logs::Stream;

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

// ANCHOR: kinds
/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    CloseStdin = 3,
    Resize = 4,
    /// The container exited: its exit code, in decimal. The last frame.
    Exit = 5,
    /// A client's first frame: what it came for, `output` or `exit`.
    Hello = 6,
}
// ANCHOR_END: kinds

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        use Kind::*;
        [Stdin, Stdout, Stderr, CloseStdin, Resize, Exit, Hello]
            .into_iter()
            .find(|k| *k as u8 == byte)
    }

    pub fn of(stream: Stream) -> Kind {
        match stream {
            Stream::Stdout => Kind::Stdout,
            Stream::Stderr => Kind::Stderr,
        }
    }
}

// ANCHOR: frame
/// One frame: the 8-byte header, then the payload.
pub fn frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind as u8, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A frame's header: its kind and the length of the payload that follows.
pub fn parse_header(header: [u8; 8]) -> io::Result<(Kind, usize)> {
    let kind = Kind::from_byte(header[0]).ok_or_else(|| io::Error::other("bad frame kind"))?;
    Ok((kind, u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize))
}

/// Read one frame; `None` at a clean end of the stream.
pub fn read_frame(from: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut header = [0u8; 8];
    match from.read_exact(&mut header) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let (kind, length) = parse_header(header)?;
    let mut payload = vec![0u8; length];
    from.read_exact(&mut payload)?;
    Ok(Some((kind, payload)))
}
// ANCHOR_END: frame

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

    /// Wait until a first client connects (a client that attached before
    /// the start must not miss the first byte), at most `timeout`.
    pub fn wait_for_client(&mut self, timeout: Duration) -> io::Result<()> {
        let deadline = Instant::now() + timeout;
        while !self.clients.iter().any(|c| c.wants_output) {
            self.accept();
            if Instant::now() > deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "no client attached"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        Ok(())
    }

    pub fn listener_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// The clients that may still send something, and their index.
    pub fn client_fds(&self) -> Vec<(usize, BorrowedFd<'_>)> {
        let sending = self.clients.iter().enumerate().filter(|(_, c)| c.sending);
        sending.map(|(i, c)| (i, c.socket.as_fd())).collect()
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

fn parse_size(text: &[u8]) -> Option<(u16, u16)> {
    let text = std::str::from_utf8(text).ok()?;
    let (rows, cols) = text.trim().split_once(' ')?;
    Some((rows.parse().ok()?, cols.parse().ok()?))
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
    fn frames_carry_kind_and_length() {
        let bytes = frame(Kind::Stderr, b"oops\n");
        assert_eq!(&bytes[..8], &[2, 0, 0, 0, 0, 0, 0, 5]);
        let mut reader = io::Cursor::new([bytes, frame(Kind::Resize, b"24 80")].concat());
        assert_eq!(read_frame(&mut reader).unwrap(), Some((Kind::Stderr, b"oops\n".to_vec())));
        assert_eq!(read_frame(&mut reader).unwrap(), Some((Kind::Resize, b"24 80".to_vec())));
        assert_eq!(read_frame(&mut reader).unwrap(), None);
        assert!(read_frame(&mut io::Cursor::new([9u8, 0, 0, 0, 0, 0, 0, 0])).is_err());
        assert_eq!(parse_size(b"24 80"), Some((24, 80)));
    }

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
        let index = server.clients.iter().position(|c| c.wants_output).unwrap();
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
}
