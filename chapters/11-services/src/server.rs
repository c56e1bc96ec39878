//! The node server: the protocol's HTTP side on `ADDR:2377`, on a thread
//! with a tokio runtime of its own (the routing mesh's listeners run on
//! it too). A manager answers registrations and heartbeats; every node
//! answers the manager's requests for its containers' logs.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use ch09_engine::{Local, LogsOptions, Output};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::manager::Manager;
use crate::protocol::{HEARTBEAT, LEAVE, LOGS, REGISTER};

type Answer = Response<Full<Bytes>>;

/// Start the server on `listener`: the runtime's handle, a sender that
/// stops it, and its thread.
pub fn spawn(
    listener: std::net::TcpListener,
    manager: Option<Arc<Manager>>,
    local: Local,
    secret: String,
) -> std::io::Result<(
    tokio::runtime::Handle,
    tokio::sync::oneshot::Sender<()>,
    std::thread::JoinHandle<()>,
)> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let handle = runtime.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    listener.set_nonblocking(true)?;
    let thread = std::thread::spawn(move || {
        runtime.block_on(async move {
            let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
            let serve = async {
                while let Ok((stream, _)) = listener.accept().await {
                    let (manager, local, secret) = (manager.clone(), local.clone(), secret.clone());
                    tokio::spawn(async move {
                        let service = service_fn(move |request| {
                            let (manager, local, secret) =
                                (manager.clone(), local.clone(), secret.clone());
                            async move {
                                Ok::<_, Infallible>(route(manager, local, &secret, request).await)
                            }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            };
            tokio::select! {
                _ = serve => {}
                _ = stopped => {}
            }
        });
        // Dropping the runtime here ends every task on it: mesh listeners too.
    });
    Ok((handle, stop, thread))
}

async fn route(
    manager: Option<Arc<Manager>>,
    local: Local,
    secret: &str,
    request: Request<Incoming>,
) -> Answer {
    let path = request.uri().path().to_string();
    if path == LOGS {
        return logs(local, secret, request).await;
    }
    let Some(manager) = manager else {
        return answer(503, json!({"message": "this node is not a swarm manager"}));
    };
    let result = match path.as_str() {
        REGISTER => match body(request).await {
            Ok(register) => manager.register(&register).map(|r| json!(r)),
            Err(e) => Err(e),
        },
        HEARTBEAT => match body(request).await {
            Ok(beat) => manager.heartbeat(&beat).map(|a| json!(a)),
            Err(e) => Err(e),
        },
        LEAVE => match body(request).await {
            Ok(beat) => manager.node_left(&beat).map(|()| json!({})),
            Err(e) => Err(e),
        },
        _ => return answer(404, json!({"message": format!("no such path: {path}")})),
    };
    match result {
        Ok(value) => answer(200, value),
        Err(message) => answer(400, json!({ "message": message })),
    }
}

// ANCHOR: node_logs
/// `GET /node/logs?container=ID&secret=S&timestamps=1&tail=N`: a task
/// container's log as `[[stream, text], …]`. Only the manager, which knows
/// this node's secret, may ask; and only for a task's container.
async fn logs(local: Local, secret: &str, request: Request<Incoming>) -> Answer {
    let query = ch09_engine::server::http::query(&request);
    if query.get("secret").map(String::as_str) != Some(secret) {
        return answer(403, json!({"message": "wrong node secret"}));
    }
    let container = query.get("container").cloned().unwrap_or_default();
    let labels = local.inspect(&container).map(|c| c["Config"]["Labels"].clone());
    if labels.as_ref().map_or(true, |l| l[crate::agent::TASK_LABEL].is_null()) {
        return answer(404, json!({"message": format!("no task container {container}")}));
    }
    // ANCHOR_END: node_logs
    let options = LogsOptions {
        stdout: true,
        stderr: true,
        timestamps: query.get("timestamps").is_some_and(|t| t == "1"),
        tail: query.get("tail").and_then(|t| t.parse().ok()),
        ..Default::default()
    };
    let read = tokio::task::spawn_blocking(move || {
        let mut lines: Vec<(u8, String)> = Vec::new();
        let result = local.logs(&container, &options, &mut |output, bytes| {
            let stream = if output == Output::Stdout { 1 } else { 2 };
            lines.push((stream, String::from_utf8_lossy(bytes).into_owned()));
        });
        result.map(|()| lines)
    });
    match read.await {
        Ok(Ok(lines)) => answer(200, json!(lines)),
        Ok(Err(error)) => answer(error.status, json!({"message": error.message})),
        Err(error) => answer(500, json!({"message": error.to_string()})),
    }
}

async fn body<T: DeserializeOwned>(request: Request<Incoming>) -> Result<T, String> {
    let bytes = request.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| format!("a bad request: {e}"))
}

fn answer(status: u16, value: Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(value.to_string())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
    response.headers_mut().insert("Content-Type", "application/json".parse().expect("a header"));
    response
}
