//! Exercise `clean_path` (easy). Book: ch04-image-pull.md, "Safe unpacking".
//!
//! A layer is a tar archive, and a tar entry's name comes from whoever made
//! the image. Before anything is created, split the name on `/` into clean
//! components: a leading `/` is dropped (names are relative to the layer
//! root), `.` and empty parts vanish, `..` removes the previous component —
//! and a `..` with nothing left to remove is an escape:
//! `UnpackError::Escape { path: raw }`.

use std::ffi::OsString;

use ch04_image_pull::unpack::UnpackError;

/// Split a tar name into clean components, or refuse an escape.
pub fn clean_path(raw: &str) -> Result<Vec<OsString>, UnpackError> {
    todo!("walk the parts with a stack")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a `..` at the root ignored, as a shell does,
    // instead of refused: the layer escapes. Checked by pasting it into the stub: it fails
    // `climbing_out_is_an_escape`.
    //
    //     let mut parts = Vec::new();
    //     for part in raw.split('/') {
    //         match part {
    //             "" | "." => {}
    //             ".." => {
    //                 parts.pop();
    //             }
    //             name => parts.push(OsString::from(name)),
    //         }
    //     }
    //     Ok(parts)

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch04_image_pull::unpack as solution;

    use ch04_image_pull::unpack::UnpackError;

    fn clean(raw: &str) -> Vec<String> {
        solution::clean_path(raw).unwrap().into_iter().map(|c| c.into_string().unwrap()).collect()
    }

    #[test]
    fn ordinary_names() {
        assert_eq!(clean("etc/passwd"), ["etc", "passwd"]);
        assert_eq!(clean("./usr/bin/"), ["usr", "bin"]);
        assert_eq!(clean("/etc//motd"), ["etc", "motd"]);
        assert!(clean("./").is_empty());
    }

    #[test]
    fn dot_dot_inside_the_root_is_fine() {
        assert_eq!(clean("usr/lib/../bin/sh"), ["usr", "bin", "sh"]);
        assert_eq!(clean("a/b/../../c"), ["c"]);
    }

    #[test]
    fn climbing_out_is_an_escape() {
        for raw in ["../etc/passwd", "a/../../x", "/../x", "./.."] {
            match solution::clean_path(raw) {
                Err(UnpackError::Escape { path }) => assert_eq!(path, raw),
                other => panic!("{raw:?} must be an escape, got {other:?}"),
            }
        }
    }
}
