//! Exercise `parse_subnet` (easy). Book: ch06-networking.md, "Subnets and addresses".
//!
//! Write `Subnet::from_str` as a free function: `10.77.0.0/16` is an IPv4
//! address, a `/`, and a prefix length of 0 to 32 written in plain digits
//! (no sign, not empty). Anything else is `CidrError(text)`, with `text`
//! exactly as given.
//!
//! The host bits (the last `32 - prefix` bits) must be zero, as Docker
//! insists: `10.77.0.5/16` names an address, not a subnet, and the error
//! says so: `CidrError("10.77.0.5/16: the host part must be zero, did you
//! mean 10.77.0.0/16?")`. `Subnet::new(address, prefix)` clears the host
//! bits for you, so comparing its `network()` with the address tells.

use std::net::Ipv4Addr;

use ch06_networking::cidr::CidrError;
use ch06_networking::Subnet;

/// Parse `ADDRESS/PREFIX` into a subnet.
pub fn from_str(text: &str) -> Result<Subnet, CidrError> {
    todo!("split at '/', parse both halves, then check the host bits")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the host bits cleared silently (`Subnet::new`
    // does that) instead of refused: `10.0.0.1/24` becomes `10.0.0.0/24`. Checked by pasting it
    // into the reference implementation: it fails `host_bits_must_be_zero`.
    //
    //     Subnet::new(address, prefix).map_err(|_| bad())

    #[cfg(feature = "reference")]
    mod solution {
        use ch06_networking::cidr::CidrError;
        use ch06_networking::Subnet;

        /// The real function is `FromStr for Subnet`; this only forwards to it.
        pub fn from_str(text: &str) -> Result<Subnet, CidrError> {
            text.parse()
        }
    }
    #[cfg(not(feature = "reference"))]
    use super as solution;

    use std::net::Ipv4Addr;

    use ch06_networking::cidr::CidrError;

    #[test]
    fn subnets_parse_and_print_back() {
        for text in ["10.77.0.0/16", "192.168.5.0/30", "10.0.0.1/32", "0.0.0.0/0", "172.16.0.0/12"]
        {
            let subnet = solution::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(subnet.to_string(), text);
        }
        let subnet = solution::from_str("10.77.0.0/16").unwrap();
        assert_eq!(
            (subnet.network(), subnet.prefix()),
            ("10.77.0.0".parse::<Ipv4Addr>().unwrap(), 16)
        );
    }

    #[test]
    fn bad_text_is_refused_as_given() {
        for bad in [
            "",
            "10.77.0.0",
            "10.77.0.0/",
            "/16",
            "10.77.0.0/33",
            "10.77.0/16",
            "300.1.1.0/24",
            "x/8",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0.0/ 8",
            "10.0.0.0/8/8",
        ] {
            assert_eq!(solution::from_str(bad), Err(CidrError(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn host_bits_must_be_zero() {
        assert_eq!(
            solution::from_str("10.77.0.5/16"),
            Err(CidrError(
                "10.77.0.5/16: the host part must be zero, did you mean 10.77.0.0/16?".to_string()
            ))
        );
        assert_eq!(
            solution::from_str("192.168.1.130/25"),
            Err(CidrError(
                "192.168.1.130/25: the host part must be zero, did you mean 192.168.1.128/25?"
                    .to_string()
            ))
        );
        assert!(solution::from_str("192.168.1.128/25").is_ok());
    }
}
