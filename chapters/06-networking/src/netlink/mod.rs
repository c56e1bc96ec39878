//! rtnetlink, spoken by us: the messages `ip link`, `ip addr` and
//! `ip route` send to the kernel, without starting `ip`.
//!
//! - [`message`]: `nlmsghdr`, the fixed headers and the attributes, byte by byte.
//! - [`socket`]: a `NETLINK_ROUTE` socket (also one inside a container's
//!   namespace), a request and its acknowledgement or error.
//! - [`route`]: the requests chapter 6 needs, each beside its `ip` command.

pub mod message;
pub mod route;
pub mod socket;

pub use message::Message;
pub use socket::{NetlinkError, Socket};
