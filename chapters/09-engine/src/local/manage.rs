//! [`Manage`] in this process: chapter 2's cgroup for `top`, `stats` and
//! `update`, chapter 5's store for `rename` and `prune`, the container's
//! root for `cp`. Events need a daemon: without one, no one is watching.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ch02_cgroups::Cgroup;
use ch05_run::container::LimitSettings;
use serde_json::{json, Value};

use super::{archive, stats, Local};
use crate::error::{ApiError, ApiResult};
use crate::manage::{EventsOptions, Manage, PathStat, UpdateBody};
use crate::settings::{check_restart_policy, EngineSettings};
use crate::types::Filters;

impl Manage for Local {
    fn events(&self, _: &EventsOptions, _: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        Err(ApiError::bad_request(
            "events are the daemon's: without mini-dockerd no one is watching; start it and use -H",
        ))
    }

    fn container_top(&self, wanted: &str, ps_args: &str) -> ApiResult<Value> {
        let (_, cgroup) = self.running_cgroup(wanted)?;
        let args = if ps_args.is_empty() { "-ef" } else { ps_args };
        let out = Command::new("ps")
            .args(args.split_whitespace())
            .output()
            .map_err(|e| ApiError::new(500, format!("running ps: {e}")))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().to_string();
            return Err(ApiError::new(500, format!("ps: {why}")));
        }
        top_of(&String::from_utf8_lossy(&out.stdout), &cgroup.pids())
    }

    fn container_stats(
        &self,
        wanted: &str,
        stream: bool,
        out: &mut dyn FnMut(&Value) -> bool,
    ) -> ApiResult<()> {
        let id = self.find(wanted)?;
        let config = self.engine.config(&id)?;
        let mut previous: Option<Value> = None;
        loop {
            let state = self.engine.state(&id)?;
            let pid = state.pid.filter(|_| state.is_running());
            let cgroup = pid.and_then(|_| open_cgroup(&config).ok()).map(|mut c| {
                c.limits = config.limits.to_limits();
                c
            });
            let mut sample = stats::sample(cgroup.as_ref(), pid, &config.name, &id);
            if let Some(before) = previous.take() {
                sample["preread"] = before["read"].clone();
                sample["precpu_stats"] = before["cpu_stats"].clone();
            }
            // Without a stream, dockerd still takes two samples, so that
            // the client can work out a CPU percentage.
            let first_of_two = !stream && sample["preread"] == stats::ZERO_TIME && pid.is_some();
            if !first_of_two && (!out(&sample) || !stream) {
                return Ok(());
            }
            previous = Some(sample);
            std::thread::sleep(Duration::from_secs(1));
        }
    }

    fn container_rename(&self, wanted: &str, name: &str) -> ApiResult<()> {
        let id = self.find(wanted)?;
        let name = name.trim_start_matches('/');
        check_name(name)?;
        let _all = self.engine.store.lock_all().map_err(anyhow::Error::from)?;
        let mut config = self.engine.config(&id)?;
        if config.name == name {
            let message = "Renaming a container with the same name as its current name";
            return Err(ApiError::bad_request(message));
        }
        for other in self.engine.store.ids().map_err(anyhow::Error::from)? {
            if other != id && self.engine.config(&other).is_ok_and(|c| c.name == name) {
                return Err(ApiError::conflict(format!("Conflict. The container name \"/{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name.")));
            }
        }
        config.name = name.to_string();
        Ok(self.engine.store.write(&id, "config.json", &config).map_err(anyhow::Error::from)?)
    }

    fn container_update(&self, wanted: &str, body: &UpdateBody) -> ApiResult<Vec<String>> {
        let id = self.find(wanted)?;
        let mut config = self.engine.config(&id)?;
        let limits = updated_limits(&config.limits, body)?;
        if self.engine.state(&id)?.is_running() {
            let mut cgroup = open_cgroup(&config)?;
            cgroup.update(&limits).map_err(|e| ApiError::bad_request(e.to_string()))?;
        }
        config.limits = LimitSettings::from_limits(&limits);
        if let Some(policy) = body.restart_policy.as_ref().filter(|p| !p.name.is_empty()) {
            check_restart_policy(policy, config.auto_remove)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let mut settings: EngineSettings = config.extensions.get().unwrap_or_default();
            settings.restart_policy = policy.clone();
            config.extensions.set(&settings);
        }
        self.engine.store.write(&id, "config.json", &config).map_err(anyhow::Error::from)?;
        Ok(Vec::new())
    }

    fn container_prune(&self, filters: &Filters) -> ApiResult<Value> {
        let (mut deleted, mut space) = (Vec::new(), 0u64);
        for (config, state) in self.engine.list()? {
            let dir = self.engine.store.container_dir(&config.id);
            let restarting = crate::lifecycle::read(&dir).restarting;
            if state.is_running() || restarting || !prunable(&config, filters)? {
                continue;
            }
            let size = dir_size(&dir);
            if self.engine.remove(&config.id, false, false).is_ok() {
                deleted.push(config.id);
                space += size;
            }
        }
        Ok(json!({ "ContainersDeleted": deleted, "SpaceReclaimed": space }))
    }

    fn archive_stat(&self, wanted: &str, path: &str) -> ApiResult<PathStat> {
        self.in_root(wanted, path, |root| archive::stat(root, path))
    }

    fn archive_get(&self, wanted: &str, path: &str) -> ApiResult<(PathStat, Vec<u8>)> {
        self.in_root(wanted, path, |root| {
            Ok((archive::stat(root, path)?, archive::tar_of(root, path)?))
        })
    }

    fn archive_put(&self, wanted: &str, path: &str, tar: &[u8]) -> ApiResult<()> {
        self.in_root(wanted, path, |root| archive::unpack(root, path, tar))
    }
}

impl Local {
    /// A running container's id and cgroup.
    fn running_cgroup(&self, wanted: &str) -> ApiResult<(String, Cgroup)> {
        let id = self.find(wanted)?;
        if !self.engine.state(&id)?.is_running() {
            return Err(ApiError::conflict(format!("container {id} is not running")));
        }
        let config = self.engine.config(&id)?;
        Ok((id, open_cgroup(&config)?))
    }

    // ANCHOR: in_root
    /// Do `work` in the container's root: a running one's is its
    /// `/proc/PID/root` (with its volumes); a stopped one's is mounted for
    /// this copy alone (overlay) or is a plain directory (vfs).
    fn in_root<T: Send>(
        &self,
        wanted: &str,
        path: &str,
        work: impl FnOnce(&Path) -> std::io::Result<T> + Send,
    ) -> ApiResult<T> {
        let id = self.find(wanted)?;
        let state = self.engine.state(&id)?;
        let missing = |e: std::io::Error| match e.kind() {
            std::io::ErrorKind::NotFound => {
                ApiError::not_found(format!("Could not find the file {path} in container {wanted}"))
            }
            _ => ApiError::bad_request(format!("{path}: {e}")),
        };
        if let Some(pid) = state.pid.filter(|_| state.is_running()) {
            return work(&PathBuf::from(format!("/proc/{pid}/root"))).map_err(missing);
        }
        let config = self.engine.config(&id)?;
        let dir = self.engine.store.container_dir(&id);
        let driver: ch03_union_fs::Driver =
            config.driver.parse().map_err(|e: String| ApiError::new(500, e))?;
        let rootfs = ch03_union_fs::reopen(driver, &config.layers, &dir)
            .map_err(|e| ApiError::new(500, e.to_string()))?;
        let ch03_union_fs::driver::Union::Overlay { mount_data, merged, .. } = &rootfs.union else {
            return work(rootfs.root()).map_err(missing);
        };
        super::stopped_root::with_mounted(mount_data, merged, work).map_err(missing)
    }
    // ANCHOR_END: in_root
}

fn open_cgroup(config: &ch05_run::ContainerConfig) -> ApiResult<Cgroup> {
    let layout = ch02_cgroups::detect().map_err(|e| ApiError::new(500, e.to_string()))?;
    Cgroup::open(&layout, &config.cgroup_parent, &config.id)
        .map_err(|e| ApiError::new(500, e.to_string()))
}

// ANCHOR: top_of
/// dockerd's `top`: the host's `ps` output, only the rows whose PID is in
/// the container's cgroup. The last column takes the rest of the line.
pub fn top_of(ps: &str, pids: &[i32]) -> ApiResult<Value> {
    let mut lines = ps.lines();
    let titles: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    let Some(pid_column) = titles.iter().position(|t| *t == "PID") else {
        return Err(ApiError::bad_request("Couldn't find PID field in ps output"));
    };
    let mut processes = Vec::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() < titles.len() {
            continue;
        }
        let pid: Option<i32> = words[pid_column].parse().ok();
        if !pid.is_some_and(|p| pids.contains(&p)) {
            continue;
        }
        let mut row: Vec<String> =
            words[..titles.len() - 1].iter().map(|w| w.to_string()).collect();
        row.push(words[titles.len() - 1..].join(" "));
        processes.push(row);
    }
    Ok(json!({ "Titles": titles, "Processes": processes }))
}
// ANCHOR_END: top_of

/// The new limits: what the body gives, over what the container has.
fn updated_limits(old: &LimitSettings, body: &UpdateBody) -> ApiResult<ch02_cgroups::Limits> {
    let mut limits = old.to_limits();
    if body.memory > 0 {
        limits.memory = Some(body.memory as u64);
    }
    match body.memory_swap {
        0 => {}
        -1 => limits.memory_swap = Some(ch02_cgroups::Swap::Unlimited),
        bytes => limits.memory_swap = Some(ch02_cgroups::Swap::Total(bytes.max(0) as u64)),
    }
    if body.nano_cpus > 0 {
        limits.cpu_quota_us = Some(body.nano_cpus as u64 * 100_000 / 1_000_000_000);
    }
    if body.cpu_shares > 0 {
        limits.cpu_shares = Some(body.cpu_shares as u64);
    }
    if let Some(pids) = body.pids_limit {
        limits.pids = ch02_cgroups::limits::pids_limit(pids);
    }
    limits.check().map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(limits)
}

/// Docker's names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn check_name(name: &str) -> ApiResult<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    match first_ok && rest_ok && name.len() >= 2 {
        true => Ok(()),
        false => Err(ApiError::bad_request(format!(
            "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        ))),
    }
}

/// `until=` (unix seconds or RFC 3339) and `label=` of `container prune`.
fn prunable(config: &ch05_run::ContainerConfig, filters: &Filters) -> ApiResult<bool> {
    let settings: EngineSettings = config.extensions.get().unwrap_or_default();
    for (key, values) in filters {
        let ok = values.iter().all(|value| match key.as_str() {
            "until" => created_before(&config.created, value),
            "label" => match value.split_once('=') {
                Some((k, v)) => settings.labels.get(k).is_some_and(|l| l == v),
                None => settings.labels.contains_key(value),
            },
            "label!" => !settings.labels.contains_key(value.split('=').next().unwrap_or(value)),
            _ => false,
        });
        if !["until", "label", "label!"].contains(&key.as_str()) {
            return Err(ApiError::bad_request(format!("invalid filter '{key}'")));
        }
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

fn created_before(created: &str, until: &str) -> bool {
    let Ok(created) = humantime::parse_rfc3339(created) else { return false };
    let limit = match until.parse::<u64>() {
        Ok(secs) => std::time::UNIX_EPOCH + Duration::from_secs(secs),
        Err(_) => match humantime::parse_rfc3339_weak(until) {
            Ok(at) => at,
            Err(_) => match humantime::parse_duration(until) {
                Ok(ago) => std::time::SystemTime::now() - ago,
                Err(_) => return false,
            },
        },
    };
    created < limit
}

/// The bytes of a container's directory (its writable layer, its log).
fn dir_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_keeps_the_containers_rows() {
        let ps = "UID PID PPID C STIME TTY TIME CMD\nroot 1 0 0 10:00 ? 00:00:01 /sbin/init\nroot 42 7 0 10:01 ? 00:00:00 sleep 100\n";
        let top = top_of(ps, &[42]).unwrap();
        assert_eq!(top["Titles"][1], "PID");
        assert_eq!(
            top["Processes"],
            json!([["root", "42", "7", "0", "10:01", "?", "00:00:00", "sleep 100"]])
        );
        assert!(top_of("USER CMD\n", &[1]).is_err());
    }

    #[test]
    fn names_as_docker_allows() {
        assert!(check_name("web-1.a_b").is_ok());
        assert!(check_name("-web").is_err() && check_name("a b").is_err());
    }

    #[test]
    fn an_update_changes_only_what_it_names() {
        let old =
            LimitSettings { memory: Some(64 << 20), pids: Some(10), ..LimitSettings::default() };
        let body = UpdateBody { nano_cpus: 500_000_000, ..UpdateBody::default() };
        let new = updated_limits(&old, &body).unwrap();
        assert_eq!(
            (new.memory, new.pids, new.cpu_quota_us),
            (Some(64 << 20), Some(10), Some(50_000))
        );
    }
}
