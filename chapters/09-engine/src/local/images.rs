//! The image operations of the in-process engine: chapter 4, with its
//! progress as JSON messages.

use ch04_image_pull::auth::Credentials;
use ch04_image_pull::platform::Platform;
use ch04_image_pull::registry::RegistryOptions;
use ch04_image_pull::store::Store;
use ch04_image_pull::{pull, Reference};
use serde_json::{json, Value};

use super::{progress, Local};
use crate::error::{ApiError, ApiResult};

impl Local {
    // ANCHOR: pull
    /// `POST /images/create?fromImage=`: every step as a JSON message.
    pub fn pull(&self, image: &str, out: &mut dyn FnMut(&Value)) -> ApiResult<()> {
        self.pull_as(image, None, None, out)
    }

    /// [`Local::pull`] for a `platform` (`linux/arm64`; this host's when
    /// `None`), with the client's credentials (`X-Registry-Auth`).
    pub fn pull_as(
        &self,
        image: &str,
        platform: Option<&str>,
        credentials: Option<Credentials>,
        out: &mut dyn FnMut(&Value),
    ) -> ApiResult<()> {
        let reference =
            Reference::parse(image).map_err(|e| ApiError::bad_request(e.to_string()))?;
        let platform = platform_of(platform)?;
        let store = Store::open(self.root()).map_err(|e| ApiError::new(500, e.to_string()))?;
        let options =
            RegistryOptions { credentials, ..self.settings.registry_options(self.root()) };
        // "Pulling from" only once the registry has found the manifest (the
        // first layer event, or success): a missing tag is the error alone.
        let pulling = json!({
            "status": format!("Pulling from {}", reference.familiar_name()),
            "id": reference.tag_or_digest(),
        });
        let mut announced = false;
        let pulled = pull::pull(&store, &reference, &options, &platform, &mut |event| {
            if !std::mem::replace(&mut announced, true) {
                out(&pulling);
            }
            out(&progress::to_json(event))
        })
        .map_err(|e| pull_error(e.to_string()))?;
        if !announced {
            out(&pulling);
        }
        out(&json!({ "status": format!("Digest: {}", pulled.digest) }));
        let news =
            if pulled.changed { "Downloaded newer image for" } else { "Image is up to date for" };
        out(&json!({ "status": format!("Status: {news} {}", reference.familiar()) }));
        Ok(())
    }
    // ANCHOR_END: pull
}

/// `--platform` (`os/arch[/variant]`), or this host when there is none.
fn platform_of(text: Option<&str>) -> ApiResult<Platform> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(Platform::host()),
        Some(text) => Platform::parse(text).ok_or_else(|| {
            ApiError::bad_request(format!(
                "\"{text}\": unknown operating system or architecture: expected os/arch[/variant]"
            ))
        }),
    }
}

/// A registry that does not know the image is a 404, anything else a 500.
fn pull_error(message: String) -> ApiError {
    let unknown = ["manifest unknown", "not found", "NAME_UNKNOWN", "MANIFEST_UNKNOWN"];
    let status = if unknown.iter().any(|u| message.contains(u)) { 404 } else { 500 };
    ApiError::new(status, message)
}
