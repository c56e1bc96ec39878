//! Exercise `parse_security_opt` (medium). Book: ch08-security.md, "The flags".
//!
//! One `--security-opt` value. Docker separates key and value with `=` or
//! `:` (whichever comes first):
//! - `no-new-privileges` alone, or with `true`/`false` →
//!   `SecurityOpt::NoNewPrivileges(bool)`;
//! - `seccomp=unconfined` → `SecurityOpt::SeccompUnconfined`; any other
//!   non-empty value is a profile file we cannot load →
//!   `OptionError::SeccompProfileFile(value)`;
//! - `apparmor=...` and `label=...` need an LSM we do not have →
//!   `OptionError::Unsupported(text, "AppArmor" | "SELinux")`;
//! - everything else (no separator, an empty seccomp value, an unknown
//!   key or value) → `OptionError::Malformed(text)`.

use ch08_security::options::{OptionError, SecurityOpt};

/// What one `--security-opt` says.
pub fn parse_security_opt(text: &str) -> Result<SecurityOpt, OptionError> {
    todo!("split at the first '=' or ':', then match on (key, value)")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: only `=` taken as the separator: the old `no-
    // new-privileges:true` and `seccomp:unconfined` spellings Docker still accepts are refused.
    // Checked by pasting it into the reference implementation: it fails
    // `no_new_privileges_in_every_spelling`.
    //
    //     let (key, value) = text.split_once('=').ok_or_else(malformed)?;

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch08_security::options as solution;

    use ch08_security::options::{OptionError, SecurityOpt};

    #[test]
    fn no_new_privileges_in_every_spelling() {
        for on in ["no-new-privileges", "no-new-privileges:true", "no-new-privileges=true"] {
            assert_eq!(
                solution::parse_security_opt(on),
                Ok(SecurityOpt::NoNewPrivileges(true)),
                "{on}"
            );
        }
        for off in ["no-new-privileges:false", "no-new-privileges=false"] {
            assert_eq!(
                solution::parse_security_opt(off),
                Ok(SecurityOpt::NoNewPrivileges(false)),
                "{off}"
            );
        }
    }

    #[test]
    fn seccomp_unconfined_or_a_profile_we_cannot_load() {
        assert_eq!(
            solution::parse_security_opt("seccomp=unconfined"),
            Ok(SecurityOpt::SeccompUnconfined)
        );
        assert_eq!(
            solution::parse_security_opt("seccomp:unconfined"),
            Ok(SecurityOpt::SeccompUnconfined)
        );
        assert_eq!(
            solution::parse_security_opt("seccomp=/etc/p.json"),
            Err(OptionError::SeccompProfileFile("/etc/p.json".into()))
        );
        assert_eq!(
            solution::parse_security_opt("seccomp:default.json"),
            Err(OptionError::SeccompProfileFile("default.json".into()))
        );
    }

    #[test]
    fn lsm_options_are_unsupported() {
        assert_eq!(
            solution::parse_security_opt("apparmor=unconfined"),
            Err(OptionError::Unsupported("apparmor=unconfined".into(), "AppArmor"))
        );
        assert_eq!(
            solution::parse_security_opt("label=disable"),
            Err(OptionError::Unsupported("label=disable".into(), "SELinux"))
        );
        assert_eq!(
            solution::parse_security_opt("label:user:USER"),
            Err(OptionError::Unsupported("label:user:USER".into(), "SELinux"))
        );
    }

    #[test]
    fn anything_else_is_malformed() {
        for bad in [
            "",
            "seccomp",
            "seccomp=",
            "no-new-privileges:maybe",
            "no-new-privileges=",
            "selinux",
            "nonsense=1",
            "unconfined",
        ] {
            assert_eq!(
                solution::parse_security_opt(bad),
                Err(OptionError::Malformed(bad.to_string())),
                "{bad:?}"
            );
        }
    }
}
