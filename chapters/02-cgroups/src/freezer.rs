//! `pause` and `unpause`: stop every task of a container where it stands,
//! and let them go on again, with the freezer. A frozen task is not
//! scheduled at all and cannot notice it was stopped — unlike SIGSTOP,
//! which a process can see (its parent gets SIGCHLD) and which can be
//! undone by anyone allowed to send SIGCONT.
//!
//! ```text
//! v1: the freezer controller          v2: a core file of every cgroup
//! echo FROZEN > freezer.state         echo 1 > cgroup.freeze
//! cat freezer.state → FREEZING …      cat cgroup.events → frozen 0 …
//!                   → FROZEN                            → frozen 1
//! echo THAWED > freezer.state         echo 0 > cgroup.freeze
//! ```
//!
//! Freezing is not instant: the kernel stops each task the next time it
//! runs, so both versions are written, then read until they say so.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::cgroup::{require, Cgroup, CgroupError, Version};
use crate::detect::Layout;
use crate::files::{parse_key, read_value, write_value};

const BOOK_FREEZER: &str = "ch02-cgroups.md#pause-and-unpause-the-freezer";
/// How long to wait for every task to stop (or to run again).
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

impl Cgroup {
    /// `pause`: freeze every task in the cgroup; returns once all are stopped.
    pub fn freeze(&self) -> Result<(), CgroupError> {
        self.set_frozen(true)
    }

    /// `unpause`: let every task run again.
    pub fn thaw(&self) -> Result<(), CgroupError> {
        self.set_frozen(false)
    }

    /// Whether the cgroup is frozen or on its way there.
    pub fn is_frozen(&self) -> bool {
        match self.version {
            Version::V1 => self
                .dir_of("freezer")
                .and_then(|d| read_value(&d.join("freezer.state")))
                .is_some_and(|state| state != "THAWED"),
            Version::V2 => self
                .dirs
                .first()
                .and_then(|d| read_value(&d.path.join("cgroup.freeze")))
                .is_some_and(|value| value == "1"),
        }
    }

    /// Thaw before removal when paused: on v1, SIGKILL waits for the thaw.
    pub(crate) fn thaw_for_removal(&self) -> Result<(), CgroupError> {
        if self.is_frozen() {
            self.thaw()?;
        }
        Ok(())
    }

    fn set_frozen(&self, frozen: bool) -> Result<(), CgroupError> {
        match self.version {
            Version::V1 => {
                let dir = self.dir_of("freezer").ok_or_else(|| self.missing_freezer())?;
                set_v1(dir, frozen)
            }
            Version::V2 => {
                let dir = self.dirs.first().map(|d| d.path.as_path()).ok_or_else(|| {
                    CgroupError::NoV2Freezer(Path::new("cgroup.freeze").to_path_buf())
                })?;
                set_v2(dir, frozen)
            }
        }
    }

    /// The error for a v1 cgroup without a freezer directory.
    fn missing_freezer(&self) -> CgroupError {
        let layout = crate::detect::detect().unwrap_or_default();
        require(&layout, "freezer", "pause").err().unwrap_or_else(|| CgroupError::MissingV1 {
            controller: "freezer",
            needed_by: "pause",
            fix: "the container started before the freezer was mounted: restart it".into(),
        })
    }
}

/// Refuse `pause` early, with how to get it, on a v1 host without a freezer.
pub fn require_freezer(layout: &Layout) -> Result<(), CgroupError> {
    if layout.uses_v2() {
        return Ok(());
    }
    require(layout, "freezer", "pause")
}

// ANCHOR: set_v1
/// v1: write FROZEN (or THAWED) to `freezer.state` and read it back until
/// the kernel agrees. A task that was forking as we froze can leave the
/// state at FREEZING; writing FROZEN again makes the kernel try again.
fn set_v1(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let file = dir.join("freezer.state");
    let wanted = if frozen { "FROZEN" } else { "THAWED" };
    write_value(&file, wanted, BOOK_FREEZER)?;
    wait_until(&file, wanted, FREEZE_TIMEOUT, || {
        if !dir.exists() {
            return (true, "removed".into()); // its tasks died: nothing is left to wait for
        }
        let state = read_value(&file).unwrap_or_default();
        if state != wanted {
            let _ = std::fs::write(&file, wanted); // again, quietly
        }
        (state == wanted, state)
    })
}
// ANCHOR_END: set_v1

// ANCHOR: set_v2
/// v2: write 1 (or 0) to `cgroup.freeze`; the kernel says `frozen 1` in
/// `cgroup.events` once every task below the cgroup has stopped.
fn set_v2(dir: &Path, frozen: bool) -> Result<(), CgroupError> {
    let file = dir.join("cgroup.freeze");
    if !file.exists() {
        return Err(CgroupError::NoV2Freezer(file));
    }
    write_value(&file, if frozen { "1" } else { "0" }, BOOK_FREEZER)?;
    let events = dir.join("cgroup.events");
    let wanted = format!("frozen {}", u8::from(frozen));
    wait_until(&events, &wanted, FREEZE_TIMEOUT, || {
        if !dir.exists() {
            return (true, "removed".into());
        }
        let text = read_value(&events).unwrap_or_default();
        let now_frozen = parse_key(&text, "frozen") == Some(1);
        (now_frozen == frozen, format!("frozen {}", u8::from(now_frozen)))
    })
}
// ANCHOR_END: set_v2

/// Poll `done` (which also says the state it saw) every few milliseconds
/// until it reports `wanted`.
fn wait_until(
    path: &Path,
    wanted: &str,
    timeout: Duration,
    mut done: impl FnMut() -> (bool, String),
) -> Result<(), CgroupError> {
    let deadline = Instant::now() + timeout;
    loop {
        let (finished, state) = done();
        if finished {
            return Ok(());
        }
        if Instant::now() > deadline {
            let seconds = timeout.as_secs();
            let (path, wanted) = (path.to_path_buf(), wanted.to_string());
            return Err(CgroupError::FreezeTimeout { path, wanted, state, seconds });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroup::Dir;
    use crate::limits::Limits;

    fn cgroup(version: Version, dir: &Path, controllers: &[&str]) -> Cgroup {
        let controllers = controllers.iter().map(|c| c.to_string()).collect();
        Cgroup::from_parts(
            version,
            vec![Dir { path: dir.to_path_buf(), controllers }],
            Limits::default(),
        )
    }

    #[test]
    fn v2_freeze_waits_for_frozen_1_in_cgroup_events() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cgroup.freeze"), "0").unwrap();
        // A fake tree: the "kernel" reports frozen at once.
        std::fs::write(dir.path().join("cgroup.events"), "populated 1\nfrozen 1\n").unwrap();
        let cgroup = cgroup(Version::V2, dir.path(), &["memory"]);
        cgroup.freeze().unwrap();
        assert_eq!(read_value(&dir.path().join("cgroup.freeze")).as_deref(), Some("1"));
        assert!(cgroup.is_frozen());
    }

    #[test]
    fn v1_freeze_writes_frozen_and_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("freezer.state"), "THAWED").unwrap();
        let cgroup = cgroup(Version::V1, dir.path(), &["freezer"]);
        cgroup.freeze().unwrap();
        assert_eq!(read_value(&dir.path().join("freezer.state")).as_deref(), Some("FROZEN"));
        assert!(cgroup.is_frozen());
        cgroup.thaw().unwrap();
        assert!(!cgroup.is_frozen());
    }

    #[test]
    fn v2_without_cgroup_freeze_names_the_kernel_version() {
        let dir = tempfile::tempdir().unwrap();
        let error = cgroup(Version::V2, dir.path(), &["memory"]).freeze().unwrap_err();
        assert!(error.to_string().starts_with("pause needs "), "{error}");
        assert!(error.to_string().contains("Linux 5.2"), "{error}");
    }

    #[test]
    fn a_state_that_never_comes_times_out_and_says_what_it_saw() {
        let mut polls = 0;
        let events = Path::new("/x/cgroup.events");
        let error = wait_until(events, "frozen 1", Duration::from_millis(30), || {
            polls += 1;
            (false, "frozen 0".to_string())
        })
        .unwrap_err();
        assert!(polls > 1);
        assert_eq!(
            error.to_string(),
            "/x/cgroup.events did not say frozen 1 within 0s (still frozen 0): try again"
        );
    }
}
