//! The container's log, in Docker's `json-file` format: one JSON object
//! per line of output, so stdout and stderr stay apart and every line has
//! its time.
//!
//! ```text
//! {"log":"hello\n","stream":"stdout","time":"2026-11-22T10:00:00.123456789Z"}
//! ```

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::Path;

pub use crate::relay::log::LogWriter;
pub use crate::relay::Stream;
use serde::{Deserialize, Serialize};

/// One line of the log, as the readers (`logs`, the daemon) see it. The
/// writer, [`LogWriter`], is the shim's: it must not need serde.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub log: String,
    #[serde(with = "stream_name")]
    pub stream: Stream,
    pub time: String,
}

/// `"stdout"` and `"stderr"`, as the log names the streams.
mod stream_name {
    use super::Stream;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(stream: &Stream, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(stream.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Stream, D::Error> {
        match String::deserialize(from)?.as_str() {
            "stdout" => Ok(Stream::Stdout),
            "stderr" => Ok(Stream::Stderr),
            other => Err(serde::de::Error::custom(format!("unknown stream {other:?}"))),
        }
    }
}

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
        let mut log = LogWriter::open(&path);
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
        let at = humantime::parse_rfc3339(&entries[0].time).unwrap();
        assert_eq!(
            crate::relay::time::rfc3339_nanos(at),
            humantime::format_rfc3339_nanos(at).to_string()
        );
        assert_eq!(read(&path, Some(1)).unwrap().len(), 1);
        assert_eq!(read(&path, Some(1)).unwrap()[0].log, "world");
        assert_eq!(read(&dir.path().join("missing.log"), None).unwrap(), []);
    }

    #[test]
    fn follow_stops_when_the_container_ended_and_the_log_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("container.log");
        let mut log = LogWriter::open(&path);
        log.write(Stream::Stdout, b"a\nb\n").unwrap();
        let mut seen = Vec::new();
        follow(&path, 0, || false, |e| seen.push(e.log.clone())).unwrap();
        assert_eq!(seen, ["a\n", "b\n"]);
    }
}
