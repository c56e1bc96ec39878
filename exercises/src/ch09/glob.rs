//! Exercise `glob` (medium). Book: ch09-engine.md, "Images, networks and volumes over the API".
//!
//! `docker images --filter reference=busy*` keeps the images with a tag
//! whose repository (or `repository:tag`) matches the pattern, as Go's
//! `path.Match` matches it:
//! - `*` matches any run of characters (also none) except `/`;
//! - `?` matches exactly one character except `/`;
//! - any other character matches itself;
//! - the whole text must match, not a part of it.
//!
//! So `busy*` matches `busybox` but `*` does not match
//! `127.0.0.1:5000/app`: a star stops at a slash.

/// Does `text` match `pattern`?
pub fn glob(pattern: &str, text: &str) -> bool {
    todo!("recursion over two slices of chars: what can the first pattern character match?")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a `*` that matches any run, `/` included, as a
    // shell's `*` does not. Checked by pasting it into the reference implementation: it fails
    // `neither_crosses_a_slash`.
    //
    //     (Some('*'), _) => matches(&p[1..], t) || (!t.is_empty() && matches(p, &t[1..])),

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch09_engine::local::objects::image_filters as solution;

    #[test]
    fn literal_text_matches_only_itself() {
        assert!(solution::glob("busybox", "busybox"));
        assert!(!solution::glob("busybox", "busybox2"));
        assert!(!solution::glob("busybox", "busy"));
        assert!(solution::glob("", ""));
    }

    #[test]
    fn a_star_is_any_run_even_empty() {
        assert!(solution::glob("busy*", "busybox"));
        assert!(solution::glob("busy*", "busy"));
        assert!(solution::glob("*box", "busybox"));
        assert!(solution::glob("*:latest", "busybox:latest"));
        assert!(solution::glob("b*y*x", "busybox"));
        assert!(!solution::glob("*:latest", "busybox:1"));
    }

    #[test]
    fn a_question_mark_is_one_character() {
        assert!(solution::glob("busyb?x", "busybox"));
        assert!(!solution::glob("busyb?x", "busybx"));
        assert!(!solution::glob("?", ""));
    }

    #[test]
    fn neither_crosses_a_slash() {
        assert!(!solution::glob("*", "127.0.0.1:5000/app"));
        assert!(solution::glob("*/app", "127.0.0.1:5000/app"));
        assert!(solution::glob("team/*", "team/app"));
        assert!(!solution::glob("team?app", "team/app"));
    }
}
