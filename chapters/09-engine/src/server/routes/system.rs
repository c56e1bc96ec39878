//! `_ping`, `version`, `info`, `events`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response};

use crate::server::http::{self, Body};
use crate::server::{blocking, events, Daemon};
use crate::types::parse_filters;

// ANCHOR: ping
/// `HEAD /_ping` starts every `docker` command: its headers tell the
/// client which API version to use (`Api-Version`), the OS, and that
/// whether this node is in a swarm (chapter 11 says, through its routes).
pub async fn ping(daemon: Arc<Daemon>, head: bool) -> Response<Body> {
    let body = if head { None } else { Some(Bytes::from_static(b"OK")) };
    let mut response = http::response(200, Some("text/plain; charset=utf-8"), Body::Full(body));
    let headers = response.headers_mut();
    headers
        .insert("Cache-Control", HeaderValue::from_static("no-cache, no-store, must-revalidate"));
    headers.insert("Pragma", HeaderValue::from_static("no-cache"));
    headers.insert("Builder-Version", HeaderValue::from_static("1"));
    let swarm = daemon.routes.iter().find_map(|r| r.swarm_header());
    let swarm = swarm.and_then(|s| HeaderValue::from_str(&s).ok());
    headers.insert("Swarm", swarm.unwrap_or(HeaderValue::from_static("inactive")));
    if head {
        headers.insert("Content-Length", HeaderValue::from_static("0"));
    }
    response
}
// ANCHOR_END: ping

pub async fn version() -> Response<Body> {
    http::json(200, &crate::system::version())
}

pub async fn info(daemon: Arc<Daemon>) -> Response<Body> {
    let local = daemon.local.clone();
    match blocking(move || Ok(crate::system::info(&local))).await {
        Ok(mut info) => {
            for routes in daemon.routes.iter() {
                routes.amend_info(&mut info);
            }
            http::json(200, &info)
        }
        Err(error) => http::error(&error),
    }
}

// ANCHOR: events
/// `GET /events?since=&until=&filters=`: the kept events since `since`,
/// then the live ones, until `until` (or until the client goes away).
pub async fn events(daemon: Arc<Daemon>, request: Request<Incoming>) -> Response<Body> {
    let query = http::query(&request);
    let filters = match parse_filters(query.get("filters").map_or("", String::as_str)) {
        Ok(filters) => filters,
        Err(message) => return http::error(&crate::ApiError::bad_request(message)),
    };
    let seconds = |key: &str| query.get(key).and_then(|v| v.split('.').next()?.parse::<i64>().ok());
    let (since, until) = (seconds("since"), seconds("until"));
    let (past, mut live) = daemon.events.subscribe(since);
    let (tx, body) = http::channel();
    tokio::spawn(async move {
        let send = |event: &serde_json::Value| {
            let keep = events::matches(event, &filters)
                && until.is_none_or(|u| event["time"].as_i64() <= Some(u));
            keep.then(|| Bytes::from(format!("{event}\n")))
        };
        for event in &past {
            if let Some(line) = send(event) {
                if tx.send(line).await.is_err() {
                    return;
                }
            }
        }
        let deadline = until.map(|u| Duration::from_secs((u - now()).max(0) as u64));
        let end = tokio::time::sleep(deadline.unwrap_or(Duration::from_secs(u64::MAX / 4)));
        tokio::pin!(end);
        loop {
            tokio::select! {
                _ = &mut end => return,
                _ = tx.closed() => return,
                event = live.recv() => match event {
                    Ok(event) => if let Some(line) = send(&event) {
                        if tx.send(line).await.is_err() { return; }
                    },
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                },
            }
        }
    });
    http::response(200, Some("application/json"), body)
}
// ANCHOR_END: events

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}
