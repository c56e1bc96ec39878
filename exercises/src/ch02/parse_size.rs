//! Exercise `parse_size` (easy). Book: ch02-cgroups.md, "Docker's flags".
//!
//! `-m 64m`: a number (a fraction is allowed), an optional space, then an
//! optional unit `k m g t p` in any case, optionally followed by `i` and/or
//! `b` (`64m`, `64MB`, `64MiB` are all 64 × 1024 × 1024). Round down.
//! Anything else is `LimitError::Size(text, flag)`.

use ch02_cgroups::LimitError;

/// Parse a size as Docker does; `flag` names the option in the error.
pub fn parse_size(text: &str, flag: &'static str) -> Result<u64, LimitError> {
    todo!("split the number from the unit, then multiply by a power of 1024")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: units in powers of 1000, as a disk vendor
    // counts: Docker's `k`, `m`, `g` are 1024, 1024², 1024³. Checked by pasting it into the
    // reference implementation: it fails `sizes_like_docker`.
    //
    //     let bytes = number * 1000f64.powi(power);

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch02_cgroups::limits as solution;

    use ch02_cgroups::LimitError;

    #[test]
    fn sizes_like_docker() {
        let m = |s| solution::parse_size(s, "--memory");
        assert_eq!(m("64m"), Ok(64 << 20));
        assert_eq!(m("64M"), Ok(64 << 20));
        assert_eq!(m("64mb"), Ok(64 << 20));
        assert_eq!(m("64MiB"), Ok(64 << 20));
        assert_eq!(m("64 MiB"), Ok(64 << 20));
        assert_eq!(m("1g"), Ok(1 << 30));
        assert_eq!(m("1.5g"), Ok(3 << 29));
        assert_eq!(m("2t"), Ok(2 << 40));
        assert_eq!(m("4096"), Ok(4096));
        assert_eq!(m("4096b"), Ok(4096));
        assert_eq!(m("2k"), Ok(2048));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for bad in ["12x", "-1", "", "m", "1..5g", ".5g", "5.g", "64mm", "1e3", "64 m b", "nan"] {
            assert_eq!(
                solution::parse_size(bad, "--memory"),
                Err(LimitError::Size(bad.to_string(), "--memory")),
                "{bad:?}"
            );
        }
        assert_eq!(
            solution::parse_size("x", "--memory-swap"),
            Err(LimitError::Size("x".into(), "--memory-swap"))
        );
    }
}
