//! Exercise `strip_version` (easy). Book: ch09-engine.md, "Routes".
//!
//! Every path a client sends may start with the API version it speaks:
//! `docker` 28 sends `/v1.47/containers/json`, an older docker-py
//! `/v1.24/_ping`, `curl` often none at all (`/info`). The router wants the
//! path without it, and refuses versions it cannot speak, as dockerd does:
//! - no `/v` at the start: the path as it is (the newest version);
//! - `/vMAJOR.MINOR` then the rest (or nothing: the rest is `/`);
//! - something that only looks like it (`/volumes/…`, `/vx.y/…`) is not a
//!   version: the path as it is;
//! - newer than [`API_VERSION`]: 400, `client version 1.99 is too new.
//!   Maximum supported API version is 1.47`;
//! - older than [`MIN_API_VERSION`]: 400, `client version 1.12 is too
//!   old. Minimum supported API version is 1.24, please upgrade your
//!   client to a newer version`.
//!
//! Compare versions as numbers: 1.9 is older than 1.24.

#[allow(unused_imports)]
use ch09_engine::system::{API_VERSION, MIN_API_VERSION};
use ch09_engine::ApiError;

/// The path without its version prefix, or dockerd's refusal.
pub fn strip_version(path: &str) -> Result<&str, ApiError> {
    todo!("strip_prefix(\"/v\"), split at the next '/', parse MAJOR.MINOR as (u32, u32), compare")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: only the upper bound checked: a client asking
    // for an API version older than the minimum is served. Checked by pasting it into the
    // reference implementation: it fails `versions_we_cannot_speak_are_refused`.
    //
    //     if asked > parse_version(API_VERSION).expect("ours parses") {
    //         return Err(/* too new */);
    //     }
    //     Ok(rest) // no check against MIN_API_VERSION

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch09_engine::system as solution;

    #[test]
    fn a_version_prefix_goes() {
        assert_eq!(solution::strip_version("/v1.47/containers/json").unwrap(), "/containers/json");
        assert_eq!(solution::strip_version("/v1.24/_ping").unwrap(), "/_ping");
        assert_eq!(solution::strip_version("/v1.47").unwrap(), "/");
    }

    #[test]
    fn no_version_is_the_path_as_it_is() {
        assert_eq!(solution::strip_version("/containers/json").unwrap(), "/containers/json");
        assert_eq!(solution::strip_version("/volumes/v1.2x").unwrap(), "/volumes/v1.2x");
        assert_eq!(solution::strip_version("/volumes").unwrap(), "/volumes");
        assert_eq!(solution::strip_version("/vx.y/info").unwrap(), "/vx.y/info");
    }

    #[test]
    fn versions_we_cannot_speak_are_refused() {
        let new = solution::strip_version("/v1.99/info").unwrap_err();
        assert_eq!(new.status, 400);
        assert!(new.message.starts_with("client version 1.99 is too new."), "{}", new.message);
        let old = solution::strip_version("/v1.12/info").unwrap_err();
        assert_eq!(old.status, 400);
        assert!(old.message.contains("too old. Minimum supported API version is 1.24"));
        assert!(solution::strip_version("/v1.9/info").is_err(), "1.9 is older than 1.24");
        assert!(solution::strip_version("/v2.0/info").is_err(), "2.0 is newer than 1.47");
    }
}
