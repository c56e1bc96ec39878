//! The three ways to ask for a mount on the command line, parsed exactly as
//! Docker's CLI and daemon parse them, with their error messages:
//!
//! ```text
//! -v /host/dir:/data[:ro]          bind mount (the source is an absolute path)
//! -v name:/data[:ro,nocopy]        named volume (the source is a name)
//! -v /data                         anonymous volume (no source at all)
//! --mount type=bind|volume|tmpfs,source=…,target=…,readonly,…
//! --tmpfs /run[:size=64m,mode=1777,exec]
//! ```
//!
//! Pure functions: nothing here touches the disk.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The three kinds of mount a container can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host directory or file, seen through a second path.
    Bind,
    /// A directory the engine owns under `<root>/volumes/<name>/_data`.
    Volume,
    /// Memory: gone when the container stops.
    Tmpfs,
}

impl MountType {
    pub fn name(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// tmpfs settings: size and mode as Docker's `tmpfs-size` / `tmpfs-mode`,
/// plus the mount(8) options `--tmpfs` passes on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOptions {
    /// Bytes; `None` is the kernel's default (half the RAM).
    pub size: Option<u64>,
    /// Permission bits of the tmpfs root, e.g. 0o1777.
    pub mode: Option<u32>,
    /// Allow executing files (Docker mounts tmpfs `noexec` unless told `exec`).
    pub exec: bool,
    /// `uid=`, `gid=`, `nr_inodes=`, `nr_blocks=`: handed to the kernel as they are.
    pub extra: Vec<String>,
}

// ANCHOR: mount_spec
/// One mount as the user asked for it, before any volume exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountSpec {
    pub kind: MountType,
    /// Bind: an absolute host path. Volume: a name, or `None` for an
    /// anonymous volume. Tmpfs: always `None`.
    pub source: Option<String>,
    /// Where it appears in the container: absolute, cleaned, never `/`.
    pub target: String,
    pub read_only: bool,
    /// Volume: do not copy the image's files at `target` into a new volume.
    pub no_copy: bool,
    /// Bind: create a missing host directory (`-v` does, `--mount` refuses).
    pub create_missing_source: bool,
    /// Volume: labels for a volume created by this mount (`volume-label`).
    pub labels: Vec<(String, String)>,
    pub tmpfs: TmpfsOptions,
}
// ANCHOR_END: mount_spec

impl MountSpec {
    fn new(kind: MountType, source: Option<String>, target: String) -> MountSpec {
        MountSpec {
            kind,
            source,
            target,
            read_only: false,
            no_copy: false,
            create_missing_source: false,
            labels: Vec::new(),
            tmpfs: TmpfsOptions::default(),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("invalid volume specification: '{0}'")]
    InvalidSpec(String),
    #[error("invalid spec: {0}: empty section between colons")]
    EmptySection(String),
    #[error("invalid mode: {0}")]
    InvalidMode(String),
    #[error("invalid mount config for type \"{kind}\": {message}")]
    MountConfig { kind: String, message: String },
    #[error("invalid argument \"{raw}\" for \"--mount\" flag: {message}")]
    MountFlag { raw: String, message: String },
    #[error("create {0}: \"{0}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path")]
    VolumeName(String),
    #[error("invalid tmpfs option \"{0}\"")]
    TmpfsOption(String),
    #[error("bind propagation \"{0}\" is not supported: mini-docker keeps every container mount private (rprivate)")]
    Propagation(String),
}

// ANCHOR: parse_volume_flag
/// `-v SPEC`, as moby's `linuxParser.ParseMountRaw`: one part is an
/// anonymous volume, two are source and target, three add a mode list.
/// An absolute source is a bind mount; anything else names a volume.
pub fn parse_volume_flag(raw: &str) -> Result<MountSpec, SpecError> {
    if raw.contains("::") || raw.ends_with(':') {
        return Err(SpecError::EmptySection(raw.to_string()));
    }
    let parts: Vec<&str> = raw.split(':').collect();
    if parts[0].is_empty() || parts.len() > 3 {
        return Err(SpecError::InvalidSpec(raw.to_string()));
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, ""),
        // `/data:ro` is not "anonymous volume, read-only": Docker refuses it.
        [_, second] if valid_mode(second) => return Err(SpecError::InvalidSpec(raw.to_string())),
        [source, target] => (Some(*source), *target, ""),
        [source, target, mode] => (Some(*source), *target, *mode),
        _ => return Err(SpecError::InvalidSpec(raw.to_string())),
    };
    let mode = parse_mode(mode)?;
    let kind = if source.is_some_and(|s| s.starts_with('/')) {
        MountType::Bind
    } else {
        MountType::Volume
    };
    let mut spec = MountSpec::new(kind, source.map(str::to_string), target.to_string());
    spec.read_only = mode.read_only;
    spec.no_copy = mode.no_copy;
    spec.create_missing_source = true;
    if kind == MountType::Bind && mode.no_copy {
        return Err(config_error(kind, "nocopy is only valid for volumes"));
    }
    validate(spec)
}
// ANCHOR_END: parse_volume_flag

/// What a `-v` mode list (`ro,nocopy`) says.
#[derive(Debug, Default, PartialEq, Eq)]
struct Mode {
    read_only: bool,
    no_copy: bool,
}

/// moby's `linuxValidMountMode`: each kind of option at most once.
fn parse_mode(text: &str) -> Result<Mode, SpecError> {
    let mut mode = Mode::default();
    if text.is_empty() {
        return Ok(mode);
    }
    let mut seen = [0u8; 5]; // rw/ro, label, propagation, copy, consistency
    for option in text.split(',') {
        let kind = match option {
            "rw" => 0,
            "ro" => {
                mode.read_only = true;
                0
            }
            // SELinux relabelling: accepted as Docker does, nothing to do without SELinux.
            "z" | "Z" => 1,
            "private" | "rprivate" => 2,
            "shared" | "rshared" | "slave" | "rslave" => {
                return Err(SpecError::Propagation(option.to_string()))
            }
            "nocopy" => {
                mode.no_copy = true;
                3
            }
            "consistent" | "cached" | "delegated" => 4,
            _ => return Err(SpecError::InvalidMode(text.to_string())),
        };
        seen[kind] += 1;
        if seen[kind] > 1 {
            return Err(SpecError::InvalidMode(text.to_string()));
        }
    }
    Ok(mode)
}

fn valid_mode(text: &str) -> bool {
    matches!(parse_mode(text), Ok(_) | Err(SpecError::Propagation(_)))
}

/// An anonymous volume at `target`: what an image's `VOLUME` entry asks for.
pub fn anonymous_volume(target: &str) -> Result<MountSpec, SpecError> {
    validate(MountSpec::new(MountType::Volume, None, target.to_string()))
}

// ANCHOR: parse_mount_flag
/// `--mount key=value,…`, as the CLI's `MountOpt.Set`. The type defaults
/// to `volume`; `readonly` and `volume-nocopy` may stand alone.
pub fn parse_mount_flag(raw: &str) -> Result<MountSpec, SpecError> {
    let error = |message: String| SpecError::MountFlag { raw: raw.to_string(), message };
    let mut spec = MountSpec::new(MountType::Volume, None, String::new());
    let mut kind_name = "volume".to_string();
    let mut used = TypeOptions::default();
    for field in raw.split(',').filter(|f| !f.is_empty()) {
        let (key, value) = match field.split_once('=') {
            Some((key, value)) => (key.trim().to_ascii_lowercase(), Some(value.trim())),
            None => (field.trim().to_ascii_lowercase(), None),
        };
        let field = Field { field, key, value, error: &error };
        match field.key.as_str() {
            "type" => kind_name = field.needs_value()?.to_ascii_lowercase(),
            "source" | "src" => {
                spec.source = Some(field.needs_value()?.to_string()).filter(|s| !s.is_empty())
            }
            "target" | "destination" | "dst" => spec.target = field.needs_value()?.to_string(),
            "readonly" | "ro" => spec.read_only = field.boolean()?,
            "consistency" => {
                field.needs_value()?;
            }
            _ => set_type_option(&mut spec, &field).map(|()| used.mark(&field.key))?,
        }
    }
    spec.kind = mount_type(&kind_name)?;
    used.check(&spec.kind, &kind_name).map_err(error)?;
    if spec.target.is_empty() {
        return Err(error("target is required".to_string()));
    }
    validate(spec)
}
// ANCHOR_END: parse_mount_flag

/// One field of `--mount`: `key=value`, or a key alone (`value` is `None`).
struct Field<'a> {
    field: &'a str,
    key: String,
    value: Option<&'a str>,
    error: &'a dyn Fn(String) -> SpecError,
}

impl Field<'_> {
    fn needs_value(&self) -> Result<&str, SpecError> {
        let why = || format!("invalid field '{}' must be a key=value pair", self.field);
        self.value.ok_or_else(|| (self.error)(why()))
    }

    /// A key alone is `true`, as `readonly` is.
    fn boolean(&self) -> Result<bool, SpecError> {
        match self.value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("1") | Some("true") => Ok(true),
            Some("0") | Some("false") => Ok(false),
            Some(_) => Err(self.invalid()),
        }
    }

    fn invalid(&self) -> SpecError {
        (self.error)(format!("invalid value for {}: {}", self.key, self.value.unwrap_or_default()))
    }
}

// ANCHOR: set_type_option
/// The options of one mount type: `volume-*`, `bind-*`, `tmpfs-*`.
fn set_type_option(spec: &mut MountSpec, field: &Field<'_>) -> Result<(), SpecError> {
    match field.key.as_str() {
        "volume-nocopy" => spec.no_copy = field.boolean()?,
        "volume-label" => {
            let label = field.needs_value()?;
            let (k, v) = label.split_once('=').unwrap_or((label, ""));
            spec.labels.push((k.to_string(), v.to_string()));
        }
        "volume-driver" => {
            let driver = field.needs_value()?;
            if driver != "local" {
                let why = format!("volume driver {driver:?} is not supported: only \"local\" is");
                return Err((field.error)(why));
            }
        }
        "bind-propagation" => {
            let propagation = field.needs_value()?;
            if !matches!(propagation, "private" | "rprivate") {
                return Err(SpecError::Propagation(propagation.to_string()));
            }
        }
        "tmpfs-size" => {
            let size = ch02_cgroups::limits::parse_size(field.needs_value()?, "tmpfs-size");
            spec.tmpfs.size = Some(size.map_err(|_| field.invalid())?);
        }
        "tmpfs-mode" => {
            let bits = u32::from_str_radix(field.needs_value()?, 8).ok().filter(|m| *m <= 0o7777);
            spec.tmpfs.mode = Some(bits.ok_or_else(|| field.invalid())?);
        }
        _ => {
            let why = format!("unexpected key '{}' in '{}'", field.key, field.field);
            return Err((field.error)(why));
        }
    }
    Ok(())
}
// ANCHOR_END: set_type_option

fn mount_type(name: &str) -> Result<MountType, SpecError> {
    match name {
        "bind" => Ok(MountType::Bind),
        "volume" => Ok(MountType::Volume),
        "tmpfs" => Ok(MountType::Tmpfs),
        other => Err(SpecError::MountConfig {
            kind: other.to_string(),
            message: "mount type unknown".to_string(),
        }),
    }
}

/// Which types' own options a `--mount` used: only its own type's may be.
#[derive(Default)]
struct TypeOptions {
    volume: bool,
    tmpfs: bool,
    bind: bool,
}

impl TypeOptions {
    fn mark(&mut self, key: &str) {
        self.volume |= key.starts_with("volume-");
        self.tmpfs |= key.starts_with("tmpfs-");
        self.bind |= key.starts_with("bind-");
    }

    fn check(&self, kind: &MountType, kind_name: &str) -> Result<(), String> {
        let mixed = [
            (self.volume, MountType::Volume, "volume"),
            (self.tmpfs, MountType::Tmpfs, "tmpfs"),
            (self.bind, MountType::Bind, "bind"),
        ]
        .into_iter()
        .find(|(used, own, _)| *used && kind != own);
        match mixed {
            Some((_, _, prefix)) => {
                Err(format!("cannot mix '{prefix}-*' options with mount type '{kind_name}'"))
            }
            None => Ok(()),
        }
    }
}

// ANCHOR: parse_tmpfs_flag
/// `--tmpfs PATH[:OPTIONS]`: OPTIONS are mount(8)'s for tmpfs.
pub fn parse_tmpfs_flag(raw: &str) -> Result<MountSpec, SpecError> {
    let (target, options) = raw.split_once(':').unwrap_or((raw, ""));
    let mut spec = MountSpec::new(MountType::Tmpfs, None, target.to_string());
    for option in options.split(',').filter(|o| !o.is_empty()) {
        let (key, value) = option.split_once('=').unwrap_or((option, ""));
        match (key, value) {
            ("ro", "") => spec.read_only = true,
            ("rw", "") => spec.read_only = false,
            ("exec", "") => spec.tmpfs.exec = true,
            ("noexec", "") => spec.tmpfs.exec = false,
            // Docker always adds nosuid and nodev; these are accepted and kept.
            ("nosuid" | "nodev" | "suid" | "dev", "") => {}
            ("size", size) => {
                spec.tmpfs.size = Some(
                    ch02_cgroups::limits::parse_size(size, "size")
                        .map_err(|_| SpecError::TmpfsOption(option.to_string()))?,
                )
            }
            ("mode", mode) => {
                spec.tmpfs.mode = Some(
                    u32::from_str_radix(mode, 8)
                        .ok()
                        .filter(|m| *m <= 0o7777)
                        .ok_or_else(|| SpecError::TmpfsOption(option.to_string()))?,
                )
            }
            ("uid" | "gid" | "nr_inodes" | "nr_blocks", n)
                if !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric()) =>
            {
                spec.tmpfs.extra.push(option.to_string())
            }
            _ => return Err(SpecError::TmpfsOption(option.to_string())),
        }
    }
    validate(spec)
}
// ANCHOR_END: parse_tmpfs_flag

// ANCHOR: validate
/// The daemon's checks, common to all three flags (moby
/// `validateMountConfigImpl`): the target is absolute and not `/`, a bind
/// has an absolute source, a volume name is one the local driver accepts,
/// a tmpfs has no source.
fn validate(mut spec: MountSpec) -> Result<MountSpec, SpecError> {
    let kind = spec.kind;
    if spec.target.is_empty() {
        return Err(config_error(kind, "field Target must not be empty"));
    }
    if !spec.target.starts_with('/') {
        return Err(config_error(
            kind,
            &format!("invalid mount path: '{}' mount path must be absolute", spec.target),
        ));
    }
    spec.target = clean(&spec.target);
    if spec.target == "/" {
        return Err(config_error(kind, "invalid specification: destination can't be '/'"));
    }
    match (kind, spec.source.as_deref()) {
        (MountType::Bind, None) => {
            return Err(config_error(kind, "field Source must not be empty"))
        }
        (MountType::Bind, Some(source)) if !source.starts_with('/') => {
            return Err(config_error(
                kind,
                &format!("invalid mount path: '{source}' mount path must be absolute"),
            ))
        }
        (MountType::Bind, Some(source)) => spec.source = Some(clean(source)),
        (MountType::Volume, Some(name)) => validate_volume_name(name)?,
        (MountType::Tmpfs, Some(_)) => {
            return Err(config_error(kind, "field Source must not be specified"))
        }
        _ => {}
    }
    Ok(spec)
}
// ANCHOR_END: validate

fn config_error(kind: MountType, message: &str) -> SpecError {
    SpecError::MountConfig { kind: kind.name().to_string(), message: message.to_string() }
}

/// The local driver's names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn validate_volume_name(name: &str) -> Result<(), SpecError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if first_ok && rest_ok && name.len() >= 2 {
        Ok(())
    } else {
        Err(SpecError::VolumeName(name.to_string()))
    }
}

/// Go's `path.Clean` for absolute paths: no `.`, no `..`, no doubled or trailing `/`.
pub fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(raw: &str) -> MountSpec {
        parse_volume_flag(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    fn m(raw: &str) -> MountSpec {
        parse_mount_flag(raw).unwrap_or_else(|e| panic!("{raw}: {e}"))
    }

    #[test]
    fn dash_v_bind_named_and_anonymous() {
        let bind = v("/a:/b");
        assert_eq!(
            (bind.kind, bind.source.as_deref(), bind.target.as_str(), bind.read_only),
            (MountType::Bind, Some("/a"), "/b", false)
        );
        assert!(bind.create_missing_source);
        let named = v("name:/b:ro");
        assert_eq!(
            (named.kind, named.source.as_deref(), named.read_only),
            (MountType::Volume, Some("name"), true)
        );
        let anonymous = v("/b");
        assert_eq!(
            (anonymous.kind, anonymous.source, anonymous.target.as_str()),
            (MountType::Volume, None, "/b")
        );
        let nocopy = v("data:/b:ro,nocopy");
        assert!(nocopy.read_only && nocopy.no_copy);
        assert_eq!(v("/a/./x/:/b//c/").source.as_deref(), Some("/a/x"));
        assert_eq!(v("/a/./x/:/b//c/").target, "/b/c");
        assert!(!v("/a:/b:rw,z").read_only);
        assert!(v("/a:/b:rprivate,ro").read_only);
    }

    #[test]
    fn dash_v_errors_are_dockers() {
        let err = |raw: &str| parse_volume_flag(raw).unwrap_err().to_string();
        assert_eq!(err("/a:/b:rx"), "invalid mode: rx");
        assert_eq!(err("/a:/b:ro,ro"), "invalid mode: ro,ro");
        assert_eq!(err("/b:ro"), "invalid volume specification: '/b:ro'");
        assert_eq!(err("/a:/b:ro:x"), "invalid volume specification: '/a:/b:ro:x'");
        assert_eq!(err("/a::/b"), "invalid spec: /a::/b: empty section between colons");
        assert_eq!(err("/a:b"), "invalid mount config for type \"bind\": invalid mount path: 'b' mount path must be absolute");
        assert_eq!(err("data:relative"), "invalid mount config for type \"volume\": invalid mount path: 'relative' mount path must be absolute");
        assert_eq!(err("/a:/"), "invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
        assert!(
            err("./data:/b").starts_with(
                "create ./data: \"./data\" includes invalid characters for a local volume name"
            ),
            "{}",
            err("./data:/b")
        );
        assert!(err("/a:/b:shared").contains("not supported"));
        assert!(err("/a:/b:nocopy").contains("only valid for volumes"));
    }

    #[test]
    fn dash_dash_mount_long_form() {
        let bind = m("type=bind,source=/a,target=/b,readonly");
        assert_eq!(
            (bind.kind, bind.source.as_deref(), bind.target.as_str(), bind.read_only),
            (MountType::Bind, Some("/a"), "/b", true)
        );
        assert!(!bind.create_missing_source, "--mount refuses a missing source, as Docker does");
        let volume = m("type=volume,src=name,dst=/b,volume-nocopy");
        assert_eq!(
            (volume.kind, volume.source.as_deref(), volume.no_copy),
            (MountType::Volume, Some("name"), true)
        );
        let tmpfs = m("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770");
        assert_eq!(
            (tmpfs.kind, tmpfs.tmpfs.size, tmpfs.tmpfs.mode),
            (MountType::Tmpfs, Some(64 << 20), Some(0o1770))
        );
        let default_type = m("target=/data,volume-label=a=b,ro=false");
        assert_eq!(
            (default_type.kind, default_type.source, default_type.read_only),
            (MountType::Volume, None, false)
        );
        assert_eq!(default_type.labels, [("a".to_string(), "b".to_string())]);
        assert_eq!(m("type=bind,src=/a,destination=/b,bind-propagation=rprivate").target, "/b");
    }

    #[test]
    fn dash_dash_mount_errors_are_dockers() {
        let err = |raw: &str| parse_mount_flag(raw).unwrap_err().to_string();
        assert_eq!(err("type=bind,src=/a,target=/b,colour=red"), "invalid argument \"type=bind,src=/a,target=/b,colour=red\" for \"--mount\" flag: unexpected key 'colour' in 'colour=red'");
        assert_eq!(
            err("type=bind,src=/a"),
            "invalid argument \"type=bind,src=/a\" for \"--mount\" flag: target is required"
        );
        assert_eq!(
            err("type=nfs,target=/b"),
            "invalid mount config for type \"nfs\": mount type unknown"
        );
        assert_eq!(
            err("type=bind,target=/b"),
            "invalid mount config for type \"bind\": field Source must not be empty"
        );
        assert_eq!(
            err("type=tmpfs,src=x,target=/b"),
            "invalid mount config for type \"tmpfs\": field Source must not be specified"
        );
        assert!(err("type=bind,src=/a,target=/b,tmpfs-size=1m")
            .ends_with("cannot mix 'tmpfs-*' options with mount type 'bind'"));
        assert!(
            err("type=tmpfs,target=/b,tmpfs-mode=9").ends_with("invalid value for tmpfs-mode: 9")
        );
        assert!(err("type=bind,src=/a,target=/b,readonly=maybe")
            .ends_with("invalid value for readonly: maybe"));
        assert!(err("type=bind,src,target=/b")
            .ends_with("invalid field 'src' must be a key=value pair"));
    }

    #[test]
    fn dash_dash_tmpfs() {
        let t = parse_tmpfs_flag("/run:size=1m,mode=700,exec,uid=1000").unwrap();
        assert_eq!(
            (t.kind, t.target.as_str(), t.tmpfs.size, t.tmpfs.mode, t.tmpfs.exec),
            (MountType::Tmpfs, "/run", Some(1 << 20), Some(0o700), true)
        );
        assert_eq!(t.tmpfs.extra, ["uid=1000"]);
        assert!(!parse_tmpfs_flag("/run").unwrap().tmpfs.exec);
        assert_eq!(
            parse_tmpfs_flag("/run:bogus").unwrap_err().to_string(),
            "invalid tmpfs option \"bogus\""
        );
        assert_eq!(
            parse_tmpfs_flag("/run:uid=1,o=x").unwrap_err(),
            SpecError::TmpfsOption("o=x".into())
        );
        assert!(parse_tmpfs_flag("run").unwrap_err().to_string().contains("must be absolute"));
    }

    #[test]
    fn volume_names_follow_the_local_driver() {
        for good in ["ab", "data", "my-vol_1.2", "0x"] {
            assert!(validate_volume_name(good).is_ok(), "{good}");
        }
        for bad in ["a", "-data", ".x", "a/b", "a b", ""] {
            assert!(validate_volume_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clean_is_gos_path_clean() {
        assert_eq!(clean("/a/../../b/./c//"), "/b/c");
        assert_eq!(clean("/"), "/");
        assert_eq!(clean("/.."), "/");
    }
}
