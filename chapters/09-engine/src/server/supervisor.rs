//! Talking to a container's supervisor from the daemon, with async I/O:
//! chapter 5's attach socket and its frames.

use std::io;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::path::Path;
use std::time::Duration;

use ch05_run::attach::{frame, parse_header, Kind};
use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

// ANCHOR: connect
/// Connect, waiting up to `timeout` for the socket (a start is on its way),
/// and say what we came for: the output, or only the exit. `docker run`
/// attaches before the start, and the container waits for us: the kernel
/// says when its supervisor binds the socket, so the wait adds no delay.
pub async fn connect(dir: &Path, output: bool, timeout: Duration) -> io::Result<UnixStream> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (_dir, short) = loop {
        match ch05_run::attach::socket_path(dir) {
            Ok(opened) => break opened,
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    let mut bound = Bound::watch(dir); // before the first try: no bind is missed
    let mut socket = loop {
        match UnixStream::connect(&short).await {
            Ok(socket) => break socket,
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(e) => bound.next(&e, deadline).await,
        }
    };
    let hello: &[u8] = if output { b"output" } else { b"exit" };
    socket.write_all(&frame(Kind::Hello, hello)).await?;
    Ok(socket)
}
// ANCHOR_END: connect

// ANCHOR: bound
/// The container's directory, watched for a new entry (`bind(2)` of the
/// attach socket makes one: inotify's `IN_CREATE`).
struct Bound {
    watched: Option<AsyncFd<Watch>>,
}

struct Watch(Inotify);

impl AsRawFd for Watch {
    fn as_raw_fd(&self) -> RawFd {
        self.0.as_fd().as_raw_fd()
    }
}

impl Bound {
    fn watch(dir: &Path) -> Bound {
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok();
        let watching = inotify.filter(|i| i.add_watch(dir, AddWatchFlags::IN_CREATE).is_ok());
        // SAFETY: the inotify descriptor is owned by `Watch`, open until it drops.
        let registered = watching.and_then(|i| unsafe { AsyncFd::register(Watch(i)) }.ok());
        Bound { watched: registered }
    }

    /// After a failed connect: until something is made in the directory.
    /// Refused means bound but not yet listening (a moment), or a socket
    /// left by a supervisor that died: look again soon, not at the next entry.
    async fn next(&mut self, failed: &io::Error, deadline: tokio::time::Instant) {
        let soon = tokio::time::Instant::now() + Duration::from_millis(2);
        let Some(watched) = self.watched.as_ref().filter(|_| !refused(failed)) else {
            return tokio::time::sleep_until(soon.min(deadline)).await;
        };
        let made = async {
            let Ok(mut ready) = watched.readable().await else { return };
            if let Err(Errno::EAGAIN) = ready.get_inner().0.read_events() {
                ready.clear_ready();
            }
        };
        let _ = tokio::time::timeout_at(deadline, made).await;
    }
}
// ANCHOR_END: bound

fn refused(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::ConnectionRefused
}

impl Drop for Bound {
    /// Closing an inotify instance that holds a watch waits for a grace
    /// period (see [`super::changes`]): on a blocking thread, not here.
    fn drop(&mut self) {
        if let Some(watched) = self.watched.take() {
            super::changes::close_off_the_runtime(watched);
        }
    }
}

/// The next frame; `None` when the supervisor closed the socket.
pub async fn read_frame(
    from: &mut (impl AsyncRead + Unpin),
) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut header = [0u8; 8];
    match from.read_exact(&mut header).await {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    };
    let (kind, length) = parse_header(header)?;
    let mut payload = vec![0u8; length];
    from.read_exact(&mut payload).await?;
    Ok(Some((kind, payload)))
}

/// Skip to the exit frame: the exit code, or `None` if the supervisor died.
pub async fn read_exit(from: &mut (impl AsyncRead + Unpin)) -> Option<i64> {
    loop {
        match read_frame(from).await {
            Ok(Some((Kind::Exit, code))) => return String::from_utf8_lossy(&code).parse().ok(),
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// A supervisor that binds its socket after `delay` and reads the hello.
    fn supervisor_later(dir: &Path, delay: Duration) -> std::thread::JoinHandle<Vec<u8>> {
        let path = dir.join(ch05_run::attach::SOCKET);
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
            let (mut client, _) = listener.accept().unwrap();
            let mut hello = vec![0u8; 12];
            client.read_exact(&mut hello).unwrap();
            hello
        })
    }

    #[tokio::test]
    async fn connect_waits_for_a_socket_bound_later() {
        let dir = tempfile::tempdir().unwrap();
        let supervisor = supervisor_later(dir.path(), Duration::from_millis(100));
        let socket = connect(dir.path(), false, Duration::from_secs(10)).await;
        assert!(socket.is_ok(), "{socket:?}");
        assert_eq!(supervisor.join().unwrap(), frame(Kind::Hello, b"exit"));
    }

    #[tokio::test]
    async fn connect_gives_up_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("state.json"), "{}").unwrap(); // an entry, not the socket
        let error = connect(dir.path(), true, Duration::from_millis(50)).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
    }
}
