//! `POST /commit` with a body: the client's container config (docker-py's
//! `container.commit(conf=…)`) over the container's own, as dockerd merges
//! them (moby `daemon/commit.go`'s `merge`). What the body sets wins; what
//! it leaves empty comes from the container; lists and maps are joined.
//!
//! ```text
//! body config ──(-c changes)──▶ user ──merge(container's)──▶ the image's config
//! no body: user = the container's config, and the changes apply to it
//! ```

use serde_json::Value;

use crate::config::RunConfig;

/// The keys of a container config that belong in an image's config besides
/// [`RunConfig`]'s own (a body's `Hostname`, `Image`, `Tty`… do not).
const IMAGE_EXTRAS: [&str; 4] = ["Healthcheck", "OnBuild", "Shell", "ArgsEscaped"];

/// A body's container config, as docker-py or curl sends it: `null`s are
/// "not set", unknown keys are dropped.
pub fn body_config(body: &[u8]) -> Result<Option<RunConfig>, serde_json::Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let mut value: Value = serde_json::from_slice(body)?;
    if let Value::Object(map) = &mut value {
        map.retain(|_, v| !v.is_null());
    }
    let mut config: RunConfig = serde_json::from_value(value)?;
    config.other.retain(|key, _| IMAGE_EXTRAS.contains(&key.as_str()));
    Ok(Some(config))
}

// ANCHOR: merge
/// Fill what `user` left empty from `container`, as dockerd does.
pub fn merge(user: &mut RunConfig, container: &RunConfig) {
    if user.user.is_empty() {
        user.user = container.user.clone();
    }
    for (port, value) in &container.exposed_ports {
        user.exposed_ports.entry(port.clone()).or_insert_with(|| value.clone());
    }
    let key = |kv: &String| kv.split_once('=').map_or(kv.clone(), |(k, _)| k.to_string());
    let keys: Vec<String> = user.env.iter().map(key).collect();
    let inherited = container.env.iter().filter(|kv| !keys.contains(&key(kv)));
    user.env.extend(inherited.cloned().collect::<Vec<_>>());
    for (label, value) in &container.labels {
        user.labels.entry(label.clone()).or_insert_with(|| value.clone());
    }
    // An entrypoint of the user's own keeps its Cmd, even none.
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        if user.cmd.as_ref().is_none_or(Vec::is_empty) {
            user.cmd = container.cmd.clone();
        }
        if user.entrypoint.is_none() {
            user.entrypoint = container.entrypoint.clone();
        }
    }
    merge_healthcheck(user, container);
    if user.working_dir.is_empty() {
        user.working_dir = container.working_dir.clone();
    }
    user.volumes.extend(container.volumes.clone());
    if user.stop_signal.is_empty() {
        user.stop_signal = container.stop_signal.clone();
    }
}
// ANCHOR_END: merge

/// A healthcheck of the user's own takes the container's for each part it
/// leaves at zero (the test, the intervals, the retries).
fn merge_healthcheck(user: &mut RunConfig, container: &RunConfig) {
    let Some(theirs) = container.other.get("Healthcheck").and_then(Value::as_object) else {
        return;
    };
    let ours = user.other.entry("Healthcheck").or_insert_with(|| Value::Object(theirs.clone()));
    let Some(ours) = ours.as_object_mut() else { return };
    for (field, value) in theirs {
        let unset = match ours.get(field) {
            None | Some(Value::Null) => true,
            Some(Value::Array(items)) => items.is_empty(),
            Some(Value::Number(n)) => n.as_i64() == Some(0),
            Some(_) => false,
        };
        if unset {
            ours.insert(field.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(value: Value) -> RunConfig {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn what_the_body_sets_wins_and_the_rest_comes_from_the_container() {
        let container = config(json!({
            "User": "1000", "Env": ["PATH=/bin", "A=container"], "Cmd": ["sh"],
            "WorkingDir": "/work", "Labels": {"k": "container", "only": "c"},
            "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "StopSignal": "SIGINT",
        }));
        let mut user = body_config(
            br#"{"Env":["A=body"],"Cmd":["cat","/made"],"Labels":{"k":"body"},
                "ExposedPorts":{"8080/tcp":{}},"Hostname":"abc","Image":"x","Entrypoint":null}"#,
        )
        .unwrap()
        .unwrap();
        merge(&mut user, &container);
        assert_eq!(user.env, ["A=body", "PATH=/bin"], "the body's first, then the container's");
        assert_eq!(user.cmd, Some(vec!["cat".to_string(), "/made".to_string()]));
        assert_eq!(user.labels["k"], "body");
        assert_eq!(user.labels["only"], "c");
        assert_eq!(user.exposed_ports.keys().collect::<Vec<_>>(), ["80/tcp", "8080/tcp"]);
        assert_eq!((user.user.as_str(), user.working_dir.as_str()), ("1000", "/work"));
        assert!(user.volumes.contains_key("/data"));
        assert_eq!(user.stop_signal, "SIGINT");
        assert!(user.other.is_empty(), "a container's Hostname is not an image's: {user:?}");
    }

    #[test]
    fn an_entrypoint_in_the_body_keeps_its_own_cmd() {
        let container = config(json!({ "Entrypoint": ["/old"], "Cmd": ["x"] }));
        let mut user = config(json!({ "Entrypoint": ["/new"] }));
        merge(&mut user, &container);
        assert_eq!(user.entrypoint, Some(vec!["/new".to_string()]));
        assert_eq!(user.cmd, None, "dockerd: the container's Cmd was for the old entrypoint");
        let mut plain = RunConfig::default();
        merge(&mut plain, &container);
        assert_eq!((plain.entrypoint, plain.cmd), (container.entrypoint, container.cmd));
    }

    #[test]
    fn healthchecks_merge_part_by_part_and_empty_bodies_are_none() {
        let container = config(json!({ "Healthcheck": { "Test": ["CMD", "true"], "Retries": 3 } }));
        let mut user = config(json!({ "Healthcheck": { "Test": [], "Interval": 5 } }));
        merge(&mut user, &container);
        assert_eq!(
            user.other["Healthcheck"],
            json!({ "Test": ["CMD", "true"], "Interval": 5, "Retries": 3 })
        );
        assert!(body_config(b"  ").unwrap().is_none());
        assert!(body_config(b"{").is_err());
    }
}
