//! Chapter 11 end to end: three nodes on one machine, each a `mini-dockerd`
//! in its own network namespace, with a veth to a test bridge and its own
//! address, state root, cgroup parent and socket, joined into one swarm
//! and driven by the real `docker` CLI. Traffic stays on that bridge (and
//! in the nodes' namespaces); nothing is left behind.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::{require_program, require_root, stderr, stdout};

const DAEMON: &str = env!("CARGO_BIN_EXE_mini-dockerd");
const CLI: &str = env!("CARGO_BIN_EXE_mini-docker");
const PORT: u16 = 8080;

/// One node: a namespace, its address on the test bridge, its daemon.
struct Node {
    name: String,
    netns: String,
    addr: String,
    root: tempfile::TempDir,
    cgroup_parent: String,
    bridge: String,
    subnet: String,
    daemon: Option<Child>,
}

/// Three nodes on a bridge of their own.
struct Cluster {
    bridge: String,
    nodes: Vec<Node>,
}

fn sh(cmd: &mut Command) -> Output {
    let out = testkit::run(cmd);
    assert!(out.status.success(), "{cmd:?} failed: {}", stderr(&out));
    out
}

fn ip(args: &[&str]) {
    sh(Command::new("ip").args(args));
}

impl Node {
    fn socket(&self) -> PathBuf {
        self.root.path().join("d.sock")
    }

    /// `docker -H unix://…` against this node.
    fn docker(&self, args: &[&str]) -> Output {
        let host = format!("unix://{}", self.socket().display());
        testkit::run(Command::new("docker").arg("-H").arg(host).args(args).stdin(Stdio::null()))
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} on {}: {}\n{}",
            self.name,
            stderr(&out),
            self.log()
        );
        stdout(&out)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.root.path().join("daemon.log")).unwrap_or_default()
    }

    /// The in-process CLI on this node's state root, inside its namespace.
    fn local(&self, args: &[&str]) -> Output {
        testkit::run(
            Command::new("nsenter")
                .arg(format!("--net=/run/netns/{}", self.netns))
                .arg(CLI)
                .arg("--root")
                .arg(self.root.path())
                .args(args)
                .env("MINI_DOCKER_CGROUP_PARENT", &self.cgroup_parent)
                .env("MINI_DOCKER_BRIDGE", &self.bridge)
                .env("MINI_DOCKER_SUBNET", &self.subnet),
        )
    }

    /// Start the daemon in the node's namespace (and a UTS namespace, so
    /// that `docker node ls` shows each node's own hostname).
    fn start(&mut self) {
        let log = std::fs::File::create(self.root.path().join("daemon.log")).unwrap();
        let child = Command::new("unshare")
            .args([
                "--uts",
                "sh",
                "-c",
                "hostname \"$NODE_NAME\" && exec nsenter --net=\"$NODE_NETNS\" \"$0\" \"$@\"",
            ])
            .arg(DAEMON)
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .arg("--data-root")
            .arg(self.root.path())
            .env("NODE_NAME", &self.name)
            .env("NODE_NETNS", format!("/run/netns/{}", self.netns))
            .env("MINI_DOCKER_CGROUP_PARENT", &self.cgroup_parent)
            .env("MINI_DOCKER_BRIDGE", &self.bridge)
            .env("MINI_DOCKER_SUBNET", &self.subnet)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting mini-dockerd");
        self.daemon = Some(child);
        wait_for(&format!("{}'s daemon to listen", self.name), || {
            std::os::unix::net::UnixStream::connect(self.socket()).is_ok()
        });
    }

    /// SIGTERM, as a service manager stops a daemon; its containers live on.
    fn stop(&mut self) {
        let Some(mut child) = self.daemon.take() else { return };
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.wait();
    }
}

impl Cluster {
    fn new() -> Cluster {
        let bridge = testkit::unique("br");
        let subnet = testkit::network::unique_subnet();
        let prefix = subnet.trim_end_matches(".0/24").to_string();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        let mut cluster = Cluster { bridge: bridge.clone(), nodes: Vec::new() };
        ip(&["addr", "add", &format!("{prefix}.1/24"), "dev", &bridge]);
        ip(&["link", "set", &bridge, "up"]);
        for n in 1..=3 {
            let netns = testkit::unique("ns");
            let veth = testkit::unique("v");
            ip(&["netns", "add", &netns]);
            let node = Node {
                name: format!("node{n}"),
                netns: netns.clone(),
                addr: format!("{prefix}.{}", 10 + n),
                root: testkit::temp_dir(),
                cgroup_parent: testkit::unique("cg"),
                bridge: testkit::unique("br"),
                subnet: testkit::network::unique_subnet(),
                daemon: None,
            };
            cluster.nodes.push(node);
            ip(&["link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &netns]);
            ip(&["link", "set", &veth, "master", &bridge, "up"]);
            ip(&[
                "-n",
                &netns,
                "addr",
                "add",
                &format!("{}/24", cluster.nodes[n - 1].addr),
                "dev",
                "eth0",
            ]);
            ip(&["-n", &netns, "link", "set", "eth0", "up"]);
            ip(&["-n", &netns, "link", "set", "lo", "up"]);
            let node = cluster.nodes.last_mut().unwrap();
            let tar = testkit::world::image_tar("busybox");
            let loaded = node.local(&["load", "-i", tar.to_str().unwrap()]);
            assert!(loaded.status.success(), "load: {}", stderr(&loaded));
            node.start();
        }
        cluster
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for node in &self.nodes {
                eprintln!("--- {}'s daemon log:\n{}", node.name, node.log());
            }
        }
        for node in &mut self.nodes {
            node.stop();
            let ids = stdout(&node.local(&["ps", "-a", "-q"]));
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                let mut rm = vec!["rm", "-f", "-v"];
                rm.extend(ids);
                node.local(&rm);
            }
            node.local(&["network", "prune", "-f"]);
            let _ = Command::new("ip").args(["netns", "del", &node.netns]).status();
            let _ = std::fs::remove_dir(Path::new("/sys/fs/cgroup").join(&node.cgroup_parent));
            for controller in std::fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
                let _ = std::fs::remove_dir(controller.path().join(&node.cgroup_parent));
            }
        }
        let _ = Command::new("ip").args(["link", "del", &self.bridge]).status();
        if !std::thread::panicking() {
            testkit::assert_no_leftovers(&self.bridge);
            for node in &self.nodes {
                testkit::assert_no_leftovers(&node.netns);
                testkit::assert_no_leftovers(&node.cgroup_parent);
                testkit::assert_no_leftovers(&node.bridge);
                testkit::assert_no_leftovers(&node.root.path().display().to_string());
            }
        }
    }
}

/// Poll `done` for up to 60 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One HTTP request to `addr:PORT`: the replica's answer (its hostname).
fn ask(addr: &str) -> Option<String> {
    let mut stream =
        TcpStream::connect_timeout(&format!("{addr}:{PORT}").parse().ok()?, Duration::from_secs(2))
            .ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(3))).ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer.lines().last()?.trim().to_string()).filter(|l| !l.is_empty())
}

/// The distinct replicas that answer `n` requests to one node's port.
fn replicas_answering(addr: &str, n: usize) -> std::collections::BTreeSet<String> {
    (0..n).filter_map(|_| ask(addr)).collect()
}

/// `service ls`'s REPLICAS column for web.
fn replicas(manager: &Node) -> String {
    manager
        .ok(&["service", "ls", "--filter", "name=web", "--format", "{{.Replicas}}"])
        .trim()
        .to_string()
}

/// The nodes of web's tasks that should run, and their current states.
fn running_tasks(manager: &Node) -> Vec<(String, String)> {
    let out = manager.ok(&[
        "service",
        "ps",
        "web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.Node}} {{.CurrentState}}",
    ]);
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(node, state)| (node.to_string(), state.to_string()))
        .collect()
}

fn preconditions(test: &str) -> bool {
    require_root(test)
        && require_program(test, "docker", "docker-ce-cli")
        && require_program(test, "unshare", "util-linux")
        && require_program(test, "nsenter", "util-linux")
        && testkit::images::tools_available(test)
}

#[test]
fn a_swarm_of_three_daemons_runs_scales_heals_and_updates_a_service() {
    if !preconditions("a_swarm_of_three_daemons_runs_scales_heals_and_updates_a_service") {
        return;
    }
    let mut cluster = Cluster::new();
    let (manager, n2, n3) = (&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]);

    // The swarm: init, a join token, two workers; what a worker may not do.
    let init = manager.ok(&[
        "swarm",
        "init",
        "--advertise-addr",
        &manager.addr,
        "--dispatcher-heartbeat",
        "1s",
    ]);
    assert!(init.contains("Swarm initialized: current node ("), "{init}");
    let token = manager.ok(&["swarm", "join-token", "-q", "worker"]).trim().to_string();
    assert!(token.starts_with("SWMTKN-1-"), "{token}");
    let remote = format!("{}:2377", manager.addr);
    let wrong = n2.docker(&["swarm", "join", "--token", "SWMTKN-1-nope-nope", &remote]);
    assert!(
        !wrong.status.success() && stderr(&wrong).contains("A valid join token is necessary"),
        "{}",
        stderr(&wrong)
    );
    for worker in [n2, n3] {
        let joined = worker.ok(&["swarm", "join", "--token", &token, &remote]);
        assert_eq!(joined.trim(), "This node joined a swarm as a worker.");
    }
    let twice = n2.docker(&["swarm", "join", "--token", &token, &remote]);
    assert!(stderr(&twice).contains("This node is already part of a swarm"), "{}", stderr(&twice));
    let refused = n2.docker(&["service", "ls"]);
    assert!(
        stderr(&refused).contains("Worker nodes can't be used to view or modify cluster state"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(
        manager
            .ok(&["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"])
            .trim(),
        "active true"
    );
    assert_eq!(
        n3.ok(&["info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"])
            .trim(),
        "active false"
    );
    let nodes = manager.ok(&["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]);
    let mut nodes: Vec<&str> = nodes.lines().collect();
    nodes.sort();
    assert_eq!(nodes, ["node1 Ready", "node2 Ready", "node3 Ready"]);

    // A service of three replicas, one per node, behind the routing mesh.
    let server = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www";
    let create = [
        "service",
        "create",
        "-d",
        "--name",
        "web",
        "--replicas",
        "3",
        "-p",
        "8080:80",
        "--stop-grace-period",
        "1s",
        "--restart-delay",
        "1s",
        "--no-resolve-image",
        "busybox",
        "sh",
        "-c",
        server,
    ];
    manager.ok(&create);
    wait_for("3/3 replicas", || replicas(manager) == "3/3");
    let mut spread: Vec<String> =
        running_tasks(manager).into_iter().map(|(node, _)| node).collect();
    spread.sort();
    assert_eq!(spread, ["node1", "node2", "node3"], "one replica per node");
    let taken = manager.docker(&create);
    assert!(
        stderr(&taken).contains("name conflicts with an existing object"),
        "{}",
        stderr(&taken)
    );
    wait_for("every replica answering on node2's port", || {
        replicas_answering(&n2.addr, 12).len() == 3
    });

    // A replica killed with SIGKILL is replaced.
    let victim = n3
        .ok(&["ps", "-q", "--filter", "label=com.docker.swarm.service.name=web"])
        .trim()
        .to_string();
    let pid: i32 =
        n3.ok(&["inspect", "--format", "{{.State.Pid}}", &victim]).trim().parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL)
        .unwrap();
    wait_for("the killed task to be seen as failed", || {
        manager
            .ok(&["service", "ps", "web", "--format", "{{.Error}}"])
            .contains("task: non-zero exit (137)")
    });
    wait_for("a replacement running", || {
        let tasks = running_tasks(manager);
        tasks.len() == 3 && tasks.iter().all(|(_, state)| state.starts_with("Running"))
    });

    // Scale up, and a missing service.
    manager.ok(&["service", "scale", "-d", "web=5"]);
    wait_for("5/5 replicas", || replicas(manager) == "5/5");
    let missing = manager.docker(&["service", "scale", "-d", "nothere=2"]);
    assert!(
        !missing.status.success() && stderr(&missing).contains("service nothere not found"),
        "{}",
        stderr(&missing)
    );

    // A rolling update, two slots at a time.
    manager.ok(&[
        "service",
        "update",
        "-d",
        "--env-add",
        "COLOR=blue",
        "--update-parallelism",
        "2",
        "--update-delay",
        "1s",
        "web",
    ]);
    wait_for("the update to complete", || {
        manager.ok(&["service", "inspect", "web", "--format", "{{.UpdateStatus.State}}"]).trim()
            == "completed"
    });
    wait_for("5/5 replicas after the update", || replicas(manager) == "5/5");
    let envs = manager.ok(&[
        "service",
        "ps",
        "web",
        "--filter",
        "desired-state=running",
        "--format",
        "{{.ID}}",
    ]);
    for task in envs.lines() {
        let env = manager.ok(&[
            "inspect",
            "--type",
            "task",
            "--format",
            "{{json .Spec.ContainerSpec.Env}}",
            task,
        ]);
        assert!(env.contains("COLOR=blue"), "task {task} not updated: {env}");
    }

    // A node whose daemon stops is marked down; its replicas come back elsewhere.
    cluster.nodes[2].stop();
    let manager = &cluster.nodes[0];
    wait_for("node3 down", || {
        manager.ok(&["node", "ls", "--format", "{{.Hostname}} {{.Status}}"]).contains("node3 Down")
    });
    wait_for("five replicas on node1 and node2", || {
        let tasks = running_tasks(manager);
        tasks.len() == 5
            && tasks.iter().all(|(node, state)| node != "node3" && state.starts_with("Running"))
    });
    wait_for("node1's port answering from the survivors", || {
        replicas_answering(&manager.addr, 15).len() == 5
    });

    // Scale down and remove: the containers go.
    manager.ok(&["service", "scale", "-d", "web=2"]);
    wait_for("2/2 replicas", || replicas(manager) == "2/2");
    manager.ok(&["service", "rm", "web"]);
    assert_eq!(manager.ok(&["service", "ls", "-q"]).trim(), "");
    wait_for("no task containers left", || {
        cluster.nodes[..2].iter().all(|n| n.ok(&["ps", "-a", "-q"]).trim().is_empty())
    });

    // mini-docker's own verbs, clients of the same API; the manager's
    // desired state survives its restart.
    md(
        &cluster.nodes[0],
        &[
            "service",
            "create",
            "-d",
            "--name",
            "hello",
            "--replicas",
            "2",
            "busybox",
            "sh",
            "-c",
            "echo hello from $(hostname); exec sleep 1000",
        ],
    );
    wait_for("hello 2/2 through mini-docker", || {
        md(&cluster.nodes[0], &["service", "ls"]).contains("2/2")
    });
    let nodes = md(&cluster.nodes[0], &["node", "ls"]);
    assert!(
        nodes.contains("node3") && nodes.contains("Down") && nodes.contains("Leader"),
        "{nodes}"
    );
    assert_eq!(
        md(&cluster.nodes[0], &["service", "ps", "hello"]).matches("Running").count(),
        4,
        "desired and current"
    );
    let logs = cluster.nodes[0].ok(&["service", "logs", "hello"]);
    assert_eq!(logs.matches("| hello from ").count(), 2, "{logs}");
    assert!(logs.contains("hello.1.") && logs.contains("hello.2."), "{logs}");
    cluster.nodes[0].stop();
    cluster.nodes[0].start();
    let manager = &cluster.nodes[0];
    wait_for("hello back after the manager's restart", || replicas_of(manager, "hello") == "2/2");
    md(&cluster.nodes[0], &["service", "scale", "-d", "hello=1"]);
    wait_for("hello 1/1", || replicas_of(&cluster.nodes[0], "hello") == "1/1");
    md(&cluster.nodes[0], &["service", "rm", "hello"]);
    let gone = cluster.nodes[0].docker(&["service", "inspect", "hello"]);
    assert!(stderr(&gone).contains("no such service: hello"), "{}", stderr(&gone));

    // An image no node can pull: each task is rejected with the reason, and
    // the service keeps trying (a registry on the node's own loopback, so
    // nothing leaves the namespace).
    let manager = &cluster.nodes[0];
    manager.ok(&[
        "service",
        "create",
        "-d",
        "--name",
        "bad",
        "--restart-delay",
        "1s",
        "--no-resolve-image",
        "127.0.0.1:1/nothere:latest",
    ]);
    wait_for("two rejected attempts", || {
        let ps = manager.ok(&[
            "service",
            "ps",
            "bad",
            "--no-trunc",
            "--format",
            "{{.CurrentState}}|{{.Error}}",
        ]);
        eprintln!("{ps}"); // shown if this never happens
        ps.lines().filter(|l| l.starts_with("Rejected") && l.contains("127.0.0.1:1")).count() >= 2
    });
    manager.ok(&["service", "rm", "bad"]);

    // Leaving: a worker leaves; the manager only with --force.
    assert_eq!(cluster.nodes[1].ok(&["swarm", "leave"]).trim(), "Node left the swarm.");
    let last = manager.docker(&["swarm", "leave"]);
    assert!(stderr(&last).contains("Use `--force` to ignore this message"), "{}", stderr(&last));
    manager.ok(&["swarm", "leave", "--force"]);
    assert_eq!(manager.ok(&["info", "--format", "{{.Swarm.LocalNodeState}}"]).trim(), "inactive");
}

/// `mini-docker -H unix://… ARGS` against `node`, which must succeed.
fn md(node: &Node, args: &[&str]) -> String {
    let host = format!("unix://{}", node.socket().display());
    let out = testkit::run(Command::new(CLI).arg("-H").arg(host).args(args).stdin(Stdio::null()));
    assert!(out.status.success(), "mini-docker {args:?}: {}", stderr(&out));
    stdout(&out)
}

fn replicas_of(manager: &Node, service: &str) -> String {
    let filter = format!("name={service}");
    manager
        .ok(&["service", "ls", "--filter", &filter, "--format", "{{.Replicas}}"])
        .trim()
        .to_string()
}
