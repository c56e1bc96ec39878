//! A transcript is a shell session as the book shows it: a command on a
//! line that starts with `$ `, the expected output below it. In the
//! expected output, `[..]` stands for any text within a line (an id, a
//! time, a size) and a line `...` for any number of lines.

/// One command and what it should print (stdout and stderr, interleaved).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// 1-based line of the `$ ` in the transcript.
    pub line: usize,
    /// The command as the shell gets it (with its here-document, if any).
    pub command: String,
    pub expected: Vec<String>,
}

// ANCHOR: parse
/// Split a transcript into steps. A command continues on the next line
/// after a trailing `\`, and a here-document (`<<EOF` … `EOF`) belongs to
/// the command, not to its output.
pub fn parse(text: &str) -> Result<Vec<Step>, String> {
    let mut steps: Vec<Step> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(command) = line.strip_prefix("$ ") else {
            let step = steps
                .last_mut()
                .ok_or(format!("line {}: output before any `$ ` command", n + 1))?;
            step.expected.push(line.trim_end().to_string());
            continue;
        };
        let mut command = command.to_string();
        while command.ends_with('\\') {
            let (_, next) = lines.next().ok_or(format!("line {}: `\\` at the end", n + 1))?;
            command.push('\n');
            command.push_str(next);
        }
        if let Some(word) = here_document(&command) {
            loop {
                let (_, body) = lines
                    .next()
                    .ok_or(format!("line {}: no `{word}` ends the here-document", n + 1))?;
                command.push('\n');
                command.push_str(body);
                if body.trim() == word {
                    break;
                }
            }
        }
        steps.push(Step { line: n + 1, command, expected: Vec::new() });
    }
    Ok(steps)
}
// ANCHOR_END: parse

/// The word that ends a here-document the command starts (`<<EOF`,
/// `<< 'EOF'`, `<<-"EOF"`), if it starts one. `<<<` is a here-string.
fn here_document(command: &str) -> Option<String> {
    let at = command.find("<<")?;
    let rest = &command[at + 2..];
    if rest.starts_with('<') {
        return None;
    }
    let word = rest.trim_start_matches('-').trim_start();
    let word: String = word
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some(word)
}

// ANCHOR: matches
/// Does `actual` match `expected`, where an expected line `...` matches
/// any number of lines and `[..]` any text within a line?
pub fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            actual.first().is_some_and(|line| line_matches(first, line))
                && matches(rest, &actual[1..])
        }
    }
}

/// One line: the pieces between `[..]`s must appear in order, the first
/// at the start and the last at the end.
pub fn line_matches(expected: &str, actual: &str) -> bool {
    let pieces: Vec<&str> = expected.split("[..]").collect();
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return expected == actual;
    }
    // Both checks first: they make the two ends char boundaries to cut at.
    if !actual.starts_with(first) || !actual.ends_with(last) {
        return false;
    }
    if actual.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &actual[first.len()..actual.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}
// ANCHOR_END: matches

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<String> {
        s.lines().map(str::to_string).collect()
    }

    #[test]
    fn commands_outputs_here_documents_and_continuations() {
        let text = "$ echo hi\nhi\n$ cat > f <<EOF\na\n$ not a command\nEOF\n$ ls \\\n  -l\nf\n";
        let steps = parse(text).unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[0].expected, vec!["hi"]);
        assert_eq!(steps[1].command, "cat > f <<EOF\na\n$ not a command\nEOF");
        assert!(steps[1].expected.is_empty());
        assert_eq!(steps[2].command, "ls \\\n  -l");
        assert_eq!(steps[2].line, 7);
        assert!(parse("output first\n$ true\n").is_err());
        assert!(parse("$ cat <<EOF\nnever ended\n").is_err());
        assert_eq!(here_document("cat <<< word"), None);
        assert_eq!(here_document("cat <<-'END' > x").as_deref(), Some("END"));
    }

    #[test]
    fn wildcards_within_a_line() {
        assert!(line_matches("id [..] created", "id 3fa9 created"));
        assert!(line_matches("[..]: Pull complete", "48cb83051ff9: Pull complete"));
        assert!(line_matches("a[..]b[..]c", "a-b-c"));
        assert!(!line_matches("a[..]b[..]c", "a-c-b"));
        assert!(!line_matches("ab[..]ba", "aba"), "the prefix and suffix must not overlap");
        assert!(!line_matches("exit 0", "exit 1"));
        assert!(!line_matches("a[..]b → 1", "a → zzzz"), "no cut inside a multi-byte character");
        assert!(line_matches("POST [..] → 204", "POST /start → 204"));
    }

    #[test]
    fn ellipsis_spans_lines() {
        assert!(matches(&lines("a\n...\nz"), &lines("a\nb\nc\nz")));
        assert!(matches(&lines("a\n...\nz"), &lines("a\nz")));
        assert!(!matches(&lines("a\n...\nz"), &lines("a\nb")));
        assert!(!matches(&lines("a"), &lines("a\nextra")));
        assert!(matches(&lines("..."), &[]));
    }
}
