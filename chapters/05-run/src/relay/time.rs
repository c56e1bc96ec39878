//! RFC 3339 time stamps with nanoseconds, as Docker's `json-file` log has
//! them (`2026-11-22T10:00:00.123456789Z`), from the clock alone.

use std::time::{SystemTime, UNIX_EPOCH};

/// `at` in UTC, as `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
pub fn rfc3339_nanos(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (days, secs) = (since.as_secs() / 86_400, since.as_secs() % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let (hour, minute, second) = (secs / 3600, secs / 60 % 60, secs % 60);
    let nanos = since.subsec_nanos();
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{nanos:09}Z")
}

/// The date of day `days` after 1970-01-01 in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`: eras of 400 years that
/// start on March 1st, so the leap day comes last).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_around_leap_days_and_epochs() {
        let at = |secs: u64, nanos: u32| UNIX_EPOCH + Duration::new(secs, nanos);
        assert_eq!(rfc3339_nanos(at(0, 0)), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339_nanos(at(951_782_400, 5)), "2000-02-29T00:00:00.000000005Z");
        assert_eq!(rfc3339_nanos(at(951_868_799, 0)), "2000-02-29T23:59:59.000000000Z");
        assert_eq!(rfc3339_nanos(at(1_709_251_199, 0)), "2024-02-29T23:59:59.000000000Z");
        assert_eq!(rfc3339_nanos(at(4_107_542_400, 0)), "2100-03-01T00:00:00.000000000Z");
    }
}
