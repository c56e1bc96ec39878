//! Exercise `plug_veth` (hard, root). Book: ch06-networking.md, "Bridges and veth pairs".
//!
//! A veth pair is a virtual cable: what goes in one end comes out of the
//! other. Connect a container (its pid is `child`, waiting in its own
//! network namespace) to the network's bridge with chapter 6's own netlink
//! (`ch06_networking::netlink`), the message that
//! `ip link add HOST_END master BRIDGE up type veth peer name eth0 netns PID` sends:
//! 1. open a `Socket` (it lives in the calling thread's network namespace);
//! 2. find the bridge's index: `socket.request(&route::get_link(bridge))`
//!    answers with one RTM_NEWLINK, and `route::link_state` reads its
//!    index (IFLA_MASTER takes an index, not a name);
//! 3. send `route::new_veth(host_end, index, "eth0", pid)`: the pair, the
//!    host end in the bridge and up, the peer born in the container's
//!    namespace and named `eth0` there.
//!
//! A refusal is a `NetlinkError`; return it as
//! `NetError::Netlink { what, error }` whose `what` names the link and the
//! bridge. Never panic.
//!
//! The tests run everything in fresh network namespaces, never the host's:
//! the "host" is a thread that unshared its own, and so is the "container"
//! (the kernel finds a namespace by any task's id, a thread's too).

use ch06_networking::netlink::{route, Socket};
use ch06_networking::NetError;
use nix::unistd::Pid;

/// Create the pair: `host_end` on the host plugged into `bridge`, `eth0`
/// in `child`'s network namespace.
pub fn plug_veth(host_end: &str, bridge: &str, child: Pid) -> Result<(), NetError> {
    todo!("a socket, the bridge's index, then one RTM_NEWLINK (route::new_veth)")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: a failed step unwrapped: a missing bridge panics
    // instead of becoming an error that names it. Checked by pasting it into the reference
    // implementation: it fails `a_failed_step_is_an_error_not_a_panic`.
    //
    //     let bridge_index = index_of(&mut socket, bridge, &finding).unwrap();

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch06_networking::link as solution;

    use std::process::Command;
    use std::sync::mpsc::{channel, Receiver, Sender};

    use nix::sched::{unshare, CloneFlags};
    use nix::unistd::{gettid, Pid};

    /// `ip ARGS`, run in the calling thread's network namespace: its
    /// stdout, or its stderr as the error.
    fn ip(args: &[&str]) -> Result<String, String> {
        let out = Command::new("ip")
            .args(args)
            .output()
            .map_err(|e| format!("running ip: {e} (apt-get install iproute2)"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
        }
    }

    /// The flags of a link as `ip -o link` prints them: `<BROADCAST,UP,...>`.
    fn flags(line: &str) -> Vec<&str> {
        let inside = line
            .split_once('<')
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(flags, _)| flags)
            .unwrap_or("");
        inside.split(',').collect()
    }

    /// The container: a thread in a network namespace of its own. Each `()`
    /// sent asks it for `ip -o -d link show dev eth0` there; it ends when
    /// the sender is dropped, and its namespace (and eth0) with it.
    fn container() -> (Pid, Sender<()>, Receiver<Result<String, String>>) {
        let (pid_tx, pid_rx) = channel();
        let (ask_tx, ask_rx) = channel::<()>();
        let (answer_tx, answer_rx) = channel();
        std::thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) for the container");
            pid_tx.send(gettid()).unwrap();
            while ask_rx.recv().is_ok() {
                let _ = answer_tx.send(ip(&["-o", "-d", "link", "show", "dev", "eth0"]));
            }
        });
        (
            pid_rx.recv().expect("the container thread could not make its network namespace"),
            ask_tx,
            answer_rx,
        )
    }

    /// Run `work` on a thread in a new network namespace with a bridge
    /// called `bridge`: the test's host. Its panics become the test's.
    fn on_a_host_of_its_own<T: Send + 'static>(
        bridge: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> T {
        let bridge = bridge.to_string();
        let host = std::thread::spawn(move || {
            unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET) for the host");
            ip(&["link", "add", &bridge, "type", "bridge"]).expect("creating the bridge");
            work()
        });
        host.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    #[test]
    fn the_pair_joins_the_bridge_and_the_container() {
        crate::needs_root();
        let (bridge, host_end) = (testkit::unique("br"), testkit::unique("veth"));
        let (pid, ask, answer) = container();
        let (b, h) = (bridge.clone(), host_end.clone());
        on_a_host_of_its_own(&bridge, move || {
            solution::plug_veth(&h, &b, pid).unwrap_or_else(|e| panic!("plug_veth failed: {e}"));

            let host_side = ip(&["-o", "-d", "link", "show", "dev", &h])
                .unwrap_or_else(|e| panic!("no link {h} on the host: {e}"));
            assert!(host_side.contains(" veth "), "{h} is not a veth: {host_side}");
            assert!(
                host_side.contains(&format!(" master {b} ")),
                "{h} is not plugged into the bridge {b}: {host_side}"
            );
            assert!(flags(&host_side).contains(&"UP"), "{h} is not up: {host_side}");
            assert!(
                ip(&["-o", "link", "show", "dev", "eth0"]).is_err(),
                "eth0 belongs in the container, not on the host"
            );

            ask.send(()).unwrap();
            let inside = answer
                .recv()
                .unwrap()
                .unwrap_or_else(|e| panic!("no eth0 in the container's network namespace: {e}"));
            assert!(inside.contains(" veth "), "the container's eth0 is not a veth: {inside}");
        });
        testkit::assert_no_leftovers(&bridge);
        testkit::assert_no_leftovers(&host_end);
    }

    #[test]
    fn a_failed_step_is_an_error_not_a_panic() {
        crate::needs_root();
        let (bridge, host_end) = (testkit::unique("br"), testkit::unique("veth"));
        let (pid, _ask, _answer) = container();
        let (missing, h) = (format!("{bridge}x"), host_end.clone());
        on_a_host_of_its_own(&bridge, move || {
            let error = solution::plug_veth(&h, &missing, pid)
                .expect_err("plugging into a bridge that does not exist must fail");
            assert!(
                error.to_string().contains(&missing),
                "the error should say what failed: {error}"
            );
            let too_long = "mdtest-0123456789abcdef";
            let error = solution::plug_veth(too_long, &missing, pid)
                .expect_err("a 23-character interface name must fail");
            assert!(
                error.to_string().contains(too_long),
                "the error should say what failed: {error}"
            );
        });
        testkit::assert_no_leftovers(&bridge);
        testkit::assert_no_leftovers(&host_end);
    }
}
