//! Links: the bridge, the veth pair, and the container's side of it.
//!
//! Every change is one rtnetlink request of our own ([`crate::netlink`]):
//! the same message that `ip` would send, without starting `ip`.
//! `--explain` prints the message beside the `ip` command that sends it.

use std::net::Ipv4Addr;
use std::path::Path;

use ch01_namespaces::explain::{self, Step};
use nix::errno::Errno;
use nix::unistd::Pid;

use crate::error::NetError;
use crate::netlink::{route, Message, Socket};

const BOOK: &str = "ch06-networking.md#bridges-and-veth-pairs";
const BOOK_NETNS: &str = "ch06-networking.md#inside-the-network-namespace";

// ANCHOR: change
/// Narrate one request (`--explain`), then send it: its replies, or the
/// kernel's refusal as an error that says what we were doing.
fn change(socket: &mut Socket, what: &str, shell: &str, message: &Message) -> Result<(), NetError> {
    let syscall = format!("netlink {}", message.describe());
    let book = if shell.starts_with("nsenter") { BOOK_NETNS } else { BOOK };
    explain::step(Step { what, syscall: &syscall, shell, book });
    socket.request(message).map(drop).map_err(|source| netlink_error(what, source))
}
// ANCHOR_END: change

fn netlink_error(what: &str, source: crate::netlink::NetlinkError) -> NetError {
    NetError::Netlink { what: what.to_string(), error: source }
}

/// A socket in this thread's network namespace: the host's.
fn host_socket() -> Result<Socket, NetError> {
    Socket::open().map_err(NetError::io("opening a netlink socket"))
}

/// Link `name` in the socket's namespace (`ip link show NAME`): its index,
/// which addresses and IFLA_MASTER need instead of its name, and whether
/// it is up. `None` when there is no such link.
fn find(socket: &mut Socket, name: &str, what: &str) -> Result<Option<(u32, bool)>, NetError> {
    match socket.request(&route::get_link(name)) {
        Ok(replies) => Ok(replies.first().and_then(|reply| route::link_state(reply))),
        Err(error) if error.errno == Errno::ENODEV => Ok(None),
        Err(error) => Err(netlink_error(what, error)),
    }
}

/// The index of link `name`, which must exist.
fn index_of(socket: &mut Socket, name: &str, what: &str) -> Result<u32, NetError> {
    let replies = socket.request(&route::get_link(name)).map_err(|e| netlink_error(what, e))?;
    let index = replies.first().and_then(|reply| route::link_state(reply)).map(|(i, _)| i);
    let no_device = || std::io::Error::from_raw_os_error(libc::ENODEV).into();
    index.ok_or_else(|| netlink_error(what, no_device()))
}

/// Does link `index` have the address `ip/prefix`? (`ip -4 addr show`, a dump.)
fn has_address(
    socket: &mut Socket,
    index: u32,
    ip: Ipv4Addr,
    prefix: u8,
) -> Result<bool, NetError> {
    let replies = socket
        .request(&route::get_addresses())
        .map_err(|e| netlink_error("listing the host's addresses", e))?;
    Ok(replies
        .iter()
        .filter_map(|reply| route::address_of(reply))
        .any(|a| a == (index, ip, prefix)))
}

// ANCHOR: ensure_bridge
/// The network's bridge: a virtual switch with the gateway address on it.
pub fn ensure_bridge(bridge: &str, gateway: Ipv4Addr, prefix: u8) -> Result<(), NetError> {
    let mut socket = host_socket()?;
    let finding = format!("finding the bridge {bridge}");
    let mut found = find(&mut socket, bridge, &finding)?;
    if found.is_none() {
        let what = format!("create the bridge {bridge}: a virtual switch the containers plug into");
        let shell = format!("ip link add {bridge} type bridge");
        change(&mut socket, &what, &shell, &route::new_bridge(bridge))?;
        found = find(&mut socket, bridge, &finding)?;
    }
    let (index, up) = found.unwrap_or_default();
    if !has_address(&mut socket, index, gateway, prefix)? {
        let address = format!("{gateway}/{prefix}");
        let what = format!("give the bridge the gateway address {address}: the host's side");
        let shell = format!("ip addr add {address} dev {bridge}");
        change(&mut socket, &what, &shell, &route::new_address(index, gateway, prefix))?;
    }
    if !up {
        let shell = format!("ip link set {bridge} up");
        change(&mut socket, "bring the bridge up", &shell, &route::set_up(bridge))?;
    }
    Ok(())
}
// ANCHOR_END: ensure_bridge

/// `ip link del NAME` when it exists (deleting one end of a veth deletes both).
pub fn delete_link_if_present(name: &str, what: &str) -> Result<(), NetError> {
    let mut socket = host_socket()?;
    let what = format!("{what}: {name}");
    if find(&mut socket, name, &what)?.is_none() {
        return Ok(());
    }
    match change(&mut socket, &what, &format!("ip link del {name}"), &route::del_link(name)) {
        // Gone in the meantime: the container's namespace died, and with it the pair.
        Err(NetError::Netlink { error, .. }) if error.errno == Errno::ENODEV => Ok(()),
        other => other,
    }
}

// ANCHOR: veth
/// A veth pair is a virtual cable: what goes in one end comes out of the
/// other. One end stays on the host, plugged into the bridge and up; the
/// other is born in the container's network namespace, already named
/// `eth0` there (the name is looked up in *that* namespace: no clash with
/// the host's own eth0, and no rename step).
pub fn plug_veth(host_end: &str, bridge: &str, child: Pid) -> Result<(), NetError> {
    plug_veth_as(host_end, bridge, child, "eth0")
}

/// [`plug_veth`], with the container's end named `peer` (eth1 for a second network).
pub fn plug_veth_as(host_end: &str, bridge: &str, child: Pid, peer: &str) -> Result<(), NetError> {
    let mut socket = host_socket()?;
    let finding = format!("plugging {host_end} into the bridge {bridge}");
    let bridge_index = index_of(&mut socket, bridge, &finding)?;
    let pid = child.as_raw();
    let what = format!(
        "create a veth pair: {host_end} on the host, in the bridge {bridge} and up; \
         {peer} in the container's network namespace"
    );
    let shell =
        format!("ip link add {host_end} master {bridge} up type veth peer name {peer} netns {pid}");
    let veth = route::new_veth(host_end, bridge_index, peer, pid);
    match change(&mut socket, &what, &shell, &veth) {
        // The same container's previous veth, still waiting for the kernel
        // to destroy its old namespace (a quick restart): delete it, retry.
        Err(NetError::Netlink { error, .. }) if error.errno == Errno::EEXIST => {
            delete_link_if_present(host_end, "delete the container's previous veth pair")?;
            change(&mut socket, &what, &shell, &veth)
        }
        other => other,
    }
}
// ANCHOR_END: veth

// ANCHOR: inside
/// Configure the container's side while the child waits on the spawn
/// protocol's pipe, so the network is ready before its command runs: `lo`
/// up and, on a network, eth0's address, eth0 up, the default route. All
/// through one socket opened inside the child's network namespace.
pub fn configure_inside(
    child: Pid,
    address: Option<(Ipv4Addr, u8, Ipv4Addr)>,
) -> Result<(), NetError> {
    let mut socket = socket_inside(child)?;
    let inside = |command: String| format!("nsenter --net=/proc/{child}/ns/net {command}");
    let what = "in the container's network namespace: bring up the loopback interface lo";
    change(&mut socket, what, &inside("ip link set lo up".into()), &route::set_up("lo"))?;
    let Some((ip, prefix, gateway)) = address else { return Ok(()) };
    address_and_up(&mut socket, child, "eth0", ip, prefix)?;
    let what = format!("in the container's network namespace: route the rest via {gateway}");
    let shell = inside(format!("ip route add default via {gateway}"));
    change(&mut socket, &what, &shell, &route::new_default_route(gateway))
}
// ANCHOR_END: inside

// ANCHOR: address
/// `ip addr add IP/PREFIX dev NAME` and `ip link set NAME up`, inside.
fn address_and_up(
    socket: &mut Socket,
    child: Pid,
    name: &str,
    ip: Ipv4Addr,
    prefix: u8,
) -> Result<(), NetError> {
    let inside = |command: String| format!("nsenter --net=/proc/{child}/ns/net {command}");
    let index = index_of(socket, name, &format!("finding {name} in the container"))?;
    let what =
        format!("in the container's network namespace: give {name} the address {ip}/{prefix}");
    let shell = inside(format!("ip addr add {ip}/{prefix} dev {name}"));
    change(socket, &what, &shell, &route::new_address(index, ip, prefix))?;
    let (mac, shown) = (mac_of(ip), mac_text(ip));
    // As Docker's: the same IP, the same MAC, so no neighbour keeps a stale one.
    let what = format!(
        "in the container's network namespace: bring {name} up, with a MAC address made \
         from its IP ({shown}, as Docker's)"
    );
    let shell = inside(format!("ip link set {name} address {shown} up"));
    change(socket, &what, &shell, &route::set_up_with_mac(name, mac))
}

/// Docker's MAC address for a container's IP: `02:42` (locally
/// administered) and the four bytes of the address.
pub fn mac_of(ip: Ipv4Addr) -> [u8; 6] {
    let [a, b, c, d] = ip.octets();
    [0x02, 0x42, a, b, c, d]
}

/// [`mac_of`] as `ip` writes it.
pub fn mac_text(ip: Ipv4Addr) -> String {
    mac_of(ip).iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}
// ANCHOR_END: address

// ANCHOR: plug
/// One of a container's interfaces on a network: the veth's host end and
/// the bridge it plugs into; the name, address and gateway inside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plug {
    pub veth: String,
    pub bridge: String,
    pub interface: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
}

/// A further interface (eth1, ...): its address and up, but no route: the
/// default route stays with the first network, as in Docker. The kernel
/// adds the route to the network's own subnet with the address.
pub fn configure_interface(child: Pid, plug: &Plug) -> Result<(), NetError> {
    let mut socket = socket_inside(child)?;
    address_and_up(&mut socket, child, &plug.interface, plug.ip, plug.prefix)
}

/// The default route via `gateway`, unless there is one (`network
/// disconnect` of the network that had it: the next one takes it over).
pub fn ensure_default_route(child: Pid, gateway: Ipv4Addr) -> Result<(), NetError> {
    let mut socket = socket_inside(child)?;
    let what = format!("in the container's network namespace: route the rest via {gateway}");
    let shell = format!("nsenter --net=/proc/{child}/ns/net ip route add default via {gateway}");
    match change(&mut socket, &what, &shell, &route::new_default_route(gateway)) {
        Err(NetError::Netlink { error, .. }) if error.errno == Errno::EEXIST => Ok(()),
        other => other,
    }
}
// ANCHOR_END: plug

// ANCHOR: socket_inside

/// A netlink socket that lives in the child's network namespace: opened
/// by a thread that joined it (see [`Socket::open_in`]).
fn socket_inside(child: Pid) -> Result<Socket, NetError> {
    let path = format!("/proc/{child}/ns/net");
    explain::step(Step {
        what: "open a netlink socket inside the container's network namespace",
        syscall: &format!(
            "on a thread: setns(open(\"{path}\"), CLONE_NEWNET); \
             socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)"
        ),
        shell: &format!("nsenter --net={path}"),
        book: BOOK_NETNS,
    });
    Socket::open_in(Path::new(&path)).map_err(NetError::io(format!(
        "opening a netlink socket in the container's network namespace ({path})"
    )))
}
// ANCHOR_END: socket_inside
