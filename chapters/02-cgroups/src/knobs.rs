//! Which file gets which value: the limits translated into cgroup v1 or v2
//! files. Pure functions, so the exact writes are unit-tested without a kernel.

use crate::limits::{shares_to_weight, Limits, Swap, CPU_PERIOD_US};

/// What to do when a knob's file does not exist in the new cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenMissing {
    /// The controller always has it: just write.
    Write,
    /// A default we apply when the kernel supports it (Docker's implicit swap).
    Skip,
    /// The user asked for it by this flag: refuse clearly.
    Refuse(&'static str),
}

/// One value to write into one file of one controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Knob {
    pub controller: &'static str,
    pub file: &'static str,
    pub value: String,
    pub when_missing: WhenMissing,
}

fn knob(controller: &'static str, file: &'static str, value: impl ToString) -> Knob {
    Knob { controller, file, value: value.to_string(), when_missing: WhenMissing::Write }
}

/// How `--memory-swap` is treated when the memory+swap file is missing.
fn swap_presence(limits: &Limits) -> WhenMissing {
    if limits.memory_swap.is_some() {
        WhenMissing::Refuse("--memory-swap")
    } else {
        WhenMissing::Skip
    }
}

// ANCHOR: v1_knobs
/// cgroup v1: one file per knob, in the hierarchy of its controller.
/// Order matters: memsw must never be below the memory limit, so memory first.
pub fn v1(limits: &Limits) -> Vec<Knob> {
    let mut knobs = Vec::new();
    if let Some(memory) = limits.memory {
        knobs.push(knob("memory", "memory.limit_in_bytes", memory));
    }
    if let Some(swap) = limits.effective_swap() {
        let value = match swap {
            Swap::Unlimited => "-1".to_string(),
            Swap::Total(total) => total.to_string(),
        };
        let when_missing = swap_presence(limits);
        knobs.push(Knob { when_missing, ..knob("memory", "memory.memsw.limit_in_bytes", value) });
    }
    if let Some(quota) = limits.cpu_quota_us {
        knobs.push(knob("cpu", "cpu.cfs_period_us", CPU_PERIOD_US));
        knobs.push(knob("cpu", "cpu.cfs_quota_us", quota));
    }
    if let Some(shares) = limits.cpu_shares {
        knobs.push(knob("cpu", "cpu.shares", shares));
    }
    if let Some(pids) = limits.pids {
        knobs.push(knob("pids", "pids.max", pids));
    }
    knobs
}
// ANCHOR_END: v1_knobs

// ANCHOR: v2_knobs
/// cgroup v2: one directory, different names and formats. Swap is counted
/// *apart* from memory (`memory.swap.max`), not as Docker's memory+swap total.
pub fn v2(limits: &Limits) -> Vec<Knob> {
    let mut knobs = Vec::new();
    if let Some(memory) = limits.memory {
        knobs.push(knob("memory", "memory.max", memory));
        if let Some(swap) = limits.effective_swap() {
            let value = match swap {
                Swap::Unlimited => "max".to_string(),
                Swap::Total(total) => total.saturating_sub(memory).to_string(),
            };
            let when_missing = swap_presence(limits);
            knobs.push(Knob { when_missing, ..knob("memory", "memory.swap.max", value) });
        }
    }
    if let Some(quota) = limits.cpu_quota_us {
        knobs.push(knob("cpu", "cpu.max", format!("{quota} {CPU_PERIOD_US}")));
    }
    if let Some(shares) = limits.cpu_shares {
        knobs.push(knob("cpu", "cpu.weight", shares_to_weight(shares)));
    }
    if let Some(pids) = limits.pids {
        knobs.push(knob("pids", "pids.max", pids));
    }
    knobs
}
// ANCHOR_END: v2_knobs

/// The controllers `limits` cannot do without, with the flag that needs each.
pub fn required_controllers(limits: &Limits) -> Vec<(&'static str, &'static str)> {
    let mut needed = Vec::new();
    if limits.memory.is_some() {
        needed.push(("memory", "--memory"));
    }
    if limits.cpu_quota_us.is_some() {
        needed.push(("cpu", "--cpus"));
    }
    if limits.cpu_shares.is_some() {
        needed.push(("cpu", "--cpu-shares"));
    }
    if limits.pids.is_some() {
        needed.push(("pids", "--pids-limit"));
    }
    needed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(knobs: &[Knob]) -> Vec<String> {
        knobs.iter().map(|k| format!("{}/{} = {}", k.controller, k.file, k.value)).collect()
    }

    fn all_limits() -> Limits {
        Limits {
            memory: Some(64 << 20),
            memory_swap: Some(Swap::Total(96 << 20)),
            cpu_quota_us: Some(50_000),
            cpu_shares: Some(512),
            pids: Some(20),
        }
    }

    #[test]
    fn v1_files_and_values() {
        assert_eq!(
            writes(&v1(&all_limits())),
            [
                "memory/memory.limit_in_bytes = 67108864",
                "memory/memory.memsw.limit_in_bytes = 100663296",
                "cpu/cpu.cfs_period_us = 100000",
                "cpu/cpu.cfs_quota_us = 50000",
                "cpu/cpu.shares = 512",
                "pids/pids.max = 20",
            ]
        );
    }

    #[test]
    fn v2_files_and_values() {
        assert_eq!(
            writes(&v2(&all_limits())),
            [
                "memory/memory.max = 67108864",
                "memory/memory.swap.max = 33554432",
                "cpu/cpu.max = 50000 100000",
                "cpu/cpu.weight = 59",
                "pids/pids.max = 20",
            ]
        );
    }

    #[test]
    fn implicit_swap_is_skipped_when_missing_explicit_is_refused() {
        let only_memory = Limits { memory: Some(64 << 20), ..Limits::default() };
        let v1_knobs = v1(&only_memory);
        assert_eq!(v1_knobs[1].value, (128u64 << 20).to_string());
        assert_eq!(v1_knobs[1].when_missing, WhenMissing::Skip);
        assert_eq!(v2(&only_memory)[1].value, (64u64 << 20).to_string());
        let unlimited = Limits { memory_swap: Some(Swap::Unlimited), ..only_memory };
        assert_eq!(v1(&unlimited)[1].value, "-1");
        assert_eq!(v2(&unlimited)[1].value, "max");
        assert_eq!(v2(&unlimited)[1].when_missing, WhenMissing::Refuse("--memory-swap"));
    }

    #[test]
    fn no_limits_no_writes() {
        assert!(v1(&Limits::default()).is_empty());
        assert!(v2(&Limits::default()).is_empty());
        assert!(required_controllers(&Limits::default()).is_empty());
    }

    #[test]
    fn each_flag_names_its_controller() {
        assert_eq!(
            required_controllers(&all_limits()),
            [
                ("memory", "--memory"),
                ("cpu", "--cpus"),
                ("cpu", "--cpu-shares"),
                ("pids", "--pids-limit")
            ]
        );
    }
}
