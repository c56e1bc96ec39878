//! Exercise `parse_name` (easy). Book: ch08-security.md, "Capabilities".
//!
//! One name given to `--cap-add` or `--cap-drop`, as Docker accepts it:
//! - any case, with or without the `CAP_` prefix, spaces around ignored:
//!   `net_admin`, `CAP_NET_ADMIN` and `Cap_Net_Admin` are all capability 12;
//! - the number of a capability is its index in `caps::ALL_NAMES`;
//! - `ALL` (or `CAP_ALL`, any case) means every capability: `Ok(None)`;
//! - anything else is `CapError::Unknown(text)`, with the text as it was given.

use ch08_security::caps::{Cap, CapError, ALL_NAMES};

/// One name of `--cap-add`/`--cap-drop`; `None` is `ALL`.
pub fn parse_name(text: &str) -> Result<Option<Cap>, CapError> {
    todo!("normalise the spelling, then look the bare name up in ALL_NAMES")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the name looked up as typed: `cap_net_admin` or
    // `CAP_NET_ADMIN` is unknown. Checked by pasting it into the stub: it fails
    // `every_name_in_every_spelling`, `all_means_every_capability`.
    //
    //     if text == "ALL" {
    //         return Ok(None);
    //     }
    //     Cap::by_name(text).map(Some).ok_or_else(|| CapError::Unknown(text.to_string()))

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::caps as solution;

    use ch08_security::caps::{Cap, CapError, ALL_NAMES};

    #[test]
    fn every_name_in_every_spelling() {
        for (number, name) in ALL_NAMES.iter().enumerate() {
            let cap = Some(Cap(number as u8));
            assert_eq!(solution::parse_name(name), Ok(cap), "{name}");
            assert_eq!(solution::parse_name(&format!("CAP_{name}")), Ok(cap), "CAP_{name}");
            assert_eq!(solution::parse_name(&name.to_lowercase()), Ok(cap), "{name} in lower case");
        }
        assert_eq!(solution::parse_name("Cap_Sys_Admin"), Ok(Some(Cap(21))));
        assert_eq!(solution::parse_name(" net_admin "), Ok(Some(Cap(12))));
    }

    #[test]
    fn all_means_every_capability() {
        for all in ["ALL", "all", "CAP_ALL", "cap_all"] {
            assert_eq!(solution::parse_name(all), Ok(None), "{all}");
        }
    }

    #[test]
    fn unknown_names_are_kept_as_typed() {
        for bad in ["CAP_FLY", "net-admin", "NET_ADMINN", "21", "CAP_", "", "CAP_CAP_CHOWN"] {
            assert_eq!(
                solution::parse_name(bad),
                Err(CapError::Unknown(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
