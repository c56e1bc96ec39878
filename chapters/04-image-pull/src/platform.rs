//! Choosing one manifest from an image index: the host's OS and CPU.

use std::fmt;

use crate::oci::{self, Descriptor, Index};

/// `linux/amd64`, `linux/arm/v7`, normalized as containerd does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Normalize an os/arch/variant triple (containerd `normalizeArch`).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let variant = variant.filter(|v| !v.is_empty());
        let (arch, variant) = match (architecture, variant) {
            ("x86_64" | "x86-64" | "amd64", Some("v1") | None) => ("amd64", None),
            ("x86_64" | "x86-64" | "amd64", v) => ("amd64", v),
            ("aarch64" | "arm64", Some("v8" | "8") | None) => ("arm64", None),
            ("aarch64" | "arm64", v) => ("arm64", v),
            ("armhf", _) => ("arm", Some("v7")),
            ("armel", _) => ("arm", Some("v6")),
            ("arm", None | Some("7")) => ("arm", Some("v7")),
            ("arm", Some("5")) => ("arm", Some("v5")),
            ("arm", Some("6")) => ("arm", Some("v6")),
            ("arm", v) => ("arm", v),
            ("i386" | "i686", v) => ("386", v),
            (other, v) => (other, v),
        };
        Platform {
            os: os.to_lowercase(),
            architecture: arch.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// This machine: linux and `uname -m` mapped to Go's GOARCH names.
    pub fn host() -> Platform {
        let machine = nix::sys::utsname::uname()
            .map(|u| u.machine().to_string_lossy().into_owned())
            .unwrap_or_default();
        Platform::new("linux", &machine, None)
    }

    /// Parse `linux/amd64` or `linux/arm/v7` (the `--platform` flag).
    pub fn parse(text: &str) -> Option<Platform> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Some(Platform::new(os, arch, None)),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() => {
                Some(Platform::new(os, arch, Some(variant)))
            }
            _ => None,
        }
    }

    fn of(descriptor: &Descriptor) -> Option<Platform> {
        let p = descriptor.platform.as_ref()?;
        Some(Platform::new(&p.os, &p.architecture, p.variant.as_deref()))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

// ANCHOR: choose
/// The manifest for `want` in `index`: skips media types we do not know
/// (never an error) and attestation manifests (`unknown/unknown`).
pub fn choose<'a>(index: &'a Index, want: &Platform) -> Option<&'a Descriptor> {
    index
        .manifests
        .iter()
        .filter(|d| oci::is_manifest(&d.media_type) || oci::is_index(&d.media_type))
        .filter(|d| {
            Platform::of(d).is_some_and(|p| p.os != "unknown" && p.architecture != "unknown")
        })
        .find(|d| Platform::of(d).as_ref() == Some(want))
}
// ANCHOR_END: choose

/// What the index offers, for the error message when nothing matches.
pub fn offered(index: &Index) -> Vec<String> {
    index
        .manifests
        .iter()
        .filter_map(Platform::of)
        .filter(|p| p.os != "unknown")
        .map(|p| p.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::PlatformSpec;

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

    #[test]
    fn variants_normalize_like_containerd() {
        assert_eq!(
            Platform::new("linux", "x86_64", None),
            Platform::new("linux", "amd64", Some("v1"))
        );
        assert_eq!(
            Platform::new("linux", "aarch64", None),
            Platform::new("linux", "arm64", Some("v8"))
        );
        assert_eq!(Platform::new("linux", "arm", None).to_string(), "linux/arm/v7");
        assert_eq!(Platform::new("linux", "armhf", None).to_string(), "linux/arm/v7");
        assert_eq!(Platform::new("linux", "armel", None).to_string(), "linux/arm/v6");
        assert_eq!(Platform::new("linux", "i386", None).to_string(), "linux/386");
        assert_eq!(Platform::parse("linux/arm64/v8"), Some(Platform::new("linux", "arm64", None)));
        assert_eq!(Platform::parse("linux"), None);
    }

    #[test]
    fn picks_the_wanted_platform_and_skips_attestations_and_unknown_types() {
        let idx = index(vec![
            entry("application/vnd.example.unknown", "linux", "amd64", None, "sha256:unknowntype"),
            entry(oci::OCI_MANIFEST, "unknown", "unknown", None, "sha256:attestation"),
            entry(oci::OCI_MANIFEST, "linux", "arm64", Some("v8"), "sha256:arm64"),
            entry(oci::OCI_MANIFEST, "linux", "amd64", None, "sha256:amd64"),
            entry(oci::OCI_MANIFEST, "linux", "arm", Some("v7"), "sha256:armv7"),
        ]);
        assert_eq!(
            choose(&idx, &Platform::new("linux", "x86_64", None)).unwrap().digest,
            "sha256:amd64"
        );
        assert_eq!(
            choose(&idx, &Platform::new("linux", "aarch64", None)).unwrap().digest,
            "sha256:arm64"
        );
        assert_eq!(
            choose(&idx, &Platform::new("linux", "arm", None)).unwrap().digest,
            "sha256:armv7"
        );
        assert!(choose(&idx, &Platform::new("linux", "s390x", None)).is_none());
        assert_eq!(
            offered(&idx),
            vec!["linux/amd64", "linux/arm64", "linux/amd64", "linux/arm/v7"]
        );
    }

    #[test]
    fn host_is_linux_with_a_go_arch_name() {
        let host = Platform::host();
        assert_eq!(host.os, "linux");
        assert!(!host.architecture.contains('_'), "{host}");
    }
}
