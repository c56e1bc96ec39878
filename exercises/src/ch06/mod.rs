//! Chapter 6: networking. Book: `book/src/ch06-networking.md`.

use crate::catalog::{Exercise, Level};

pub mod allocate;
pub mod parse_port;
pub mod parse_subnet;
pub mod plug_veth;
pub mod port_rules;
pub mod with_members;

pub const EXERCISES: &[Exercise] = &[
    Exercise {
        name: "with_members",
        chapter: "ch06",
        reference: "ch06_networking::hosts::with_members",
        level: Level::Easy,
        root: false,
        book: "ch06-networking.md#names-in-etchosts",
        task: "replace one network's block of members in /etc/hosts, keeping the others",
    },
    Exercise {
        name: "parse_subnet",
        chapter: "ch06",
        reference: "ch06_networking::Subnet::from_str",
        level: Level::Easy,
        root: false,
        book: "ch06-networking.md#subnets-and-addresses",
        task: "parse 10.77.0.0/16; refuse bad text and host bits that are not zero",
    },
    Exercise {
        name: "parse_port",
        chapter: "ch06",
        reference: "ch06_networking::PortMapping::from_str",
        level: Level::Medium,
        root: false,
        book: "ch06-networking.md#publishing-a-port",
        task: "parse -p [HOSTIP:][HOSTPORT:]CONTAINERPORT[/tcp|/udp]",
    },
    Exercise {
        name: "allocate",
        chapter: "ch06",
        reference: "ch06_networking::ipam::allocate",
        level: Level::Medium,
        root: false,
        book: "ch06-networking.md#subnets-and-addresses",
        task: "hand out the lowest free address with O_EXCL lease files, never one twice",
    },
    Exercise {
        name: "port_rules",
        chapter: "ch06",
        reference: "ch06_networking::nat::port_rules",
        level: Level::Medium,
        root: false,
        book: "ch06-networking.md#the-rules",
        task: "the DNAT and ACCEPT rules that publish one port, as Docker writes them",
    },
    Exercise {
        name: "plug_veth",
        chapter: "ch06",
        reference: "ch06_networking::link::plug_veth",
        level: Level::Hard,
        root: true,
        book: "ch06-networking.md#bridges-and-veth-pairs",
        task: "create a veth pair with one end in the container's netns, plug the other into the bridge",
    },
];
