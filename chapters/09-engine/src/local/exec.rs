//! `exec` in this process: chapter 5's `exec`, attached to our terminal.

use ch05_run::exec::ExecRequest;
use ch05_run::state::Status;

use super::Local;
use crate::error::{ApiError, ApiResult};
use crate::types::ExecCreateBody;

impl Local {
    /// Run `body.cmd` in the running container `wanted`; its exit code.
    pub fn exec_attached(&self, wanted: &str, body: &ExecCreateBody) -> ApiResult<i64> {
        self.exec_sized(wanted, body, None)
    }

    /// [`Local::exec_attached`], its terminal sized by the lines on `sizes`.
    pub fn exec_sized(
        &self,
        wanted: &str,
        body: &ExecCreateBody,
        sizes: Option<std::os::fd::OwnedFd>,
    ) -> ApiResult<i64> {
        let id = self.find(wanted)?;
        let state = self.engine.state(&id)?;
        let Some(pid) = state.pid.filter(|_| state.status == Status::Running) else {
            return Err(ApiError::conflict(format!("container {} is not running", &id[..12])));
        };
        self.refuse_if_paused(&id, super::pause::EXEC_PAUSED)?;
        let config = self.engine.config(&id)?;
        let request = ExecRequest {
            target: nix::unistd::Pid::from_raw(pid),
            argv: body.cmd.clone().unwrap_or_default(),
            env: body.env.clone().unwrap_or_default(),
            workdir: (!body.working_dir.is_empty()).then(|| body.working_dir.clone()),
            tty: body.tty,
            interactive: body.attach_stdin,
            sizes,
        };
        match ch05_run::exec::run(&self.engine, &config, request) {
            Ok(code) => Ok(code as i64),
            Err(error) => {
                let code =
                    error.downcast_ref::<ch01_namespaces::SpawnError>().map(|e| e.exit_code());
                let message = match error.downcast_ref::<ch01_namespaces::SpawnError>() {
                    Some(spawn) => spawn.to_string(),
                    None => format!("{error:#}"),
                };
                Err(ApiError {
                    exit_code: Some(code.unwrap_or(126)),
                    ..ApiError::bad_request(message)
                })
            }
        }
    }
}
