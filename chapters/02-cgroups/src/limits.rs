//! The limits a container asks for, with Docker's flags and rules.
//!
//! `-m 64m`, `--memory-swap 128m` (or `-1`), `--cpus 0.5`,
//! `--cpu-shares 512`, `--pids-limit 20`: parsed and checked here, before
//! anything is created, so a typo never leaves a half-made cgroup behind.

use thiserror::Error;

/// Docker refuses memory limits below this (moby `linuxMinMemory`).
pub const MIN_MEMORY: u64 = 6 * 1024 * 1024;
/// The CFS period Docker uses for `--cpus`: 100 ms.
pub const CPU_PERIOD_US: u64 = 100_000;
/// The default `cpu.shares` of a v1 cgroup (and so of `--cpu-shares`).
pub const DEFAULT_SHARES: u64 = 1024;

// ANCHOR: limits
/// What the container may use. `None` means "no limit, the kernel's default".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    /// `-m/--memory`: bytes of memory (RAM and page cache).
    pub memory: Option<u64>,
    /// `--memory-swap`: memory *plus* swap, in bytes, or unlimited.
    pub memory_swap: Option<Swap>,
    /// `--cpus`: CPU time per period, in µs, out of [`CPU_PERIOD_US`].
    pub cpu_quota_us: Option<u64>,
    /// `--cpu-shares`: relative weight under contention (v1 shares).
    pub cpu_shares: Option<u64>,
    /// `--pids-limit`: most tasks (processes and threads) at once.
    pub pids: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// `--memory-swap -1`: swap as much as the host has.
    Unlimited,
    /// Memory plus swap, in bytes (Docker's meaning, which is v1's memsw).
    Total(u64),
}
// ANCHOR_END: limits

#[derive(Debug, Error, PartialEq)]
pub enum LimitError {
    #[error("invalid size {0:?} for {1}: use bytes or a number with a unit b, k, m, g, t, p (64m, 1.5g)")]
    Size(String, &'static str),
    #[error("minimum memory limit allowed is 6MiB, got {0} bytes")]
    MemoryTooSmall(u64),
    #[error("--memory-swap needs --memory too: it is the total of memory and swap")]
    SwapWithoutMemory,
    #[error("--memory-swap ({swap} bytes) must be at least --memory ({memory} bytes): it is memory plus swap")]
    SwapBelowMemory { swap: u64, memory: u64 },
    #[error("invalid --cpus {0:?}: give a decimal number like 0.5 or 1.5")]
    CpusNotANumber(String),
    #[error("range of CPUs is from 0.01 to {n}.00, as there are only {n} CPUs available (got --cpus {given})")]
    CpusOutOfRange { given: String, n: usize },
    #[error("--cpu-shares {0} is out of range: use 2 to 262144 (1024 is the default)")]
    Shares(i64),
}

// ANCHOR: parse_size
/// Parse a size as Docker does (go-units `RAMInBytes`): a number, an
/// optional space, an optional unit `k m g t p` (any case) with an optional
/// `i` and `b`. Units are powers of 1024: `64m`, `64MB`, `64MiB` are all
/// 67108864. A fraction is allowed (`1.5g`); the result is rounded down.
pub fn parse_size(text: &str, flag: &'static str) -> Result<u64, LimitError> {
    let bad = || LimitError::Size(text.to_string(), flag);
    let lower = text.to_ascii_lowercase();
    let split = lower.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(lower.len());
    let (number, unit) = lower.split_at(split);
    let unit = unit.strip_prefix(' ').unwrap_or(unit);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(bad());
    }
    let number: f64 = number.parse().map_err(|_| bad())?;
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let power = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return Err(bad()),
    };
    let bytes = number * 1024f64.powi(power);
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as u64)
}
// ANCHOR_END: parse_size

/// `--memory-swap`: a size, or `-1` for unlimited swap.
pub fn parse_swap(text: &str) -> Result<Swap, LimitError> {
    if text == "-1" {
        return Ok(Swap::Unlimited);
    }
    parse_size(text, "--memory-swap").map(Swap::Total)
}

// ANCHOR: parse_cpus
/// `--cpus 0.5` → a quota of 50000 µs per 100000 µs period. Docker allows
/// 0.01 (the kernel's smallest quota, 1 ms per period) up to the number
/// of CPUs the host has.
pub fn parse_cpus(text: &str, host_cpus: usize) -> Result<u64, LimitError> {
    let cpus: f64 =
        text.trim().parse().map_err(|_| LimitError::CpusNotANumber(text.to_string()))?;
    if !cpus.is_finite() {
        return Err(LimitError::CpusNotANumber(text.to_string()));
    }
    let quota = (cpus * CPU_PERIOD_US as f64).round();
    if quota < 1000.0 || cpus > host_cpus as f64 {
        return Err(LimitError::CpusOutOfRange { given: text.to_string(), n: host_cpus });
    }
    Ok(quota as u64)
}
// ANCHOR_END: parse_cpus

/// `--cpu-shares`: 0 means "the default"; otherwise the kernel's range.
pub fn check_shares(shares: i64) -> Result<Option<u64>, LimitError> {
    match shares {
        0 => Ok(None),
        2..=262_144 => Ok(Some(shares as u64)),
        _ => Err(LimitError::Shares(shares)),
    }
}

/// `--pids-limit`: Docker treats 0 and negative numbers as "unlimited".
pub fn pids_limit(limit: i64) -> Option<u64> {
    (limit > 0).then_some(limit as u64)
}

impl Limits {
    /// Docker's rules between the flags.
    pub fn check(&self) -> Result<(), LimitError> {
        if let Some(memory) = self.memory {
            if memory < MIN_MEMORY {
                return Err(LimitError::MemoryTooSmall(memory));
            }
        }
        match (self.memory_swap, self.memory) {
            (Some(_), None) => Err(LimitError::SwapWithoutMemory),
            (Some(Swap::Total(swap)), Some(memory)) if swap < memory => {
                Err(LimitError::SwapBelowMemory { swap, memory })
            }
            _ => Ok(()),
        }
    }

    /// The memory+swap total to enforce. Docker's default when only `-m`
    /// is given: as much swap as memory, so the total is twice the memory.
    pub fn effective_swap(&self) -> Option<Swap> {
        match (self.memory_swap, self.memory) {
            (Some(swap), _) => Some(swap),
            (None, Some(memory)) => Some(Swap::Total(memory.saturating_mul(2))),
            (None, None) => None,
        }
    }

    /// True when no limit at all is set.
    pub fn is_empty(&self) -> bool {
        *self == Limits::default()
    }
}

// ANCHOR: shares_to_weight
/// v1 `cpu.shares` (2..262144, default 1024) → v2 `cpu.weight` (1..10000,
/// default 100), with runc's quadratic-in-log mapping, so that the default
/// maps to the default: 2 → 1, 1024 → 100, 262144 → 10000.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let l = (shares as f64).log2();
    let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
    (10f64.powf(exponent).ceil() as u64).clamp(1, 10_000)
}
// ANCHOR_END: shares_to_weight

/// Bytes for people: `64MiB`, `1.5GiB`, `512B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes}B");
    }
    let mut value = bytes as f64;
    let mut unit = "B";
    for u in UNITS {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = u;
    }
    let text = format!("{value:.1}");
    format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_docker() {
        let m = |s| parse_size(s, "--memory");
        assert_eq!(m("64m"), Ok(64 << 20));
        assert_eq!(m("64M"), Ok(64 << 20));
        assert_eq!(m("64mb"), Ok(64 << 20));
        assert_eq!(m("64MiB"), Ok(64 << 20));
        assert_eq!(m("64 MiB"), Ok(64 << 20));
        assert_eq!(m("1g"), Ok(1 << 30));
        assert_eq!(m("1.5g"), Ok(3 << 29));
        assert_eq!(m("4096"), Ok(4096));
        assert_eq!(m("4096b"), Ok(4096));
        assert_eq!(m("2k"), Ok(2048));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for bad in ["12x", "-1", "", "m", "1..5g", ".5g", "5.g", "64mm", "1e3", "64 m b", "nan"] {
            assert_eq!(
                parse_size(bad, "--memory"),
                Err(LimitError::Size(bad.to_string(), "--memory")),
                "{bad:?}"
            );
        }
        let message = parse_size("12x", "--memory").unwrap_err().to_string();
        assert_eq!(message, "invalid size \"12x\" for --memory: use bytes or a number with a unit b, k, m, g, t, p (64m, 1.5g)");
    }

    #[test]
    fn swap_minus_one_is_unlimited() {
        assert_eq!(parse_swap("-1"), Ok(Swap::Unlimited));
        assert_eq!(parse_swap("128m"), Ok(Swap::Total(128 << 20)));
        assert!(parse_swap("-2").is_err());
    }

    #[test]
    fn cpus_become_quota_per_100ms() {
        assert_eq!(parse_cpus("0.5", 2), Ok(50_000));
        assert_eq!(parse_cpus("1.5", 2), Ok(150_000));
        assert_eq!(parse_cpus("0.01", 2), Ok(1_000));
        assert_eq!(parse_cpus("2", 2), Ok(200_000));
    }

    #[test]
    fn cpus_out_of_range_are_refused() {
        for bad in ["0", "0.001", "-1", "1000", "2.5"] {
            assert!(matches!(parse_cpus(bad, 2), Err(LimitError::CpusOutOfRange { .. })), "{bad}");
        }
        assert_eq!(
            parse_cpus("1000", 2).unwrap_err().to_string(),
            "range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available (got --cpus 1000)"
        );
        assert!(matches!(parse_cpus("half", 2), Err(LimitError::CpusNotANumber(_))));
        assert!(matches!(parse_cpus("inf", 2), Err(LimitError::CpusNotANumber(_))));
    }

    #[test]
    fn docker_rules_between_flags() {
        let limits = |memory, memory_swap| Limits { memory, memory_swap, ..Limits::default() };
        assert_eq!(limits(Some(1 << 20), None).check(), Err(LimitError::MemoryTooSmall(1 << 20)));
        assert_eq!(limits(None, Some(Swap::Unlimited)).check(), Err(LimitError::SwapWithoutMemory));
        assert!(matches!(
            limits(Some(64 << 20), Some(Swap::Total(32 << 20))).check(),
            Err(LimitError::SwapBelowMemory { .. })
        ));
        assert_eq!(limits(Some(64 << 20), Some(Swap::Total(64 << 20))).check(), Ok(()));
        assert_eq!(limits(Some(64 << 20), None).effective_swap(), Some(Swap::Total(128 << 20)));
        assert_eq!(limits(None, None).effective_swap(), None);
    }

    #[test]
    fn shares_and_pids() {
        assert_eq!(check_shares(0), Ok(None));
        assert_eq!(check_shares(512), Ok(Some(512)));
        assert!(check_shares(1).is_err());
        assert!(check_shares(300_000).is_err());
        assert_eq!(pids_limit(20), Some(20));
        assert_eq!(pids_limit(0), None);
        assert_eq!(pids_limit(-1), None);
    }

    #[test]
    fn weight_matches_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(shares_to_weight(512), 59);
        assert_eq!(shares_to_weight(2048), 174);
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512B");
        assert_eq!(human_bytes(64 << 20), "64MiB");
        assert_eq!(human_bytes(3 << 29), "1.5GiB");
    }
}
