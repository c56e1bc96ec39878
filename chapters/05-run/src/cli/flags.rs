//! The flags, as clap reads them, with Docker's names and meanings.

use std::path::PathBuf;

use anyhow::anyhow;
use ch02_cgroups::limits::{check_shares, parse_cpus, parse_size, parse_swap, pids_limit};
use ch02_cgroups::Limits;
use ch03_union_fs::Driver;
use clap::Args;

use crate::create::CreateRequest;
use crate::image::ImageInfo;
use crate::merge::UserOverrides;
use crate::settings::Extensions;

// ANCHOR: image_and_command
/// `IMAGE [COMMAND] [ARG...]`. Docker's rule: the first word that is not
/// an option is the image, and everything after it — `-c`, `-e`, `--`
/// included — belongs to the container's command.
#[derive(Args, Debug, Clone)]
pub struct ImageAndCommand {
    #[arg(required = true, trailing_var_arg = true, value_name = "IMAGE [COMMAND] [ARG...]")]
    pub argv: Vec<String>,
}
// ANCHOR_END: image_and_command

impl ImageAndCommand {
    pub fn image(&self) -> &str {
        &self.argv[0]
    }

    pub fn command(&self) -> &[String] {
        &self.argv[1..]
    }
}

/// The options of `run` and `create` that chapters 1–5 understand.
#[derive(Args, Debug, Clone)]
pub struct ContainerFlags {
    /// Keep STDIN open and connect it to the container.
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// A name for the container.
    #[arg(long)]
    pub name: Option<String>,
    /// Set an environment variable: KEY=VALUE, or KEY to take it from here.
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Read environment variables from a file.
    #[arg(long = "env-file")]
    pub env_file: Vec<PathBuf>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    /// User: name|uid[:group|gid].
    #[arg(short, long)]
    pub user: Option<String>,
    /// Overwrite the image's entrypoint ("" clears it).
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container hostname (default: the short id).
    #[arg(long)]
    pub hostname: Option<String>,
    #[command(flatten)]
    pub limits: LimitFlags,
    /// Run a minimal init as PID 1 that forwards signals and reaps orphans.
    #[arg(long)]
    pub init: bool,
    /// The cgroup parent for the container's cgroup (default: mini-docker).
    #[arg(long = "cgroup-parent", env = "MINI_DOCKER_CGROUP_PARENT")]
    pub cgroup_parent: Option<String>,
    /// overlay or vfs (default: overlay where the kernel has it).
    #[arg(long = "storage-driver", env = "MINI_DOCKER_STORAGE_DRIVER")]
    pub storage_driver: Option<String>,
    /// Cgroup namespace: "private" (its cgroup is its root; the default on
    /// cgroup v2) or "host" (the default on v1 and hybrid hosts).
    #[arg(long, value_name = "MODE")]
    pub cgroupns: Option<String>,
}

/// Chapter 2's limits.
#[derive(Args, Debug, Clone, Default)]
pub struct LimitFlags {
    /// Memory limit (e.g. 64m, 1g).
    #[arg(short, long)]
    pub memory: Option<String>,
    /// Memory plus swap (-1: unlimited swap).
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Number of CPUs (e.g. 0.5).
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares", allow_hyphen_values = true)]
    pub cpu_shares: Option<i64>,
    /// Most processes the container may have at once (-1: unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
}

impl LimitFlags {
    /// The limits, checked (`-m 2k` is too small, `--cpus 99` too many).
    pub fn limits(&self) -> anyhow::Result<Limits> {
        let host_cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        let limits = Limits {
            memory: self.memory.as_deref().map(|m| parse_size(m, "--memory")).transpose()?,
            memory_swap: self.memory_swap.as_deref().map(parse_swap).transpose()?,
            cpu_quota_us: self.cpus.as_deref().map(|c| parse_cpus(c, host_cpus)).transpose()?,
            cpu_shares: self.cpu_shares.map(check_shares).transpose()?.flatten(),
            pids: self.pids_limit.and_then(pids_limit),
        };
        limits.check()?;
        Ok(limits)
    }
}

impl ContainerFlags {
    /// The storage driver: `--storage-driver`, or overlay where the kernel has it.
    pub fn driver(&self) -> anyhow::Result<Driver> {
        match &self.storage_driver {
            Some(name) => name.parse::<Driver>().map_err(|e| anyhow!(e)),
            None => Ok(Driver::for_this_host()),
        }
    }

    /// Check what can be checked before the image is there (a `run` that
    /// must pull fails on a bad flag first, without pulling).
    pub fn check(&self) -> anyhow::Result<()> {
        self.limits.limits()?;
        self.driver()?;
        if let Some(mode) = &self.cgroupns {
            mode.parse::<ch02_cgroups::CgroupNs>()?;
        }
        crate::env::collect(&self.env_file, &self.env)?;
        Ok(())
    }

    // ANCHOR: request
    /// The request these flags make for `image`; the later chapters' settings
    /// are for the caller to add to `extensions`.
    pub fn request(
        &self,
        target: &ImageAndCommand,
        image: ImageInfo,
    ) -> anyhow::Result<CreateRequest> {
        Ok(CreateRequest {
            image: target.image().to_string(),
            image_info: image,
            overrides: UserOverrides {
                entrypoint: self.entrypoint.clone(),
                cmd: target.command().to_vec(),
                env: crate::env::collect(&self.env_file, &self.env)?,
                workdir: self.workdir.clone(),
                user: self.user.clone(),
            },
            name: self.name.clone(),
            hostname: self.hostname.clone(),
            tty: self.tty,
            console_size: None, // attached, the supervisor copies our terminal's size
            interactive: self.interactive,
            auto_remove: self.rm,
            init: self.init,
            limits: self.limits.limits()?,
            cgroup_parent: self
                .cgroup_parent
                .clone()
                .unwrap_or_else(|| ch02_cgroups::DEFAULT_PARENT.to_string()),
            driver: self.driver()?,
            extensions: self.extensions(),
        })
    }
    // ANCHOR_END: request

    /// The settings of chapter 5's own extensions ([`crate::cgroup_view`]).
    fn extensions(&self) -> Extensions {
        let mut extensions = Extensions::default();
        let mode = self.cgroupns.clone().unwrap_or_default();
        extensions.set(&crate::cgroup_view::CgroupnsMode { mode });
        extensions
    }
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach to the container's output and wait for it.
    #[arg(short, long)]
    pub attach: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before SIGKILL.
    #[arg(short = 't', long = "time", default_value_t = 10)]
    pub time: u64,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// The signal to send (name or number).
    #[arg(short, long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Kill and remove a running container.
    #[arg(short, long)]
    pub force: bool,
    /// Remove the container's anonymous volumes too.
    #[arg(short, long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers (default: running only).
    #[arg(short, long)]
    pub all: bool,
    /// Only print ids.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow the output.
    #[arg(short, long)]
    pub follow: bool,
    /// Number of lines from the end ("all" for every line).
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    pub container: String,
}

/// `exec [OPTIONS] CONTAINER COMMAND [ARG...]`: options end at the container.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Keep STDIN open.
    #[arg(short, long)]
    pub interactive: bool,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    pub tty: bool,
    /// Set an environment variable.
    #[arg(short, long = "env")]
    pub env: Vec<String>,
    /// Working directory inside the container.
    #[arg(short, long)]
    pub workdir: Option<String>,
    #[arg(required = true, num_args = 2.., trailing_var_arg = true, value_name = "CONTAINER COMMAND [ARG...]")]
    pub target: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainersArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `internal-exited`: the shim's exit command (not for people).
#[derive(Args, Debug)]
pub struct ExitedArgs {
    pub id: String,
    /// How the container ended: its exit code, or 128+N for signal N.
    #[arg(long)]
    pub exit_code: i32,
    /// The attach socket and its clients, inherited from the shim.
    #[arg(long, value_delimiter = ',')]
    pub attach_fds: Vec<i32>,
}
