//! Links: the bridge, the veth pair, and the container's side of it.
//!
//! We run `ip` (iproute2) rather than speak netlink ourselves: each step is
//! then one command a learner can type, `--explain` prints exactly what
//! ran, and the crate needs no async netlink stack. The price is a fork
//! and exec per step, a few milliseconds each.

use std::net::Ipv4Addr;
use std::path::Path;

use nix::unistd::Pid;

use crate::command::{argv, run};
use crate::error::NetError;

const BOOK: &str = "ch06-networking.md#bridges-and-veth-pairs";
const BOOK_NETNS: &str = "ch06-networking.md#inside-the-network-namespace";

/// Does a link of this name exist in our network namespace?
pub fn exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Is the link administratively up (IFF_UP in its flags)?
fn is_up(name: &str) -> bool {
    let flags = std::fs::read_to_string(Path::new("/sys/class/net").join(name).join("flags"))
        .unwrap_or_default();
    u32::from_str_radix(flags.trim().trim_start_matches("0x"), 16).is_ok_and(|f| f & 1 == 1)
}

// ANCHOR: ensure_bridge
/// The network's bridge: a virtual switch with the gateway address on it.
pub fn ensure_bridge(bridge: &str, gateway: Ipv4Addr, prefix: u8) -> Result<(), NetError> {
    if !exists(bridge) {
        run(
            &format!("create the bridge {bridge}: a virtual switch the containers plug into"),
            "netlink RTM_NEWLINK (IFLA_INFO_KIND \"bridge\")",
            &argv(&["ip", "link", "add", bridge, "type", "bridge"]),
            BOOK,
        )?;
    }
    let address = format!("{gateway}/{prefix}");
    let current = crate::command::output(&argv(&["ip", "-4", "-o", "addr", "show", "dev", bridge]))
        .unwrap_or_default();
    if !current.split_whitespace().any(|w| w == address) {
        run(
            &format!(
                "give the bridge the gateway address {address}: the host's side of the network"
            ),
            "netlink RTM_NEWADDR",
            &argv(&["ip", "addr", "add", &address, "dev", bridge]),
            BOOK,
        )?;
    }
    if !is_up(bridge) {
        run(
            "bring the bridge up",
            "netlink RTM_NEWLINK (IFF_UP)",
            &argv(&["ip", "link", "set", bridge, "up"]),
            BOOK,
        )?;
    }
    Ok(())
}
// ANCHOR_END: ensure_bridge

/// `ip link del NAME` when it exists (deleting one end of a veth deletes both).
pub fn delete_link_if_present(name: &str, what: &str) -> Result<(), NetError> {
    if exists(name) {
        run(
            &format!("{what}: {name}"),
            "netlink RTM_DELLINK",
            &argv(&["ip", "link", "del", name]),
            BOOK,
        )?;
    }
    Ok(())
}

// ANCHOR: veth
/// A veth pair is a virtual cable: what goes in one end comes out of the
/// other. One end stays on the host, plugged into the bridge; the other is
/// created directly in the container's network namespace, named `eth0`.
pub fn plug_veth(host_end: &str, bridge: &str, child: Pid) -> Result<(), NetError> {
    let pid = child.as_raw().to_string();
    run(
        &format!(
            "create a veth pair: {host_end} on the host, eth0 in the container's network namespace"
        ),
        &format!("netlink RTM_NEWLINK (IFLA_INFO_KIND \"veth\", peer IFLA_NET_NS_PID {pid})"),
        &argv(&[
            "ip", "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", &pid,
        ]),
        BOOK,
    )?;
    run(
        &format!("plug {host_end} into the bridge {bridge} and bring it up"),
        "netlink RTM_NEWLINK (IFLA_MASTER, IFF_UP)",
        &argv(&["ip", "link", "set", host_end, "master", bridge, "up"]),
        BOOK,
    )?;
    Ok(())
}
// ANCHOR_END: veth

// ANCHOR: inside
/// Configure the container's side from the host: `nsenter --net=` runs `ip`
/// in the child's network namespace while the child still waits on the
/// spawn protocol's pipe, so the network is ready before its command runs.
pub fn configure_inside(
    child: Pid,
    address: Option<(Ipv4Addr, u8, Ipv4Addr)>,
) -> Result<(), NetError> {
    bring_up_loopback(child)?;
    let Some((ip, prefix, gateway)) = address else { return Ok(()) };
    let cidr = format!("{ip}/{prefix}");
    in_netns(
        child,
        &format!("give eth0 the address {cidr}"),
        "netlink RTM_NEWADDR",
        &["ip", "addr", "add", &cidr, "dev", "eth0"],
    )?;
    in_netns(
        child,
        "bring eth0 up",
        "netlink RTM_NEWLINK eth0 (IFF_UP)",
        &["ip", "link", "set", "eth0", "up"],
    )?;
    let gw = gateway.to_string();
    in_netns(
        child,
        &format!("route everything else via the bridge's address {gw}"),
        "netlink RTM_NEWROUTE",
        &["ip", "route", "add", "default", "via", &gw],
    )?;
    Ok(())
}

fn in_netns(child: Pid, what: &str, kernel: &str, command: &[&str]) -> Result<(), NetError> {
    let netns = format!("--net=/proc/{child}/ns/net");
    let mut words = vec!["nsenter", netns.as_str()];
    words.extend_from_slice(command);
    run(
        &format!("in the container's network namespace: {what}"),
        &format!("setns(CLONE_NEWNET); {kernel}"),
        &argv(&words),
        BOOK_NETNS,
    )?;
    Ok(())
}
// ANCHOR_END: inside

// ANCHOR: loopback
/// `lo` up, without starting a single process: a thread joins the child's
/// network namespace and sets the interface's `IFF_UP` flag with one ioctl.
/// `setns(2)` moves only the calling *thread*, so the rest of this process
/// stays in the host's namespace — and the thread ends right after.
pub fn bring_up_loopback(child: Pid) -> Result<(), NetError> {
    let path = format!("/proc/{child}/ns/net");
    ch01_namespaces::explain::step(ch01_namespaces::explain::Step {
        what: "in the container's network namespace: bring up the loopback interface lo",
        syscall: "setns(CLONE_NEWNET) on a thread; ioctl(socket, SIOCSIFFLAGS, {\"lo\", IFF_UP})",
        shell: &format!("nsenter --net={path} ip link set lo up"),
        book: BOOK_NETNS,
    });
    let joined = std::thread::spawn(move || -> std::io::Result<()> {
        let netns = std::fs::File::open(&path)?;
        nix::sched::setns(&netns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        set_interface_up("lo")
    })
    .join();
    match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err(source)) => {
            Err(NetError::Io { what: "bringing up lo in the container".to_string(), source })
        }
        Err(_) => Err(NetError::Io {
            what: "bringing up lo in the container".to_string(),
            source: std::io::Error::other("the thread panicked"),
        }),
    }
}

/// `ip link set NAME up`, as the kernel sees it: read the flags, add IFF_UP.
fn set_interface_up(name: &str) -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: plain socket(2); the fd is owned below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: an all-zero ifreq is valid; the name fits (checked by the caller's constant).
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
        *slot = byte as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we own.
    unsafe {
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
// ANCHOR_END: loopback
