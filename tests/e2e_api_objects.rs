//! Images, networks, volumes and `system df` through `mini-dockerd`, driven
//! by the real clients: the `docker` CLI (28) and docker-py. Each test has
//! a daemon of its own whatever `MINI_DOCKER_TEST_MODE` says.

use std::process::{Command, Output};

use testkit::world::{ok, World};
use testkit::{require_program, require_root, run, stderr, stdout};

fn ready(test: &str) -> bool {
    require_root(test) && require_program(test, "docker", "docker.io")
}

fn world() -> World {
    World::with_daemon(env!("CARGO_BIN_EXE_mini-docker"))
}

/// The `docker` CLI against this world's daemon, with no config of the user's.
fn docker(w: &World, args: &[&str]) -> Output {
    let socket = w.socket().expect("the world has a daemon");
    run(Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .args(args)
        .env("DOCKER_CONFIG", w.root.path().join("docker-config"))
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_API_VERSION"))
}

/// A failure: exit 1 and moby's one line, `Error response from daemon: …`.
fn refused(out: &Output, message: &str) {
    assert_eq!(out.status.code(), Some(1), "{}\n{}", stdout(out), stderr(out));
    let text = stderr(out);
    assert!(text.contains("Error response from daemon: ") && text.contains(message), "{text}");
}

#[test]
fn docker_cli_images_inspect_tag_history_save_rmi_load() {
    if !ready("docker_cli_images_inspect_tag_history_save_rmi_load") {
        return;
    }
    let w = world();
    let listed = ok(&docker(&w, &["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]));
    assert!(listed.starts_with("busybox:latest "), "{listed}");
    let id = ok(&docker(&w, &["image", "inspect", "-f", "{{.Id}}", "busybox"]));
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    assert_eq!(ok(&docker(&w, &["tag", "busybox", "mdtest/box:v1"])), "");
    let tags = ok(&docker(&w, &["image", "inspect", "-f", "{{json .RepoTags}}", "mdtest/box:v1"]));
    assert_eq!(tags, r#"["busybox:latest","mdtest/box:v1"]"#);
    let history = ok(&docker(&w, &["history", "--no-trunc", "mdtest/box:v1"]));
    assert!(history.starts_with("IMAGE") && history.contains(&id), "{history}");
    let saved = w.root.path().join("saved.tar");
    ok(&docker(&w, &["save", "-o", saved.to_str().unwrap(), "mdtest/box:v1"]));
    assert!(std::fs::metadata(&saved).unwrap().len() > 10_000);
    assert_eq!(ok(&docker(&w, &["rmi", "mdtest/box:v1"])), "Untagged: mdtest/box:v1");
    let loaded = ok(&docker(&w, &["load", "-i", saved.to_str().unwrap()]));
    assert_eq!(loaded, "Loaded image: mdtest/box:v1");
    // Bad input: an unknown image is a 404 with moby's message.
    refused(&docker(&w, &["rmi", "nosuch"]), "No such image: nosuch:latest");
    refused(&docker(&w, &["history", "nosuch:1"]), "No such image: nosuch:1");
    let nowhere = w.root.path().join("nosuch.tar");
    refused(
        &docker(&w, &["save", "-o", nowhere.to_str().unwrap(), "nosuch"]),
        "reference does not exist",
    );
    assert!(!nowhere.exists(), "a failed save left a file");
    // In use: a container's image is not deleted (409).
    ok(&w.md(&["create", "--name", "user", "busybox", "true"]));
    refused(&docker(&w, &["rmi", &id[7..19]]), "conflict: unable to");
    ok(&docker(&w, &["rm", "user"]));
    let removed = ok(&docker(&w, &["rmi", "-f", &id[7..19]]));
    assert!(removed.contains("Untagged: busybox:latest") && removed.contains(&id), "{removed}");
    assert_eq!(ok(&docker(&w, &["images", "-q"])), "");
}

#[test]
fn docker_cli_network_create_ls_inspect_rm() {
    if !ready("docker_cli_network_create_ls_inspect_rm") {
        return;
    }
    let w = world();
    let subnet = testkit::network::unique_subnet();
    let bridge = testkit::unique("br");
    let option = format!("com.docker.network.bridge.name={bridge}");
    let id =
        ok(&docker(&w, &["network", "create", "--subnet", &subnet, "-o", &option, "mdtestnet"]));
    assert_eq!(id.len(), 64, "{id}");
    let listed = ok(&docker(&w, &["network", "ls", "--format", "{{.Name}} {{.Driver}}"]));
    assert!(listed.lines().any(|l| l == "mdtestnet bridge"), "{listed}");
    assert!(listed.lines().any(|l| l == "host host") && listed.contains("none null"), "{listed}");
    let template = "{{range .IPAM.Config}}{{.Subnet}}{{end}} {{.Id}}";
    let inspected = ok(&docker(&w, &["network", "inspect", "-f", template, "mdtestnet"]));
    assert_eq!(inspected, format!("{subnet} {id}"));
    refused(&docker(&w, &["network", "create", "mdtestnet"]), "already exists");
    refused(&docker(&w, &["network", "inspect", "nosuch"]), "network nosuch not found");
    refused(&docker(&w, &["network", "rm", "nosuch"]), "network nosuch not found");
    refused(
        &docker(&w, &["network", "create", "-d", "overlay", "x"]),
        "plugin \"overlay\" not found",
    );
    docker_cli_network_connect_disconnect(&w, &subnet);
    assert_eq!(ok(&docker(&w, &["network", "rm", "mdtestnet"])), "mdtestnet");
    assert!(!ok(&docker(&w, &["network", "ls"])).contains("mdtestnet"));
    testkit::assert_no_leftovers(&bridge);
}

/// `docker network connect` and `disconnect` of a running container on
/// the default bridge: a second interface on `mdtestnet`, and back.
fn docker_cli_network_connect_disconnect(w: &World, subnet: &str) {
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let since = now().as_secs().to_string();
    ok(&docker(w, &["run", "-d", "--name", "user", "busybox", "sleep", "60"]));
    let connect = ["network", "connect", "--alias", "useralias", "mdtestnet", "user"];
    assert_eq!(ok(&docker(w, &connect)), "");
    let keys = "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}";
    assert_eq!(ok(&docker(w, &["inspect", "-f", keys, "user"])), "bridge mdtestnet");
    let members = "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}";
    let listed = ok(&docker(w, &["network", "inspect", "-f", members, "mdtestnet"]));
    let prefix = &subnet[..subnet.rfind('.').unwrap()];
    assert!(listed.starts_with(&format!("user {prefix}.")), "{listed}");
    let eth1 = ok(&docker(w, &["exec", "user", "ip", "-o", "-4", "addr", "show", "eth1"]));
    assert!(eth1.contains(&format!(" {prefix}.")), "{eth1}");
    ok(&docker(w, &["exec", "user", "ping", "-c", "1", "-W", "3", "useralias"]));
    let aliases = "{{json .NetworkSettings.Networks.mdtestnet.Aliases}}";
    assert_eq!(ok(&docker(w, &["inspect", "-f", aliases, "user"])), r#"["useralias"]"#);
    refused(
        &docker(w, &["network", "connect", "mdtestnet", "user"]),
        "endpoint with name user already exists in network mdtestnet",
    );
    refused(&docker(w, &["network", "connect", "nosuch", "user"]), "network nosuch not found");
    refused(
        &docker(w, &["network", "connect", "mdtestnet", "nosuch"]),
        "No such container: nosuch",
    );
    refused(
        &docker(w, &["network", "connect", "--ip", "10.1.2.3", "mdtestnet", "user"]),
        "network connect --ip is not supported here",
    );
    assert_eq!(ok(&docker(w, &["network", "disconnect", "mdtestnet", "user"])), "");
    assert_eq!(ok(&docker(w, &["inspect", "-f", keys, "user"])), "bridge");
    assert!(!docker(w, &["exec", "user", "ip", "link", "show", "eth1"]).status.success());
    refused(
        &docker(w, &["network", "disconnect", "mdtestnet", "user"]),
        "is not connected to network mdtestnet",
    );
    refused(
        &docker(w, &["network", "disconnect", "-f", "mdtestnet", "gone"]),
        "No such container: gone",
    );
    // The daemon told both as network events naming the container.
    let until = (now().as_secs() + 1).to_string();
    let format = "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}";
    let window = ["events", "--since", &since, "--until", &until, "--filter", "type=network"];
    let events = ok(&docker(w, &[&window[..], &["--format", format]].concat()));
    let id = ok(&docker(w, &["inspect", "-f", "{{.Id}}", "user"]));
    for action in ["connect", "disconnect"] {
        let line = format!("{action} mdtestnet {id}");
        assert!(events.lines().any(|l| l == line), "no {line:?} in {events}");
    }
    ok(&docker(w, &["rm", "-f", "user"]));
    // `--network` twice (API 1.44: two entries in EndpointsConfig), an alias on the first.
    let (bridge, subnet) = (testkit::unique("br"), testkit::network::unique_subnet());
    let option = format!("com.docker.network.bridge.name={bridge}");
    ok(&docker(w, &["network", "create", "--subnet", &subnet, "-o", &option, "mdtestnet2"]));
    let run = ["run", "-d", "--name", "multi", "--network", "mdtestnet", "--network-alias", "m"];
    ok(&docker(w, &[&run[..], &["--network", "mdtestnet2", "busybox", "sleep", "60"]].concat()));
    assert_eq!(ok(&docker(w, &["inspect", "-f", keys, "multi"])), "mdtestnet mdtestnet2");
    ok(&docker(w, &["exec", "multi", "ping", "-c", "1", "-W", "3", "m"]));
    ok(&docker(w, &["rm", "-f", "multi"]));
    ok(&docker(w, &["network", "rm", "mdtestnet2"]));
    testkit::assert_no_leftovers(&bridge);
}

#[test]
fn docker_cli_volume_create_ls_inspect_rm_prune_and_system_df() {
    if !ready("docker_cli_volume_create_ls_inspect_rm_prune_and_system_df") {
        return;
    }
    let w = world();
    assert_eq!(ok(&docker(&w, &["volume", "create", "--label", "a=b", "mdvol"])), "mdvol");
    assert!(ok(&docker(&w, &["volume", "ls", "-q"])).lines().any(|l| l == "mdvol"));
    let mountpoint =
        ok(&docker(&w, &["volume", "inspect", "-f", "{{.Mountpoint}} {{.Labels.a}}", "mdvol"]));
    assert_eq!(mountpoint, format!("{} b", w.root.path().join("volumes/mdvol/_data").display()));
    refused(&docker(&w, &["volume", "inspect", "nosuch"]), "get nosuch: no such volume");
    // In use: refused with 409, and nothing deleted.
    ok(&w.md(&["create", "--name", "user", "-v", "mdvol:/data", "-v", "/anon", "busybox", "true"]));
    refused(&docker(&w, &["volume", "rm", "mdvol"]), "volume is in use");
    let df = ok(&docker(&w, &["system", "df"]));
    let lines: Vec<&str> = df.lines().collect();
    assert!(lines[0].starts_with("TYPE") && lines[0].ends_with("RECLAIMABLE"), "{df}");
    assert!(
        lines[1].starts_with("Images") && lines[1].split_whitespace().nth(1) == Some("1"),
        "{df}"
    );
    assert!(lines[2].starts_with("Containers") && lines[2].split_whitespace().nth(1) == Some("1"));
    assert!(
        lines[3].starts_with("Local Volumes") && lines[3].split_whitespace().nth(2) == Some("2"),
        "{df}"
    );
    ok(&docker(&w, &["rm", "user"]));
    // Prune takes the anonymous volume only (API 1.42 and later); rm the named one.
    let pruned = ok(&docker(&w, &["volume", "prune", "-f"]));
    assert!(
        pruned.starts_with("Deleted Volumes:\n") && pruned.contains("Total reclaimed space"),
        "{pruned}"
    );
    assert_eq!(ok(&docker(&w, &["volume", "ls", "-q"])), "mdvol");
    assert_eq!(ok(&docker(&w, &["volume", "rm", "mdvol"])), "mdvol");
    assert_eq!(ok(&docker(&w, &["volume", "ls", "-q"])), "");
}

const DOCKER_PY: &str = r#"
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
subnet = sys.argv[2]
assert any("busybox:latest" in i.tags for i in c.images.list()), c.images.list()
image = c.images.get("busybox")
assert image.tag("mdtest/py", "v1")
assert "mdtest/py:v1" in c.images.get("mdtest/py:v1").tags
assert image.history()[0]["Id"] == image.id
tarball = b"".join(c.api.get_image("mdtest/py:v1"))
c.images.remove("mdtest/py:v1")
loaded = [sorted(i.tags) for i in c.images.load(tarball)]
assert loaded == [["busybox:latest", "mdtest/py:v1"]], loaded
try:
    c.images.get("nosuch"); sys.exit("an unknown image was found")
except docker.errors.ImageNotFound as e:
    assert e.status_code == 404
pool = docker.types.IPAMPool(subnet=subnet)
net = c.networks.create("mdpynet", driver="bridge", ipam=docker.types.IPAMConfig(pool_configs=[pool]))
assert c.networks.get("mdpynet").attrs["IPAM"]["Config"][0]["Subnet"] == subnet
assert "mdpynet" in [n.name for n in c.networks.list()]
net.remove()
try:
    c.networks.get("mdpynet"); sys.exit("a removed network was found")
except docker.errors.NotFound as e:
    assert e.status_code == 404
volume = c.volumes.create("mdpyvol")
assert c.volumes.get("mdpyvol").attrs["Mountpoint"].endswith("/volumes/mdpyvol/_data")
user = c.containers.create("busybox", "true", volumes={"mdpyvol": {"bind": "/d", "mode": "rw"}})
try:
    volume.remove(); sys.exit("a volume in use was removed")
except docker.errors.APIError as e:
    assert e.status_code == 409, e
try:
    c.images.remove(image.id); sys.exit("an image in use was removed")
except docker.errors.APIError as e:
    assert e.status_code == 409 and "a container is using image" in str(e), e
user.remove()
try:
    c.volumes.get("nosuch"); sys.exit("an unknown volume was found")
except docker.errors.NotFound as e:
    assert e.status_code == 404 and "no such volume" in str(e), e
volume.remove()
assert c.volumes.list() == []
df = c.df()
assert [i["Id"] for i in df["Images"]] == [image.id] and df["LayersSize"] > 0, df
print("docker-py: ok")
"#;

#[test]
fn docker_py_images_networks_volumes_df() {
    if !require_root("docker_py_images_networks_volumes_df")
        || !require_program("docker_py_images_networks_volumes_df", "python3", "python3")
    {
        return;
    }
    let has_docker_py = run(Command::new("python3").args(["-c", "import docker"]));
    if !has_docker_py.status.success() {
        assert!(!testkit::in_ci(), "docker-py is missing: run scripts/install-deps.sh");
        eprintln!("SKIP docker_py_images_networks_volumes_df: no docker-py (pip install docker)");
        return;
    }
    let w = world();
    let socket = w.socket().unwrap().display().to_string();
    let subnet = testkit::network::unique_subnet();
    let out = run(Command::new("python3").args(["-c", DOCKER_PY, &socket, &subnet]));
    assert_eq!(ok(&out), "docker-py: ok");
}

/// mini-docker's own management forms, in both modes (in-process, and
/// through the world's daemon with `MINI_DOCKER_TEST_MODE=daemon`).
#[test]
fn mini_docker_image_and_system_verbs() {
    if !require_root("mini_docker_image_and_system_verbs") {
        return;
    }
    let w = World::new(env!("CARGO_BIN_EXE_mini-docker"));
    assert_eq!(
        ok(&w.md(&["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])),
        "busybox:latest"
    );
    ok(&w.md(&["image", "tag", "busybox", "mdtest/x:1"]));
    let id = ok(&w.md(&["image", "inspect", "-f", "{{.Id}}", "mdtest/x:1"]));
    assert!(ok(&w.md(&["image", "history", "mdtest/x:1"])).starts_with("IMAGE"));
    let saved = w.root.path().join("x.tar");
    ok(&w.md(&["image", "save", "-o", saved.to_str().unwrap(), "mdtest/x:1"]));
    assert_eq!(ok(&w.md(&["image", "rm", "mdtest/x:1"])), "Untagged: mdtest/x:1");
    let loaded = ok(&w.md(&["image", "load", "-i", saved.to_str().unwrap()]));
    assert_eq!(loaded, "Loaded image: mdtest/x:1");
    let missing = w.md(&["image", "rm", "nosuch"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "mini-docker: no such image: nosuch: No such image: nosuch:latest"
    );

    let container = ok(&w.md(&["create", "-v", "/anon", "busybox", "true"]));
    let df = ok(&w.md(&["system", "df"]));
    let cells = |kind: &str| -> Vec<String> {
        let line = df.lines().find(|l| l.starts_with(kind)).unwrap_or_else(|| panic!("{df}"));
        line[kind.len()..].split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(&cells("Images")[..2], ["1", "1"], "{df}");
    assert_eq!(&cells("Containers")[..2], ["1", "0"], "{df}");
    assert_eq!(&cells("Local Volumes")[..2], ["1", "1"], "{df}");
    let pruned = ok(&w.md(&["system", "prune", "-f", "--volumes"]));
    assert!(pruned.starts_with(&format!("Deleted Containers:\n{container}\n")), "{pruned}");
    assert!(pruned.contains("Deleted Volumes:\n") && pruned.contains("Total reclaimed space:"));
    assert_eq!(w.ids(), Vec::<String>::new());
    assert_eq!(ok(&w.md(&["volume", "ls", "-q"])), "");
    let images = ok(&w.md(&["image", "prune", "-a", "-f"]));
    assert!(images.starts_with("Deleted Images:\nuntagged: ") && images.contains(&id), "{images}");
    assert_eq!(ok(&w.md(&["images", "-q"])), "");
    assert!(ok(&w.md(&["system", "info"])).starts_with("Server:"));
    // `inspect` without a type: a container, else an image, a network, a volume.
    ok(&w.md(&["volume", "create", "mdtest-any"]));
    let mountpoint = ok(&w.md(&["inspect", "-f", "{{.Mountpoint}}", "mdtest-any"]));
    assert!(mountpoint.ends_with("/volumes/mdtest-any/_data"), "{mountpoint}");
    let nothing = w.md(&["inspect", "nosuch"]);
    assert_eq!(nothing.status.code(), Some(1));
    assert_eq!(stderr(&nothing), "mini-docker: No such object: nosuch");
    ok(&w.md(&["volume", "rm", "mdtest-any"]));
}
