//! `mini-docker doctor`: what this host offers, one line per check.

use std::path::Path;

use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Works without it, with less.
    Warn,
    /// Containers cannot run as intended without it.
    Missing,
}

pub struct Check {
    pub verdict: Verdict,
    pub what: String,
    /// What to do when it is not `Ok`.
    pub fix: String,
}

fn check(ok: bool, what: impl Into<String>, otherwise: Verdict, fix: &str) -> Check {
    let verdict = if ok { Verdict::Ok } else { otherwise };
    Check { verdict, what: what.into(), fix: if ok { String::new() } else { fix.to_string() } }
}

/// Run every check and print them; exit code 1 when something essential is missing.
pub fn run() -> anyhow::Result<u8> {
    let checks = all_checks();
    for c in &checks {
        let label = match c.verdict {
            Verdict::Ok => "ok     ",
            Verdict::Warn => "warn   ",
            Verdict::Missing => "MISSING",
        };
        if c.fix.is_empty() {
            println!("{label} {}", c.what);
        } else {
            println!("{label} {} -- {}", c.what, c.fix);
        }
    }
    let missing = checks.iter().filter(|c| c.verdict == Verdict::Missing).count();
    if missing > 0 {
        println!("{missing} essential check(s) failed: see the lines marked MISSING");
    }
    Ok(u8::from(missing > 0))
}

pub fn all_checks() -> Vec<Check> {
    let root = nix::unistd::geteuid().is_root();
    let mut checks = vec![check(root, "running as root", Verdict::Missing, "run with sudo")];
    checks.extend(namespace_checks(root));
    checks.extend(cgroup_checks());
    checks.push(overlay_check());
    checks.push(user_namespace_check());
    for (tool, package) in [("ip", "iproute2"), ("iptables", "iptables")] {
        let found = find_in_path(tool);
        checks.push(check(
            found,
            format!("{tool} command (networking, chapter 6)"),
            Verdict::Warn,
            &format!("install it: apt-get install {package}"),
        ));
    }
    checks
}

// ANCHOR: namespace_checks
/// Try to create each namespace kind for real, in a throw-away child.
fn namespace_checks(root: bool) -> Vec<Check> {
    let kinds = [
        ("uts", CloneFlags::CLONE_NEWUTS),
        ("pid", CloneFlags::CLONE_NEWPID),
        ("mnt", CloneFlags::CLONE_NEWNS),
        ("ipc", CloneFlags::CLONE_NEWIPC),
        ("net", CloneFlags::CLONE_NEWNET),
        ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ];
    kinds
        .into_iter()
        .map(|(name, flag)| {
            let exists = Path::new("/proc/self/ns").join(name).exists();
            let works = exists && (!root || can_unshare(flag));
            let fix = if !exists {
                "the kernel lacks it: enable CONFIG_*_NS"
            } else {
                "run as root to create it"
            };
            check(works, format!("{name} namespace"), Verdict::Missing, fix)
        })
        .collect()
}

/// Does `unshare(flag)` succeed? Tried in a forked child so we stay as we are.
fn can_unshare(flag: CloneFlags) -> bool {
    // SAFETY: the child only calls unshare and _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => unsafe { libc::_exit(i32::from(unshare(flag).is_err())) },
        Ok(ForkResult::Parent { child }) => {
            matches!(waitpid(child, None), Ok(WaitStatus::Exited(_, 0)))
        }
        Err(_) => false,
    }
}
// ANCHOR_END: namespace_checks

// ANCHOR: cgroup_checks
/// Chapter 2's detection (v2, v1 or hybrid, from /proc/self/mountinfo),
/// then what each cgroup feature needs on that layout. A missing
/// controller only costs the flags that need it: a warning.
fn cgroup_checks() -> Vec<Check> {
    let layout = ch02_cgroups::detect().unwrap_or_default();
    let mounted = layout.kind() != ch02_cgroups::Kind::None;
    let what = format!("cgroups {}", ch02_cgroups::detect::summary(&layout));
    let mut checks =
        vec![check(mounted, what, Verdict::Missing, "mount cgroup2 on /sys/fs/cgroup")];
    for need in ch02_cgroups::needs::needs(&layout) {
        let what = format!("{}: {}", need.feature, need.needs);
        checks.push(check(need.ready, what, Verdict::Warn, &need.fix));
    }
    checks
}
// ANCHOR_END: cgroup_checks

fn overlay_check() -> Check {
    let filesystems = std::fs::read_to_string("/proc/filesystems").unwrap_or_default();
    let listed = filesystems.lines().any(|l| l.ends_with("\toverlay"));
    let module = Path::new("/sys/module/overlay").exists();
    check(
        listed || module,
        "overlayfs (copy-on-write layers, chapter 3)",
        Verdict::Warn,
        "modprobe overlay; without it the slower vfs driver copies every layer",
    )
}

fn user_namespace_check() -> Check {
    let max = std::fs::read_to_string("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    let max: u64 = max.trim().parse().unwrap_or(0);
    check(
        max > 0,
        format!("user namespaces (max_user_namespaces = {max})"),
        Verdict::Warn,
        "sysctl -w user.max_user_namespaces=15000 to allow rootless containers",
    )
}

fn find_in_path(program: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    let found =
        path.split(':').chain(["/usr/sbin", "/sbin"]).any(|d| Path::new(d).join(program).is_file());
    found
}
