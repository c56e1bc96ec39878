//! The routing mesh, in userland: on every node, each published port is a
//! listener that hands each connection to the next backend in turn — a
//! running task's node port, on this node or any other — and copies bytes
//! both ways. Swarm does this in the kernel (IPVS in a load-balancer
//! namespace, reached by DNAT): no copy through a process, but a lot more
//! machinery. The table comes from the manager with every heartbeat.
//!
//! ```text
//!  client ─▶ node2:8080 ─▶ mesh listener ─round robin─▶ node1:31002 ─DNAT─▶ task container :80
//!                                                  └──▶ node3:31000 ─DNAT─▶ task container :80
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::protocol::MeshPort;

/// The backends of one published port, and whose turn it is.
#[derive(Default)]
pub struct Backends {
    addrs: Mutex<Vec<String>>,
    next: AtomicUsize,
}

// ANCHOR: pick
impl Backends {
    /// The next backend in turn (round robin), if there is any.
    pub fn pick(&self) -> Option<String> {
        let addrs = self.addrs.lock().unwrap();
        if addrs.is_empty() {
            return None; // no turn is used up while there is no one to take it
        }
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        round_robin(&addrs, turn).cloned()
    }
}

/// The backend whose turn `turn` is: the list again and again, in order.
/// The counter only grows, and the list may have changed since the last
/// turn (the table comes with every heartbeat): any turn must land in it.
pub fn round_robin<T>(backends: &[T], turn: usize) -> Option<&T> {
    match backends.len() {
        0 => None,
        n => backends.get(turn % n),
    }
}
// ANCHOR_END: pick

struct Listener {
    backends: Arc<Backends>,
    task: JoinHandle<()>,
}

/// This node's listeners, one per published port.
#[derive(Clone)]
pub struct Mesh {
    runtime: Handle,
    ports: Arc<Mutex<HashMap<u16, Listener>>>,
}

impl Mesh {
    pub fn new(runtime: Handle) -> Mesh {
        Mesh { runtime, ports: Default::default() }
    }

    /// Make the listeners match the table: new ports listen, gone ports
    /// close, and every port's backends are the table's.
    pub fn apply(&self, table: &[MeshPort]) {
        let mut ports = self.ports.lock().unwrap();
        ports.retain(|port, listener| {
            let keep = table.iter().any(|p| p.port == *port);
            if !keep {
                listener.task.abort();
            }
            keep
        });
        for entry in table {
            let listener = ports.entry(entry.port).or_insert_with(|| {
                let backends = Arc::new(Backends::default());
                let task = self.runtime.spawn(listen(entry.port, Arc::clone(&backends)));
                Listener { backends, task }
            });
            *listener.backends.addrs.lock().unwrap() = entry.backends.clone();
        }
    }
}

// ANCHOR: listen
/// Accept on every address of the node; each connection goes to a
/// backend (the next one if a backend refuses).
async fn listen(port: u16, backends: Arc<Backends>) {
    let listener = match TcpListener::bind(("0.0.0.0", port)).await {
        Ok(listener) => listener,
        Err(error) => return eprintln!("mini-dockerd: routing mesh: port {port}: {error}"),
    };
    while let Ok((mut client, _)) = listener.accept().await {
        let backends = Arc::clone(&backends);
        tokio::spawn(async move {
            for _ in 0..3 {
                let Some(addr) = backends.pick() else { return };
                if let Ok(mut backend) = TcpStream::connect(&addr).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut backend).await;
                    return;
                }
            }
        });
    }
}
// ANCHOR_END: listen

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_take_turns() {
        let backends = Backends::default();
        assert_eq!(backends.pick(), None);
        *backends.addrs.lock().unwrap() = vec!["a:1".into(), "b:2".into(), "c:3".into()];
        let picks: Vec<String> = (0..6).map(|_| backends.pick().unwrap()).collect();
        assert_eq!(picks, ["a:1", "b:2", "c:3", "a:1", "b:2", "c:3"]);
    }

    #[test]
    fn a_published_port_reaches_every_backend() {
        use std::io::{Read, Write};
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let servers: Vec<std::net::TcpListener> =
            (0..2).map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap()).collect();
        let addrs: Vec<String> =
            servers.iter().map(|s| s.local_addr().unwrap().to_string()).collect();
        for (n, server) in servers.into_iter().enumerate() {
            std::thread::spawn(move || {
                for mut stream in server.incoming().flatten() {
                    let _ = stream.write_all(format!("backend {n}").as_bytes());
                }
            });
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mesh = Mesh::new(runtime.handle().clone());
        let thread = std::thread::spawn(move || {
            runtime.block_on(async { tokio::time::sleep(std::time::Duration::from_secs(5)).await })
        });
        mesh.apply(&[MeshPort { port, backends: addrs }]);
        let mut answers = Vec::new();
        for _ in 0..4 {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
            let mut stream = loop {
                match std::net::TcpStream::connect(("127.0.0.1", port)) {
                    Ok(s) => break s,
                    Err(_) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(std::time::Duration::from_millis(20))
                    }
                    Err(e) => panic!("the mesh does not listen: {e}"),
                }
            };
            let mut text = String::new();
            stream.read_to_string(&mut text).unwrap();
            answers.push(text);
        }
        answers.sort();
        assert_eq!(answers, ["backend 0", "backend 0", "backend 1", "backend 1"]);
        mesh.apply(&[]);
        drop(thread);
    }
}
