//! `pause` and `unpause` in this process: chapter 5's, with Docker's
//! refusals as 409s (chapter 5 words them; [`crate::error`] classes them).

use super::Local;
use crate::error::{ApiError, ApiResult};

impl Local {
    /// `POST /containers/{id}/pause`; the container's full id.
    pub fn pause(&self, wanted: &str) -> ApiResult<String> {
        let id = self.find(wanted)?;
        self.engine.pause(&id)?;
        Ok(id)
    }

    /// `POST /containers/{id}/unpause`; the container's full id.
    pub fn unpause(&self, wanted: &str) -> ApiResult<String> {
        let id = self.find(wanted)?;
        self.engine.unpause(&id)?;
        Ok(id)
    }

    /// What needs the container's processes to run (exec, attach, start)
    /// is refused while it is paused, with Docker's words for each.
    pub(crate) fn refuse_if_paused(&self, id: &str, refusal: &str) -> ApiResult<()> {
        if self.engine.state(id)?.is_paused() {
            return Err(ApiError::conflict(refusal.replace("{id}", id)));
        }
        Ok(())
    }
}

/// moby's `errExecPaused`.
pub const EXEC_PAUSED: &str = "Container {id} is paused, unpause the container before exec";
/// moby's `daemon/start.go`.
pub const START_PAUSED: &str = "cannot start a paused container, try unpause instead";
/// The docker CLI's own check before `attach`.
pub const ATTACH_PAUSED: &str = "You cannot attach to a paused container, unpause it first";
