//! Chapter 10's verbs in `mini-docker`, on the composed engine (networks,
//! volumes and walls plugged in): diff, commit, history, export, save, and
//! the saved image run again in another state root.

use std::path::Path;
use std::process::Command;

use testkit::registry::Registry;
use testkit::world::{ok, World};
use testkit::{require_root, run, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

#[test]
fn a_container_becomes_an_image_that_runs_elsewhere() {
    if !require_root("a_container_becomes_an_image_that_runs_elsewhere")
        || !testkit::images::tools_available("a_container_becomes_an_image_that_runs_elsewhere")
    {
        return;
    }
    let w = World::new(BIN);
    ok(&w.md(&[
        "run",
        "--name",
        "maker",
        "busybox",
        "sh",
        "-c",
        "echo made > /made; rm /etc/motd",
    ]));
    let diff = ok(&w.md(&["diff", "maker"]));
    assert_eq!(diff.lines().collect::<Vec<_>>(), ["C /etc", "D /etc/motd", "A /made"]);
    let id = ok(&w.md(&["commit", "-m", "made", "-c", "CMD cat /made", "maker", "mdtest/made:1"]));
    assert!(id.starts_with("sha256:"), "{id}");
    let history = ok(&w.md(&["history", "mdtest/made:1"]));
    assert!(history.lines().nth(1).is_some_and(|l| l.ends_with("made")), "{history}");
    let export = w.root.path().join("export.tar");
    ok(&w.md(&["export", "-o", export.to_str().unwrap(), "maker"]));
    let names = ok(&run(Command::new("tar").arg("-tf").arg(&export)));
    assert!(names.lines().any(|n| n == "made") && !names.lines().any(|n| n == "etc/motd"));
    for verb in [&["diff", "nosuch"][..], &["export", "nosuch"], &["commit", "nosuch"]] {
        let out = w.md(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    }

    let saved = w.root.path().join("made.tar");
    ok(&w.md(&["save", "-o", saved.to_str().unwrap(), "mdtest/made:1"]));
    let elsewhere = World::empty(BIN);
    let loaded = elsewhere.md(&["load", "-i", saved.to_str().unwrap()]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert_eq!(ok(&elsewhere.md(&["run", "--rm", "mdtest/made:1"])), "made");
}

/// The real `docker` CLI against the world's mini-dockerd, with Docker's
/// config (and so its logins) in `config`.
fn docker(w: &World, config: &Path, args: &[&str]) -> std::process::Output {
    let socket = w.socket().expect("the world has a daemon");
    run(Command::new("docker")
        .arg("-H")
        .arg(format!("unix://{}", socket.display()))
        .args(args)
        .env("DOCKER_CONFIG", config)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_API_VERSION"))
}

/// The real `docker` CLI against mini-dockerd: `diff`, `commit`, `export`
/// through chapter 10's routes, and moby's 404 for an unknown container.
#[test]
fn docker_cli_diff_commit_export() {
    let test = "docker_cli_diff_commit_export";
    if !require_root(test) || !testkit::require_program(test, "docker", "docker.io") {
        return;
    }
    let w = World::with_daemon(BIN);
    let config = w.root.path().join("docker-config");
    let docker = |args: &[&str]| docker(&w, &config, args);
    ok(&w.md(&[
        "run",
        "--name",
        "maker",
        "busybox",
        "sh",
        "-c",
        "echo made > /made; rm /etc/motd",
    ]));
    let diff = ok(&docker(&["diff", "maker"]));
    assert_eq!(diff.lines().collect::<Vec<_>>(), ["C /etc", "D /etc/motd", "A /made"]);
    let id =
        ok(&docker(&["commit", "-m", "made", "-c", "CMD cat /made", "maker", "mdtest/made:1"]));
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    let cmd = ok(&docker(&["image", "inspect", "-f", "{{json .Config.Cmd}}", "mdtest/made:1"]));
    assert_eq!(cmd, r#"["/bin/sh","-c","cat /made"]"#);
    let history = ok(&docker(&["history", "mdtest/made:1"]));
    assert!(history.lines().nth(1).is_some_and(|l| l.ends_with("made")), "{history}");
    let export = w.root.path().join("export.tar");
    ok(&docker(&["export", "-o", export.to_str().unwrap(), "maker"]));
    let names = ok(&run(Command::new("tar").arg("-tf").arg(&export)));
    assert!(names.lines().any(|n| n == "made") && !names.lines().any(|n| n == "etc/motd"));
    for verb in [&["diff", "nosuch"][..], &["export", "nosuch"], &["commit", "nosuch"]] {
        let out = docker(verb);
        assert_eq!(out.status.code(), Some(1), "{verb:?}");
        assert!(stderr(&out).contains("No such container: nosuch"), "{}", stderr(&out));
    }
}

const USER: &str = "mdtest";
const PASSWORD: &str = "s3cret-push";

/// A `config.json` (Docker's, as `DOCKER_CONFIG` names it) with a login
/// for `host`: the client's credentials, sent to a daemon in `X-Registry-Auth`.
fn docker_config(w: &World, name: &str, host: &str, password: &str) -> std::path::PathBuf {
    let dir = w.root.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let auths =
        serde_json::json!({ "auths": { host: { "username": USER, "password": password } } });
    std::fs::write(dir.join("config.json"), auths.to_string()).unwrap();
    dir
}

fn skopeo(args: &[&str]) -> std::process::Output {
    run(Command::new("skopeo").arg("--insecure-policy").args(args))
}

/// What tools that share no code with ours read back from the registry:
/// the manifest's digest (`skopeo inspect`), and the files of the image
/// (`skopeo copy` to an OCI layout, `umoci unpack`): `/made`'s content.
fn read_back(registry: &Registry, name: &str) -> (String, String) {
    let creds = format!("{USER}:{PASSWORD}");
    let image = format!("docker://{}/{name}", registry.host());
    let inspect = ok(&skopeo(&["inspect", "--tls-verify=false", "--creds", &creds, &image]));
    let digest = serde_json::from_str::<serde_json::Value>(&inspect).unwrap()["Digest"]
        .as_str()
        .unwrap()
        .to_string();
    let work = testkit::temp_dir();
    let layout = format!("oci:{}:img", work.path().join("oci").display());
    ok(&skopeo(&[
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &image,
        &layout,
    ]));
    let bundle = work.path().join("bundle");
    let image = format!("{}:img", work.path().join("oci").display());
    ok(&run(Command::new("umoci").args(["unpack", "--image", &image]).arg(&bundle)));
    let made = std::fs::read_to_string(bundle.join("rootfs/made")).unwrap_or_default();
    (digest, made)
}

fn ready_to_push(test: &str) -> bool {
    require_root(test)
        && testkit::registry::available(test)
        && testkit::images::tools_available(test)
}

/// `mini-docker push` — in this process, or (`MINI_DOCKER_TEST_MODE=daemon`)
/// through mini-dockerd's `POST /images/{name}/push` with the client's
/// credentials in `X-Registry-Auth` — read back by skopeo and umoci.
#[test]
fn push_with_the_clients_credentials_is_read_back_by_skopeo_and_umoci() {
    let test = "push_with_the_clients_credentials_is_read_back_by_skopeo_and_umoci";
    if !ready_to_push(test) {
        return;
    }
    let w = World::new(BIN);
    let registry = Registry::start_with_basic_auth(USER, PASSWORD);
    let host = registry.host();
    ok(&w.md(&["run", "--name", "maker", "busybox", "sh", "-c", "echo made > /made"]));
    let name = format!("{host}/mdtest/pushed:1");
    ok(&w.md(&["commit", "maker", &name]));
    let login = docker_config(&w, "client-config", &host, PASSWORD);
    let push = |name: &str, config: &Path| run(w.cmd(&["push", name]).env("DOCKER_CONFIG", config));
    let lines: Vec<String> = ok(&push(&name, &login)).lines().map(str::to_string).collect();
    assert_eq!(lines[0], format!("The push refers to repository [{host}/mdtest/pushed]"));
    assert!(lines.iter().filter(|l| l.ends_with(": Pushed")).count() >= 2, "{lines:?}");
    let last = lines.last().unwrap();
    assert!(last.starts_with("1: digest: sha256:") && last.contains(" size: "), "{last}");
    let (digest, made) = read_back(&registry, "mdtest/pushed:1");
    assert_eq!(last.split(' ').nth(2), Some(digest.as_str()), "{last}");
    assert_eq!(made, "made\n");
    let again = ok(&push(&name, &login));
    assert!(again.contains(": Layer already exists"), "{again}");

    if w.through_daemon() {
        let out = w.md(&["push", "--insecure-registry", &host, &name]);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).contains("--insecure-registry is a daemon setting"),
            "{}",
            stderr(&out)
        );
    }

    // No tag: Docker's default, then the one line of a tag not here.
    let out = push(&format!("{host}/mdtest/pushed"), &login);
    assert!(stdout(&out).starts_with("Using default tag: latest\n"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(1));
    let line = stderr(&out);
    assert!(line.contains("An image does not exist locally with the tag"), "{line}");

    // Wrong credentials: one line, exit 1, no image in the registry.
    let wrong = docker_config(&w, "wrong-config", &host, "not-the-password");
    ok(&w.md(&["tag", &name, &format!("{host}/mdtest/denied:1")]));
    let out = push(&format!("{host}/mdtest/denied:1"), &wrong);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let line = stderr(&out);
    assert_eq!(line.lines().count(), 1, "one line: {line}");
    assert!(line.contains("unauthorized"), "{line}");
    let image = format!("docker://{host}/mdtest/denied:1");
    let creds = format!("{USER}:{PASSWORD}");
    let denied = skopeo(&["inspect", "--tls-verify=false", "--creds", &creds, &image]);
    assert!(!denied.status.success(), "nothing was pushed: {}", stdout(&denied));
}

/// The real `docker` CLI's `push` against mini-dockerd, with its login in
/// `X-Registry-Auth`; a refused push is its one error line and exit 1.
#[test]
fn docker_cli_push_through_the_daemon() {
    let test = "docker_cli_push_through_the_daemon";
    if !ready_to_push(test) || !testkit::require_program(test, "docker", "docker.io") {
        return;
    }
    let w = World::with_daemon(BIN);
    let registry = Registry::start_with_basic_auth(USER, PASSWORD);
    let host = registry.host();
    let docker = |config: &Path, args: &[&str]| docker(&w, config, args);
    let login = docker_config(&w, "docker-config", &host, PASSWORD);
    ok(&docker(&login, &["run", "--name", "maker", "busybox", "sh", "-c", "echo made > /made"]));
    let name = format!("{host}/mdtest/docker:2");
    ok(&docker(&login, &["commit", "maker", &name]));
    let out = ok(&docker(&login, &["push", &name]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("The push refers to repository [{host}/mdtest/docker]"));
    assert!(lines.iter().any(|l| l.ends_with(": Preparing")), "{out}");
    assert!(lines.iter().filter(|l| l.ends_with(": Pushed")).count() >= 2, "{out}");
    let last = lines.last().unwrap();
    let (digest, made) = read_back(&registry, "mdtest/docker:2");
    assert_eq!(*last, format!("2: digest: {digest} size: {}", last.rsplit(' ').next().unwrap()));
    assert_eq!(made, "made\n");

    let wrong = docker_config(&w, "wrong-config", &host, "not-the-password");
    ok(&docker(&login, &["tag", &name, &format!("{host}/mdtest/refused:1")]));
    let out = docker(&wrong, &["push", &format!("{host}/mdtest/refused:1")]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("unauthorized"), "{}", stderr(&out));
    let nosuch = docker(&login, &["push", &format!("{host}/mdtest/nosuch:1")]);
    assert_eq!(nosuch.status.code(), Some(1));
    assert!(
        stderr(&nosuch).contains("An image does not exist locally with the tag"),
        "{}",
        stderr(&nosuch)
    );
}

/// docker-py's `container.commit(conf=…, changes=…)`: `POST /commit` with a
/// body, the changes applied to it, the result merged over the container's
/// config as dockerd does.
const COMMIT_PY: &str = r#"
import sys, docker
c = docker.DockerClient(base_url="unix://" + sys.argv[1])
made = c.containers.get("maker")
conf = {"Cmd": ["cat", "/made"], "Env": ["A=1"], "Labels": {"k": "v"},
        "ExposedPorts": {"8080/tcp": {}}, "WorkingDir": "/tmp", "User": "1000",
        "Entrypoint": None, "Hostname": "not-an-image-field"}
image = made.commit(repository="mdtest/conf", tag="1", conf=conf, changes=["ENV B=2"])
print(image.id)
"#;

#[test]
fn commit_merges_a_body_config_and_changes_as_dockerd() {
    let test = "commit_merges_a_body_config_and_changes_as_dockerd";
    if !require_root(test)
        || !testkit::require_program(test, "python3", "python3")
        || !testkit::require_program(test, "docker", "docker.io")
    {
        return;
    }
    if !run(Command::new("python3").args(["-c", "import docker"])).status.success() {
        assert!(!testkit::in_ci(), "docker-py is missing: run scripts/install-deps.sh");
        eprintln!("SKIP {test}: no docker-py (pip install docker)");
        return;
    }
    let w = World::with_daemon(BIN);
    let socket = w.socket().expect("a daemon").display().to_string();
    ok(&w.md(&[
        "run",
        "--name",
        "maker",
        "-e",
        "FROM_RUN=x",
        "busybox",
        "sh",
        "-c",
        "echo made > /made",
    ]));
    let id = ok(&run(Command::new("python3").args(["-c", COMMIT_PY, &socket])));
    assert!(id.starts_with("sha256:"), "{id}");
    let config = |image: &str| -> serde_json::Value {
        let all = ok(&w.md(&["inspect", image]));
        serde_json::from_str::<serde_json::Value>(&all).unwrap()[0]["Config"].clone()
    };
    let conf = config("mdtest/conf:1");
    assert_eq!(conf["Cmd"], serde_json::json!(["cat", "/made"]));
    let env: Vec<&str> =
        conf["Env"].as_array().unwrap().iter().filter_map(|e| e.as_str()).collect();
    assert_eq!(&env[..2], ["A=1", "B=2"], "the body's, then the change: {env:?}");
    assert!(env.iter().any(|e| e.starts_with("PATH=")) && env.contains(&"FROM_RUN=x"), "{env:?}");
    assert_eq!(conf["Labels"]["k"], "v");
    assert_eq!(conf["ExposedPorts"], serde_json::json!({ "8080/tcp": {} }));
    assert_eq!((conf["WorkingDir"].as_str(), conf["User"].as_str()), (Some("/tmp"), Some("1000")));
    assert!(conf.get("Hostname").is_none(), "{conf}");
    assert_eq!(ok(&w.md(&["run", "--rm", "mdtest/conf:1"])), "made");

    // The docker CLI sends no body: `--change`s over the container's config.
    let config_dir = w.root.path().join("docker-config");
    let change = ["--change", "ENV C=3", "--change", "EXPOSE 9090"];
    ok(&docker(
        &w,
        &config_dir,
        &[&["commit"], &change[..], &["maker", "mdtest/changed:1"]].concat(),
    ));
    let changed = config("mdtest/changed:1");
    let env: Vec<&str> =
        changed["Env"].as_array().unwrap().iter().filter_map(|e| e.as_str()).collect();
    assert_eq!(env.last(), Some(&"C=3"), "{env:?}");
    assert!(env.contains(&"FROM_RUN=x"), "{env:?}");
    assert_eq!(changed["ExposedPorts"], serde_json::json!({ "9090/tcp": {} }));
    assert_eq!(changed["Cmd"], serde_json::json!(["sh", "-c", "echo made > /made"]));
}
