//! Errors as the Engine API speaks them: a status and one message line,
//! `{"message": "..."}` on the wire. The status is the error's *class*,
//! which clients act on: a 404 on create makes `docker run` pull the image.

use std::fmt;

use ch05_run::StartFailed;

// ANCHOR: api_error
/// An error with the HTTP status that classifies it (moby's errdefs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    /// A failed start's exit code for the client (126, 127): not on the wire,
    /// where a client finds it in the container's `State.ExitCode`.
    pub exit_code: Option<i32>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into(), exit_code: None }
    }
    /// 400: the request itself is wrong (a bad flag, a bad body).
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }
    /// 404: no such container, image, network, volume.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }
    /// 409: it exists but is in the way (a name in use, a container running).
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, message)
    }
}
// ANCHOR_END: api_error

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

// ANCHOR: classify
/// The chapters report errors as Rust types; the class follows from the
/// type (and, for a few, from what they say).
impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> ApiError {
        let message = format!("{error:#}");
        if let Some(api) = error.downcast_ref::<ApiError>() {
            return api.clone();
        }
        if let Some(failed) = error.downcast_ref::<StartFailed>() {
            let error = ApiError::bad_request(failed.message.clone());
            return ApiError { exit_code: Some(failed.exit_code), ..error };
        }
        ApiError::new(status_of(&error, &message), message)
    }
}

// ANCHOR_END: classify

// ANCHOR: status_of
fn status_of(error: &anyhow::Error, message: &str) -> u16 {
    use ch05_run::store::StoreError;
    use ch06_networking::NetError;
    use ch07_volumes::VolumeError;
    if error.downcast_ref::<ch05_run::pause::PauseError>().is_some() {
        return 409; // not running, already paused, not paused
    }
    if let Some(e) = error.downcast_ref::<StoreError>() {
        return if matches!(e, StoreError::NotFound(_)) { 404 } else { 500 };
    }
    if let Some(e) = error.downcast_ref::<NetError>() {
        return match e {
            NetError::NotFound(_) => 404,
            NetError::Predefined(_) | NetError::EndpointExists { .. } => 403,
            NetError::Exists(_) | NetError::InUse { .. } | NetError::PortInUse { .. } => 409,
            NetError::Io { .. } | NetError::Json { .. } | NetError::Command(_) => 500,
            _ => 400,
        };
    }
    if let Some(e) = error.downcast_ref::<VolumeError>() {
        return match e {
            VolumeError::NotFound(_) => 404,
            VolumeError::InUse { .. } => 409,
            VolumeError::Spec(_) => 400,
            _ => 500,
        };
    }
    if message.starts_with("Conflict.") || message.contains("is running") {
        return 409;
    }
    400
}
// ANCHOR_END: status_of

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chapter_errors_get_their_class() {
        let missing = ch05_run::store::StoreError::NotFound("web".into());
        assert_eq!(ApiError::from(anyhow::Error::from(missing)).status, 404);
        let taken = anyhow::anyhow!("Conflict. The container name \"/web\" is already in use");
        assert_eq!(ApiError::from(taken).status, 409);
        let volume = ch07_volumes::VolumeError::NotFound("data".into());
        let error = ApiError::from(anyhow::Error::from(volume));
        assert_eq!((error.status, error.message.as_str()), (404, "get data: no such volume"));
        let failed = StartFailed { message: "exec \"x\": not found".into(), exit_code: 127 };
        assert_eq!(ApiError::from(anyhow::Error::from(failed)).status, 400);
    }
}
