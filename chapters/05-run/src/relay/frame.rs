//! The attach socket's frames: the Docker Engine API's own stream framing
//! (chapter 9 sends it on to clients unchanged), extended by a few kinds
//! for the way back.
//!
//! ```text
//!  frame = [kind, 0, 0, 0, length (u32, big-endian)] + payload
//!  first from a client:  kind 6 hello "output" (attach) or "exit" (wait)
//!  to the client:        kind 1 stdout, 2 stderr (output clients), 5 exit "CODE"
//!  from the client:      kind 0 stdin, 3 close stdin, 4 resize "ROWS COLS"
//! ```

use std::io::{self, Read};

use crate::relay::Stream;

// ANCHOR: kinds
/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
    CloseStdin = 3,
    Resize = 4,
    /// The container exited: its exit code, in decimal. The last frame.
    Exit = 5,
    /// A client's first frame: what it came for, `output` or `exit`.
    Hello = 6,
}
// ANCHOR_END: kinds

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        use Kind::*;
        [Stdin, Stdout, Stderr, CloseStdin, Resize, Exit, Hello]
            .into_iter()
            .find(|k| *k as u8 == byte)
    }

    pub fn of(stream: Stream) -> Kind {
        match stream {
            Stream::Stdout => Kind::Stdout,
            Stream::Stderr => Kind::Stderr,
        }
    }
}

// ANCHOR: frame
/// One frame: the 8-byte header, then the payload.
pub fn frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&[kind as u8, 0, 0, 0]);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A frame's header: its kind and the length of the payload that follows.
pub fn parse_header(header: [u8; 8]) -> io::Result<(Kind, usize)> {
    let kind = Kind::from_byte(header[0]).ok_or_else(|| io::Error::other("bad frame kind"))?;
    Ok((kind, u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize))
}

/// Read one frame; `None` at a clean end of the stream.
pub fn read_frame(from: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut header = [0u8; 8];
    match from.read_exact(&mut header) {
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        other => other?,
    }
    let (kind, length) = parse_header(header)?;
    let mut payload = vec![0u8; length];
    from.read_exact(&mut payload)?;
    Ok(Some((kind, payload)))
}
// ANCHOR_END: frame

/// A resize frame's payload, `ROWS COLS`.
pub fn parse_size(text: &[u8]) -> Option<(u16, u16)> {
    let text = std::str::from_utf8(text).ok()?;
    let (rows, cols) = text.trim().split_once(' ')?;
    Some((rows.parse().ok()?, cols.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_carry_kind_and_length() {
        let bytes = frame(Kind::Stderr, b"oops\n");
        assert_eq!(&bytes[..8], &[2, 0, 0, 0, 0, 0, 0, 5]);
        let mut reader = io::Cursor::new([bytes, frame(Kind::Resize, b"24 80")].concat());
        assert_eq!(read_frame(&mut reader).unwrap(), Some((Kind::Stderr, b"oops\n".to_vec())));
        assert_eq!(read_frame(&mut reader).unwrap(), Some((Kind::Resize, b"24 80".to_vec())));
        assert_eq!(read_frame(&mut reader).unwrap(), None);
        assert!(read_frame(&mut io::Cursor::new([9u8, 0, 0, 0, 0, 0, 0, 0])).is_err());
        assert_eq!(parse_size(b"24 80"), Some((24, 80)));
        assert_eq!(parse_size(b"24"), None);
    }
}
