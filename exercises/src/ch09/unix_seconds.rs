//! Exercise `unix_seconds` (medium). Book: ch09-engine.md, "Images, networks and volumes over the API".
//!
//! An image config says when it was made in RFC 3339 —
//! `2024-01-02T03:04:05.678Z`, or with an offset, `2024-01-02T04:04:05+01:00`
//! — and `GET /images/json` lists that moment as seconds since 1970-01-01
//! UTC (`"Created": 1704164645`), which is what `docker images` turns into
//! "2 hours ago". Write the conversion without a date library:
//! - the date: `YYYY-MM-DD`, then `T`;
//! - the time: `HH:MM:SS`, seconds optional, any fraction (`.678`) dropped;
//! - the zone: `Z`, `+HH:MM` or `-HH:MM` (a time *ahead* of UTC is earlier
//!   in UTC: subtract the offset); none means UTC;
//! - days since the epoch from the civil date: count years from March, so
//!   that the leap day is the last day of the year (Howard Hinnant's
//!   `days_from_civil`);
//! - anything that does not parse is `None`.

/// Seconds since the epoch of an RFC 3339 time.
pub fn unix_seconds(text: &str) -> Option<i64> {
    todo!(
        "split at 'T', then at the zone; days_from_civil(y, m, d) * 86400 + the clock - the offset"
    )
}

#[cfg(test)]
mod tests {
    // A plausible wrong answer these tests catch: the zone offset added instead of subtracted:
    // `12:00+02:00` is 10:00 UTC, not 14:00. Checked by pasting it into the reference
    // implementation: it fails `offsets_move_the_moment_to_utc`.
    //
    //     Some(days * 86_400 + h * 3600 + min * 60 + s + offset_seconds)

    #[cfg(not(feature = "reference"))]
    use super as solution;
    #[cfg(feature = "reference")]
    use ch09_engine::local::objects::images as solution;

    #[test]
    fn the_epoch_and_a_known_moment() {
        assert_eq!(solution::unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(solution::unix_seconds("2024-01-02T03:04:05Z"), Some(1_704_164_645));
        assert_eq!(solution::unix_seconds("2024-01-02T03:04:05.678901234Z"), Some(1_704_164_645));
    }

    #[test]
    fn offsets_move_the_moment_to_utc() {
        assert_eq!(solution::unix_seconds("2024-01-02T04:04:05+01:00"), Some(1_704_164_645));
        assert_eq!(solution::unix_seconds("2024-01-01T22:04:05-05:00"), Some(1_704_164_645));
    }

    #[test]
    fn leap_days_and_centuries() {
        assert_eq!(solution::unix_seconds("2000-02-29T00:00:00Z"), Some(951_782_400));
        assert_eq!(solution::unix_seconds("2000-03-01T00:00:00Z"), Some(951_868_800));
        assert_eq!(solution::unix_seconds("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn nonsense_is_none() {
        assert_eq!(solution::unix_seconds("yesterday"), None);
        assert_eq!(solution::unix_seconds("2024-01-02"), None);
        assert_eq!(solution::unix_seconds("2024-01-02Tnoon"), None);
    }
}
