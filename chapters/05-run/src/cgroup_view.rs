//! The container's view of its cgroup, plugged in through chapter 5's own
//! seam: chapter 2 plans the view and makes the cgroup namespace, chapter 3
//! mounts the view inside the new root, chapter 1's spawn protocol gives
//! the moment. The engine alone (`Engine::new`) has none of it; the
//! composition point registers [`CgroupView`].
//!
//! ```text
//!  create   --cgroupns private|host, "" → Docker's default for this layout
//!  start    join the cgroup (chapter 2: at the clone, or the child's own
//!           first step), before the namespace is made
//!           child, next step: unshare(CLONE_NEWCGROUP)    (private only)
//!           chapter 3's root: mount the view on /sys/fs/cgroup (read-only)
//!  exec     joins the container's cgroup namespace (chapter 5's exec)
//!  inspect  HostConfig.CgroupnsMode
//! ```

use std::path::Path;

use anyhow::bail;
use ch02_cgroups::{unshare_hook, CgroupNs, Layout, View};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::container::ContainerConfig;
use crate::extension::{Creating, Extension, NothingHeld, Running, Starting};
use crate::settings::Settings;
use crate::state::State;

// ANCHOR: settings
/// `--cgroupns` as asked (`""`: the daemon's default), and as recorded at
/// create (`private` or `host`), under `"cgroupns"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupnsMode {
    pub mode: String,
}

impl Settings for CgroupnsMode {
    const KEY: &'static str = "cgroupns";
}
// ANCHOR_END: settings

impl CgroupnsMode {
    /// The mode: the one asked for, or Docker's default on this layout.
    pub fn resolve(&self, layout: &Layout) -> anyhow::Result<CgroupNs> {
        match self.mode.as_str() {
            "" => Ok(CgroupNs::default_for(layout)),
            mode => Ok(mode.parse::<CgroupNs>()?),
        }
    }
}

/// The extension that gives every container its view of its cgroup.
pub struct CgroupView;

// ANCHOR: extension
impl Extension for CgroupView {
    fn create(&self, creating: &mut Creating) -> anyhow::Result<()> {
        let asked: CgroupnsMode = creating.request.get()?;
        let mode = asked.resolve(&ch02_cgroups::detect_once()?)?;
        if mode == CgroupNs::Private && !Path::new("/proc/self/ns/cgroup").exists() {
            bail!("cgroup namespaces aren't enabled in the kernel (Linux 4.6 and later): use --cgroupns host");
        }
        creating.config.extensions.set(&CgroupnsMode { mode: mode.name().to_string() });
        Ok(())
    }

    /// The view goes to chapter 3's root; in a private namespace the
    /// unshare is among the child's first steps: after the cgroup join
    /// (a new namespace is rooted where its creator is; a parent's move
    /// must then be done before the child is released), before any mount.
    fn start(&self, starting: &mut Starting) -> anyhow::Result<Box<dyn Running>> {
        let layout = ch02_cgroups::detect_once()?;
        let mode = starting.config.extensions.get::<CgroupnsMode>()?.resolve(&layout)?;
        starting.rootfs.cgroup_view = Some(View::plan(&layout, starting.cgroup, mode, false));
        if mode == CgroupNs::Private {
            starting.spawn.background_before_release = true;
            starting.steps.first.push(unshare_hook());
        }
        Ok(Box::new(NothingHeld))
    }

    fn inspect(&self, _: &Path, config: &ContainerConfig, _: &State, described: &mut Value) {
        let layout = ch02_cgroups::detect_once().unwrap_or_default();
        let recorded = config.extensions.get::<CgroupnsMode>().unwrap_or_default();
        if let Ok(mode) = recorded.resolve(&layout) {
            described["HostConfig"]["CgroupnsMode"] = json!(mode.name());
        }
    }
}
// ANCHOR_END: extension

#[cfg(test)]
mod tests {
    use super::*;

    const V2: &str = "29 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
    const V1: &str = "31 25 0:28 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";

    fn asked(mode: &str) -> CgroupnsMode {
        CgroupnsMode { mode: mode.to_string() }
    }

    #[test]
    fn an_empty_mode_is_dockers_default_for_the_layout() {
        let (v2, v1) =
            (ch02_cgroups::detect::parse_mountinfo(V2), ch02_cgroups::detect::parse_mountinfo(V1));
        assert_eq!(asked("").resolve(&v2).unwrap(), CgroupNs::Private);
        assert_eq!(asked("").resolve(&v1).unwrap(), CgroupNs::Host);
        assert_eq!(asked("private").resolve(&v1).unwrap(), CgroupNs::Private);
        assert_eq!(asked("host").resolve(&v2).unwrap(), CgroupNs::Host);
    }

    #[test]
    fn an_unknown_mode_is_dockers_error() {
        let layout = ch02_cgroups::detect::parse_mountinfo(V2);
        let error = asked("shared").resolve(&layout).unwrap_err();
        assert_eq!(error.to_string(), "--cgroupns: invalid CGROUP mode");
    }
}
