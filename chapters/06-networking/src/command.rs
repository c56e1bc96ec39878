//! Running `ip`, `iptables` and `nsenter`: every change to the host's
//! network goes through [`run`], which narrates it first (`--explain`), so
//! what is printed is exactly what runs.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use ch01_namespaces::explain::{self, Step};
use thiserror::Error;

#[derive(Debug, Error)]
#[error("`{command}` failed: {message}")]
pub struct CommandError {
    pub command: String,
    pub message: String,
}

// ANCHOR: run
/// Narrate, then run `argv`; its stdout, or its stderr as the error.
/// `kernel` says what the command asks the kernel for (netlink message,
/// sysctl), for the `syscall:` line of `--explain`.
pub fn run(what: &str, kernel: &str, argv: &[String], book: &str) -> Result<String, CommandError> {
    let shell = shell_line(argv);
    explain::step(Step { what, syscall: kernel, shell: &shell, book });
    output(argv)
}
// ANCHOR_END: run

/// [`run`], with `input` on the command's stdin (`iptables-restore`'s
/// batch); `--explain` shows it as a here-document.
pub fn run_with_input(
    what: &str,
    kernel: &str,
    argv: &[String],
    input: &str,
    book: &str,
) -> Result<String, CommandError> {
    let shell = format!("{} <<'EOF'\n{input}EOF", shell_line(argv));
    explain::step(Step { what, syscall: kernel, shell: &shell, book });
    let failed = |message: String| CommandError { command: shell_line(argv), message };
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("{e} (is {} installed?)", argv[0])))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    stdin.write_all(input.as_bytes()).map_err(|e| failed(e.to_string()))?;
    drop(stdin); // end of input: the command sees EOF and runs the batch
    let out = child.wait_with_output().map_err(|e| failed(e.to_string()))?;
    finished(&shell_line(argv), out)
}

/// Run `argv` without narration: for reading state (`iptables -C`,
/// `iptables-save`, `ip route`) rather than changing it.
pub fn output(argv: &[String]) -> Result<String, CommandError> {
    let shell = shell_line(argv);
    let out = Command::new(&argv[0]).args(&argv[1..]).output().map_err(|e| CommandError {
        command: shell.clone(),
        message: format!(
            "{e} (is {} installed? apt-get install iproute2 iptables util-linux)",
            argv[0]
        ),
    })?;
    finished(&shell, out)
}

/// Its stdout when the command succeeded, else the first line of its stderr.
fn finished(shell: &str, out: Output) -> Result<String, CommandError> {
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no error message")
            .trim()
            .to_string();
        return Err(CommandError { command: shell.to_string(), message });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// True when `argv` succeeds (for `iptables -C`: "does this rule exist?").
pub fn succeeds(argv: &[String]) -> bool {
    Command::new(&argv[0]).args(&argv[1..]).output().map(|o| o.status.success()).unwrap_or(false)
}

/// `argv` as one would type it: words with spaces or quotes get quoted.
pub fn shell_line(argv: &[String]) -> String {
    argv.iter()
        .map(|word| {
            if !word.is_empty()
                && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=+,!@%".contains(c))
            {
                word.clone()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Build an argv from words: `argv(&["ip", "link", "add", name])`.
pub fn argv<S: AsRef<str>>(words: &[S]) -> Vec<String> {
    words.iter().map(|w| w.as_ref().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes_only_what_needs_it() {
        let line = shell_line(&argv(&[
            "iptables",
            "-A",
            "X",
            "!",
            "-d",
            "127.0.0.0/8",
            "--comment",
            "two words",
            "",
        ]));
        assert_eq!(line, "iptables -A X ! -d 127.0.0.0/8 --comment 'two words' ''");
    }

    #[test]
    fn failure_reports_the_command_and_its_stderr() {
        let err =
            output(&argv(&["sh", "-c", "echo; echo 'RTNETLINK answers: File exists' >&2; exit 2"]))
                .unwrap_err();
        assert_eq!(err.to_string(), "`sh -c 'echo; echo '\\''RTNETLINK answers: File exists'\\'' >&2; exit 2'` failed: RTNETLINK answers: File exists");
        assert!(output(&argv(&["/no/such/program"]))
            .unwrap_err()
            .message
            .contains("is /no/such/program installed?"));
    }
}
