//! Replay a transcript against the built binaries and compare.
//!
//! Each replay gets a world of its own, made of namespaces, so that a
//! session can be written exactly as a reader types it (`sudo mini-docker
//! run …`, the default state root, `127.0.0.1:5000`, the default bridge):
//! - a network namespace: only loopback, so a session cannot reach any
//!   outside address, its bridge, veths, iptables rules and ports are its
//!   own, and all of them vanish with it;
//! - a mount namespace with fresh tmpfs on /tmp, /run/mini-docker and
//!   /var/lib/mini-docker: the default state root is empty and private;
//!   /etc/subuid and /etc/subgid are private copies, for `--userns-remap`;
//! - a PID namespace: when the session ends every process it left (a
//!   detached container, a registry started with `&`) is killed.
//!
//! Only the cgroup tree is shared with the host, so the session's
//! containers go under a cgroup parent of their own, shown in the output
//! as the default `mini-docker`, and removed afterwards.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::transcript::{self, Step};

/// Where the binaries and the checkout are, and the session's cgroup parent.
#[derive(Clone)]
pub struct Setup {
    pub bin_dir: PathBuf,
    pub repo: PathBuf,
    pub cgroup_parent: String,
}

/// One step of a replay: what the transcript expected, what the run printed.
#[derive(Debug)]
pub struct Outcome {
    pub session: String,
    pub step: Step,
    pub actual: Vec<String>,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        transcript::matches(&self.step.expected, &self.actual)
    }

    /// The difference, for a failure message.
    pub fn report(&self) -> String {
        let mut s = format!(
            "{}.console:{}: $ {}\n--- expected\n",
            self.session, self.step.line, self.step.command
        );
        self.step.expected.iter().for_each(|l| s.push_str(&format!("  {l}\n")));
        s.push_str("--- got\n");
        self.actual.iter().for_each(|l| s.push_str(&format!("  {l}\n")));
        s
    }
}

/// The transcripts `session` needs first (its `.needs` file, one name a
/// line, recursively), then `session` itself: they run in one shell.
pub fn with_needs(session: &Path) -> Result<Vec<PathBuf>, String> {
    let mut order = Vec::new();
    add_with_needs(session, &mut order, 0)?;
    Ok(order)
}

fn add_with_needs(session: &Path, order: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    if depth > 20 {
        return Err(format!("{}: .needs files go round in a circle", session.display()));
    }
    let needs = std::fs::read_to_string(session.with_extension("needs")).unwrap_or_default();
    for name in needs.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let needed = session.with_file_name(format!("{name}.console"));
        if !needed.is_file() {
            return Err(format!("{}.needs: no transcript {}", stem(session), needed.display()));
        }
        add_with_needs(&needed, order, depth + 1)?;
    }
    if !order.iter().any(|p| p == session) {
        order.push(session.to_path_buf());
    }
    Ok(())
}

fn stem(path: &Path) -> String {
    path.file_stem().unwrap_or_default().to_string_lossy().to_string()
}

// ANCHOR: replay
/// Run `session` (after what it needs) in a world of its own; one outcome a step.
pub fn replay(session: &Path, setup: &Setup) -> Result<Vec<Outcome>, String> {
    let mut steps = Vec::new();
    for file in with_needs(session)? {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let parsed = transcript::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        steps.extend(parsed.into_iter().map(|step| (stem(&file), step)));
    }
    let commands: Vec<&str> = steps.iter().map(|(_, s)| s.command.as_str()).collect();
    let outputs = run_in_own_world(&commands, setup)?;
    let shown =
        |line: &str| line.replace(&setup.cgroup_parent, "mini-docker").trim_end().to_string();
    Ok(steps
        .into_iter()
        .zip(outputs)
        .map(|((session, step), out)| Outcome {
            session,
            step,
            actual: out.lines().map(shown).collect(),
        })
        .collect())
}
// ANCHOR_END: replay

/// A marker line printed before each command, to cut the output apart.
const MARK: &str = "@@book-check-step@@";

// ANCHOR: script
/// One shell runs every command, so `cd`, variables and files carry on
/// from one command to the next as they do for a reader.
fn script(commands: &[&str], setup: &Setup) -> String {
    let mut s = format!(
        "exec 2>&1\nexport PATH='{}':\"$PATH\" MINI_DOCKER_CGROUP_PARENT='{}'\n\
         sudo() {{ [ \"$1\" = -E ] && shift; \"$@\"; }}  # the replay already runs as root\n\
         cargo() {{  # `cargo exercise`, the alias, on the runner already built\n\
         [ \"$1\" = exercise ] || {{ command cargo \"$@\"; return; }}; shift; exercise \"$@\"; }}\n\
         book_check_mark() {{ local status=$?; printf '\\n{MARK}\\n'; return $status; }}  # keeps $?\n\
         mkdir /tmp/session && cd /tmp/session && ln -s '{repo}/scripts' '{repo}/target' '{repo}/chapters' .\n",
        setup.bin_dir.display(),
        setup.cgroup_parent,
        repo = setup.repo.display()
    );
    for command in commands {
        s.push_str(&format!("book_check_mark\n{command}\n"));
    }
    s.push_str("book_check_mark\n");
    // Containers removed as a reader would; the PID namespace kills the rest.
    s.push_str("mini-docker rm -f $(mini-docker ps -aq) >/dev/null 2>&1\n");
    s
}

/// Enter the namespaces, mount the private directories, run the script.
const WORLD: &str = "set -e
ip link set lo up
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /run/mini-docker && mount -t tmpfs tmpfs /run/mini-docker
mount -t tmpfs tmpfs /var/lib/mini-docker
for f in /etc/subuid /etc/subgid; do  # a session may add a range: to a copy
  if [ -f $f ]; then cp $f /run/mini-docker/${f#/etc/}; mount --bind /run/mini-docker/${f#/etc/} $f; fi
done
exec bash --noprofile --norc \"$0\"";
// ANCHOR_END: script

fn run_in_own_world(commands: &[&str], setup: &Setup) -> Result<Vec<String>, String> {
    let work = setup.bin_dir.parent().unwrap_or(&setup.bin_dir).join("book-check-replays");
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let file = work.join(format!("{}.sh", setup.cgroup_parent));
    std::fs::write(&file, script(commands, setup))
        .map_err(|e| format!("{}: {e}", file.display()))?;
    // The mount point of the private state root: the default root, left
    // in place (empty) since a replay running beside this one may use it.
    let _ = std::fs::create_dir_all("/var/lib/mini-docker");
    let out = Command::new("timeout")
        .args(["--kill-after=10", "600", "unshare", "--mount", "--net", "--pid", "--fork"])
        .args(["--mount-proc", "--propagation", "private", "bash", "-c", WORLD])
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("running unshare (util-linux): {e}"));
    let _ = std::fs::remove_file(&file);
    remove_cgroups(&setup.cgroup_parent);
    let out = out?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut parts: Vec<String> = text.split(&format!("\n{MARK}\n")).map(str::to_string).collect();
    if parts.len() != commands.len() + 2 {
        return Err(format!(
            "the replay stopped early ({}; {} of {} commands ran):\n{text}{}",
            out.status,
            parts.len().saturating_sub(2),
            commands.len(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parts.remove(0); // what the set-up printed
    parts.pop(); // the clean-up
    Ok(parts)
}

/// Remove the session's cgroup parent in every hierarchy, children first,
/// waiting a little for the killed processes to leave.
fn remove_cgroups(parent: &str) {
    let roots: Vec<PathBuf> = std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .chain([PathBuf::from("/sys/fs/cgroup")])
        .collect();
    for root in roots {
        let dir = root.join(parent);
        for _ in 0..50 {
            if !dir.exists() || remove_tree(&dir).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

fn remove_tree(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)?.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            remove_tree(&entry.path())?;
        }
    }
    std::fs::remove_dir(dir)
}
