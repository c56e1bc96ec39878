//! Exercise `reference_matches` (easy). Book: ch09-engine.md, "Images, networks and volumes over the API".
//!
//! `GET /images/json?filters={"reference":{"busy*":true}}` keeps the tags
//! that the pattern matches — as a repository (`busybox`) or as the whole
//! `repository:tag` (`busybox:latest`). Split the tag into its repository
//! and its tag at the last `:`, unless that `:` belongs to the registry's
//! host — it does when a `/` comes after it (`127.0.0.1:5000/app` has no
//! tag). Then ask `ch09_engine::local::objects::image_filters::glob` (the
//! `glob` exercise) about both.

use ch09_engine::local::objects::image_filters::glob;

/// Does `pattern` match the repository of `tag`, or `tag` itself?
pub fn reference_matches(pattern: &str, tag: &str) -> bool {
    todo!("rfind(':'), and check there is no '/' after it")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the tag cut at the last `:` whatever follows it:
    // in `localhost:5000/app` the port is taken for a tag. Checked by pasting it into the
    // reference implementation: it fails `a_registry_port_is_not_a_tag`.
    //
    //     let repository = match tag.rfind(':') {
    //         Some(colon) => &tag[..colon],
    //         None => tag,
    //     };

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch09_engine::local::objects::image_filters as solution;

    #[test]
    fn the_repository_or_the_whole_tag() {
        assert!(solution::reference_matches("busybox", "busybox:latest"));
        assert!(solution::reference_matches("busy*", "busybox:latest"));
        assert!(solution::reference_matches("*:latest", "busybox:latest"));
        assert!(!solution::reference_matches("busybox:1", "busybox:latest"));
        assert!(!solution::reference_matches("box", "busybox:latest"));
    }

    #[test]
    fn a_registry_port_is_not_a_tag() {
        assert!(solution::reference_matches("127.0.0.1:5000/app", "127.0.0.1:5000/app:1"));
        assert!(solution::reference_matches("127.0.0.1:5000/*", "127.0.0.1:5000/app:1"));
        assert!(solution::reference_matches("127.0.0.1:5000/app", "127.0.0.1:5000/app"));
        assert!(!solution::reference_matches("127.0.0.1", "127.0.0.1:5000/app"));
    }
}
