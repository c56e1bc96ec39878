//! The rtnetlink requests chapter 6 sends, each beside the `ip` command
//! that sends the same (see `strace -e sendmsg ip ...`).

use std::net::Ipv4Addr;

use super::message::*;

// ANCHOR: new_bridge
/// `ip link add NAME type bridge`: a new link (CREATE, and EXCL: fail if
/// the name is taken) whose kind, in the nested IFLA_LINKINFO, is "bridge".
pub fn new_bridge(name: &str) -> Message {
    let mut message = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message.fixed(Fixed::ifinfomsg(0, false)).string(IFLA_IFNAME, name).nest(IFLA_LINKINFO, |m| {
        m.string(IFLA_INFO_KIND, "bridge");
    });
    message
}
// ANCHOR_END: new_bridge

// ANCHOR: new_veth
/// `ip link add HOST master BRIDGE up type veth peer name PEER netns PID`:
/// one message makes both ends. The veth driver's own data (IFLA_INFO_DATA)
/// describes the peer as a link of its own: an ifinfomsg and attributes,
/// among them the namespace it is born in, where it gets its name.
pub fn new_veth(host_end: &str, bridge_index: u32, peer: &str, peer_netns_pid: i32) -> Message {
    let mut message = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    message
        .fixed(Fixed::ifinfomsg(0, true))
        .string(IFLA_IFNAME, host_end)
        .u32(IFLA_MASTER, bridge_index)
        .nest(IFLA_LINKINFO, |m| {
            m.string(IFLA_INFO_KIND, "veth").nest(IFLA_INFO_DATA, |m| {
                m.nest(VETH_INFO_PEER, |m| {
                    // Not `up`: the kernel configures the peer before the
                    // two ends know each other, and refuses with ENOTCONN.
                    m.fixed(Fixed::ifinfomsg(0, false))
                        .string(IFLA_IFNAME, peer)
                        .u32(IFLA_NET_NS_PID, peer_netns_pid as u32);
                });
            });
        });
    message
}
// ANCHOR_END: new_veth

// ANCHOR: links
/// `ip link set NAME up`: no CREATE flag, so it changes an existing link;
/// index 0 and IFLA_IFNAME find the link by name.
pub fn set_up(name: &str) -> Message {
    let mut message = Message::new(RTM_NEWLINK, 0);
    message.fixed(Fixed::ifinfomsg(0, true)).string(IFLA_IFNAME, name);
    message
}

/// `ip link set NAME address MAC up`: one request; the kernel sets the
/// address before it changes the flags.
pub fn set_up_with_mac(name: &str, mac: [u8; 6]) -> Message {
    let mut message = Message::new(RTM_NEWLINK, 0);
    message.fixed(Fixed::ifinfomsg(0, true)).string(IFLA_IFNAME, name).mac(IFLA_ADDRESS, mac);
    message
}

/// `ip link del NAME` (for a veth, both ends go).
pub fn del_link(name: &str) -> Message {
    let mut message = Message::new(RTM_DELLINK, 0);
    message.fixed(Fixed::ifinfomsg(0, false)).string(IFLA_IFNAME, name);
    message
}

/// `ip link show NAME`: the kernel answers with an RTM_NEWLINK describing it.
pub fn get_link(name: &str) -> Message {
    let mut message = Message::new(RTM_GETLINK, 0);
    message.fixed(Fixed::ifinfomsg(0, false)).string(IFLA_IFNAME, name);
    message
}
// ANCHOR_END: links

// ANCHOR: address_route
/// `ip addr add IP/PREFIX dev DEV`: an address needs the link's index, not
/// its name. IFA_LOCAL is the address; IFA_ADDRESS is the other end of a
/// point-to-point link, on an Ethernet-like link the same again.
pub fn new_address(index: u32, ip: Ipv4Addr, prefix: u8) -> Message {
    let mut message = Message::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
    message.fixed(Fixed::ifaddrmsg(prefix, index)).ipv4(IFA_LOCAL, ip).ipv4(IFA_ADDRESS, ip);
    message
}

/// `ip route add default via GATEWAY`: the kernel finds the link itself,
/// from the route to the gateway that the address brought (eth0 must be up).
pub fn new_default_route(gateway: Ipv4Addr) -> Message {
    let mut message = Message::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
    message.fixed(Fixed::rtmsg_default()).ipv4(RTA_GATEWAY, gateway);
    message
}
// ANCHOR_END: address_route

/// `ip -4 addr show`: a dump, answered by one RTM_NEWADDR per address.
pub fn get_addresses() -> Message {
    let mut message = Message::new(RTM_GETADDR, NLM_F_DUMP);
    message.fixed(Fixed::ifaddrmsg(0, 0));
    message
}

/// The index and IFF_UP of an RTM_NEWLINK reply (its ifinfomsg's bytes
/// 4..8 and 8..12).
pub fn link_state(reply: &[u8]) -> Option<(u32, bool)> {
    let header = reply.get(HEADER_LEN..HEADER_LEN + 12)?;
    let index = u32::from_ne_bytes(header[4..8].try_into().ok()?);
    let flags = u32::from_ne_bytes(header[8..12].try_into().ok()?);
    Some((index, flags & IFF_UP != 0))
}

/// (link index, address, prefix) of an RTM_NEWADDR reply for IPv4.
pub fn address_of(reply: &[u8]) -> Option<(u32, Ipv4Addr, u8)> {
    let header = reply.get(HEADER_LEN..HEADER_LEN + 8)?;
    if header[0] != AF_INET {
        return None;
    }
    let index = u32::from_ne_bytes(header[4..8].try_into().ok()?);
    let local = attributes(&reply[HEADER_LEN + 8..])
        .into_iter()
        .find(|(kind, value)| *kind == IFA_LOCAL.value && value.len() == 4)?;
    let octets: [u8; 4] = local.1.try_into().ok()?;
    Some((index, Ipv4Addr::from(octets), header[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_veth_message_reads_like_the_ip_command() {
        assert_eq!(
            new_veth("mdv1", 7, "eth0", 4242).describe(),
            "RTM_NEWLINK(CREATE|EXCL) ifinfomsg{flags=UP change=UP} IFLA_IFNAME=\"mdv1\" \
             IFLA_MASTER=7 IFLA_LINKINFO={ IFLA_INFO_KIND=\"veth\" IFLA_INFO_DATA={ \
             VETH_INFO_PEER={ ifinfomsg{} IFLA_IFNAME=\"eth0\" IFLA_NET_NS_PID=4242 } } }"
        );
        assert_eq!(
            new_default_route(Ipv4Addr::new(10, 77, 0, 1)).describe(),
            "RTM_NEWROUTE(CREATE|EXCL) rtmsg{family=AF_INET dst_len=0 table=MAIN \
             protocol=BOOT type=UNICAST} RTA_GATEWAY=10.77.0.1"
        );
    }

    #[test]
    fn an_address_reply_is_read_back() {
        let mut reply = new_address(3, Ipv4Addr::new(10, 77, 0, 2), 16).bytes(1);
        reply[4] = 20; // as the kernel's RTM_NEWADDR
        assert_eq!(address_of(&reply), Some((3, Ipv4Addr::new(10, 77, 0, 2), 16)));
        assert_eq!(link_state(&set_up("lo").bytes(1)), Some((0, true)));
        assert_eq!(
            set_up_with_mac("eth1", [2, 0x42, 10, 77, 0, 2]).describe(),
            "RTM_NEWLINK ifinfomsg{flags=UP change=UP} IFLA_IFNAME=\"eth1\" \
             IFLA_ADDRESS=02:42:0a:4d:00:02"
        );
    }
}
