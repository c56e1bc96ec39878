//! Exercise `shares_to_weight` (easy). Book: ch02-cgroups.md, "v1 and v2 side by side".
//!
//! v1 `cpu.shares` runs from 2 to 262144 (default 1024); v2 `cpu.weight`
//! from 1 to 10000 (default 100). runc maps one to the other so that the
//! ends and the default line up: with l = log2(shares),
//! weight = ceil(10 ^ ((l² + 125·l) / 612 − 7/34)), clamped to 1..=10000.

/// v1 `cpu.shares` → v2 `cpu.weight`, as runc converts it.
pub fn shares_to_weight(shares: u64) -> u64 {
    todo!("the ends first, then runc's formula")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a straight line through 1024 → 100 (`shares *
    // 100 / 1024`, clamped). Checked by pasting it into the stub: it fails
    // `in_between_matches_runc`.
    //
    //     (shares * 100 / 1024).clamp(1, 10_000)

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch02_cgroups::limits as solution;

    #[test]
    fn the_ends_and_the_default_line_up() {
        assert_eq!(solution::shares_to_weight(2), 1);
        assert_eq!(solution::shares_to_weight(1024), 100);
        assert_eq!(solution::shares_to_weight(262_144), 10_000);
    }

    #[test]
    fn in_between_matches_runc() {
        assert_eq!(solution::shares_to_weight(512), 59);
        assert_eq!(solution::shares_to_weight(2048), 174);
    }

    #[test]
    fn out_of_range_is_clamped() {
        assert_eq!(solution::shares_to_weight(0), 1);
        assert_eq!(solution::shares_to_weight(1_000_000), 10_000);
    }
}
