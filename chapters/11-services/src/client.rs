//! The node protocol's client side: JSON over plain HTTP with short
//! timeouts (ureq, blocking: the agent has a thread of its own).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(Duration::from_secs(2))
        .timeout(Duration::from_secs(5))
        .build()
}

/// POST `body` to `http://{addr}{path}`; an error is the answer's message.
pub fn post<T: DeserializeOwned>(
    addr: &str,
    path: &str,
    body: &impl Serialize,
) -> Result<T, String> {
    let text = serde_json::to_string(body).map_err(|e| e.to_string())?;
    let answer = agent()
        .post(&format!("http://{addr}{path}"))
        .set("Content-Type", "application/json")
        .send_string(&text);
    read(answer)
}

/// GET `http://{addr}{path}`.
pub fn get<T: DeserializeOwned>(addr: &str, path: &str) -> Result<T, String> {
    read(agent().get(&format!("http://{addr}{path}")).call())
}

fn read<T: DeserializeOwned>(answer: Result<ureq::Response, ureq::Error>) -> Result<T, String> {
    match answer {
        Ok(response) => {
            let text = response.into_string().map_err(|e| e.to_string())?;
            serde_json::from_str(&text).map_err(|e| format!("a bad answer: {e}"))
        }
        Err(ureq::Error::Status(_, response)) => {
            let text = response.into_string().unwrap_or_default();
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v["message"].as_str().map(str::to_string));
            Err(message.unwrap_or(text))
        }
        Err(ureq::Error::Transport(error)) => Err(error.to_string()),
    }
}
