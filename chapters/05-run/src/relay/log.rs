//! The container's log, in Docker's `json-file` format: one JSON object
//! per line of output, so stdout and stderr stay apart and every line has
//! its time.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}
//! ```
//!
//! Written here, by hand, so that the shim needs no JSON library; chapter
//! 5 reads it back with serde.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::relay::Stream;

// ANCHOR: writer
/// Appends output to the log, a whole line per entry. A line still being
/// written (no newline yet) waits in `pending` until it is complete. The
/// file is made at the first line: a silent container makes none.
pub struct LogWriter {
    path: Option<PathBuf>,
    file: Option<File>,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path) -> LogWriter {
        LogWriter { path: Some(path.to_path_buf()), file: None, pending: [Vec::new(), Vec::new()] }
    }

    /// Record a chunk of output from one stream.
    pub fn write(&mut self, stream: Stream, chunk: &[u8]) -> std::io::Result<()> {
        let pending = &mut self.pending[stream as usize];
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            write_entry(opened(&mut self.file, &self.path)?, stream, &line)?;
        }
        Ok(())
    }

    /// Write out what is left of unfinished lines (the container ended).
    pub fn flush(&mut self) -> std::io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                write_entry(opened(&mut self.file, &self.path)?, stream, &rest)?;
            }
        }
        Ok(())
    }
}
// ANCHOR_END: writer

impl LogWriter {
    /// A writer that keeps nothing (`exec`'s output is not logged).
    pub fn discarding() -> LogWriter {
        LogWriter { path: None, file: None, pending: [Vec::new(), Vec::new()] }
    }
}

/// The log file, opened (and made) the first time it is needed.
fn opened<'a>(
    file: &'a mut Option<File>,
    path: &Option<PathBuf>,
) -> std::io::Result<Option<&'a mut File>> {
    if let (None, Some(path)) = (&file, path) {
        *file = Some(OpenOptions::new().create(true).append(true).open(path)?);
    }
    Ok(file.as_mut())
}

// ANCHOR: writer_2
fn write_entry(file: Option<&mut File>, stream: Stream, line: &[u8]) -> std::io::Result<()> {
    let Some(file) = file else { return Ok(()) };
    file.write_all(&entry(
        stream,
        line,
        &crate::relay::time::rfc3339_nanos(std::time::SystemTime::now()),
    ))
}

/// One line of the log: `{"log":…,"stream":…,"time":…}` and a newline.
/// Bytes that are not UTF-8 become U+FFFD, as Docker's do.
pub fn entry(stream: Stream, line: &[u8], time: &str) -> Vec<u8> {
    let mut json = Vec::with_capacity(line.len() + 80);
    json.extend_from_slice(b"{\"log\":");
    json_string(&mut json, &String::from_utf8_lossy(line));
    json.extend_from_slice(format!(",\"stream\":\"{}\",\"time\":", stream.name()).as_bytes());
    json_string(&mut json, time);
    json.extend_from_slice(b"}\n");
    json
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
}
// ANCHOR_END: writer_2

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_escape_what_json_must() {
        let line = entry(Stream::Stderr, b"a \"b\" \\ \t\x01\xff\n", "T");
        let expected = "{\"log\":\"a \\\"b\\\" \\\\ \\t\\u0001\u{fffd}\\n\",\"stream\":\"stderr\",\"time\":\"T\"}\n";
        assert_eq!(String::from_utf8(line).unwrap(), expected);
    }

    #[test]
    fn lines_are_split_and_streams_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut log = LogWriter::open(&path);
        log.flush().unwrap();
        assert!(!path.exists(), "nothing written, no file made");
        log.write(Stream::Stdout, b"hel").unwrap();
        log.write(Stream::Stderr, b"oops\n").unwrap();
        log.write(Stream::Stdout, b"lo\nworld").unwrap();
        log.flush().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let logs: Vec<&str> = text.lines().map(|l| &l[..l.find(",\"time\"").unwrap()]).collect();
        assert_eq!(
            logs,
            [
                "{\"log\":\"oops\\n\",\"stream\":\"stderr\"",
                "{\"log\":\"hello\\n\",\"stream\":\"stdout\"",
                "{\"log\":\"world\",\"stream\":\"stdout\""
            ]
        );
    }
}
