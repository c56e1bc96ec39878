//! The userland proxy: the part of port publishing that iptables cannot do.
//!
//! A connection from the host to `127.0.0.1:8080` never passes a chain
//! where DNAT could send it to the container (loopback is excluded, as in
//! Docker), so a small relay listens on the host port and copies bytes
//! both ways to the container's address — Docker's `docker-proxy`. Here it
//! is a few threads in the container's supervisor: it lives exactly as
//! long as the container, and dies with the supervisor if that is killed.
//!
//! Binding the listener before the container starts is also how a port
//! that is already taken is refused, before anything else is made.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use ch01_namespaces::explain::{self, Step};

use crate::error::NetError;
use crate::ports::{PortMapping, Proto};

const BOOK: &str = "ch06-networking.md#the-userland-proxy";
/// How often an idle UDP relay looks at its stop flag.
const UDP_POLL: Duration = Duration::from_millis(200);

/// A host port, bound and held for the container.
pub enum Bound {
    Tcp(TcpListener),
    Udp(UdpSocket),
}

// ANCHOR: bind
/// Bind the host side of `mapping` and return it with the real port (when
/// the mapping asked for any free port, the kernel chose one).
pub fn bind(mapping: &PortMapping) -> Result<(Bound, PortMapping), NetError> {
    let address = SocketAddrV4::new(mapping.host_ip, mapping.host_port);
    let in_use = |e: io::Error| match e.kind() {
        io::ErrorKind::AddrInUse => {
            NetError::PortInUse { ip: mapping.host_ip, port: mapping.host_port }
        }
        _ => NetError::Io { what: format!("binding {address}/{}", mapping.proto.name()), error: e },
    };
    explain::step(Step {
        what: &format!("hold host port {address}/{} for the userland proxy", mapping.proto.name()),
        syscall: &format!(
            "socket(AF_INET, {}); bind({address})",
            if mapping.proto == Proto::Tcp { "SOCK_STREAM" } else { "SOCK_DGRAM" }
        ),
        shell: &format!(
            "docker-proxy -proto {} -host-ip {} -host-port {}",
            mapping.proto.name(),
            mapping.host_ip,
            mapping.host_port
        ),
        book: BOOK,
    });
    let (bound, port) = match mapping.proto {
        Proto::Tcp => {
            let listener = TcpListener::bind(address).map_err(in_use)?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or(mapping.host_port);
            (Bound::Tcp(listener), port)
        }
        Proto::Udp => {
            let socket = UdpSocket::bind(address).map_err(in_use)?;
            let port = socket.local_addr().map(|a| a.port()).unwrap_or(mapping.host_port);
            (Bound::Udp(socket), port)
        }
    };
    Ok((bound, PortMapping { host_port: port, ..*mapping }))
}
// ANCHOR_END: bind

/// A running relay; [`Proxy::stop`] closes the host port.
pub struct Proxy {
    stop: Arc<AtomicBool>,
    wake: Option<TcpListener>,
    thread: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Start relaying connections (or datagrams) from `bound` to `target`.
    pub fn start(bound: Bound, target: SocketAddrV4) -> Proxy {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        match bound {
            Bound::Tcp(listener) => {
                let wake = listener.try_clone().ok();
                let thread = std::thread::spawn(move || accept_loop(listener, target, flag));
                Proxy { stop, wake, thread: Some(thread) }
            }
            Bound::Udp(socket) => {
                let thread = std::thread::spawn(move || udp_loop(socket, target, flag));
                Proxy { stop, wake: None, thread: Some(thread) }
            }
        }
    }

    /// Stop accepting and close the host port.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(listener) = self.wake.take() {
            // shutdown(2) on a listening socket wakes a blocked accept(2)
            // on Linux (it returns EINVAL), which a plain close does not.
            // SAFETY: shutdown on a descriptor we own; no memory is involved.
            unsafe { libc::shutdown(listener.as_raw_fd(), libc::SHUT_RDWR) };
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ANCHOR: accept_loop
fn accept_loop(listener: TcpListener, target: SocketAddrV4, stop: Arc<AtomicBool>) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else {
            std::thread::sleep(Duration::from_millis(10)); // e.g. out of file descriptors
            continue;
        };
        std::thread::spawn(move || {
            if let Ok(upstream) =
                TcpStream::connect_timeout(&SocketAddr::V4(target), Duration::from_secs(10))
            {
                relay(client, upstream);
            }
        });
    }
}
// ANCHOR_END: accept_loop

// ANCHOR: accept_loop_2
/// Copy both ways until each side has said all it had to say.
fn relay(client: TcpStream, upstream: TcpStream) {
    let (Ok(client_2), Ok(upstream_2)) = (client.try_clone(), upstream.try_clone()) else { return };
    let there = std::thread::spawn(move || copy_then_close(client, upstream));
    copy_then_close(upstream_2, client_2);
    let _ = there.join();
}

/// Copy `from` into `to`, then tell `to` we are done writing (half-close),
/// as HTTP/1.0 clients and `nc` expect.
fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
// ANCHOR_END: accept_loop_2

/// UDP has no connections: each client address gets its own socket to the
/// container, and a thread that sends the container's replies back.
fn udp_loop(socket: UdpSocket, target: SocketAddrV4, stop: Arc<AtomicBool>) {
    let _ = socket.set_read_timeout(Some(UDP_POLL));
    let clients: Arc<Mutex<HashMap<SocketAddr, UdpSocket>>> = Arc::default();
    let mut buffer = [0u8; 65536];
    while !stop.load(Ordering::SeqCst) {
        let Ok((n, client)) = socket.recv_from(&mut buffer) else { continue };
        let mut known = clients.lock().unwrap_or_else(|e| e.into_inner());
        if let std::collections::hash_map::Entry::Vacant(slot) = known.entry(client) {
            let Ok(upstream) =
                UdpSocket::bind("0.0.0.0:0").and_then(|u| u.connect(target).map(|()| u))
            else {
                continue;
            };
            let (Ok(reader), Ok(reply_to)) = (upstream.try_clone(), socket.try_clone()) else {
                continue;
            };
            let (stop, clients) = (stop.clone(), clients.clone());
            std::thread::spawn(move || udp_replies(reader, reply_to, client, stop, clients));
            slot.insert(upstream);
        }
        if let Some(upstream) = known.get(&client) {
            let _ = upstream.send(&buffer[..n]);
        }
    }
}

fn udp_replies(
    upstream: UdpSocket,
    socket: UdpSocket,
    client: SocketAddr,
    stop: Arc<AtomicBool>,
    clients: Arc<Mutex<HashMap<SocketAddr, UdpSocket>>>,
) {
    let _ = upstream.set_read_timeout(Some(UDP_POLL));
    let mut buffer = [0u8; 65536];
    let mut idle = Duration::ZERO;
    // A client that has been quiet for a minute is forgotten, as conntrack does.
    while !stop.load(Ordering::SeqCst) && idle < Duration::from_secs(60) {
        match upstream.recv(&mut buffer) {
            Ok(n) => {
                idle = Duration::ZERO;
                let _ = socket.send_to(&buffer[..n], client);
            }
            Err(_) => idle += UDP_POLL,
        }
    }
    clients.lock().unwrap_or_else(|e| e.into_inner()).remove(&client);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relays_tcp_both_ways_and_frees_the_port_on_stop() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(target) = server.local_addr().unwrap() else { unreachable!() };
        std::thread::spawn(move || {
            let (mut conn, _) = server.accept().unwrap();
            let mut got = String::new();
            conn.read_to_string(&mut got).unwrap();
            conn.write_all(format!("echo: {got}").as_bytes()).unwrap();
        });
        let (bound, mapping) = bind(&"127.0.0.1::80".parse().unwrap()).unwrap();
        assert_ne!(mapping.host_port, 0, "the kernel chose a port");
        let proxy = Proxy::start(bound, target);
        let mut client = TcpStream::connect(("127.0.0.1", mapping.host_port)).unwrap();
        client.write_all(b"hi").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut answer = String::new();
        client.read_to_string(&mut answer).unwrap();
        assert_eq!(answer, "echo: hi");
        let again = bind(&mapping).err().map(|e| e.to_string());
        assert_eq!(
            again,
            Some(format!(
                "Bind for 127.0.0.1:{} failed: port is already allocated",
                mapping.host_port
            ))
        );
        proxy.stop();
        assert!(bind(&mapping).is_ok(), "the port is free again after stop");
    }

    #[test]
    fn relays_udp_datagrams_and_replies() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let SocketAddr::V4(target) = server.local_addr().unwrap() else { unreachable!() };
        std::thread::spawn(move || {
            let mut buffer = [0u8; 64];
            let (n, from) = server.recv_from(&mut buffer).unwrap();
            server.send_to(&[&buffer[..n], b"!"].concat(), from).unwrap();
        });
        let (bound, mapping) = bind(&"127.0.0.1::53/udp".parse().unwrap()).unwrap();
        let proxy = Proxy::start(bound, target);
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        client.send_to(b"ping", ("127.0.0.1", mapping.host_port)).unwrap();
        let mut buffer = [0u8; 64];
        let n = client.recv(&mut buffer).unwrap();
        assert_eq!(&buffer[..n], b"ping!");
        proxy.stop();
    }
}
