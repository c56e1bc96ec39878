//! The container's log, in Docker's `json-file` format: one JSON object
//! per line of output, so stdout and stderr stay apart and every line has
//! its time.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub log: String,
    pub stream: Stream,
    pub time: String,
}

// ANCHOR: writer
/// Appends output to the log, a whole line per entry. A line still being
/// written (no newline yet) waits in `pending` until it is complete.
pub struct LogWriter {
    file: Option<File>,
    pending: [Vec<u8>; 2],
}

impl LogWriter {
    pub fn open(path: &Path) -> std::io::Result<LogWriter> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(LogWriter { file: Some(file), pending: [Vec::new(), Vec::new()] })
    }

    /// A writer that keeps nothing (`exec`'s output is not logged).
    pub fn discarding() -> LogWriter {
        LogWriter { file: None, pending: [Vec::new(), Vec::new()] }
    }

    /// Record a chunk of output from one stream.
    pub fn write(&mut self, stream: Stream, chunk: &[u8]) -> std::io::Result<()> {
        let pending = &mut self.pending[stream as usize];
        pending.extend_from_slice(chunk);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            write_entry(self.file.as_mut(), stream, &line)?;
        }
        Ok(())
    }

    /// Write out what is left of unfinished lines (the container ended).
    pub fn flush(&mut self) -> std::io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.pending[stream as usize]);
            if !rest.is_empty() {
                write_entry(self.file.as_mut(), stream, &rest)?;
            }
        }
        Ok(())
    }
}
// ANCHOR_END: writer

// ANCHOR: writer_2
fn write_entry(file: Option<&mut File>, stream: Stream, line: &[u8]) -> std::io::Result<()> {
    let Some(file) = file else { return Ok(()) };
    let entry = Entry {
        log: String::from_utf8_lossy(line).into_owned(),
        stream,
        time: crate::state::now(),
    };
    let mut json = serde_json::to_vec(&entry).expect("log entries serialize");
    json.push(b'\n');
    file.write_all(&json)
}
// ANCHOR_END: writer_2

/// Every entry in the log, or the last `tail` of them.
pub fn read(path: &Path, tail: Option<usize>) -> std::io::Result<Vec<Entry>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let entries: Vec<Entry> = BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let skip = tail.map_or(0, |n| entries.len().saturating_sub(n));
    Ok(entries.into_iter().skip(skip).collect())
}

/// Follow the log (`logs -f`): call `emit` for each new entry after byte
/// `offset`, until `still_running` says the container ended and the log has
/// been read to its end.
pub fn follow(
    path: &Path,
    offset: u64,
    still_running: impl Fn() -> bool,
    mut emit: impl FnMut(&Entry),
) -> std::io::Result<()> {
    let mut file =
        OpenOptions::new().read(true).write(true).create(true).truncate(false).open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        let running = still_running();
        line.clear();
        let read = reader.read_line(&mut line)?;
        if read > 0 && line.ends_with('\n') {
            if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                emit(&entry);
            }
            continue;
        }
        if read > 0 {
            // Half a line: the writer is mid-write. Rewind and try again.
            reader.seek_relative(-(read as i64))?;
        }
        if !running {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The size of the log now: where `logs -f` starts following after the
/// entries it printed.
pub fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_streams_kept_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut log = LogWriter::open(&path).unwrap();
        log.write(Stream::Stdout, b"hel").unwrap();
        log.write(Stream::Stderr, b"oops\n").unwrap();
        log.write(Stream::Stdout, b"lo\nworld").unwrap();
        log.flush().unwrap();
        let entries = read(&path, None).unwrap();
        let got: Vec<(Stream, &str)> = entries.iter().map(|e| (e.stream, e.log.as_str())).collect();
        assert_eq!(
            got,
            [(Stream::Stderr, "oops\n"), (Stream::Stdout, "hello\n"), (Stream::Stdout, "world")]
        );
        assert!(humantime::parse_rfc3339(&entries[0].time).is_ok());
        assert_eq!(read(&path, Some(1)).unwrap().len(), 1);
        assert_eq!(read(&path, Some(1)).unwrap()[0].log, "world");
        assert_eq!(read(&dir.path().join("missing.log"), None).unwrap(), []);
    }

    #[test]
    fn follow_stops_when_the_container_ended_and_the_log_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut log = LogWriter::open(&path).unwrap();
        log.write(Stream::Stdout, b"a\nb\n").unwrap();
        let mut seen = Vec::new();
        follow(&path, 0, || false, |e| seen.push(e.log.clone())).unwrap();
        assert_eq!(seen, ["a\n", "b\n"]);
    }
}
