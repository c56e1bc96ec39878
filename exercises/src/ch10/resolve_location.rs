//! Exercise `resolve_location` (easy). Book: ch10-images.md, "Push, step by step".
//!
//! An upload session's `Location` header may be absolute
//! (`http://host:5000/v2/...`), absolute-path (`/v2/...`: same scheme and
//! host as the request) or relative (`u2?x=1`: beside the request's last
//! path segment). Every PATCH and PUT of an upload goes to the last
//! `Location`, resolved against the URL of the request that got it.

/// Where `location` points, seen from `current` (the request's URL).
pub fn resolve_location(current: &str, location: &str) -> String {
    todo!("three cases: has a scheme, starts with /, anything else")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a relative location appended to the whole
    // current URL, as if it named a directory: `.../uploads/u1` and `u2` give `.../uploads/u1/u2`,
    // not `.../uploads/u2`. Checked by pasting it into the reference implementation: it fails
    // `a_relative_location_goes_beside_the_last_segment`.
    //
    //     format!("{current}/{location}")

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch04_image_pull::registry as solution;

    const POST: &str = "http://127.0.0.1:5000/v2/team/app/blobs/uploads/";

    #[test]
    fn an_absolute_location_is_used_as_it_is() {
        let next = "https://storage.example/v2/team/app/blobs/uploads/u1?_state=abc";
        assert_eq!(solution::resolve_location(POST, next), next);
    }

    #[test]
    fn an_absolute_path_keeps_the_scheme_and_host() {
        assert_eq!(
            solution::resolve_location(POST, "/v2/team/app/blobs/uploads/u1?_state=a%3Db"),
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=a%3Db"
        );
        let patched = "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=1";
        assert_eq!(
            solution::resolve_location(patched, "/v2/team/app/blobs/uploads/u1?_state=2"),
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=2"
        );
    }

    #[test]
    fn a_relative_location_goes_beside_the_last_segment() {
        let session = "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u1";
        assert_eq!(
            solution::resolve_location(session, "u2"),
            "http://127.0.0.1:5000/v2/team/app/blobs/uploads/u2"
        );
    }
}
