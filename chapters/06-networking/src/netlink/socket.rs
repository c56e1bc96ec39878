//! A `NETLINK_ROUTE` socket: send a request, read the kernel's answer.
//!
//! Netlink is a datagram socket whose other end is the kernel. A request
//! carries `NLM_F_ACK`, so the kernel always answers with an `NLMSG_ERROR`
//! message: error 0 is the acknowledgement, anything else is `-errno`.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;
use thiserror::Error;

use super::message::{attributes, Message, HEADER_LEN};

const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// Flags of an error message: our request was not echoed in full / TLVs follow.
const NLM_F_CAPPED: u16 = 0x100;
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// What the kernel refused, in its words when it has some (extended ACK).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub struct NetlinkError {
    pub errno: Errno,
    /// The kernel's own explanation (`NLMSGERR_ATTR_MSG`), since Linux 4.12.
    pub kernel: Option<String>,
    /// The attribute it points at (`NLMSGERR_ATTR_OFFS`).
    pub attribute: Option<&'static str>,
}

impl std::fmt::Display for NetlinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The kernel's words when it has some, else errno's: the reason once.
        match &self.kernel {
            Some(text) => write!(f, "{text} ({:?}", self.errno)?,
            None => write!(f, "{} ({:?}", self.errno.desc(), self.errno)?,
        }
        match self.attribute {
            Some(attr) => write!(f, ", at {attr})"),
            None => f.write_str(")"),
        }
    }
}

impl From<io::Error> for NetlinkError {
    fn from(error: io::Error) -> NetlinkError {
        let errno = Errno::from_raw(error.raw_os_error().unwrap_or(libc::EIO));
        NetlinkError { errno, kernel: None, attribute: None }
    }
}

pub struct Socket {
    fd: OwnedFd,
    seq: u32,
}

// ANCHOR: open
impl Socket {
    /// A socket in the calling *thread's* network namespace, for good: a
    /// socket keeps the namespace it was created in, wherever it is used.
    pub fn open() -> io::Result<Socket> {
        let flags = libc::SOCK_RAW | libc::SOCK_CLOEXEC;
        // SAFETY: plain socket(2); the descriptor is owned right below.
        let raw = unsafe { libc::socket(libc::AF_NETLINK, flags, libc::NETLINK_ROUTE) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a new descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // Ask for errors in words, and not to have our request echoed back.
        // Both are best effort: kernels before 4.12 ignore the first.
        let _ = set_option(&fd, libc::NETLINK_EXT_ACK);
        let _ = set_option(&fd, libc::NETLINK_CAP_ACK);
        Ok(Socket { fd, seq: 0 })
    }

    /// A socket inside another network namespace (`/proc/<pid>/ns/net`).
    /// `setns(2)` moves only the calling thread, so a short-lived thread
    /// joins the namespace, opens the socket and ends; this process never
    /// leaves its own namespace, and the socket stays in the other one.
    pub fn open_in(netns: &Path) -> io::Result<Socket> {
        let netns = File::open(netns)?;
        std::thread::scope(|scope| {
            let opener = scope.spawn(|| {
                nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)?;
                Socket::open()
            });
            opener.join().unwrap_or_else(|_| Err(io::Error::other("the thread panicked")))
        })
    }
}
// ANCHOR_END: open

fn set_option(fd: &OwnedFd, option: libc::c_int) -> io::Result<()> {
    let on: libc::c_int = 1;
    let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `on` lives across the call and `size` is its size.
    let done = unsafe {
        libc::setsockopt(fd.as_raw_fd(), libc::SOL_NETLINK, option, (&raw const on).cast(), size)
    };
    if done < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

// ANCHOR: request
impl Socket {
    /// Send `message`; return the kernel's replies (a GET has some) once it
    /// acknowledges, or what it refused.
    pub fn request(&mut self, message: &Message) -> Result<Vec<Vec<u8>>, NetlinkError> {
        self.seq += 1;
        self.send(&message.bytes(self.seq))?;
        let mut replies = Vec::new();
        loop {
            for reply in self.receive()? {
                if seq_of(&reply) != self.seq {
                    continue; // the late answer to an earlier request
                }
                match kind_of(&reply) {
                    NLMSG_ERROR | NLMSG_DONE => return outcome(&reply, message).map(|_| replies),
                    _ => replies.push(reply),
                }
            }
        }
    }
    // ANCHOR_END: request

    fn send(&self, bytes: &[u8]) -> io::Result<()> {
        // Unbound and unconnected, a netlink socket sends to the kernel (port 0).
        // SAFETY: the buffer is valid for its length.
        let sent =
            unsafe { libc::send(self.fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// One datagram from the kernel, split into its messages.
    fn receive(&self) -> io::Result<Vec<Vec<u8>>> {
        let mut buffer = vec![0u8; 64 * 1024];
        // SAFETY: the buffer is valid for its length.
        let got =
            unsafe { libc::recv(self.fd.as_raw_fd(), buffer.as_mut_ptr().cast(), buffer.len(), 0) };
        if got < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(split(&buffer[..got as usize]))
    }
}

/// The messages in one datagram (a dump packs several).
fn split(mut datagram: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while datagram.len() >= HEADER_LEN {
        let len = u32::from_ne_bytes(datagram[0..4].try_into().expect("4 bytes")) as usize;
        if len < HEADER_LEN || len > datagram.len() {
            break;
        }
        messages.push(datagram[..len].to_vec());
        datagram = &datagram[super::message::align(len).min(datagram.len())..];
    }
    messages
}

fn kind_of(message: &[u8]) -> u16 {
    u16::from_ne_bytes([message[4], message[5]])
}

fn flags_of(message: &[u8]) -> u16 {
    u16::from_ne_bytes([message[6], message[7]])
}

fn seq_of(message: &[u8]) -> u32 {
    u32::from_ne_bytes(message[8..12].try_into().expect("4 bytes"))
}

// ANCHOR: outcome
/// `NLMSG_ERROR` (or a dump's `NLMSG_DONE`): an `int error`, 0 or `-errno`,
/// then the header of our request (all of it without `NETLINK_CAP_ACK`),
/// then, with extended ACKs, attributes that explain the error.
fn outcome(reply: &[u8], request: &Message) -> Result<(), NetlinkError> {
    let code = reply
        .get(HEADER_LEN..HEADER_LEN + 4)
        .map_or(0, |b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
    if code == 0 {
        return Ok(());
    }
    let mut error = NetlinkError { errno: Errno::from_raw(-code), kernel: None, attribute: None };
    if kind_of(reply) == NLMSG_ERROR && flags_of(reply) & NLM_F_ACK_TLVS != 0 {
        let echoed = HEADER_LEN + 4;
        let echoed_len = match flags_of(reply) & NLM_F_CAPPED {
            0 => reply.get(echoed..echoed + 4).map_or(HEADER_LEN, |b| {
                u32::from_ne_bytes(b.try_into().expect("4 bytes")) as usize
            }),
            _ => HEADER_LEN,
        };
        let tlvs = reply.get(echoed + super::message::align(echoed_len)..).unwrap_or(&[]);
        for (kind, value) in attributes(tlvs) {
            match kind {
                NLMSGERR_ATTR_MSG => error.kernel = Some(c_string(value)),
                NLMSGERR_ATTR_OFFS if value.len() == 4 => {
                    let offset = u32::from_ne_bytes(value.try_into().expect("4 bytes"));
                    error.attribute = request.attr_at(offset as usize);
                }
                _ => {}
            }
        }
    }
    Err(error)
}
// ANCHOR_END: outcome

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::message::{Fixed, IFLA_IFNAME, RTM_NEWLINK};
    use super::*;

    fn request() -> Message {
        let mut message = Message::new(RTM_NEWLINK, 0);
        message.fixed(Fixed::ifinfomsg(0, true)).string(IFLA_IFNAME, "nosuch0");
        message
    }

    /// An error as the kernel writes it: capped, with a message and an offset.
    fn error_reply(code: i32, text: &str, offset: u32) -> Vec<u8> {
        let mut tlvs = Vec::new();
        for (kind, value) in
            [(1u16, format!("{text}\0").into_bytes()), (2, offset.to_ne_bytes().to_vec())]
        {
            tlvs.extend_from_slice(&((4 + value.len()) as u16).to_ne_bytes());
            tlvs.extend_from_slice(&kind.to_ne_bytes());
            tlvs.extend_from_slice(&value);
            tlvs.resize(super::super::message::align(tlvs.len()), 0);
        }
        let mut reply = vec![0u8; HEADER_LEN];
        reply[4..6].copy_from_slice(&NLMSG_ERROR.to_ne_bytes());
        reply[6..8].copy_from_slice(&(NLM_F_CAPPED | NLM_F_ACK_TLVS).to_ne_bytes());
        reply.extend_from_slice(&code.to_ne_bytes());
        reply.extend_from_slice(&request().bytes(1)[..HEADER_LEN]);
        reply.extend_from_slice(&tlvs);
        let len = reply.len() as u32;
        reply[0..4].copy_from_slice(&len.to_ne_bytes());
        reply
    }

    #[test]
    fn an_error_says_what_the_kernel_said_and_where() {
        let reply = error_reply(-libc::ENODEV, "Device not found", (HEADER_LEN + 16) as u32);
        let error = outcome(&reply, &request()).unwrap_err();
        assert_eq!(error.errno, Errno::ENODEV);
        assert_eq!(error.to_string(), "Device not found (ENODEV, at IFLA_IFNAME)");
        assert_eq!(outcome(&error_reply(0, "", 0), &request()), Ok(()));
    }

    #[test]
    fn a_datagram_splits_into_its_messages() {
        let one = error_reply(0, "", 0);
        let mut datagram = one.clone();
        datagram.extend_from_slice(&one);
        assert_eq!(split(&datagram), [one.clone(), one]);
    }

    #[test]
    fn the_kernel_answers_a_request() {
        // No privileges needed: asking about a link that does not exist.
        let mut socket = Socket::open().expect("a netlink socket");
        let error = socket.request(&super::super::route::get_link("nosuch0")).unwrap_err();
        assert_eq!(error.errno, Errno::ENODEV, "{error}");
    }
}
