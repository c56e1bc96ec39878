//! Exercise `parse_cpus` (easy). Book: ch02-cgroups.md, "Docker's flags".
//!
//! `--cpus 0.5` → a CFS quota of 50000 µs per `CPU_PERIOD_US` (100000 µs).
//! Round the quota to the nearest µs. Docker allows 0.01 CPUs (1000 µs, the
//! kernel's smallest quota) up to the number of CPUs the host has:
//! outside that, `CpusOutOfRange`; not a finite number, `CpusNotANumber`.

use ch02_cgroups::limits::CPU_PERIOD_US;
use ch02_cgroups::LimitError;

/// `--cpus TEXT` on a host with `host_cpus` CPUs → quota in µs per period.
pub fn parse_cpus(text: &str, host_cpus: usize) -> Result<u64, LimitError> {
    todo!("parse an f64, check the range, multiply by the period")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: only zero and negative counts refused, not a
    // quota under the kernel's 1 ms minimum (`--cpus 0.001`). Checked by pasting it into the
    // reference implementation: it fails `out_of_range_is_refused_with_dockers_message`.
    //
    //     let quota = (cpus * CPU_PERIOD_US as f64).round();
    //     if cpus <= 0.0 || cpus > host_cpus as f64 {
    //         return Err(LimitError::CpusOutOfRange { given: text.to_string(), n: host_cpus });
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch02_cgroups::limits as solution;

    use ch02_cgroups::LimitError;

    #[test]
    fn cpus_become_quota_per_100ms() {
        assert_eq!(solution::parse_cpus("0.5", 2), Ok(50_000));
        assert_eq!(solution::parse_cpus("1.5", 2), Ok(150_000));
        assert_eq!(solution::parse_cpus("0.01", 2), Ok(1_000));
        assert_eq!(solution::parse_cpus("2", 2), Ok(200_000));
        assert_eq!(solution::parse_cpus("0.333", 4), Ok(33_300));
    }

    #[test]
    fn out_of_range_is_refused_with_dockers_message() {
        for bad in ["0", "0.001", "-1", "1000", "2.5"] {
            assert!(
                matches!(solution::parse_cpus(bad, 2), Err(LimitError::CpusOutOfRange { .. })),
                "{bad}"
            );
        }
        assert_eq!(
            solution::parse_cpus("1000", 2).unwrap_err().to_string(),
            "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available (got --cpus 1000)"
        );
    }

    #[test]
    fn not_a_number() {
        assert_eq!(solution::parse_cpus("half", 2), Err(LimitError::CpusNotANumber("half".into())));
        assert_eq!(solution::parse_cpus("inf", 2), Err(LimitError::CpusNotANumber("inf".into())));
    }
}
