//! Netlink messages, byte by byte: what `ip` writes to the kernel.
//!
//! ```text
//! nlmsghdr (16 bytes)              len u32 · type u16 · flags u16 · seq u32 · pid u32
//! fixed header                     ifinfomsg (links) · ifaddrmsg (addresses) · rtmsg (routes)
//! attributes, each 4-aligned       len u16 · type u16 · payload · padding
//!   a nested attribute's payload is attributes again (IFLA_LINKINFO { IFLA_INFO_KIND ... })
//! ```
//! Every integer is in the host's byte order, except addresses, which are
//! in network order as everywhere in IP. A [`Message`] is written by the
//! same calls that write its description, so `--explain` prints what is sent.

use std::net::Ipv4Addr;

/// A message type (`RTM_NEWLINK`, ...), with its name for `--explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub value: u16,
    pub name: &'static str,
}

/// An attribute type; the same number means different things inside
/// different messages and nests, hence the name that says which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr {
    pub value: u16,
    pub name: &'static str,
}

// From <linux/rtnetlink.h>, <linux/if_link.h>, <linux/if_addr.h>, <linux/veth.h>.
pub const RTM_NEWLINK: Kind = Kind { value: 16, name: "RTM_NEWLINK" };
pub const RTM_DELLINK: Kind = Kind { value: 17, name: "RTM_DELLINK" };
pub const RTM_GETLINK: Kind = Kind { value: 18, name: "RTM_GETLINK" };
pub const RTM_NEWADDR: Kind = Kind { value: 20, name: "RTM_NEWADDR" };
pub const RTM_GETADDR: Kind = Kind { value: 22, name: "RTM_GETADDR" };
pub const RTM_NEWROUTE: Kind = Kind { value: 24, name: "RTM_NEWROUTE" };

pub const IFLA_ADDRESS: Attr = Attr { value: 1, name: "IFLA_ADDRESS" };
pub const IFLA_IFNAME: Attr = Attr { value: 3, name: "IFLA_IFNAME" };
pub const IFLA_MASTER: Attr = Attr { value: 10, name: "IFLA_MASTER" };
pub const IFLA_LINKINFO: Attr = Attr { value: 18, name: "IFLA_LINKINFO" };
pub const IFLA_NET_NS_PID: Attr = Attr { value: 19, name: "IFLA_NET_NS_PID" };
pub const IFLA_INFO_KIND: Attr = Attr { value: 1, name: "IFLA_INFO_KIND" };
pub const IFLA_INFO_DATA: Attr = Attr { value: 2, name: "IFLA_INFO_DATA" };
pub const VETH_INFO_PEER: Attr = Attr { value: 1, name: "VETH_INFO_PEER" };
pub const IFA_ADDRESS: Attr = Attr { value: 1, name: "IFA_ADDRESS" };
pub const IFA_LOCAL: Attr = Attr { value: 2, name: "IFA_LOCAL" };
pub const RTA_GATEWAY: Attr = Attr { value: 5, name: "RTA_GATEWAY" };

/// Flags of the header: a request, that wants an acknowledgement, that
/// creates, and fails if the object exists (`ip link add` sends all four).
pub const NLM_F_REQUEST: u16 = 0x1;
pub const NLM_F_ACK: u16 = 0x4;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
/// A GET for every object rather than one (ROOT | MATCH).
pub const NLM_F_DUMP: u16 = 0x300;

pub const IFF_UP: u32 = 0x1;
pub const AF_INET: u8 = libc::AF_INET as u8;
pub const HEADER_LEN: usize = 16;

/// Attributes and headers start on 4-byte boundaries (`NLA_ALIGN`).
pub fn align(len: usize) -> usize {
    (len + 3) & !3
}

// ANCHOR: message
/// A request being written: the bytes, and the same in words.
#[derive(Debug, Clone)]
pub struct Message {
    bytes: Vec<u8>,
    /// Where each open nest's attribute header is, to patch its length.
    open: Vec<usize>,
    text: String,
    /// (offset, name) of every attribute: the kernel's error may point at one.
    attrs: Vec<(usize, &'static str)>,
}

impl Message {
    /// The 16-byte `nlmsghdr`; its length and sequence number are filled
    /// in when it is sent. `NLM_F_REQUEST | NLM_F_ACK` are always set.
    pub fn new(kind: Kind, flags: u16) -> Message {
        let mut bytes = vec![0; HEADER_LEN];
        bytes[4..6].copy_from_slice(&kind.value.to_ne_bytes());
        bytes[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        let text = format!("{}{}", kind.name, flag_names(flags));
        Message { bytes, open: Vec::new(), text, attrs: Vec::new() }
    }
    // ANCHOR_END: message

    // ANCHOR: attr
    /// The fixed header after `nlmsghdr` (or at the start of a nest).
    pub fn fixed(&mut self, header: Fixed) -> &mut Message {
        self.bytes.extend_from_slice(&header.bytes);
        self.bytes.resize(align(self.bytes.len()), 0);
        self.text.push_str(&format!(" {}", header.text));
        self
    }

    /// One attribute: `len u16, type u16`, the payload, padding to 4.
    fn attr(&mut self, attr: Attr, payload: &[u8], shown: &str) -> &mut Message {
        self.attrs.push((self.bytes.len(), attr.name));
        let len = (4 + payload.len()) as u16;
        self.bytes.extend_from_slice(&len.to_ne_bytes());
        self.bytes.extend_from_slice(&attr.value.to_ne_bytes());
        self.bytes.extend_from_slice(payload);
        self.bytes.resize(align(self.bytes.len()), 0);
        self.text.push_str(&format!(" {}={shown}", attr.name));
        self
    }
    // ANCHOR_END: attr

    /// A C string: the kernel wants the terminating NUL inside the attribute.
    pub fn string(&mut self, attr: Attr, value: &str) -> &mut Message {
        let mut payload = value.as_bytes().to_vec();
        payload.push(0);
        self.attr(attr, &payload, &format!("{value:?}"))
    }

    pub fn u32(&mut self, attr: Attr, value: u32) -> &mut Message {
        self.attr(attr, &value.to_ne_bytes(), &value.to_string())
    }

    /// An IPv4 address: network byte order, as on the wire.
    pub fn ipv4(&mut self, attr: Attr, value: Ipv4Addr) -> &mut Message {
        self.attr(attr, &value.octets(), &value.to_string())
    }

    /// A link-layer (MAC) address: six bytes, shown as `02:42:0a:4d:00:02`.
    pub fn mac(&mut self, attr: Attr, value: [u8; 6]) -> &mut Message {
        let shown: Vec<String> = value.iter().map(|b| format!("{b:02x}")).collect();
        self.attr(attr, &value, &shown.join(":"))
    }

    // ANCHOR: nest
    /// A nested attribute: its payload is whatever `inside` writes, and its
    /// length, known only afterwards, is patched into its header.
    pub fn nest(&mut self, attr: Attr, inside: impl FnOnce(&mut Message)) -> &mut Message {
        self.attrs.push((self.bytes.len(), attr.name));
        self.open.push(self.bytes.len());
        self.bytes.extend_from_slice(&[0, 0]);
        self.bytes.extend_from_slice(&attr.value.to_ne_bytes());
        self.text.push_str(&format!(" {}={{", attr.name));
        inside(self);
        let start = self.open.pop().expect("a nest is open");
        let len = (self.bytes.len() - start) as u16;
        self.bytes[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self.text.push_str(" }");
        self
    }
    // ANCHOR_END: nest

    /// The bytes to send, with the total length and `seq` filled in.
    pub fn bytes(&self, seq: u32) -> Vec<u8> {
        let mut bytes = self.bytes.clone();
        let len = bytes.len() as u32;
        bytes[0..4].copy_from_slice(&len.to_ne_bytes());
        bytes[8..12].copy_from_slice(&seq.to_ne_bytes());
        bytes
    }

    /// The message in words, for `--explain`.
    pub fn describe(&self) -> &str {
        &self.text
    }

    /// The attribute at `offset` (from the start of the message), which the
    /// kernel's extended error can point at.
    pub fn attr_at(&self, offset: usize) -> Option<&'static str> {
        self.attrs.iter().find(|(at, _)| *at == offset).map(|(_, name)| *name)
    }
}

fn flag_names(flags: u16) -> String {
    let names: Vec<&str> = [(NLM_F_CREATE, "CREATE"), (NLM_F_EXCL, "EXCL"), (NLM_F_DUMP, "DUMP")]
        .iter()
        .filter(|(bit, _)| flags & bit == *bit)
        .map(|(_, name)| *name)
        .collect();
    if names.is_empty() {
        String::new()
    } else {
        format!("({})", names.join("|"))
    }
}

// ANCHOR: fixed
/// The fixed header of a family of messages, and its description.
#[derive(Debug, Clone)]
pub struct Fixed {
    bytes: Vec<u8>,
    text: String,
}

impl Fixed {
    /// `struct ifinfomsg { u8 family, pad; u16 type; i32 index; u32 flags, change; }`:
    /// which link (index 0: "the one IFLA_IFNAME names", or a new one), and
    /// which of its flags to change (`change`) to what (`flags`).
    pub fn ifinfomsg(index: u32, up: bool) -> Fixed {
        let flag = if up { IFF_UP } else { 0 };
        let mut bytes = vec![0u8; 4]; // AF_UNSPEC, padding, type (ARPHRD_NETROM = 0)
        bytes.extend_from_slice(&index.to_ne_bytes());
        bytes.extend_from_slice(&flag.to_ne_bytes());
        bytes.extend_from_slice(&flag.to_ne_bytes());
        let mut shown = Vec::new();
        if index != 0 {
            shown.push(format!("index={index}"));
        }
        if up {
            shown.push("flags=UP change=UP".to_string());
        }
        Fixed { bytes, text: format!("ifinfomsg{{{}}}", shown.join(" ")) }
    }
    // ANCHOR_END: fixed

    // ANCHOR: fixed_addr_route

    /// `struct ifaddrmsg { u8 family, prefixlen, flags, scope; u32 index; }`.
    /// Scope 0 is RT_SCOPE_UNIVERSE: a global address.
    pub fn ifaddrmsg(prefix: u8, index: u32) -> Fixed {
        let mut bytes = vec![AF_INET, prefix, 0, 0];
        bytes.extend_from_slice(&index.to_ne_bytes());
        let text = format!("ifaddrmsg{{family=AF_INET prefixlen={prefix} index={index}}}");
        Fixed { bytes, text }
    }

    /// `struct rtmsg { u8 family, dst_len, src_len, tos, table, protocol,
    /// scope, type; u32 flags; }` for a default route (`dst_len` 0) in the
    /// main table (254), put there at boot time (RTPROT_BOOT, 3: what `ip`
    /// uses), global scope, a unicast route (RTN_UNICAST, 1).
    pub fn rtmsg_default() -> Fixed {
        let mut bytes = vec![AF_INET, 0, 0, 0, 254, 3, 0, 1];
        bytes.extend_from_slice(&0u32.to_ne_bytes());
        let text = "rtmsg{family=AF_INET dst_len=0 table=MAIN protocol=BOOT type=UNICAST}";
        Fixed { bytes, text: text.to_string() }
    }
    // ANCHOR_END: fixed_addr_route
}

/// The attributes in `bytes` (a message's payload after its fixed header).
pub fn attributes(mut bytes: &[u8]) -> Vec<(u16, &[u8])> {
    let mut all = Vec::new();
    while bytes.len() >= 4 {
        let len = u16::from_ne_bytes([bytes[0], bytes[1]]) as usize;
        let kind = u16::from_ne_bytes([bytes[2], bytes[3]]);
        if len < 4 || len > bytes.len() {
            break;
        }
        all.push((kind, &bytes[4..len]));
        bytes = &bytes[align(len).min(bytes.len())..];
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ip link add br0 type bridge`, as strace shows iproute2 sending it.
    #[test]
    fn a_bridge_is_the_bytes_ip_sends() {
        let mut message = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        message.fixed(Fixed::ifinfomsg(0, false)).string(IFLA_IFNAME, "br0").nest(
            IFLA_LINKINFO,
            |m| {
                m.string(IFLA_INFO_KIND, "bridge");
            },
        );
        let bytes = message.bytes(7);
        let mut expected = Vec::new();
        expected.extend_from_slice(&56u32.to_ne_bytes()); // nlmsg_len
        expected.extend_from_slice(&16u16.to_ne_bytes()); // RTM_NEWLINK
        expected.extend_from_slice(&0x605u16.to_ne_bytes()); // REQUEST|ACK|EXCL|CREATE
        expected.extend_from_slice(&7u32.to_ne_bytes()); // seq
        expected.extend_from_slice(&[0; 4]); // pid: 0, the kernel fills in ours
        expected.extend_from_slice(&[0; 16]); // ifinfomsg, all zero
        expected.extend_from_slice(&[8, 0, 3, 0, b'b', b'r', b'0', 0]); // IFLA_IFNAME "br0\0"
        expected.extend_from_slice(&[16, 0, 18, 0]); // IFLA_LINKINFO, 16 bytes with its nest
        expected.extend_from_slice(&[11, 0, 1, 0]); // IFLA_INFO_KIND, 11 bytes:
        expected.extend_from_slice(b"bridge\0\0"); // "bridge", its NUL, one byte of padding
                                                   // iproute2 sends the kind without its NUL (nla_len 10); the kernel takes both.
        assert_eq!(bytes, expected);
        assert_eq!(
            message.describe(),
            "RTM_NEWLINK(CREATE|EXCL) ifinfomsg{} IFLA_IFNAME=\"br0\" IFLA_LINKINFO={ IFLA_INFO_KIND=\"bridge\" }"
        );
    }

    #[test]
    fn attributes_are_aligned_and_read_back() {
        let mut message = Message::new(RTM_NEWADDR, NLM_F_CREATE);
        message
            .fixed(Fixed::ifaddrmsg(16, 2))
            .ipv4(IFA_LOCAL, Ipv4Addr::new(10, 77, 0, 2))
            .string(IFLA_IFNAME, "eth0");
        let bytes = message.bytes(1);
        assert_eq!(bytes.len() % 4, 0);
        let found = attributes(&bytes[HEADER_LEN + 8..]);
        assert_eq!(found, [(2, &[10, 77, 0, 2][..]), (3, &b"eth0\0"[..])]);
        assert_eq!(message.attr_at(HEADER_LEN + 8 + 8), Some("IFLA_IFNAME"));
    }

    #[test]
    fn nests_know_their_length() {
        let mut message = Message::new(RTM_NEWLINK, 0);
        message.nest(IFLA_LINKINFO, |m| {
            m.nest(IFLA_INFO_DATA, |m| {
                m.u32(IFLA_MASTER, 5);
            });
        });
        let bytes = message.bytes(1);
        let outer = attributes(&bytes[HEADER_LEN..]);
        assert_eq!(outer.len(), 1);
        assert_eq!(outer[0].1.len(), 12, "IFLA_INFO_DATA (4) + IFLA_MASTER (8)");
        let inner = attributes(outer[0].1);
        assert_eq!(attributes(inner[0].1), [(10, &5u32.to_ne_bytes()[..])]);
    }
}
