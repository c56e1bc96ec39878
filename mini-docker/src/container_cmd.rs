//! `docker container …`: the management form of the container verbs —
//! `container ls` is `ps`, `container rm` is `rm` — as the docker CLI has
//! both since 1.13. Each is the same command, parsed the same way.

use clap::Subcommand;

use crate::{containers, images, making, manage, Command};
use ch05_run::cli;

#[derive(Subcommand)]
#[command(defer = true)]
pub enum ContainerCommand {
    /// List containers.
    #[command(visible_aliases = ["ps", "list"])]
    Ls(containers::PsArgs),
    /// Create and start a container from an image.
    Run(containers::RunArgs),
    /// Create a container without starting it.
    Create(containers::CreateArgs),
    /// Start stopped containers.
    Start(cli::StartArgs),
    /// Stop running containers.
    Stop(cli::StopArgs),
    /// Stop, then start containers.
    Restart(cli::StopArgs),
    /// Send a signal to running containers.
    Kill(cli::KillArgs),
    /// Remove containers.
    #[command(visible_alias = "remove")]
    Rm(cli::RmArgs),
    /// Show containers' details as JSON.
    Inspect(images::InspectArgs),
    /// Show a container's output.
    Logs(containers::LogsArgs),
    /// Run a command in a running container.
    Exec(cli::ExecArgs),
    /// Attach this terminal to a running container.
    Attach { container: String },
    /// Block until containers stop, then print their exit codes.
    Wait(cli::ContainersArgs),
    /// Pause all processes within one or more containers.
    Pause(cli::ContainersArgs),
    /// Unpause all processes within one or more containers.
    Unpause(cli::ContainersArgs),
    /// Show the processes of a container.
    Top(manage::TopArgs),
    /// Show containers' resource usage.
    Stats(manage::StatsArgs),
    /// Show a container's published ports.
    Port(manage::PortArgs),
    /// Rename a container.
    Rename(manage::RenameArgs),
    /// Change the limits or restart policy of containers.
    Update(manage::UpdateArgs),
    /// Copy files between a container and the host.
    Cp(manage::CpArgs),
    /// Remove all stopped containers.
    Prune(manage::PruneArgs),
    /// Changes to files of a container's filesystem.
    Diff(making::DiffArgs),
    /// Export a container's filesystem as a tar archive.
    Export(making::ExportArgs),
    /// Create a new image from a container's changes.
    Commit(making::CommitArgs),
}

impl ContainerCommand {
    /// The same command in its short form.
    pub fn into_command(self) -> Command {
        use ContainerCommand as C;
        match self {
            C::Ls(a) => Command::Ps(a),
            C::Run(a) => Command::Run(a),
            C::Create(a) => Command::Create(a),
            C::Start(a) => Command::Start(a),
            C::Stop(a) => Command::Stop(a),
            C::Restart(a) => Command::Restart(a),
            C::Kill(a) => Command::Kill(a),
            C::Rm(a) => Command::Rm(a),
            C::Inspect(a) => Command::Inspect(a),
            C::Logs(a) => Command::Logs(a),
            C::Exec(a) => Command::Exec(a),
            C::Attach { container } => Command::Attach { container },
            C::Wait(a) => Command::Wait(a),
            C::Pause(a) => Command::Pause(a),
            C::Unpause(a) => Command::Unpause(a),
            C::Top(a) => Command::Top(a),
            C::Stats(a) => Command::Stats(a),
            C::Port(a) => Command::Port(a),
            C::Rename(a) => Command::Rename(a),
            C::Update(a) => Command::Update(a),
            C::Cp(a) => Command::Cp(a),
            C::Prune(a) => Command::ContainerPrune(a),
            C::Diff(a) => Command::Diff(a),
            C::Export(a) => Command::Export(a),
            C::Commit(a) => Command::Commit(a),
        }
    }
}
