//! Exercise `v2_knobs` (medium). Book: ch02-cgroups.md, "Setting the limits".
//!
//! Write `knobs::v2`: the files (and values) of a cgroup v2 directory for
//! the container's limits, in this order:
//! - `memory.max` = memory; then, if `limits.effective_swap()` is some,
//!   `memory.swap.max` = swap *alone* (Docker's total minus memory), or
//!   `max` when unlimited. Its `when_missing` is `Refuse("--memory-swap")`
//!   when the user gave `--memory-swap`, else `Skip` (Docker's implicit swap);
//! - `cpu.max` = `"QUOTA PERIOD"` (period: `CPU_PERIOD_US`);
//! - `cpu.weight` = the shares converted (`limits::shares_to_weight`);
//! - `pids.max` = the pids limit.
//!   Every other knob has `when_missing: WhenMissing::Write`.

use ch02_cgroups::knobs::{Knob, WhenMissing};
use ch02_cgroups::limits::{shares_to_weight, CPU_PERIOD_US};
use ch02_cgroups::{Limits, Swap};

/// cgroup v2: the files to write for `limits`.
pub fn v2(limits: &Limits) -> Vec<Knob> {
    todo!("one Knob {{ controller, file, value, when_missing }} per limit that is set")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: `--memory-swap` written to memory.swap.max as it
    // is: in cgroup v2 that file holds the swap alone, Docker's value is memory plus swap. Checked
    // by pasting it into the reference implementation: it fails `files_and_values`.
    //
    //     Swap::Total(total) => total.to_string(),

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch02_cgroups::knobs as solution;

    use ch02_cgroups::knobs::{Knob, WhenMissing};
    use ch02_cgroups::{Limits, Swap};

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
    fn files_and_values() {
        assert_eq!(
            writes(&solution::v2(&all_limits())),
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
        let knobs = solution::v2(&only_memory);
        assert_eq!(
            writes(&knobs),
            ["memory/memory.max = 67108864", "memory/memory.swap.max = 67108864"]
        );
        assert_eq!(knobs[0].when_missing, WhenMissing::Write);
        assert_eq!(knobs[1].when_missing, WhenMissing::Skip);
        let unlimited = Limits { memory_swap: Some(Swap::Unlimited), ..only_memory };
        let knobs = solution::v2(&unlimited);
        assert_eq!(knobs[1].value, "max");
        assert_eq!(knobs[1].when_missing, WhenMissing::Refuse("--memory-swap"));
    }

    #[test]
    fn no_limits_no_writes() {
        assert!(solution::v2(&Limits::default()).is_empty());
        let pids = Limits { pids: Some(5), ..Limits::default() };
        assert_eq!(writes(&solution::v2(&pids)), ["pids/pids.max = 5"]);
        assert!(solution::v2(&pids).iter().all(|k| k.when_missing == WhenMissing::Write));
    }
}
