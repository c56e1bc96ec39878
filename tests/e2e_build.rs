//! `mini-docker build`: the classic builder end to end — multi-stage,
//! the cache (every step reused on an unchanged context; a changed COPY
//! source rebuilds from its step on), build args, --target, the config
//! instructions, .dockerignore, ADD's archives, and bad input: one line
//! each, and nothing left behind.

use std::collections::HashSet;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use testkit::world::{ok, World};
use testkit::{require_root, stderr, stdout};

const BIN: &str = env!("CARGO_BIN_EXE_mini-docker");

fn ready(test: &str) -> bool {
    require_root(test) && testkit::images::tools_available(test)
}

/// A context directory with `files` (path, content) in the world's root.
fn context(w: &World, name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = w.root.path().join("contexts").join(name);
    for (path, content) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn build(w: &World, args: &[&str], dir: &Path) -> Output {
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    all.push(dir.to_str().unwrap());
    w.md(&all)
}

fn using_cache(out: &str) -> usize {
    out.lines().filter(|l| *l == " ---> Using cache").count()
}

/// The image config of `name`, from `inspect`.
fn config_of(w: &World, name: &str) -> Value {
    let text = ok(&w.md(&["inspect", name]));
    let all: Value = serde_json::from_str(&text).unwrap();
    all[0]["Config"].clone()
}

/// Every blob and unpacked layer in the store is some image's: a build
/// that failed left nothing of its own.
fn assert_store_is_clean(w: &World) {
    let root = w.root.path();
    let mut used = HashSet::new();
    for entry in std::fs::read_dir(root.join("images")).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name.len() != 69 {
            continue;
        }
        let record: Value = serde_json::from_slice(&std::fs::read(entry.path()).unwrap()).unwrap();
        for key in ["id", "manifest"] {
            used.insert(record[key].as_str().unwrap().trim_start_matches("sha256:").to_string());
        }
        for layer in record["layers"].as_array().unwrap() {
            used.insert(layer["blob"].as_str().unwrap().trim_start_matches("sha256:").to_string());
            used.insert(
                layer["diff_id"].as_str().unwrap().trim_start_matches("sha256:").to_string(),
            );
        }
    }
    for dir in ["blobs/sha256", "layers/sha256"] {
        for entry in std::fs::read_dir(root.join(dir)).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(used.contains(&name), "{dir}/{name} belongs to no image");
        }
    }
    let tmp: Vec<_> = std::fs::read_dir(root.join("tmp")).into_iter().flatten().flatten().collect();
    assert!(tmp.is_empty(), "temporary files left: {tmp:?}");
    assert_eq!(w.containers(), 0, "a build container was left behind");
}

const MULTI_STAGE: &str = r#"# A two-stage build
ARG BASE=busybox
FROM ${BASE} AS builder
ARG GREETING=hello
WORKDIR /src
COPY greeting.txt .
RUN echo "$GREETING from $(cat greeting.txt)" > out.txt \
 && echo built
FROM busybox
ENV APP=/app
COPY --from=builder /src/out.txt $APP/
LABEL purpose=test
CMD ["cat", "/app/out.txt"]
"#;

#[test]
fn multi_stage_build_then_the_cache_then_a_changed_source() {
    if !ready("multi_stage_build_then_the_cache_then_a_changed_source") {
        return;
    }
    let w = World::new(BIN);
    let dir = context(&w, "multi", &[("Dockerfile", MULTI_STAGE), ("greeting.txt", "world")]);
    let first = ok(&build(&w, &["-t", "mdtest/built:1"], &dir));
    assert!(first.contains("Step 1/11 : ARG BASE=busybox\n"), "{first}");
    assert!(first.contains("Step 6/11 : RUN echo \"$GREETING from $(cat greeting.txt)\" > out.txt  && echo built\n"), "{first}");
    assert!(first.contains(" ---> Running in ") && first.contains("\nbuilt\n"), "{first}");
    assert!(first.contains(" ---> Removed intermediate container "), "{first}");
    assert!(first.ends_with("Successfully tagged mdtest/built:1"), "{first}");
    assert_eq!(using_cache(&first), 0, "{first}");
    let id = first.lines().find_map(|l| l.strip_prefix("Successfully built ")).unwrap().to_string();
    assert_eq!(ok(&w.md(&["run", "--rm", "mdtest/built:1"])), "hello from world");
    let images = ok(&w.md(&["images", "--format", "{{.Repository}}"]));
    // Intermediate images are hidden; the first stage's last one is
    // dangling (no tag, no child), as with dockerd's classic builder.
    assert_eq!(images.lines().filter(|l| *l == "<none>").count(), 1, "{images}");
    let all = ok(&w.md(&["images", "-a", "--format", "{{.Repository}}"]));
    assert_eq!(
        all.lines().filter(|l| *l == "<none>").count(),
        7,
        "one per step but the last: {all}"
    );

    // Unchanged: every step after each FROM comes from the cache, same image.
    let again = ok(&build(&w, &["-t", "mdtest/built:1"], &dir));
    assert_eq!(using_cache(&again), 8, "{again}");
    assert!(!again.contains("Running in"), "{again}");
    assert!(again.contains(&format!("Successfully built {id}\n")), "{again}");

    // One COPY source changes: the steps before it are reused, not the rest.
    std::fs::write(dir.join("greeting.txt"), "changed").unwrap();
    let changed = ok(&build(&w, &["-t", "mdtest/built:1"], &dir));
    let steps: Vec<&str> = changed.split("Step ").skip(1).collect();
    let cached: Vec<bool> = steps.iter().map(|s| s.contains(" ---> Using cache")).collect();
    // ARG, FROM, ARG, WORKDIR, COPY, RUN | FROM, ENV, COPY --from, LABEL, CMD
    assert_eq!(
        cached,
        [false, false, true, true, false, false, false, true, false, false, false],
        "{changed}"
    );
    assert_eq!(ok(&w.md(&["run", "--rm", "mdtest/built:1"])), "hello from changed");
    let history = ok(&w.md(&["history", "mdtest/built:1"]));
    assert!(
        history.lines().nth(1).is_some_and(|l| l.contains("CMD [\"cat\" \"/app/out.txt\"]")),
        "{history}"
    );
    assert!(!history.contains("<missing>  ") || history.lines().count() > 6, "{history}");
    assert_store_is_clean(&w);
}

#[test]
fn build_args_target_and_no_cache() {
    if !ready("build_args_target_and_no_cache") {
        return;
    }
    let w = World::new(BIN);
    let dir = context(&w, "args", &[("Dockerfile", MULTI_STAGE), ("greeting.txt", "args")]);
    let out = ok(&build(
        &w,
        &[
            "--build-arg",
            "GREETING=bonjour",
            "--build-arg",
            "NOPE=1",
            "--target",
            "builder",
            "-t",
            "mdtest/stage:1",
        ],
        &dir,
    ));
    assert!(
        out.contains("Step 1/6 : ARG BASE=busybox\n"),
        "only the stages up to the target count: {out}"
    );
    assert!(!out.contains("FROM busybox\n"), "{out}");
    assert!(out.contains("[Warning] One or more build-args [NOPE] were not consumed\n"), "{out}");
    let made = ok(&w.md(&["run", "--rm", "mdtest/stage:1", "cat", "/src/out.txt"]));
    assert_eq!(made, "bonjour from args");
    // Another value of an ARG a RUN sees misses the cache from that RUN on.
    let other = ok(&build(&w, &["--build-arg", "GREETING=hallo", "--target", "builder"], &dir));
    assert_eq!(using_cache(&other), 3, "ARG, WORKDIR and COPY are the same: {other}");
    let none = ok(&build(
        &w,
        &["--no-cache", "--build-arg", "GREETING=hallo", "--target", "builder"],
        &dir,
    ));
    assert_eq!(using_cache(&none), 0, "{none}");
    let quiet =
        ok(&build(&w, &["-q", "--build-arg", "GREETING=hallo", "--target", "builder"], &dir));
    assert!(quiet.starts_with("sha256:") && quiet.lines().count() == 1, "{quiet}");
    assert_store_is_clean(&w);
}

#[test]
fn the_config_instructions_are_recorded() {
    if !ready("the_config_instructions_are_recorded") {
        return;
    }
    let w = World::new(BIN);
    let dockerfile = r#"# escape=`
FROM busybox
ENV NAME=world GREETING="hello ${NAME:-nobody}" `
    UNSET=${NOTHING:+set}
WORKDIR /srv
WORKDIR app
USER 1000:1000
EXPOSE 80 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGQUIT
LABEL org.example.name="a b" version=1
HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost || exit 1
SHELL ["/bin/sh", "-e", "-c"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/echo"]
CMD ["from", "cmd"]
"#;
    let dir = context(&w, "config", &[("Dockerfile", dockerfile)]);
    ok(&build(&w, &["-t", "mdtest/config:1"], &dir));
    let config = config_of(&w, "mdtest/config:1");
    let env: Vec<&str> =
        config["Env"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(env.contains(&"GREETING=hello nobody"), "ENV expands with the old values: {env:?}");
    assert!(env.contains(&"NAME=world") && env.contains(&"UNSET="), "{env:?}");
    assert_eq!(config["WorkingDir"], "/srv/app");
    assert_eq!(config["User"], "1000:1000");
    assert_eq!(config["ExposedPorts"], serde_json::json!({"53/udp": {}, "80/tcp": {}}));
    assert_eq!(config["Volumes"], serde_json::json!({"/data": {}}));
    assert_eq!(config["StopSignal"], "SIGQUIT");
    assert_eq!(config["Labels"]["org.example.name"], "a b");
    assert_eq!(
        config["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "wget -q localhost || exit 1"])
    );
    assert_eq!(config["Healthcheck"]["Interval"], 5_000_000_000u64);
    assert_eq!(config["Healthcheck"]["Retries"], 2);
    assert_eq!(config["Shell"], serde_json::json!(["/bin/sh", "-e", "-c"]));
    assert_eq!(config["OnBuild"], serde_json::json!(["RUN echo child"]));
    assert_eq!(config["Entrypoint"], serde_json::json!(["/bin/echo"]));
    assert_eq!(config["Cmd"], serde_json::json!(["from", "cmd"]));
    assert_eq!(ok(&w.md(&["run", "--rm", "--user", "0", "mdtest/config:1"])), "from cmd");

    // A child image runs the trigger right after its FROM.
    let child = context(&w, "child", &[("Dockerfile", "FROM mdtest/config:1\nUSER 0\n")]);
    let out = ok(&build(&w, &["-t", "mdtest/child:1"], &child));
    assert!(out.contains("# Executing 1 build trigger\n") && out.contains("\nchild\n"), "{out}");
    assert_eq!(
        config_of(&w, "mdtest/child:1")["OnBuild"],
        Value::Null,
        "triggers are not inherited"
    );
    assert_store_is_clean(&w);
}

#[test]
fn dockerignore_globs_chown_and_add_unpacks() {
    if !ready("dockerignore_globs_chown_and_add_unpacks") {
        return;
    }
    let w = World::new(BIN);
    let dir = context(
        &w,
        "files",
        &[
            ("Dockerfile", "FROM busybox\nCOPY . /ctx/\nCOPY src/*.txt /globbed/\nCOPY --chown=1000:100 src/a.txt /owned\nADD site.tar /unpacked/\nRUN ls -R /ctx /globbed /unpacked > /listing && stat -c %u:%g /owned >> /listing\n"),
            (".dockerignore", "# secrets stay home\nsecret.txt\n**/*.log\n!keep.log\n"),
            ("secret.txt", "s"),
            ("keep.log", "k"),
            ("src/a.txt", "a"),
            ("src/b.txt", "b"),
            ("src/c.md", "c"),
            ("src/debug.log", "d"),
        ],
    );
    let site = w.root.path().join("site");
    std::fs::create_dir_all(site.join("html")).unwrap();
    std::fs::write(site.join("html/index.html"), "<p>hi</p>").unwrap();
    let tar = std::process::Command::new("tar")
        .arg("-cf")
        .arg(dir.join("site.tar"))
        .arg("-C")
        .arg(&site)
        .arg("html")
        .status()
        .unwrap();
    assert!(tar.success());
    ok(&build(&w, &["-t", "mdtest/files:1"], &dir));
    let listing = ok(&w.md(&["run", "--rm", "mdtest/files:1", "cat", "/listing"]));
    assert!(listing.contains("keep.log") && !listing.contains("secret.txt"), "{listing}");
    assert!(!listing.contains("debug.log"), "{listing}");
    let globbed = listing.split("/globbed:\n").nth(1).unwrap().split("\n\n").next().unwrap();
    assert_eq!(globbed.split_whitespace().collect::<Vec<_>>(), ["a.txt", "b.txt"], "{listing}");
    assert!(listing.contains("/unpacked/html:\nindex.html"), "{listing}");
    assert!(listing.trim_end().ends_with("1000:100"), "{listing}");
    let page = ok(&w.md(&["run", "--rm", "mdtest/files:1", "cat", "/unpacked/html/index.html"]));
    assert_eq!(page, "<p>hi</p>");
    assert_store_is_clean(&w);
}

fn fails_with(
    w: &World,
    name: &str,
    files: &[(&str, &str)],
    args: &[&str],
    code: i32,
    wanted: &str,
) {
    let dir = context(w, name, files);
    let out = build(w, args, &dir);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{name}: {err}\n{}", stdout(&out));
    assert!(err.contains(wanted), "{name}: wanted {wanted:?} in {err:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line, not {err:?}");
    assert_eq!(w.containers(), 0, "{name} left a container");
}

#[test]
fn failing_steps_and_bad_input_say_one_line_and_leave_nothing() {
    if !ready("failing_steps_and_bad_input_say_one_line_and_leave_nothing") {
        return;
    }
    let w = World::new(BIN);
    let df = |text: &'static str| ("Dockerfile", text);
    fails_with(
        &w,
        "false",
        &[df("FROM busybox\nRUN echo before > /f\nRUN false\n")],
        &[],
        1,
        "The command '/bin/sh -c false' returned a non-zero code: 1",
    );
    fails_with(
        &w,
        "exit3",
        &[df("FROM busybox\nRUN [\"sh\", \"-c\", \"exit 3\"]\n")],
        &[],
        3,
        "The command 'sh -c exit 3' returned a non-zero code: 3",
    );
    fails_with(
        &w,
        "unknown",
        &[df("FROM busybox\nFOO bar\n")],
        &[],
        1,
        "dockerfile parse error on line 2: unknown instruction: FOO",
    );
    fails_with(
        &w,
        "shell",
        &[df("FROM busybox\nSHELL /bin/bash -c\n")],
        &[],
        1,
        "SHELL requires the arguments to be in JSON form",
    );
    fails_with(&w, "missing", &[df("FROM busybox\nCOPY missing.txt /\n")], &[], 1,
        "COPY failed: file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist");
    fails_with(
        &w,
        "outside",
        &[df("FROM busybox\nCOPY ../x /\n")],
        &[],
        1,
        "COPY failed: forbidden path outside the build context: ../x",
    );
    fails_with(
        &w,
        "from",
        &[df("FROM busybox\nCOPY --from=nope /a /\n")],
        &[],
        1,
        "invalid from flag value nope:",
    );
    fails_with(
        &w,
        "target",
        &[df("FROM busybox AS one\nRUN true\n")],
        &["--target", "two"],
        1,
        "target stage \"two\" could not be found",
    );
    fails_with(
        &w,
        "buildkit",
        &[df("FROM busybox\nRUN --mount=type=cache,target=/x true\n")],
        &[],
        1,
        "the --mount option requires BuildKit",
    );
    let dir = context(&w, "symlink", &[df("FROM busybox\nCOPY link /\n")]);
    std::os::unix::fs::symlink("/etc", dir.join("link")).unwrap();
    let out = build(&w, &[], &dir);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("COPY failed: forbidden path outside the build context: link"),
        "{}",
        stderr(&out)
    );
    assert_store_is_clean(&w);
}

/// `DOCKER_BUILDKIT=0 docker build` against mini-dockerd: `POST /build`
/// with the context as a tar and the classic builder's JSON stream. The
/// route is the daemon's, so this runs with `MINI_DOCKER_TEST_MODE=daemon`
/// (in-process there is no daemon to send it to).
#[test]
fn docker_build_through_the_daemon() {
    let test = "docker_build_through_the_daemon";
    if !ready(test) || !testkit::require_program(test, "docker", "docker.io") {
        return;
    }
    let w = World::new(BIN);
    let Some(socket) = w.socket() else { return };
    let dir = context(
        &w,
        "docker",
        &[
            ("Dockerfile", "FROM busybox\nARG X=0\nCOPY a.txt /a.txt\nRUN echo \"x=$X\" > /x\n"),
            ("a.txt", "a"),
            (".dockerignore", "ignored.txt\n"),
            ("ignored.txt", "i"),
        ],
    );
    // More than a request body may have elsewhere (16 MB): streamed to disk.
    std::fs::write(dir.join("big.bin"), vec![0u8; 20 << 20]).unwrap();
    let docker = |args: &[&str]| {
        let mut cmd = std::process::Command::new("docker");
        cmd.arg("-H").arg(format!("unix://{}", socket.display())).args(args);
        cmd.env("DOCKER_BUILDKIT", "0").env("DOCKER_CONFIG", w.root.path().join("docker-config"));
        testkit::run(&mut cmd)
    };
    let ctx = dir.to_str().unwrap();
    let out = docker(&["build", "-t", "mdtest/viadocker:1", "--build-arg", "X=7", ctx]);
    let text = ok(&out);
    assert!(
        text.contains("Step 1/4 : FROM busybox") && text.contains(" ---> Running in "),
        "{text}"
    );
    assert!(text.contains("Successfully tagged mdtest/viadocker:1"), "{text}");
    assert_eq!(ok(&w.md(&["run", "--rm", "mdtest/viadocker:1", "cat", "/x"])), "x=7");
    let again = ok(&docker(&["build", "-t", "mdtest/viadocker:1", "--build-arg", "X=7", ctx]));
    assert_eq!(using_cache(&again), 3, "{again}");
    let quiet = ok(&docker(&["build", "-q", "--build-arg", "X=7", ctx]));
    assert!(quiet.starts_with("sha256:"), "{quiet}");
    std::fs::write(dir.join("Dockerfile"), "FROM busybox\nRUN exit 3\n").unwrap();
    let failed = docker(&["build", ctx]);
    assert_eq!(failed.status.code(), Some(3), "{}", stderr(&failed));
    assert!(stderr(&failed).contains("The command '/bin/sh -c exit 3' returned a non-zero code: 3"));
    std::fs::write(dir.join("Dockerfile"), "FROM busybox\nNOPE x\n").unwrap();
    let bad = docker(&["build", ctx]);
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("dockerfile parse error on line 2: unknown instruction: NOPE"),
        "{}",
        stderr(&bad)
    );
    assert_store_is_clean(&w);
}

/// The lines after `Step N/M : <instruction>` up to the next step.
fn block<'a>(out: &'a str, instruction: &str) -> Vec<&'a str> {
    let start = out.find(&format!(" : {instruction}\n")).unwrap_or_else(|| panic!("{out}"));
    let rest = &out[start..];
    let rest = &rest[rest.find('\n').unwrap() + 1..];
    rest.lines().take_while(|l| !l.starts_with("Step ") && !l.starts_with("Successfully")).collect()
}

fn is_short_id(text: &str) -> bool {
    text.len() == 12 && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// dockerd's classic builder makes a container for ENV, LABEL, CMD… too
/// (never started): ` ---> Running in <id>`, ` ---> Removed intermediate
/// container <id>`, then the step's image. A cached step has none.
#[test]
fn metadata_steps_have_their_intermediate_container() {
    if !ready("metadata_steps_have_their_intermediate_container") {
        return;
    }
    let w = World::new(BIN);
    let dockerfile = "FROM busybox\nENV A=b\nLABEL k=v\nWORKDIR /made\nCMD [\"sh\"]\n";
    let dir = context(&w, "nop", &[("Dockerfile", dockerfile)]);
    let out = ok(&build(&w, &["-t", "mdtest/nop:1"], &dir));
    for instruction in ["ENV A=b", "LABEL k=v", "WORKDIR /made", "CMD [\"sh\"]"] {
        let lines = block(&out, instruction);
        assert_eq!(lines.len(), 3, "{instruction}: {lines:?}");
        let running = lines[0].strip_prefix(" ---> Running in ").unwrap_or_default();
        let removed = lines[1].strip_prefix(" ---> Removed intermediate container ");
        assert!(is_short_id(running) && removed == Some(running), "{instruction}: {lines:?}");
        let image = lines[2].strip_prefix(" ---> ").unwrap_or_default();
        assert!(is_short_id(image) && image != running, "{instruction}: {lines:?}");
    }
    let again = ok(&build(&w, &["-t", "mdtest/nop:1"], &dir));
    assert_eq!(block(&again, "ENV A=b")[0], " ---> Using cache", "{again}");
    assert!(!again.contains("Running in"), "{again}");
    assert_store_is_clean(&w);
}

/// A context far above the 16 MB a request body may have elsewhere: it
/// goes to the daemon's disk as it comes. `.dockerignore`'s exceptions are
/// Docker's: an excluded directory gives back what `!dir/file` names, a
/// later line wins, and the Dockerfile goes to the daemon all the same.
#[test]
fn a_big_context_and_dockerignore_exceptions() {
    if !ready("a_big_context_and_dockerignore_exceptions") {
        return;
    }
    let w = World::new(BIN);
    let ignore = "Dockerfile\n.dockerignore\ndocs\n!docs/keep.txt\n*.md\n!README.md\nREADME.md\n";
    let dockerfile =
        "FROM busybox\nCOPY . /ctx/\nRUN wc -c < /ctx/big && cd /ctx && find . | sort\n";
    let dir = context(
        &w,
        "big",
        &[
            ("Dockerfile", dockerfile),
            (".dockerignore", ignore),
            ("docs/keep.txt", "k"),
            ("docs/other.txt", "o"),
            ("README.md", "r"),
            ("notes.md", "n"),
        ],
    );
    std::fs::write(dir.join("big"), vec![7u8; 20 << 20]).unwrap();
    let out = ok(&build(&w, &["-t", "mdtest/big:1"], &dir));
    assert!(out.contains("\n20971520\n"), "{out}");
    assert!(out.contains("\n.\n./big\n./docs\n./docs/keep.txt\n"), "{out}");
    assert!(!out.contains("other.txt") && !out.contains(".md\n"), "{out}");
    assert_store_is_clean(&w);
}

/// The daemon's own limit on a context (`MINI_DOCKER_MAX_BUILD_CONTEXT`):
/// one clear line, nothing left in its `tmp/`.
#[test]
fn a_context_over_the_daemons_limit_is_refused_in_one_line() {
    if !ready("a_context_over_the_daemons_limit_is_refused_in_one_line") {
        return;
    }
    let limit = [("MINI_DOCKER_MAX_BUILD_CONTEXT", "1000000")];
    let w = World::with_daemon_options(BIN, &[], &limit);
    if !w.through_daemon() {
        return; // in this process a context is read where it is: no body, no limit
    }
    let dir = context(&w, "over", &[("Dockerfile", "FROM busybox\nCOPY big /\n")]);
    std::fs::write(dir.join("big"), vec![1u8; 2 << 20]).unwrap();
    let out = build(&w, &[], &dir);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("the build context is larger than the daemon takes (1000000 bytes"),
        "{err}"
    );
    assert_store_is_clean(&w);
}

/// `builder prune`: the steps' images no tag stands on (a rebuild after a
/// changed source leaves the old chain) go; the tagged image's cache stays.
/// The docker CLI's `system prune` asks `POST /build/prune` last.
#[test]
fn builder_prune_removes_the_cache_no_tag_needs() {
    if !ready("builder_prune_removes_the_cache_no_tag_needs") {
        return;
    }
    let w = World::new(BIN);
    let dockerfile = "FROM busybox\nCOPY a.txt /a.txt\nRUN cat /a.txt > /b.txt\n";
    let dir = context(&w, "prune", &[("Dockerfile", dockerfile), ("a.txt", "one")]);
    ok(&build(&w, &["-t", "mdtest/prune:1"], &dir));
    std::fs::write(dir.join("a.txt"), "two").unwrap();
    ok(&build(&w, &["-t", "mdtest/prune:1"], &dir));
    let out = ok(&w.md(&["builder", "prune", "-f"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Deleted build cache objects:", "{out}");
    assert_eq!(lines.len(), 4, "the old COPY and RUN steps: {out}");
    assert!(lines[1..3].iter().all(|id| id.len() == 64), "{out}");
    assert!(lines[3].starts_with("Total reclaimed space: ") && !lines[3].ends_with(" 0B"), "{out}");
    let again = ok(&build(&w, &["-t", "mdtest/prune:1"], &dir));
    assert_eq!(using_cache(&again), 2, "the tagged image's cache is kept: {again}");
    assert_eq!(ok(&w.md(&["builder", "prune", "-f"])), "Total reclaimed space: 0B");
    assert_eq!(ok(&w.md(&["run", "--rm", "mdtest/prune:1", "cat", "/b.txt"])), "two");
    if let Some(socket) = w.socket() {
        let docker = |args: &[&str]| {
            let mut cmd = std::process::Command::new("docker");
            cmd.arg("-H").arg(format!("unix://{}", socket.display())).args(args);
            cmd.env("DOCKER_CONFIG", w.root.path().join("docker-config")).env_remove("DOCKER_HOST");
            testkit::run(&mut cmd)
        };
        let system = ok(&docker(&["system", "prune", "-f"]));
        assert!(system.contains("Total reclaimed space:"), "{system}");
        assert_eq!(ok(&docker(&["builder", "prune", "-f"])), "Total reclaimed space: 0B");
    }
}
