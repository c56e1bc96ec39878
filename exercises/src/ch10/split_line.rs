//! Exercise `split_line` (easy). Book: ch10-images.md, "Building from a
//! Dockerfile".
//!
//! The parser has joined a Dockerfile's continuation lines into one
//! logical line; cut it into a `Line`:
//! - `instruction`: the first word in upper case (`from` is `FROM`); a
//!   word not in `parser::INSTRUCTIONS` is
//!   `ParseError { line: number, message: "unknown instruction: <word as written>" }`;
//! - `flags`: the `--name=value` words right after it (`--name` alone has
//!   the value `""`), the name in lower case, until the first word that
//!   does not start with `--`; a bare `--` ends them and is dropped;
//! - `args`: the rest, trimmed, as written (nothing is expanded yet);
//! - `original`: `text` itself; `number`: `number`.

use ch10_images::build::parser::{Line, ParseError};

/// `COPY --from=build /app /app` → COPY, [("from", "build")], "/app /app".
pub fn split_line(text: &str, number: usize) -> Result<Line, ParseError> {
    todo!("the first word, then the --flags, then the rest")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the instruction kept as written: `from alpine`
    // is not FROM, though Dockerfile instructions are case-insensitive. Checked by pasting it into
    // the reference implementation: it fails `instruction_flags_and_arguments`.
    //
    //     let instruction = word.to_string();

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch10_images::build::parser as solution;

    #[test]
    fn instruction_flags_and_arguments() {
        let line = solution::split_line("copy --from=build --chown=1:2 /src  /dst", 7).unwrap();
        assert_eq!(line.instruction, "COPY");
        assert_eq!(
            line.flags,
            [("from".to_string(), "build".to_string()), ("chown".into(), "1:2".into())]
        );
        assert_eq!(line.args, "/src  /dst");
        assert_eq!(line.original, "copy --from=build --chown=1:2 /src  /dst");
        assert_eq!(line.number, 7);
    }

    #[test]
    fn flags_stop_at_the_first_argument_or_a_bare_double_dash() {
        let run = solution::split_line("RUN echo --not-a-flag", 1).unwrap();
        assert!(run.flags.is_empty());
        assert_eq!(run.args, "echo --not-a-flag");
        let dashed = solution::split_line("RUN -- --weird", 1).unwrap();
        assert!(dashed.flags.is_empty());
        assert_eq!(dashed.args, "--weird");
        let bare =
            solution::split_line("HEALTHCHECK --Interval=5s --no-value CMD true", 1).unwrap();
        assert_eq!(
            bare.flags,
            [("interval".to_string(), "5s".to_string()), ("no-value".into(), "".into())]
        );
        assert_eq!(solution::split_line("CMD", 1).unwrap().args, "");
    }

    #[test]
    fn an_unknown_instruction_names_its_line() {
        let err = solution::split_line("Foo bar", 3).unwrap_err();
        assert_eq!(err.to_string(), "dockerfile parse error on line 3: unknown instruction: Foo");
    }
}
