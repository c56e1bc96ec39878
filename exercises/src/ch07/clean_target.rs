//! Exercise `clean_target` (easy). Book: ch07-volumes.md, "Parsing the flags as Docker does".
//!
//! Docker cleans every mount target (and bind source) with Go's
//! `path.Clean` before using it, so that `-v data:/srv//www/./` and
//! `-v data:/srv/www` are the same mount. For an absolute path:
//! - `//` becomes `/`, a `.` component vanishes, a trailing `/` goes;
//! - `..` removes the component before it; at the root it stays at the
//!   root (`/..` is `/`): you cannot climb above `/`;
//! - the result starts with `/` and is never empty (`/` alone stays `/`).
//!
//! (Chapter 4's `clean_path` refused a `..` that climbs out; here it is
//! lexical only, like Go. Why must the target still go through
//! `inside_root` afterwards? A symlink in the image is not a `..`.)

/// Go's `path.Clean` for absolute paths.
pub fn clean(path: &str) -> String {
    todo!("a stack of components, joined with '/' after a leading '/'")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: `.` kept as a component (`/a/./b` stays
    // `/a/./b`). Checked by pasting it into the stub: it fails `slashes_and_dots_go`,
    // `dot_dot_removes_one_component_and_stops_at_the_root`.
    //
    //     let mut parts: Vec<&str> = Vec::new();
    //     for part in path.split('/') {
    //         match part {
    //             "" => {}
    //             ".." => {
    //                 parts.pop();
    //             }
    //             name => parts.push(name),
    //         }
    //     }
    //     format!("/{}", parts.join("/"))

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch07_volumes::spec as solution;

    #[test]
    fn already_clean_paths_stay_as_they_are() {
        for path in ["/", "/data", "/srv/www", "/a/b/c", "/...", "/.hidden", "/a/..b", "/a/b.."] {
            assert_eq!(solution::clean(path), path);
        }
    }

    #[test]
    fn slashes_and_dots_go() {
        assert_eq!(solution::clean("/srv//www/./"), "/srv/www");
        assert_eq!(solution::clean("//a//b//"), "/a/b");
        assert_eq!(solution::clean("/./a/./b/."), "/a/b");
        assert_eq!(solution::clean("/data/"), "/data");
    }

    #[test]
    fn dot_dot_removes_one_component_and_stops_at_the_root() {
        assert_eq!(solution::clean("/a/b/../c"), "/a/c");
        assert_eq!(solution::clean("/a/../../b/./c//"), "/b/c");
        assert_eq!(solution::clean("/a/b/c/../../.."), "/");
        assert_eq!(solution::clean("/.."), "/");
        assert_eq!(solution::clean("/../../etc/passwd"), "/etc/passwd");
    }
}
