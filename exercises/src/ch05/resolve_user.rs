//! Exercise `resolve_user` (hard). Book: ch05-run.md.
//!
//! `docker run -u SPEC`, where SPEC is `user`, `uid`, `user:group`,
//! `uid:gid` (or a mix), resolved against the *image's* passwd and group
//! files (never the host's, never through NSS):
//! - passwd lines are `name:x:uid:gid:gecos:home:shell`, group lines
//!   `name:x:gid:member,member`; skip malformed lines;
//! - the user matches by name or by uid; a numeric uid that is not in
//!   passwd is allowed (gid = uid, home `/`); an unknown name is `NoUser`;
//! - without `:group`: the user's primary gid, plus as supplementary gids
//!   every group that lists the user (by name) as a member;
//! - with `:group`: that group by name or number (unknown name: `NoGroup`),
//!   and no supplementary groups;
//! - an empty user or an empty group part is `Invalid(spec)`.

use ch05_run::user::{ExecUser, UserError};

/// Resolve `spec` against the contents of the image's passwd and group files.
pub fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<ExecUser, UserError> {
    todo!("split the spec at ':', find the passwd entry, then the group(s)")
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: with no group given, only the primary group set:
    // the supplementary groups that list the user in /etc/group are forgotten. Checked by pasting
    // it into the reference implementation: it fails `names_and_numbers`.
    //
    //     let Some(group_part) = group_part else {
    //         return Ok(ExecUser { uid, gid: primary_gid, supplementary_gids: Vec::new(), home });
    //     };

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch05_run::user as solution;

    use ch05_run::user::{ExecUser, UserError};

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\nbad line\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\nstaff:x:50:www,other\nlate:x:60:other,www\n";

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            solution::resolve_user("root", PASSWD, GROUP).unwrap(),
            ExecUser { uid: 0, gid: 0, supplementary_gids: vec![], home: "/root".into() }
        );
        let www = solution::resolve_user("www", PASSWD, GROUP).unwrap();
        assert_eq!(
            (www.uid, www.gid, www.supplementary_gids, www.home.as_str()),
            (33, 33, vec![50, 60], "/var/www")
        );
        assert_eq!(solution::resolve_user("33", PASSWD, GROUP).unwrap().home, "/var/www");
        let unknown_uid = solution::resolve_user("1234", PASSWD, GROUP).unwrap();
        assert_eq!(
            (unknown_uid.uid, unknown_uid.gid, unknown_uid.home.as_str()),
            (1234, 1234, "/")
        );
    }

    #[test]
    fn with_groups() {
        let www_staff = solution::resolve_user("www:staff", PASSWD, GROUP).unwrap();
        assert_eq!((www_staff.uid, www_staff.gid, www_staff.supplementary_gids), (33, 50, vec![]));
        assert_eq!(solution::resolve_user("1000:1000", PASSWD, GROUP).unwrap().gid, 1000);
        assert_eq!(solution::resolve_user("www:7", PASSWD, GROUP).unwrap().gid, 7);
        assert_eq!(
            solution::resolve_user("0:0", PASSWD, GROUP).unwrap(),
            solution::resolve_user("root", PASSWD, GROUP).unwrap()
        );
    }

    #[test]
    fn errors_say_what_was_not_found() {
        assert_eq!(
            solution::resolve_user("nobody", PASSWD, GROUP),
            Err(UserError::NoUser("nobody".into()))
        );
        assert_eq!(
            solution::resolve_user("www:nogroup", PASSWD, GROUP),
            Err(UserError::NoGroup("nogroup".into()))
        );
        assert_eq!(
            solution::resolve_user(":0", PASSWD, GROUP),
            Err(UserError::Invalid(":0".into()))
        );
        assert_eq!(
            solution::resolve_user("www:", PASSWD, GROUP),
            Err(UserError::Invalid("www:".into()))
        );
    }
}
