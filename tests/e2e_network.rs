//! Chapter 6 end to end: networks, addresses, names, isolation and
//! published ports, driven through the `mini-docker` binary. All traffic
//! stays on loopback and on the tests' own bridges; every test has its own
//! state root, default bridge and subnets, so tests run side by side.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use testkit::world::ok;
use testkit::{require_root, stderr, stdout};

/// One test's world (testkit's: its own state root, cgroup parent,
/// default bridge and subnet), which also remembers every bridge and
/// container it made, to check on drop that their veths and rules are gone.
struct World {
    base: testkit::world::World,
    /// Every bridge name this world made (the default one and user networks).
    bridges: std::sync::Mutex<Vec<String>>,
    /// Every container id this world made, to check their veths are gone.
    ids: std::sync::Mutex<Vec<String>>,
}

impl std::ops::Deref for World {
    type Target = testkit::world::World;
    fn deref(&self) -> &testkit::world::World {
        &self.base
    }
}

impl World {
    fn new() -> World {
        World::around(testkit::world::World::new(env!("CARGO_BIN_EXE_mini-docker")))
    }

    fn around(base: testkit::world::World) -> World {
        let bridges = std::sync::Mutex::new(vec![base.bridge.clone()]);
        World { base, bridges, ids: std::sync::Mutex::new(Vec::new()) }
    }

    /// `run -d ...`, returning the id.
    fn start(&self, args: &[&str]) -> String {
        let id = ok(&self.md(&[&["run", "-d"], args].concat()));
        self.ids.lock().unwrap().push(id.clone());
        id
    }

    /// A user network with its own subnet and a bridge named for the tests.
    fn network(&self, name: &str) -> (String, String) {
        let (bridge, subnet) = (testkit::unique("br"), testkit::network::unique_subnet());
        ok(&self.md(&[
            "network",
            "create",
            "--subnet",
            &subnet,
            "-o",
            &format!("com.docker.network.bridge.name={bridge}"),
            name,
        ]));
        self.bridges.lock().unwrap().push(bridge.clone());
        (bridge, subnet)
    }

    fn inspect(&self, container: &str) -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(&ok(&self.md(&["inspect", container]))).unwrap();
        all[0].clone()
    }

    /// The container's address on `network`.
    fn ip(&self, container: &str, network: &str) -> String {
        self.inspect(container)["NetworkSettings"]["Networks"][network]["IPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    fn leases(&self) -> Vec<String> {
        let mut found = Vec::new();
        for network in
            std::fs::read_dir(self.root.path().join("networks")).into_iter().flatten().flatten()
        {
            for lease in
                std::fs::read_dir(network.path().join("leases")).into_iter().flatten().flatten()
            {
                found.push(lease.path().display().to_string());
            }
        }
        found
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let pruned = self.base.clean();
        if std::thread::panicking() {
            return;
        }
        assert!(pruned.status.success(), "network prune: {}", stderr(&pruned));
        assert!(self.leases().is_empty(), "leases left: {:?}", self.leases());
        for bridge in self.bridges.lock().unwrap().iter() {
            testkit::assert_no_leftovers(bridge);
        }
        for id in self.ids.lock().unwrap().iter() {
            // Every veth of the container: eth0's mdv<12>, eth1's md1<11>, ...
            let links = std::fs::read_dir("/sys/class/net").unwrap().flatten();
            let left: Vec<String> = links
                .map(|l| l.file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("md") && name.contains(&id[..11]))
                .collect();
            assert!(left.is_empty(), "the veths {left:?} of {id} are left");
            assert!(
                testkit::network::iptables_rules_mentioning(&id[..12]).is_empty(),
                "rules of {id} are left"
            );
        }
        // The base world's drop checks the cgroup parent and the root.
    }
}

/// A bad input: exit code `code`, one line on stderr containing `text`.
fn refused(out: &Output, code: i32, text: &str) {
    assert_eq!(out.status.code(), Some(code), "stderr: {}", stderr(out));
    let message = stderr(out);
    assert_eq!(message.lines().count(), 1, "not one line: {message}");
    assert!(message.contains(text), "{message:?} does not say {text:?}");
}

fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A free TCP port on 127.0.0.1 (the kernel's choice, released at once).
/// The pid of container `id`'s supervisor, from its state.
fn supervisor_of(w: &World, id: &str) -> i32 {
    let path = w.root.path().join("containers").join(id).join("state.json");
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    state["supervisor_pid"].as_i64().unwrap() as i32
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// GET / from `address`, the body (or None when nothing answered).
fn http_get(address: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&address.parse().ok()?, Duration::from_secs(2)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, body)| body.trim().to_string())
}

const HTTPD: &str =
    "mkdir -p /www && echo hello from $(hostname) > /www/index.html && exec httpd -f -p 80 -h /www";

#[test]
fn containers_on_a_user_network_reach_each_other_by_address_and_name() {
    if !require_root("containers_on_a_user_network_reach_each_other_by_address_and_name") {
        return;
    }
    let w = World::new();
    let (_, subnet) = w.network("mdtestnet");
    w.start(&["--name", "alpha", "--network", "mdtestnet", "busybox", "sleep", "60"]);
    w.start(&["--name", "beta", "--network", "mdtestnet", "busybox", "sleep", "60"]);
    let (alpha, beta) = (w.ip("alpha", "mdtestnet"), w.ip("beta", "mdtestnet"));
    let prefix = &subnet[..subnet.rfind('.').unwrap()];
    assert!(
        alpha.starts_with(prefix) && beta.starts_with(prefix) && alpha != beta,
        "{alpha} {beta} in {subnet}"
    );
    ok(&w.md(&["exec", "alpha", "ping", "-c", "1", "-W", "3", &beta]));
    // alpha started first: it learnt beta's name when beta joined.
    ok(&w.md(&["exec", "alpha", "ping", "-c", "1", "-W", "3", "beta"]));
    ok(&w.md(&["exec", "beta", "ping", "-c", "1", "-W", "3", "alpha"]));
    let hosts = ok(&w.md(&["exec", "alpha", "cat", "/etc/hosts"]));
    assert!(hosts.contains(&format!("{beta}\tbeta")), "{hosts}");
    let inside = ok(&w.md(&["exec", "alpha", "ip", "-o", "-4", "addr", "show", "eth0"]));
    assert!(inside.contains(&format!("{alpha}/24")), "{inside}");
    let route = ok(&w.md(&["exec", "alpha", "ip", "route"]));
    assert!(route.contains(&format!("default via {prefix}.1")), "{route}");
    // When beta goes, alpha forgets its name.
    ok(&w.md(&["rm", "-f", "beta"]));
    let hosts = ok(&w.md(&["exec", "alpha", "cat", "/etc/hosts"]));
    assert!(!hosts.contains("beta"), "{hosts}");
    let inspect: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["network", "inspect", "mdtestnet"]))).unwrap();
    assert_eq!(inspect[0]["Containers"].as_object().unwrap().len(), 1);
    ok(&w.md(&["rm", "-f", "alpha"]));
    ok(&w.md(&["network", "rm", "mdtestnet"]));
}

#[test]
fn containers_on_different_networks_cannot_reach_each_other() {
    if !require_root("containers_on_different_networks_cannot_reach_each_other") {
        return;
    }
    let w = World::new();
    w.network("mdtestred");
    w.network("mdtestblue");
    w.start(&["--name", "red", "--network", "mdtestred", "busybox", "sleep", "60"]);
    w.start(&["--name", "blue", "--network", "mdtestblue", "busybox", "sleep", "60"]);
    w.start(&["--name", "red2", "--network", "mdtestred", "busybox", "sleep", "60"]);
    let (blue, red2) = (w.ip("blue", "mdtestblue"), w.ip("red2", "mdtestred"));
    ok(&w.md(&["exec", "red", "ping", "-c", "1", "-W", "3", &red2]));
    let across = w.md(&["exec", "red", "ping", "-c", "1", "-W", "2", &blue]);
    assert!(!across.status.success(), "red reached blue across networks: {}", stdout(&across));
    let by_name = w.md(&["exec", "red", "ping", "-c", "1", "-W", "2", "blue"]);
    assert!(!by_name.status.success(), "red resolved blue's name");
    refused(&w.md(&["network", "rm", "mdtestred"]), 1, "has active endpoints (red");
}

#[test]
fn a_published_port_answers_on_loopback_and_on_the_hosts_address() {
    if !require_root("a_published_port_answers_on_loopback_and_on_the_hosts_address") {
        return;
    }
    let w = World::new();
    let (loopback_port, any_port) = (free_port(), free_port());
    let id = w.start(&[
        "--name",
        "web",
        "-p",
        &format!("127.0.0.1:{loopback_port}:80"),
        "-p",
        &format!("{any_port}:80"),
        "--hostname",
        "web",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]);
    // Its proxies run in the keeper, a child of the container's shim. The
    // keeper names itself once forked: until then it has its parent's name.
    let shim = supervisor_of(&w, &id);
    let child_names = || {
        let children = std::fs::read_to_string(format!("/proc/{shim}/task/{shim}/children"));
        let pids = children.unwrap_or_default();
        let name = |pid: &str| std::fs::read_to_string(format!("/proc/{pid}/comm"));
        pids.split_whitespace().map(|pid| name(pid).unwrap_or_default()).collect::<Vec<_>>()
    };
    let keeper = || child_names().iter().any(|n| n.trim() == "md-keeper");
    wait_for("a child of the shim named md-keeper", keeper);
    wait_for("httpd on 127.0.0.1", || http_get(&format!("127.0.0.1:{loopback_port}")).is_some());
    assert_eq!(http_get(&format!("127.0.0.1:{loopback_port}")).as_deref(), Some("hello from web"));
    assert_eq!(http_get(&format!("127.0.0.1:{any_port}")).as_deref(), Some("hello from web"));
    // The bridge's address is one of the host's own: DNAT in OUTPUT serves it.
    let gateway = w.inspect("web")["NetworkSettings"]["Gateway"].as_str().unwrap().to_string();
    assert_eq!(http_get(&format!("{gateway}:{any_port}")).as_deref(), Some("hello from web"));
    let dnat = testkit::network::iptables_rules_mentioning(&id[..12]);
    assert!(
        dnat.iter().any(|r| r.contains(&format!("--dport {any_port}")) && r.contains("DNAT")),
        "{dnat:?}"
    );
    let ports = &w.inspect("web")["NetworkSettings"]["Ports"]["80/tcp"];
    assert_eq!(ports[0]["HostPort"], loopback_port.to_string());
    assert!(ok(&w.md(&["ps"])).contains(&format!("0.0.0.0:{any_port}->80/tcp")));

    // A port that is taken: one line, exit 125, no container left running.
    let taken = w.md(&[
        "run",
        "-d",
        "--name",
        "web2",
        "-p",
        &format!("{any_port}:80"),
        "busybox",
        "sleep",
        "60",
    ]);
    refused(&taken, 125, &format!("Bind for 0.0.0.0:{any_port} failed: port is already allocated"));
    assert_eq!(w.inspect("web2")["State"]["Running"], false);
    assert_eq!(w.leases().len(), 1, "the failed run kept a lease");

    // Stopped: the ports are free again and the rules are gone.
    ok(&w.md(&["stop", "-t", "1", "web"]));
    assert!(
        TcpListener::bind(("127.0.0.1", loopback_port)).is_ok(),
        "the proxy still holds the port"
    );
    assert!(TcpListener::bind(("0.0.0.0", any_port)).is_ok());
    assert!(testkit::network::iptables_rules_mentioning(&id[..12]).is_empty());
    assert!(w.leases().is_empty());
    assert_eq!(w.inspect("web")["NetworkSettings"]["IPAddress"], "");
}

#[test]
fn network_none_has_only_lo_and_host_shares_the_hosts() {
    if !require_root("network_none_has_only_lo_and_host_shares_the_hosts") {
        return;
    }
    let w = World::new();
    let links = ok(&w.md(&["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"]));
    assert_eq!(links, "lo");
    let lo = ok(&w.md(&["run", "--rm", "--network", "none", "busybox", "ip", "-o", "-4", "addr"]));
    assert!(lo.contains("127.0.0.1/8"), "lo is not up: {lo}");
    // Host mode: the host's interfaces, our test bridge among them.
    w.network("mdtesthost");
    let host_links =
        ok(&w.md(&["run", "--rm", "--network", "host", "busybox", "ls", "/sys/class/net"]));
    assert!(host_links.lines().any(|l| l == w.bridges.lock().unwrap()[1]), "{host_links}");
    assert!(w.leases().is_empty());
}

#[test]
fn twenty_parallel_runs_get_twenty_distinct_addresses() {
    if !require_root("twenty_parallel_runs_get_twenty_distinct_addresses") {
        return;
    }
    let w = World::new();
    let ids: Vec<String> = std::thread::scope(|scope| {
        let runs: Vec<_> =
            (0..20).map(|_| scope.spawn(|| w.start(&["busybox", "sleep", "60"]))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let addresses: Vec<String> = ids.iter().map(|id| w.ip(id, "bridge")).collect();
    let distinct: HashSet<&String> = addresses.iter().filter(|a| !a.is_empty()).collect();
    assert_eq!(distinct.len(), 20, "{addresses:?}");
    assert_eq!(w.leases().len(), 20);
    ok(&w
        .md(&[&["rm", "-f"], ids.iter().map(String::as_str).collect::<Vec<_>>().as_slice()]
            .concat()));
    assert!(w.leases().is_empty());
    let pruned = ok(&w.md(&["network", "prune", "-f"]));
    assert!(pruned.contains("bridge"), "{pruned}");
    assert!(!Path::new("/sys/class/net").join(&w.bridge).exists());
}

#[test]
fn a_killed_supervisor_gives_its_lease_and_ports_back() {
    if !require_root("a_killed_supervisor_gives_its_lease_and_ports_back") {
        return;
    }
    let w = World::new();
    let port = free_port();
    let id = w.start(&["-p", &format!("127.0.0.1:{port}:80"), "busybox", "sleep", "60"]);
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(w.root.path().join("containers").join(&id).join("state.json")).unwrap(),
    )
    .unwrap();
    let supervisor = state["supervisor_pid"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(supervisor),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    wait_for("the supervisor to die", || !Path::new(&format!("/proc/{supervisor}")).exists());
    // The next command that looks notices, and releases what it held.
    assert!(ok(&w.md(&["ps", "-a"])).contains("Exited (137)"));
    assert!(w.leases().is_empty(), "{:?}", w.leases());
    assert!(testkit::network::iptables_rules_mentioning(&id[..12]).is_empty());
    assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
}

#[test]
fn bad_network_input_is_one_line_and_leaves_nothing() {
    if !require_root("bad_network_input_is_one_line_and_leaves_nothing") {
        return;
    }
    let w = World::new();
    refused(
        &w.md(&["network", "create", "--subnet", "10.300.0.0/24", "mdtestbad"]),
        1,
        "invalid CIDR address: 10.300.0.0/24",
    );
    refused(
        &w.md(&["network", "create", "--subnet", "10.1.2.3/24", "mdtestbad"]),
        1,
        "did you mean 10.1.2.0/24",
    );
    let (_, subnet) = w.network("mdtestone");
    let octets: Vec<&str> = subnet.split('.').collect();
    let overlapping = format!("{}.{}.0.0/16", octets[0], octets[1]);
    refused(
        &w.md(&["network", "create", "--subnet", &overlapping, "mdtesttwo"]),
        1,
        "overlaps with network mdtestone",
    );
    refused(
        &w.md(&["network", "create", "mdtestone"]),
        1,
        "network with name mdtestone already exists",
    );
    refused(&w.md(&["network", "rm", "mdtestnosuch"]), 1, "network mdtestnosuch not found");
    refused(&w.md(&["network", "rm", "bridge"]), 1, "pre-defined network");
    refused(
        &w.md(&["run", "--rm", "--network", "mdtestnosuch", "busybox", "true"]),
        125,
        "network mdtestnosuch not found",
    );
    refused(
        &w.md(&["run", "--rm", "-p", "99999:80", "busybox", "true"]),
        125,
        "invalid port specification",
    );

    // A /30 has one address besides the gateway.
    let tiny_bridge = testkit::unique("br");
    w.bridges.lock().unwrap().push(tiny_bridge.clone());
    let tiny = testkit::network::unique_subnet().replace("/24", "/30");
    ok(&w.md(&[
        "network",
        "create",
        "--subnet",
        &tiny,
        "-o",
        &format!("com.docker.network.bridge.name={tiny_bridge}"),
        "mdtesttiny",
    ]));
    w.start(&["--name", "first", "--network", "mdtesttiny", "busybox", "sleep", "60"]);
    let full = w.md(&[
        "run",
        "-d",
        "--name",
        "second",
        "--network",
        "mdtesttiny",
        "busybox",
        "sleep",
        "60",
    ]);
    refused(&full, 125, "no available IPv4 addresses on network mdtesttiny");
    refused(&w.md(&["network", "rm", "mdtesttiny"]), 1, "has active endpoints (first)");
    ok(&w.md(&["rm", "-f", "first", "second"]));
    ok(&w.md(&["network", "rm", "mdtesttiny", "mdtestone"]));
    let ls = ok(&w.md(&["network", "ls"]));
    assert!(!ls.contains("mdtest"), "{ls}");
    assert_eq!(w.ids().len(), 0);
}

#[test]
fn a_second_state_root_adopts_the_default_bridge_left_by_the_first() {
    if !require_root("a_second_state_root_adopts_the_default_bridge_left_by_the_first") {
        return;
    }
    let first = World::new();
    ok(&first.md(&["run", "--rm", "busybox", "true"]));
    // A second root with the same default bridge and subnet (as the user's
    // /var/lib/mini-docker and a scratch root would have): the bridge and
    // its route already exist on the host, and are ours.
    let (bridge, subnet) = (first.bridge.clone(), first.subnet.clone());
    let base = testkit::world::World::on_network(env!("CARGO_BIN_EXE_mini-docker"), bridge, subnet);
    base.load("busybox");
    let second = World::around(base);
    let address = ok(&second.md(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "ip -4 -o addr show eth0 | awk '{print $4}'",
    ]));
    let subnet_prefix: String = first.subnet.split('.').take(3).collect::<Vec<_>>().join(".");
    assert!(address.starts_with(&subnet_prefix), "{address} is not in {}", first.subnet);
    drop(second);
}

/// A directory of stand-ins for `ip`, `iptables`, `iptables-restore`,
/// `iptables-save` and `nsenter` that log each call to `log` and then run
/// the real program: put first in PATH, it shows which processes a command starts.
fn process_spy(dir: &Path, log: &Path) {
    for name in ["ip", "iptables", "iptables-save", "iptables-restore", "nsenter"] {
        let real = stdout(&testkit::run(
            std::process::Command::new("sh").args(["-c", &format!("command -v {name}")]),
        ));
        let script =
            format!("#!/bin/sh\necho \"{name} $*\" >> {}\nexec {real} \"$@\"\n", log.display());
        let path = dir.join(name);
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
}

#[test]
fn a_bridged_run_starts_no_process_and_a_published_port_one_per_change() {
    if !require_root("a_bridged_run_starts_no_process_and_a_published_port_one_per_change") {
        return;
    }
    let spy = testkit::temp_dir();
    let log = spy.path().join("calls.log");
    process_spy(spy.path(), &log);
    let path = format!("{}:{}", spy.path().display(), std::env::var("PATH").unwrap_or_default());
    // Through a daemon, the daemon (and its start helper) run the commands.
    let bin = env!("CARGO_BIN_EXE_mini-docker");
    let world =
        World::around(testkit::world::World::with_daemon_options(bin, &[], &[("PATH", &path)]));
    let run = |args: &[&str]| {
        let _ = std::fs::remove_file(&log);
        ok(&testkit::run(world.cmd(args).env("PATH", &path)));
        std::fs::read_to_string(&log).unwrap_or_default()
    };

    let first = run(&["run", "--rm", "busybox", "true"]);
    assert!(first.contains("iptables"), "the network's rules are made once: {first}");
    for made_by_netlink in ["ip link", "ip addr", "ip route add", "nsenter"] {
        assert!(!first.contains(made_by_netlink), "links are netlink's: {first}");
    }
    assert_eq!(run(&["run", "--rm", "busybox", "true"]), "", "no process for a second run");
    let port = free_port().to_string();
    let published = run(&["run", "--rm", "-p", &format!("127.0.0.1:{port}:80"), "busybox", "true"]);
    let calls: Vec<&str> = published.lines().collect();
    assert_eq!(calls, ["iptables-restore -w --noflush"; 2], "one batch in, one out: {published}");
    assert!(testkit::network::iptables_rules_mentioning(&format!("dport {port}")).is_empty());
}

#[test]
fn network_ls_and_inspect_take_a_go_template() {
    if !require_root("network_ls_and_inspect_take_a_go_template") {
        return;
    }
    let w = World::new();
    let (bridge, subnet) = w.network("mdtestfmt");
    let names = ok(&w.md(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]));
    assert_eq!(names, "mdtestfmt bridge\nhost host\nnone null", "{names}");
    let table = ok(&w.md(&["network", "ls", "--format", r"table {{.Name}}\t{{.Bridge}}"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines[0], "NAME        BRIDGE", "{table}");
    assert_eq!(lines[1], format!("mdtestfmt   {bridge}"), "{table}");
    let ids = ok(&w.md(&["network", "ls", "-q"]));
    assert_eq!(ids.lines().count(), 1, "only ours have ids: {ids}");
    let inspected = ok(&w.md(&[
        "network",
        "inspect",
        "-f",
        "{{.Name}} {{range .IPAM.Config}}{{.Subnet}} via {{.Gateway}}{{end}}",
        "mdtestfmt",
    ]));
    assert!(inspected.starts_with(&format!("mdtestfmt {subnet} via ")), "{inspected}");
    let id = w.start(&["--network", "mdtestfmt", "busybox", "sleep", "60"]);
    let address =
        ok(&w.md(&["inspect", "-f", "{{.NetworkSettings.Networks.mdtestfmt.IPAddress}}", &id]));
    assert_eq!(address, w.ip(&id, "mdtestfmt"));
    let bad = w.md(&["network", "ls", "--format", "{{.Name"]);
    refused(&bad, 1, "template parsing error");
}

/// The container's routes, one per line (`ip route` inside it).
fn routes(w: &World, container: &str) -> String {
    ok(&w.md(&["exec", container, "ip", "route"]))
}

/// The network names in `inspect`'s `NetworkSettings.Networks`.
fn networks_of(w: &World, container: &str) -> Vec<String> {
    let inspect = w.inspect(container);
    inspect["NetworkSettings"]["Networks"].as_object().unwrap().keys().cloned().collect()
}

fn prefix(subnet: &str) -> &str {
    &subnet[..subnet.rfind('.').unwrap()]
}

#[test]
fn a_running_container_connected_to_a_second_network_reaches_it_and_leaves_it() {
    if !require_root("a_running_container_connected_to_a_second_network_reaches_it_and_leaves_it") {
        return;
    }
    let w = World::new();
    let (_, front) = w.network("mdtestfront");
    let (_, back) = w.network("mdtestback");
    let web = w.start(&["--name", "web", "--network", "mdtestfront", "busybox", "sleep", "60"]);
    w.start(&["--name", "db", "--network", "mdtestback", "busybox", "sleep", "60"]);
    let db = w.ip("db", "mdtestback");
    let across = w.md(&["exec", "web", "ping", "-c", "1", "-W", "1", &db]);
    assert!(!across.status.success(), "web reached db before it was connected");
    assert_eq!(ok(&w.md(&["network", "connect", "mdtestback", "web"])), "");
    assert_eq!(networks_of(&w, "web"), ["mdtestback", "mdtestfront"]);
    let web_back = w.ip("web", "mdtestback");
    assert!(web_back.starts_with(prefix(&back)), "{web_back} not in {back}");
    let eth1 = ok(&w.md(&["exec", "web", "ip", "-o", "-4", "addr", "show", "eth1"]));
    assert!(eth1.contains(&format!("{web_back}/24")), "{eth1}");
    // Its MAC address is made from its IP, as Docker's: 02:42 and the four bytes.
    let octets: Vec<String> =
        web_back.split('.').map(|o| format!("{:02x}", o.parse::<u8>().unwrap())).collect();
    let mac = format!("02:42:{}", octets.join(":"));
    assert_eq!(ok(&w.md(&["exec", "web", "cat", "/sys/class/net/eth1/address"])), mac);
    let listed = &w.inspect("web")["NetworkSettings"]["Networks"]["mdtestback"]["MacAddress"];
    assert_eq!(listed, &serde_json::json!(mac));
    // No second default route: the gateway stays with the first network.
    let table = routes(&w, "web");
    assert_eq!(table.matches("default").count(), 1, "{table}");
    assert!(table.contains(&format!("default via {}.1 dev eth0", prefix(&front))), "{table}");
    ok(&w.md(&["exec", "web", "ping", "-c", "1", "-W", "3", &db]));
    // Both learnt the other's name on the network they now share.
    ok(&w.md(&["exec", "web", "ping", "-c", "1", "-W", "3", "db"]));
    ok(&w.md(&["exec", "db", "ping", "-c", "1", "-W", "3", "web"]));
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&w.md(&["network", "inspect", "mdtestback"]))).unwrap();
    assert_eq!(listed[0]["Containers"][&web]["Name"], "web", "{listed}");
    // Twice, or with what is not there: moby's errors.
    let twice = w.md(&["network", "connect", "mdtestback", "web"]);
    refused(&twice, 1, "endpoint with name web already exists in network mdtestback");
    refused(&w.md(&["network", "connect", "nosuch", "web"]), 1, "network nosuch not found");
    refused(&w.md(&["network", "connect", "mdtestback", "nosuch"]), 1, "No such container: nosuch");
    refused(&w.md(&["network", "connect", "host", "web"]), 1, "connected to host network");
    let alias = w.md(&["network", "connect", "--alias", "www", "bridge", "db"]);
    refused(&alias, 1, "network-scoped alias is supported only for containers in user defined");
    let ip = w.md(&["network", "connect", "--ip", "10.1.2.3", "mdtestfront", "db"]);
    refused(&ip, 1, "network connect --ip is not supported here");
    // Disconnected: the interface, its address and its veth are gone.
    assert_eq!(ok(&w.md(&["network", "disconnect", "mdtestback", "web"])), "");
    assert!(!w.md(&["exec", "web", "ip", "link", "show", "eth1"]).status.success());
    let gone = w.md(&["exec", "web", "ping", "-c", "1", "-W", "1", &db]);
    assert!(!gone.status.success(), "web still reaches db");
    assert_eq!(networks_of(&w, "web"), ["mdtestfront"]);
    assert!(!Path::new("/sys/class/net").join(format!("md1{}", &web[..11])).exists());
    assert_eq!(w.leases().len(), 2, "{:?}", w.leases());
    let again = w.md(&["network", "disconnect", "mdtestback", "web"]);
    refused(&again, 1, &format!("container {web} is not connected to network mdtestback"));
    // Back with an alias: another name for it on that network.
    ok(&w.md(&["network", "connect", "--alias", "www", "mdtestback", "web"]));
    ok(&w.md(&["exec", "db", "ping", "-c", "1", "-W", "3", "www"]));
    let aliases = &w.inspect("web")["NetworkSettings"]["Networks"]["mdtestback"]["Aliases"];
    assert_eq!(aliases, &serde_json::json!(["www"]));
    // rm takes the rest: the World's drop checks no veth, rule or lease is left.
    ok(&w.md(&["rm", "-f", "web", "db"]));
    assert!(w.leases().is_empty(), "{:?}", w.leases());
}

#[test]
fn a_created_container_joins_its_connected_networks_when_it_starts() {
    if !require_root("a_created_container_joins_its_connected_networks_when_it_starts") {
        return;
    }
    let w = World::new();
    let (_, front) = w.network("mdtestfront");
    let (_, back) = w.network("mdtestback");
    let id = ok(&w.md(&[
        "create",
        "--name",
        "app",
        "--network",
        "mdtestfront",
        "busybox",
        "sleep",
        "60",
    ]));
    w.ids.lock().unwrap().push(id.clone());
    ok(&w.md(&["network", "connect", "mdtestback", "app"]));
    assert_eq!(networks_of(&w, "app"), ["mdtestback", "mdtestfront"]);
    assert_eq!(w.ip("app", "mdtestback"), "", "an address before the start");
    ok(&w.md(&["start", "app"]));
    assert!(w.ip("app", "mdtestfront").starts_with(prefix(&front)));
    let on_back = w.ip("app", "mdtestback");
    let eth1 = ok(&w.md(&["exec", "app", "ip", "-o", "-4", "addr", "show", "eth1"]));
    assert!(on_back.starts_with(prefix(&back)) && eth1.contains(&on_back), "{eth1}");
    let table = routes(&w, "app");
    assert!(table.contains(&format!("default via {}.1 dev eth0", prefix(&front))), "{table}");
    // Off the network that had the default route: the next one takes it over.
    ok(&w.md(&["network", "disconnect", "mdtestfront", "app"]));
    let table = routes(&w, "app");
    assert!(table.contains(&format!("default via {}.1 dev eth1", prefix(&back))), "{table}");
    // Recorded: the next start has only that network, as eth0.
    ok(&w.md(&["stop", "-t", "1", "app"]));
    assert_eq!(networks_of(&w, "app"), ["mdtestback"]);
    assert!(w.leases().is_empty(), "a stopped container holds {:?}", w.leases());
    ok(&w.md(&["start", "app"]));
    let eth0 = ok(&w.md(&["exec", "app", "ip", "-o", "-4", "addr", "show", "eth0"]));
    assert!(eth0.contains(&w.ip("app", "mdtestback")), "{eth0}");
    // A stopped container's networks change in its settings alone.
    ok(&w.md(&["stop", "-t", "1", "app"]));
    ok(&w.md(&["network", "disconnect", "mdtestback", "app"]));
    assert_eq!(networks_of(&w, "app"), Vec::<String>::new());
    ok(&w.md(&["rm", "app"]));
}

#[test]
fn a_container_runs_on_two_networks_with_an_alias() {
    if !require_root("a_container_runs_on_two_networks_with_an_alias") {
        return;
    }
    let w = World::new();
    let (_, front) = w.network("mdtestfront");
    let (_, back) = w.network("mdtestback");
    let both = ["--network", "mdtestfront", "--network", "mdtestback", "--network-alias", "api"];
    w.start(&[&["--name", "both"][..], &both, &["busybox", "sleep", "60"]].concat());
    w.start(&["--name", "peer", "--network", "mdtestfront", "busybox", "sleep", "60"]);
    assert_eq!(networks_of(&w, "both"), ["mdtestback", "mdtestfront"]);
    let eth0 = ok(&w.md(&["exec", "both", "ip", "-o", "-4", "addr", "show", "eth0"]));
    let eth1 = ok(&w.md(&["exec", "both", "ip", "-o", "-4", "addr", "show", "eth1"]));
    assert!(eth0.contains(&format!(" {}.", prefix(&front))), "{eth0}");
    assert!(eth1.contains(&format!(" {}.", prefix(&back))), "{eth1}");
    // The alias is a name on the first network.
    ok(&w.md(&["exec", "peer", "ping", "-c", "1", "-W", "3", "api"]));
    let none =
        w.md(&["run", "--rm", "--network", "none", "--network", "mdtestback", "busybox", "true"]);
    refused(&none, 125, "cannot attach both user-defined and non-user-defined network-modes");
    let aliased = w.md(&["run", "--rm", "--network-alias", "x", "busybox", "true"]);
    refused(&aliased, 125, "alias is supported only for containers in user defined networks");
}
