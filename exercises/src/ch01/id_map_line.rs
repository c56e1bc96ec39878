//! Exercise `id_map_line` (easy). Book: ch01-namespaces.md, "USER: root inside, nobody outside".
//!
//! A user namespace starts with no mapping; the parent writes one line per
//! range to `/proc/PID/uid_map`: `inside outside count`, ending in a newline.

/// One line of `/proc/PID/uid_map`: `inside outside count`.
pub fn id_map_line(inside: u32, outside: u32, count: u32) -> String {
    todo!("format the three numbers the way uid_map wants them")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the outside id first (`format!("{outside}
    // {inside} {count}\n")`). Checked by pasting it into the stub: it fails
    // `root_inside_is_me_outside`, `a_whole_range_like_userns_remap`.
    //
    //     format!("{outside} {inside} {count}\n")

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch01_namespaces::userns as solution;

    #[test]
    fn root_inside_is_me_outside() {
        assert_eq!(solution::id_map_line(0, 1000, 1), "0 1000 1\n");
    }

    #[test]
    fn a_whole_range_like_userns_remap() {
        assert_eq!(solution::id_map_line(0, 100000, 65536), "0 100000 65536\n");
        assert_eq!(solution::id_map_line(1, 2, 3), "1 2 3\n");
    }
}
