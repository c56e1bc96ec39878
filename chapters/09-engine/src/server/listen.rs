//! Where the daemon listens: `-H unix:///run/mini-docker.sock` (root only,
//! as dockerd's socket), or `-H tcp://127.0.0.1:2375` — loopback only,
//! since without TLS anyone who reaches the port is root on this host.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

pub const DEFAULT_HOST: &str = "unix:///run/mini-docker.sock";

// ANCHOR: host
/// One `-H` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    Unix(PathBuf),
    Tcp(SocketAddr),
}

impl Host {
    /// `unix:///path`, `/path`, `tcp://127.0.0.1:2375`; a TCP address that
    /// is not loopback is refused.
    pub fn parse(text: &str) -> anyhow::Result<Host> {
        if let Some(path) = text.strip_prefix("unix://") {
            return Ok(Host::Unix(PathBuf::from(if path.is_empty() {
                "/run/mini-docker.sock"
            } else {
                path
            })));
        }
        if text.starts_with('/') {
            return Ok(Host::Unix(PathBuf::from(text)));
        }
        let Some(address) = text.strip_prefix("tcp://") else {
            bail!("invalid -H {text:?}: use unix:///PATH or tcp://127.0.0.1:PORT");
        };
        let address: SocketAddr = address.parse().with_context(|| {
            format!("invalid -H {text:?}: write an address and a port, e.g. tcp://127.0.0.1:2375")
        })?;
        if !address.ip().is_loopback() {
            bail!("refusing -H {text}: mini-dockerd has no TLS, and anyone who reaches the port is root on this host; listen on 127.0.0.1 or a unix socket");
        }
        Ok(Host::Tcp(address))
    }
}
// ANCHOR_END: host

// ANCHOR: bind_unix
/// Bind the unix socket: mode 0660, owned by root and `group` (dockerd's
/// `docker` group; ours defaults to root's own), so only those may connect.
pub fn bind_unix(
    path: &PathBuf,
    group: Option<u32>,
) -> anyhow::Result<std::os::unix::net::UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    if a_daemon_answers(path) {
        bail!("{} is in use: is another mini-dockerd running?", path.display());
    }
    let _ = std::fs::remove_file(path);
    let listener = std::os::unix::net::UnixListener::bind(path)
        .with_context(|| format!("listening on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    std::os::unix::fs::chown(path, Some(0), Some(group.unwrap_or(0)))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}
// ANCHOR_END: bind_unix

// ANCHOR: answers
/// Does a daemon answer on `path`? That a connection is taken is not
/// enough: a daemon killed a moment ago keeps its socket until the kernel
/// has finished with the process, and the connection waits there, answered
/// by no one, until it is reset. So ask for `/_ping`: any reply is a live
/// daemon, a reset or a close is a dead one, and a socket that says nothing
/// for `PING_TIMEOUT` is taken to be in use (not ours to replace).
fn a_daemon_answers(path: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(path) else { return false };
    let _ = stream.set_read_timeout(Some(PING_TIMEOUT));
    let _ = stream.set_write_timeout(Some(PING_TIMEOUT));
    let ping = b"GET /_ping HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(ping).is_err() {
        return false;
    }
    match stream.read(&mut [0u8; 1]) {
        Ok(n) => n > 0,
        Err(e) => matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}
// ANCHOR_END: answers

/// How long a daemon on the socket has to answer the ping.
const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// `--group NAME|GID`: the group that may use the socket.
pub fn group_id(name: &str) -> anyhow::Result<u32> {
    if let Ok(gid) = name.parse() {
        return Ok(gid);
    }
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    groups
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            (fields.next() == Some(name)).then(|| fields.nth(1)?.parse().ok()).flatten()
        })
        .with_context(|| format!("--group {name}: no such group in /etc/group"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_like_dockerds() {
        assert_eq!(Host::parse("unix:///tmp/a.sock").unwrap(), Host::Unix("/tmp/a.sock".into()));
        assert_eq!(Host::parse("/tmp/b.sock").unwrap(), Host::Unix("/tmp/b.sock".into()));
        assert_eq!(
            Host::parse("tcp://127.0.0.1:2375").unwrap(),
            Host::Tcp("127.0.0.1:2375".parse().unwrap())
        );
        let refused = Host::parse("tcp://0.0.0.0:2375").unwrap_err().to_string();
        assert!(refused.contains("no TLS") && !refused.contains('\n'), "{refused}");
        assert!(Host::parse("ssh://host").is_err());
        assert!(Host::parse("tcp://localhost").is_err());
    }

    #[test]
    fn a_socket_no_daemon_answers_on_is_not_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        assert!(!a_daemon_answers(&path), "no socket");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(!a_daemon_answers(&path), "a socket file left by a daemon that died");
        std::fs::remove_file(&path).unwrap();

        // A daemon killed a moment ago: its socket still takes connections
        // (into the backlog) but nothing answers, and it goes a little later.
        let dying = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert!(UnixStream::connect(&path).is_ok(), "connecting alone says in use");
        let gone = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(dying);
        });
        let asked = std::time::Instant::now();
        assert!(!a_daemon_answers(&path), "the dying daemon's socket is not in use");
        assert!(asked.elapsed() < PING_TIMEOUT, "told by the reset, not by the timeout");
        gone.join().unwrap();
    }

    #[test]
    fn a_socket_a_daemon_answers_on_is_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let daemon = std::thread::spawn(move || {
            let (mut client, _) = listener.accept().unwrap();
            let mut request = [0u8; 256];
            let n = client.read(&mut request).unwrap();
            assert!(request[..n].starts_with(b"GET /_ping HTTP/1.1\r\n"));
            client.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK").unwrap();
        });
        assert!(a_daemon_answers(&path));
        daemon.join().unwrap();
    }
}
