//! `-u USER[:GROUP]`: resolve names against the *image's* /etc/passwd and
//! /etc/group.
//!
//! We parse the files ourselves instead of calling `getpwnam(3)`: that goes
//! through NSS, which may load shared libraries — and in CVE-2019-14271
//! `docker cp` loaded them from inside the container, running its code as
//! root on the host.

use thiserror::Error;

/// A resolved user: what `setgroups`, `setgid` and `setuid` will be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    pub uid: u32,
    pub gid: u32,
    pub supplementary_gids: Vec<u32>,
    pub home: String,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UserError {
    #[error("unable to find user {0}: no matching entries in passwd file")]
    NoUser(String),
    #[error("unable to find group {0}: no matching entries in group file")]
    NoGroup(String),
    #[error("invalid user {0:?}: use USER, UID, USER:GROUP or UID:GID")]
    Invalid(String),
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    passwd.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 7).then_some(()).and_then(|_| {
            Some(PasswdEntry {
                name: f[0],
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5],
            })
        })
    })
}

fn group_entries(group: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    group.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        (f.len() >= 4).then_some(()).and_then(|_| {
            Some(GroupEntry {
                name: f[0],
                gid: f[2].parse().ok()?,
                members: f[3].split(',').filter(|m| !m.is_empty()).collect(),
            })
        })
    })
}

// ANCHOR: resolve_user
/// Resolve `spec` (`user`, `uid`, `user:group`, `uid:gid`, ...) against the
/// contents of the image's passwd and group files. A numeric uid need not
/// exist in passwd (Docker allows it); a name must.
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<ExecUser, UserError> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    if user_part.is_empty() || group_part == Some("") {
        return Err(UserError::Invalid(spec.to_string()));
    }
    let entry =
        passwd_entries(passwd).find(|e| e.name == user_part || user_part.parse() == Ok(e.uid));
    let (uid, primary_gid, home, name) = match (entry, user_part.parse::<u32>()) {
        (Some(e), _) => (e.uid, e.gid, e.home.to_string(), Some(e.name)),
        (None, Ok(uid)) => (uid, uid, "/".to_string(), None),
        (None, Err(_)) => return Err(UserError::NoUser(user_part.to_string())),
    };
    let Some(group_part) = group_part else {
        // No group given: the primary group plus every group listing the user.
        let supplementary = name
            .map(|n| {
                group_entries(group).filter(|g| g.members.contains(&n)).map(|g| g.gid).collect()
            })
            .unwrap_or_default();
        return Ok(ExecUser { uid, gid: primary_gid, supplementary_gids: supplementary, home });
    };
    let gid = match (group_entries(group).find(|g| g.name == group_part), group_part.parse::<u32>())
    {
        (Some(g), _) => g.gid,
        (None, Ok(gid)) => gid,
        (None, Err(_)) => return Err(UserError::NoGroup(group_part.to_string())),
    };
    Ok(ExecUser { uid, gid, supplementary_gids: Vec::new(), home })
}
// ANCHOR_END: resolve_user

// ANCHOR: switch_user
/// The child hook that becomes `user`: supplementary groups first, then the
/// group, then the user — after `setuid` we could no longer change groups.
pub fn switch_user_hook(user: ExecUser) -> ch01_namespaces::ChildHook {
    use nix::unistd::{setgid, setgroups, setuid, Gid, Uid};
    ch01_namespaces::ChildHook::new(
        format!("switching to user {}:{}", user.uid, user.gid),
        move || {
            let groups: Vec<Gid> =
                user.supplementary_gids.iter().map(|g| Gid::from_raw(*g)).collect();
            setgroups(&groups)?;
            setgid(Gid::from_raw(user.gid))?;
            setuid(Uid::from_raw(user.uid))?;
            Ok(())
        },
    )
}
// ANCHOR_END: switch_user

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nbad line\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,other\n";

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            resolve_user("root", PASSWD, GROUP).unwrap(),
            ExecUser { uid: 0, gid: 0, supplementary_gids: vec![], home: "/root".into() }
        );
        let www = resolve_user("www", PASSWD, GROUP).unwrap();
        assert_eq!(
            (www.uid, www.gid, www.supplementary_gids, www.home.as_str()),
            (33, 33, vec![50], "/var/www")
        );
        assert_eq!(resolve_user("33", PASSWD, GROUP).unwrap().home, "/var/www");
        let unknown_uid = resolve_user("1234", PASSWD, GROUP).unwrap();
        assert_eq!(
            (unknown_uid.uid, unknown_uid.gid, unknown_uid.home.as_str()),
            (1234, 1234, "/")
        );
    }

    #[test]
    fn with_groups() {
        assert_eq!(resolve_user("www:staff", PASSWD, GROUP).unwrap().gid, 50);
        assert_eq!(resolve_user("1000:1000", PASSWD, GROUP).unwrap().gid, 1000);
        assert_eq!(
            resolve_user("0:0", PASSWD, GROUP).unwrap(),
            resolve_user("root", PASSWD, GROUP).unwrap()
        );
    }

    #[test]
    fn errors_say_what_was_not_found() {
        assert_eq!(resolve_user("nobody", PASSWD, GROUP), Err(UserError::NoUser("nobody".into())));
        assert_eq!(
            resolve_user("www:nogroup", PASSWD, GROUP),
            Err(UserError::NoGroup("nogroup".into()))
        );
        assert_eq!(resolve_user(":0", PASSWD, GROUP), Err(UserError::Invalid(":0".into())));
        assert_eq!(resolve_user("www:", PASSWD, GROUP), Err(UserError::Invalid("www:".into())));
        assert_eq!(
            UserError::NoUser("nobody".into()).to_string(),
            "unable to find user nobody: no matching entries in passwd file"
        );
    }
}
