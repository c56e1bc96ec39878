//! Talking to a container's supervisor from the daemon, with async I/O:
//! chapter 5's attach socket and its frames.

use std::io;
use std::path::Path;
use std::time::Duration;

use ch05_run::attach::{frame, parse_header, Kind};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Connect, waiting up to `timeout` for the socket (a start is on its way),
/// and say what we came for: the output, or only the exit.
pub async fn connect(dir: &Path, output: bool, timeout: Duration) -> io::Result<UnixStream> {
    let deadline = tokio::time::Instant::now() + timeout;
    let (_dir, short) = loop {
        match ch05_run::attach::socket_path(dir) {
            Ok(opened) => break opened,
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    let mut socket = loop {
        match UnixStream::connect(&short).await {
            Ok(socket) => break socket,
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    };
    let hello: &[u8] = if output { b"output" } else { b"exit" };
    socket.write_all(&frame(Kind::Hello, hello)).await?;
    Ok(socket)
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
