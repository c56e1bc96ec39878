//! Networks for tests: a subnet and a bridge name no other test uses.

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A /24 in 10.200.0.0–10.255.255.0 that this process has not handed out
/// and that no route on the host uses yet: derived from the pid and a
/// counter, so parallel test processes do not pick the same one.
pub fn unique_subnet() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let routes = String::from_utf8_lossy(
        &Command::new("ip")
            .args(["-4", "route", "show"])
            .output()
            .map(|o| o.stdout)
            .unwrap_or_default(),
    )
    .into_owned();
    loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let slot = (std::process::id().wrapping_mul(64).wrapping_add(n)) % (56 * 256);
        let subnet =
            format!("{}/24", Ipv4Addr::new(10, 200 + (slot / 256) as u8, (slot % 256) as u8, 0));
        if !routes.contains(&subnet) {
            return subnet;
        }
    }
}

/// Our iptables rules whose text contains `marker` (`iptables-save | grep marker`).
pub fn iptables_rules_mentioning(marker: &str) -> Vec<String> {
    let Ok(out) = Command::new("iptables-save").output() else { return Vec::new() };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("-A ") && l.contains(marker))
        .map(str::to_string)
        .collect()
}
