//! Chapter 6's links made over our own netlink, checked with `ip` — in
//! fresh network namespaces, never the host's: the "host" is a thread that
//! unshared its own, and so is the "container" (the kernel finds a
//! namespace by any task's id, a thread's too; `ip` started from a thread
//! runs in that thread's namespace).

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::mpsc::{channel, Receiver, Sender};

use ch06_networking::link;
use nix::sched::{unshare, CloneFlags};
use nix::unistd::{gettid, Pid};
use testkit::require_root;

/// `ip ARGS` in the calling thread's network namespace.
fn ip(args: &[&str]) -> String {
    let out =
        Command::new("ip").args(args).output().expect("running ip (apt-get install iproute2)");
    assert!(out.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A thread in a network namespace of its own: it runs the `ip` commands
/// it is sent and answers with their output, until the sender is dropped.
fn container() -> (Pid, Sender<Vec<String>>, Receiver<String>) {
    let (pid_tx, pid_rx) = channel();
    let (ask_tx, ask_rx) = channel::<Vec<String>>();
    let (answer_tx, answer_rx) = channel();
    std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) for the container");
        pid_tx.send(gettid()).unwrap();
        while let Ok(args) = ask_rx.recv() {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let _ = answer_tx.send(ip(&args));
        }
    });
    (pid_rx.recv().expect("the container thread made no namespace"), ask_tx, answer_rx)
}

/// Run `work` on a thread in a new network namespace: the test's host.
fn on_a_host_of_its_own<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let host = std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) for the host");
        work()
    });
    host.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn ask(ask: &Sender<Vec<String>>, answer: &Receiver<String>, args: &[&str]) -> String {
    ask.send(args.iter().map(|a| a.to_string()).collect()).unwrap();
    answer.recv().expect("the container thread answers")
}

#[test]
fn bridge_veth_address_and_route_are_what_ip_would_make() {
    if !require_root("bridge_veth_address_and_route_are_what_ip_would_make") {
        return;
    }
    let (bridge, host_end) = (testkit::unique("br"), testkit::unique("veth"));
    let (pid, asks, answers) = container();
    let (gateway, address) = (Ipv4Addr::new(10, 55, 0, 1), Ipv4Addr::new(10, 55, 0, 2));
    let (b, h) = (bridge.clone(), host_end.clone());
    on_a_host_of_its_own(move || {
        link::ensure_bridge(&b, gateway, 24).expect("creating the bridge");
        link::ensure_bridge(&b, gateway, 24).expect("a bridge that exists is fine");
        let shown = ip(&["-o", "-4", "addr", "show", "dev", &b]);
        assert_eq!(shown.matches("inet 10.55.0.1/24").count(), 1, "{shown}");
        assert!(ip(&["-o", "link", "show", "dev", &b]).contains(",UP"));

        link::plug_veth(&h, &b, pid).expect("plugging the veth");
        link::configure_inside(pid, Some((address, 24, gateway))).expect("configuring eth0");
        let host_side = ip(&["-o", "-d", "link", "show", "dev", &h]);
        assert!(host_side.contains(&format!(" master {b} ")), "{host_side}");
        assert!(host_side.contains(" veth ") && host_side.contains(",UP"), "{host_side}");

        let eth0 = ask(&asks, &answers, &["-o", "-4", "addr", "show", "dev", "eth0"]);
        assert!(eth0.contains("inet 10.55.0.2/24"), "{eth0}");
        let routes = ask(&asks, &answers, &["route"]);
        assert!(routes.contains("default via 10.55.0.1 dev eth0"), "{routes}");
        let links = ask(&asks, &answers, &["-o", "link"]);
        assert!(links.contains("lo: <LOOPBACK,UP"), "{links}");
        assert!(links.contains("eth0@") && links.contains("UP,LOWER_UP"), "{links}");

        link::delete_link_if_present(&h, "delete the veth").expect("deleting the veth");
        link::delete_link_if_present(&h, "delete the veth").expect("deleting it twice is fine");
        assert!(!ask(&asks, &answers, &["-o", "link"]).contains("eth0"), "eth0 went with its pair");
        link::delete_link_if_present(&b, "delete the bridge").expect("deleting the bridge");
    });
    testkit::assert_no_leftovers(&bridge);
    testkit::assert_no_leftovers(&host_end);
}

#[test]
fn a_refusal_is_one_line_with_the_kernels_reason_once() {
    if !require_root("a_refusal_is_one_line_with_the_kernels_reason_once") {
        return;
    }
    let (bridge, host_end) = (testkit::unique("br"), testkit::unique("veth"));
    let (pid, _asks, _answers) = container();
    let (b, h) = (bridge.clone(), host_end.clone());
    on_a_host_of_its_own(move || {
        let missing = link::plug_veth(&h, &b, pid).unwrap_err().to_string();
        assert_eq!(missing, format!("plugging {h} into the bridge {b}: No such device (ENODEV)"));

        link::ensure_bridge(&b, Ipv4Addr::new(10, 55, 0, 1), 24).unwrap();
        let too_long = "mdtest-0123456789abcdef";
        let error = link::plug_veth(too_long, &b, pid).unwrap_err().to_string();
        // ERANGE ("Math result not representable") is how the kernel says "too
        // long"; its extended ACK says it in words, and which attribute.
        assert!(error.contains(too_long), "{error}");
        assert!(
            error.ends_with(": Attribute failed policy validation (ERANGE, at IFLA_IFNAME)"),
            "{error}"
        );

        link::plug_veth(&h, &b, pid).unwrap();
        let inside = Some((Ipv4Addr::new(10, 55, 0, 2), 24, Ipv4Addr::new(10, 55, 0, 1)));
        link::configure_inside(pid, inside).unwrap();
        let again = link::configure_inside(pid, inside).unwrap_err().to_string();
        assert_eq!(
            again,
            "in the container's network namespace: give eth0 the address 10.55.0.2/24: \
             ipv4: Address already assigned (EEXIST)"
        );
        assert!(!again.contains('\n'));
        link::delete_link_if_present(&h, "delete the veth").unwrap();
        link::delete_link_if_present(&b, "delete the bridge").unwrap();
    });
    testkit::assert_no_leftovers(&bridge);
    testkit::assert_no_leftovers(&host_end);
}

#[test]
fn a_veth_left_by_the_previous_run_of_the_container_is_replaced() {
    if !require_root("a_veth_left_by_the_previous_run_of_the_container_is_replaced") {
        return;
    }
    let (bridge, host_end) = (testkit::unique("br"), testkit::unique("veth"));
    let (first, _asks1, _answers1) = container();
    let (second, asks, answers) = container();
    let (b, h) = (bridge.clone(), host_end.clone());
    on_a_host_of_its_own(move || {
        link::ensure_bridge(&b, Ipv4Addr::new(10, 55, 0, 1), 24).unwrap();
        link::plug_veth(&h, &b, first).unwrap();
        // As after a quick restart: the old pair still exists, the name is taken.
        link::plug_veth(&h, &b, second).expect("the old pair is replaced");
        assert!(ask(&asks, &answers, &["-o", "link"]).contains("eth0@"), "eth0 is in the new one");
        link::delete_link_if_present(&h, "delete the veth").unwrap();
        link::delete_link_if_present(&b, "delete the bridge").unwrap();
    });
    testkit::assert_no_leftovers(&bridge);
    testkit::assert_no_leftovers(&host_end);
}
