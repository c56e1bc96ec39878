//! Exercise `choose_platform` (medium). Book: ch04-image-pull.md, "The pull conversation".
//!
//! A multi-platform image is an *index*: one manifest per OS/CPU. Pick the
//! one for `want`, as `platform::choose` does:
//! - skip entries whose media type is neither a manifest nor an index
//!   (`oci::is_manifest`, `oci::is_index`) — unknown types are never an error;
//! - skip entries without a platform, and attestations (`unknown/unknown`);
//! - compare platforms *normalised* (`Platform::new(os, arch, variant)`
//!   turns `x86_64` into `amd64`, `arm64/v8` into `arm64`...);
//! - the first match wins; none is `None`.

use ch04_image_pull::oci::{self, Descriptor, Index};
use ch04_image_pull::platform::Platform;

/// The manifest for `want` in `index`.
pub fn choose<'a>(index: &'a Index, want: &Platform) -> Option<&'a Descriptor> {
    todo!("filter index.manifests, normalise each platform, find the wanted one")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: every entry with a platform considered,
    // including the attestation manifests (`unknown/unknown`) BuildKit puts in an index. Checked
    // by pasting it into the reference implementation: it fails
    // `attestations_and_missing_platforms_are_never_chosen`.
    //
    //     .filter(|d| Platform::of(d).is_some())

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch04_image_pull::platform as solution;

    use ch04_image_pull::oci::{self, Descriptor, Index, PlatformSpec};
    use ch04_image_pull::platform::Platform;

    fn entry(
        media_type: &str,
        os: &str,
        arch: &str,
        variant: Option<&str>,
        digest: &str,
    ) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: digest.into(),
            size: 1,
            platform: Some(PlatformSpec {
                os: os.into(),
                architecture: arch.into(),
                variant: variant.map(Into::into),
                os_version: None,
            }),
            urls: None,
            annotations: Default::default(),
        }
    }

    fn index(entries: Vec<Descriptor>) -> Index {
        Index { schema_version: 2, media_type: Some(oci::OCI_INDEX.into()), manifests: entries }
    }

    fn docker_style_index() -> Index {
        index(vec![
            entry("application/vnd.example.unknown", "linux", "amd64", None, "sha256:unknowntype"),
            entry(oci::OCI_MANIFEST, "unknown", "unknown", None, "sha256:attestation"),
            entry(oci::OCI_MANIFEST, "linux", "arm64", Some("v8"), "sha256:arm64"),
            entry(oci::DOCKER_MANIFEST, "linux", "amd64", None, "sha256:amd64"),
            entry(oci::OCI_MANIFEST, "linux", "arm", Some("v7"), "sha256:armv7"),
            entry(oci::OCI_MANIFEST, "linux", "amd64", None, "sha256:second-amd64"),
        ])
    }

    fn chosen(want: Platform) -> Option<String> {
        solution::choose(&docker_style_index(), &want).map(|d| d.digest.clone())
    }

    #[test]
    fn picks_the_wanted_platform_skipping_unknown_types() {
        assert_eq!(chosen(Platform::new("linux", "amd64", None)).as_deref(), Some("sha256:amd64"));
    }

    #[test]
    fn compares_normalised_names() {
        assert_eq!(chosen(Platform::new("linux", "x86_64", None)).as_deref(), Some("sha256:amd64"));
        assert_eq!(
            chosen(Platform::new("linux", "aarch64", None)).as_deref(),
            Some("sha256:arm64")
        );
        assert_eq!(chosen(Platform::new("linux", "armhf", None)).as_deref(), Some("sha256:armv7"));
    }

    #[test]
    fn attestations_and_missing_platforms_are_never_chosen() {
        assert_eq!(chosen(Platform::new("linux", "s390x", None)), None);
        assert_eq!(chosen(Platform::new("unknown", "unknown", None)), None);
        let mut no_platform = entry(oci::OCI_MANIFEST, "linux", "amd64", None, "sha256:none");
        no_platform.platform = None;
        let idx = index(vec![no_platform]);
        assert!(solution::choose(&idx, &Platform::new("linux", "amd64", None)).is_none());
    }
}
