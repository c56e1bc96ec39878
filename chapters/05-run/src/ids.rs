//! Container ids and names, as Docker makes them.
//!
//! An id is 32 random bytes in hex (64 characters); the first 12 are the
//! "short id" `docker ps` shows. A name is either given (`--name`) or made
//! up from an adjective and a famous scientist, like Docker's
//! `namesgenerator` ("focused_turing").

use std::fs::File;
use std::io::Read;

use thiserror::Error;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    #[error("invalid container name {0:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")]
    Invalid(String),
}

// ANCHOR: new_id
/// A new random 64-hex container id.
pub fn new_id() -> String {
    let mut bytes = [0u8; 32];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("/dev/urandom is readable on every Linux system");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The 12-character short id that `ps` shows.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(12)]
}
// ANCHOR_END: new_id

// ANCHOR: validate_name
/// Docker's rule for `--name`: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = name.len() >= 2 && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(NameError::Invalid(name.to_string()))
    }
}
// ANCHOR_END: validate_name

const ADJECTIVES: &[&str] = &[
    "admiring", "brave", "clever", "eager", "focused", "gallant", "happy", "jolly", "keen",
    "loving", "modest", "nifty", "pensive", "quirky", "relaxed", "serene", "tender", "upbeat",
    "vibrant", "zealous",
];

const SCIENTISTS: &[&str] = &[
    "babbage", "curie", "dijkstra", "euler", "franklin", "goodall", "hopper", "hypatia", "kepler",
    "lamarr", "lovelace", "meitner", "noether", "pasteur", "ritchie", "shannon", "thompson",
    "torvalds", "turing", "wozniak",
];

/// A name like `focused_turing`, chosen with `pick` (a random number).
pub fn generated_name(pick: u64) -> String {
    let adjective = ADJECTIVES[(pick % ADJECTIVES.len() as u64) as usize];
    let scientist =
        SCIENTISTS[((pick / ADJECTIVES.len() as u64) % SCIENTISTS.len() as u64) as usize];
    format!("{adjective}_{scientist}")
}

/// A random generated name; `taken` says whether a name is in use, and a
/// digit is appended on a clash, as Docker does.
pub fn random_name(taken: impl Fn(&str) -> bool) -> String {
    let id = new_id();
    let pick = u64::from_str_radix(&id[..16], 16).unwrap_or(0);
    let base = generated_name(pick);
    if !taken(&base) {
        return base;
    }
    (1..).map(|n| format!("{base}{n}")).find(|name| !taken(name)).expect("an unused name exists")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_distinct() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, b);
        assert_eq!(short_id(&a).len(), 12);
        assert!(a.starts_with(short_id(&a)));
    }

    #[test]
    fn names_follow_dockers_rule() {
        for ok in ["web", "db_1", "my.app-2", "A1"] {
            assert_eq!(validate_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "a", "_x", "-x", "has space", "semi;colon", "slash/x"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_names_are_valid_and_avoid_clashes() {
        let name = generated_name(0);
        assert_eq!(name, "admiring_babbage");
        assert_eq!(validate_name(&name), Ok(()));
        let taken = |n: &str| !n.ends_with('2');
        assert!(random_name(taken).ends_with('2'));
    }
}
