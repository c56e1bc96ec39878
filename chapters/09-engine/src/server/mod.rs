//! `mini-dockerd`'s side of the Engine API: listen, route, answer. HTTP/1.1
//! itself is hyper's; the routes, the JSON, the stream framing and the
//! hijack are ours.
//!
//! ```text
//!  docker / mini-docker -H ─▶ unix socket ─▶ hyper (HTTP/1.1) ─▶ router ─▶ route ─▶ Local ─▶ chapters 1–8
//!                                                                   └─▶ Routes of later chapters
//! ```

pub mod changes;
pub mod events;
pub mod execs;
pub mod explain;
pub mod health;
pub mod http;
pub mod listen;
pub mod monitor;
pub mod restart;
pub mod restore;
pub mod router;
pub mod routes;
pub mod supervisor;

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{ApiError, ApiResult};
use crate::local::Local;
pub use events::Events;
pub use listen::Host;
pub use router::Routes;

// ANCHOR: daemon
/// The daemon: the engine, what it has seen happen, and the requests in
/// flight that others wait on.
pub struct Daemon {
    pub local: Local,
    pub events: Events,
    pub execs: execs::Execs,
    /// Routes of later chapters, tried after chapter 9's own.
    pub routes: Vec<Arc<dyn Routes>>,
    /// Containers someone attached to before they started (`docker run`):
    /// their start waits until the attached client is connected.
    pending_attach: Mutex<HashSet<String>>,
}
// ANCHOR_END: daemon

impl Daemon {
    pub fn new(local: Local) -> Daemon {
        Daemon {
            local,
            events: Events::default(),
            execs: execs::Execs::default(),
            routes: Vec::new(),
            pending_attach: Mutex::new(HashSet::new()),
        }
    }

    pub fn expect_attach(&self, id: &str) {
        self.pending_attach.lock().unwrap_or_else(|e| e.into_inner()).insert(id.to_string());
    }

    /// Was someone attached before the start? (Asking takes the mark away.)
    pub fn take_expected_attach(&self, id: &str) -> bool {
        self.pending_attach.lock().unwrap_or_else(|e| e.into_inner()).remove(id)
    }
}

/// Run `work` (the engine is synchronous: file locks, fork, waitpid) on a
/// thread of its own, so that no other request waits for it.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(explain::kept_by_request(work))
        .await
        .unwrap_or_else(|e| Err(ApiError::new(500, format!("the engine failed: {e}"))))
}

// ANCHOR: serve
/// Listen on every host, say so with `ready`, and answer until SIGTERM or
/// SIGINT. Each connection is served on its own task, so a long-poll
/// (`wait`, `logs -f`) holds only its own connection.
pub fn serve(
    daemon: Daemon,
    hosts: &[Host],
    group: Option<u32>,
    ready: impl FnOnce(),
) -> anyhow::Result<()> {
    limit_malloc_arenas();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let daemon = Arc::new(daemon);
        for host in hosts {
            listen(host, group, Arc::clone(&daemon))?;
        }
        ready();
        tokio::spawn(restore::restore(Arc::clone(&daemon)));
        wait_for_shutdown().await;
        Ok::<_, anyhow::Error>(())
    })?;
    for host in hosts {
        if let Host::Unix(path) = host {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}
// ANCHOR_END: serve

// ANCHOR: arenas
/// glibc's malloc gives each new thread an arena of its own (up to eight
/// per core), and an arena keeps the memory it once held. The daemon's
/// threads are its two workers and the short-lived ones of
/// `spawn_blocking`, one per request under way: each left an arena behind,
/// about 100 KB a thread. Two arenas, one per worker, are enough for a
/// daemon that mostly waits. Set before the first thread starts.
fn limit_malloc_arenas() {
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a number in malloc's parameters.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
// ANCHOR_END: arenas

fn listen(host: &Host, group: Option<u32>, daemon: Arc<Daemon>) -> anyhow::Result<()> {
    match host {
        Host::Unix(path) => {
            let listener = tokio::net::UnixListener::from_std(listen::bind_unix(path, group)?)?;
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(connection(stream, Arc::clone(&daemon)));
                }
            });
        }
        Host::Tcp(address) => {
            let std = std::net::TcpListener::bind(address)
                .with_context(|| format!("listening on {address}"))?;
            std.set_nonblocking(true)?;
            let listener = tokio::net::TcpListener::from_std(std)?;
            tokio::spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(connection(stream, Arc::clone(&daemon)));
                }
            });
        }
    }
    Ok(())
}

/// One client connection: HTTP/1.1 with keep-alive and upgrades (attach).
async fn connection(io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static, daemon: Arc<Daemon>) {
    let service = service_fn(move |request| {
        let daemon = Arc::clone(&daemon);
        async move { Ok::<_, Infallible>(explain::narrated(daemon, request).await) }
    });
    let served = http1::Builder::new()
        .max_buf_size(64 * 1024)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let _ = served.await; // a client that goes away mid-request is not our error
}

async fn wait_for_shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) =
        (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
