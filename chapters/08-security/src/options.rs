//! The user's security flags, as Docker spells them, and what they mean.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::caps::{self, CapError, CapSet};

// ANCHOR: options
/// `--cap-add`, `--cap-drop`, `--privileged`, `--security-opt`, `--read-only`:
/// stored in the container's config as typed, checked once at create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityOptions {
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub security_opt: Vec<String>,
    #[serde(default)]
    pub read_only: bool,
    /// `--userns-remap`: the ranges the container's ids map to, looked up
    /// once at create (its files are owned by that range from then on).
    #[serde(default)]
    pub userns_remap: Option<crate::userns::Remap>,
}

/// The walls' four flags, as clap reads them: one declaration for the
/// chapter's demo and for `mini-docker run` (which adds `--read-only` and
/// `--userns-remap`, the flags that need a root filesystem and a store).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WallFlags {
    /// Add a Linux capability (NET_ADMIN, CAP_SYS_TIME, ALL).
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop a Linux capability (or ALL).
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Every wall down: every capability, no seccomp filter, no masked paths, every device.
    #[arg(long)]
    pub privileged: bool,
    /// seccomp=unconfined, no-new-privileges[:true|false].
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
}
// ANCHOR_END: options

// ANCHOR: options_2
impl WallFlags {
    /// The options these flags say, with nothing else set.
    pub fn options(&self) -> SecurityOptions {
        SecurityOptions {
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            privileged: self.privileged,
            security_opt: self.security_opt.clone(),
            ..SecurityOptions::default()
        }
    }
}

/// What the walls around one container are, once the flags are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// The bounding, effective and permitted sets of the container's root.
    pub caps: CapSet,
    pub seccomp: bool,
    pub no_new_privs: bool,
    /// Masked and read-only `/proc` and `/sys` paths (chapter 3).
    pub masks: bool,
    /// The device cgroup's deny-all-but-a-few rules.
    pub device_rules: bool,
    pub read_only_root: bool,
}
// ANCHOR_END: options_2

#[derive(Debug, Error, PartialEq, Eq)]
pub enum OptionError {
    #[error(transparent)]
    Cap(#[from] CapError),
    #[error(
        "invalid --security-opt {0:?}: use seccomp=unconfined or no-new-privileges[:true|false]"
    )]
    Malformed(String),
    #[error("--security-opt seccomp={0}: loading a JSON profile is not supported; use seccomp=unconfined or leave the default filter")]
    SeccompProfileFile(String),
    #[error("--security-opt {0:?}: {1} is not supported by mini-docker (it has no LSM support)")]
    Unsupported(String, &'static str),
    #[error("--privileged cannot be combined with --userns-remap: a privileged container's root is the host's root; use --userns=host for this container")]
    PrivilegedRemapped,
}

/// What one `--security-opt` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityOpt {
    SeccompUnconfined,
    NoNewPrivileges(bool),
}

// ANCHOR: parse_security_opt
/// `seccomp=unconfined`, `no-new-privileges`, `no-new-privileges:true`
/// (Docker accepts `=` and `:` as separators).
pub fn parse_security_opt(text: &str) -> Result<SecurityOpt, OptionError> {
    let malformed = || OptionError::Malformed(text.to_string());
    if text == "no-new-privileges" {
        return Ok(SecurityOpt::NoNewPrivileges(true));
    }
    let (key, value) = text.split_once(['=', ':']).ok_or_else(malformed)?;
    match (key, value) {
        ("seccomp", "unconfined") => Ok(SecurityOpt::SeccompUnconfined),
        ("seccomp", "") => Err(malformed()),
        ("seccomp", file) => Err(OptionError::SeccompProfileFile(file.to_string())),
        ("no-new-privileges", "true") => Ok(SecurityOpt::NoNewPrivileges(true)),
        ("no-new-privileges", "false") => Ok(SecurityOpt::NoNewPrivileges(false)),
        ("apparmor", _) => Err(OptionError::Unsupported(text.to_string(), "AppArmor")),
        ("label", _) => Err(OptionError::Unsupported(text.to_string(), "SELinux")),
        _ => Err(malformed()),
    }
}
// ANCHOR_END: parse_security_opt

impl SecurityOptions {
    /// Check every flag now, so `create` fails with one clear line instead
    /// of a container that cannot start.
    pub fn check(&self) -> Result<(), OptionError> {
        if self.privileged && self.userns_remap.is_some() {
            return Err(OptionError::PrivilegedRemapped);
        }
        self.profile(caps::last_cap(), true).map(drop)
    }

    // ANCHOR: profile
    /// The walls for this container on this kernel. `device_cgroup` says
    /// whether the host has a v1 devices controller to hold the device rules.
    pub fn profile(&self, last_cap: u8, device_cgroup: bool) -> Result<Profile, OptionError> {
        let mut profile = Profile {
            caps: caps::final_set(&self.cap_add, &self.cap_drop, last_cap)?,
            seccomp: true,
            no_new_privs: false,
            masks: true,
            device_rules: true,
            read_only_root: self.read_only,
        };
        for opt in &self.security_opt {
            match parse_security_opt(opt)? {
                SecurityOpt::SeccompUnconfined => profile.seccomp = false,
                SecurityOpt::NoNewPrivileges(on) => profile.no_new_privs = on,
            }
        }
        if self.privileged {
            // --privileged: every wall down, as in Docker (no_new_privs and
            // --read-only are still honoured when asked for explicitly).
            profile = Profile {
                caps: CapSet::all(last_cap),
                seccomp: false,
                masks: false,
                device_rules: false,
                ..profile
            };
        } else if !device_cgroup {
            // Without a device cgroup nothing stops `mknod` + `open` of the
            // host's disk: take CAP_MKNOD away instead (Docker keeps it).
            profile.caps.0 &= !(1 << caps::Cap::by_name("MKNOD").expect("known").0);
        }
        Ok(profile)
    }
    // ANCHOR_END: profile

    /// Docker's `inspect` fields for these flags.
    pub fn inspect_json(&self) -> serde_json::Value {
        serde_json::json!({
            "CapAdd": null_if_empty(&self.cap_add),
            "CapDrop": null_if_empty(&self.cap_drop),
            "Privileged": self.privileged,
            "SecurityOpt": null_if_empty(&self.security_opt),
            "ReadonlyRootfs": self.read_only,
            "UsernsRemap": self.userns_remap.as_ref().map(|r| r.inspect_json()),
        })
    }
}

fn null_if_empty(list: &[String]) -> serde_json::Value {
    if list.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::json!(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(security_opt: &[&str]) -> SecurityOptions {
        SecurityOptions {
            security_opt: security_opt.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn default_profile_is_dockers() {
        let p = SecurityOptions::default().profile(40, true).unwrap();
        assert_eq!(p.caps, CapSet::docker_defaults());
        assert!(p.seccomp && p.masks && p.device_rules);
        assert!(!p.no_new_privs && !p.read_only_root);
    }

    #[test]
    fn security_opt_spellings() {
        assert!(!opts(&["seccomp=unconfined"]).profile(40, true).unwrap().seccomp);
        assert!(!opts(&["seccomp:unconfined"]).profile(40, true).unwrap().seccomp);
        for nnp in ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"] {
            assert!(opts(&[nnp]).profile(40, true).unwrap().no_new_privs, "{nnp}");
        }
        assert!(
            !opts(&["no-new-privileges", "no-new-privileges:false"])
                .profile(40, true)
                .unwrap()
                .no_new_privs
        );
    }

    #[test]
    fn bad_security_opts_say_what_to_use() {
        for bad in ["seccomp", "seccomp=", "no-new-privileges:maybe", "selinux", "nonsense=1"] {
            let err = opts(&[bad]).check().unwrap_err();
            assert_eq!(err, OptionError::Malformed(bad.to_string()), "{bad}");
        }
        assert_eq!(
            opts(&["seccomp=/tmp/p.json"]).check().unwrap_err(),
            OptionError::SeccompProfileFile("/tmp/p.json".into())
        );
        assert!(matches!(
            opts(&["apparmor=unconfined"]).check(),
            Err(OptionError::Unsupported(_, "AppArmor"))
        ));
    }

    #[test]
    fn privileged_takes_every_wall_down() {
        let options = SecurityOptions { privileged: true, read_only: true, ..Default::default() };
        let p = options.profile(40, true).unwrap();
        assert_eq!(p.caps, CapSet::all(40));
        assert!(!p.seccomp && !p.masks && !p.device_rules);
        assert!(p.read_only_root);
    }

    #[test]
    fn privileged_and_remapped_refuse_each_other() {
        let remap = crate::userns::Remap {
            user: "mini-docker".into(),
            uids: crate::userns::IdRange { start: 100000, count: 65536 },
            gids: crate::userns::IdRange { start: 100000, count: 65536 },
        };
        let options = SecurityOptions {
            privileged: true,
            userns_remap: Some(remap.clone()),
            ..Default::default()
        };
        assert_eq!(options.check(), Err(OptionError::PrivilegedRemapped));
        let remapped = SecurityOptions { userns_remap: Some(remap), ..Default::default() };
        assert_eq!(remapped.check(), Ok(()));
        assert_eq!(remapped.inspect_json()["UsernsRemap"]["GidMap"], "0 100000 65536");
        assert!(SecurityOptions::default().inspect_json()["UsernsRemap"].is_null());
    }

    #[test]
    fn no_device_cgroup_means_no_mknod() {
        let p = SecurityOptions::default().profile(40, false).unwrap();
        assert_eq!(p.caps.caps().len(), 13);
        assert!(!p.caps.names().contains(&"CAP_MKNOD".to_string()));
    }

    #[test]
    fn unknown_capability_is_one_clear_line() {
        let options = SecurityOptions { cap_add: vec!["CAP_FLY".into()], ..Default::default() };
        let message = options.check().unwrap_err().to_string();
        assert!(message.starts_with("unknown capability \"CAP_FLY\""), "{message}");
        assert!(!message.contains('\n'));
    }
}
