//! Exercise `validate_name` (easy). Book: ch05-run.md.
//!
//! `docker run --name NAME`: Docker accepts `[a-zA-Z0-9][a-zA-Z0-9_.-]+`
//! — an ASCII letter or digit, then at least one more letter, digit,
//! `_`, `.` or `-`. Anything else is `NameError::Invalid(name)`.

use ch05_run::ids::NameError;

/// Docker's rule for `--name`.
pub fn validate_name(name: &str) -> Result<(), NameError> {
    todo!("check the first character, the others, and the length")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the characters checked, the length not: a one-
    // character name passes. Checked by pasting it into the stub: it fails `names_docker_refuses`.
    //
    //     let mut chars = name.chars();
    //     let first = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    //     if first && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c)) {
    //         Ok(())
    //     } else {
    //         Err(NameError::Invalid(name.to_string()))
    //     }

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::ids as solution;

    use ch05_run::ids::NameError;

    #[test]
    fn names_docker_accepts() {
        for ok in ["web", "db_1", "my.app-2", "A1", "focused_turing", "x-"] {
            assert_eq!(solution::validate_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn names_docker_refuses() {
        for bad in ["", "a", "_x", "-x", ".x", "has space", "semi;colon", "slash/x", "é1"] {
            assert_eq!(solution::validate_name(bad), Err(NameError::Invalid(bad.into())), "{bad}");
        }
    }
}
