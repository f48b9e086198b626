//! Packet timestamps. Ward never reads the wall clock while analysing traffic:
//! time comes from the capture, so replaying a file is deterministic.

use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, as recorded by the capture.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Builds a timestamp from seconds and microseconds.
    pub fn from_secs_micros(secs: i64, micros: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000).saturating_add(micros))
    }

    /// Whole seconds since the epoch.
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Seconds as a float, Zeek style (`1254722767.529046`).
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// Microseconds between two timestamps (saturating at zero).
    pub fn micros_since(self, earlier: Timestamp) -> i64 {
        self.0.saturating_sub(earlier.0).max(0)
    }
}

/// Calendar fields (UTC) of seconds since 1970-01-01: `(year, month, day,
/// hour, minute, second)`, by H. Hinnant's days-to-civil algorithm.
pub fn civil(unix_secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (days, rem) = (unix_secs.div_euclid(86_400), unix_secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DD` (UTC) of seconds since 1970-01-01.
pub fn date(unix_secs: i64) -> String {
    let (y, m, d, ..) = civil(unix_secs);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Seconds since 1970-01-01 of midnight UTC of a `YYYY-MM-DD` date (years
/// 1970–9999, a day that exists in its month), by H. Hinnant's
/// days-from-civil algorithm; `None` for anything else.
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let secs = (era * 146_097 + doe - 719_468) * 86_400;
    // A day past its month's end comes back as another date.
    (date(secs) == s).then_some(secs)
}

impl Timestamp {
    /// ISO 8601 UTC text (`2026-01-05T08:00:50.002400Z`), for people.
    pub fn iso(self) -> String {
        let (y, mo, d, h, mi, s) = civil(self.secs());
        format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}Z",
            self.0.rem_euclid(1_000_000)
        )
    }
}

impl std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{:06}", self.secs(), self.0.rem_euclid(1_000_000))
    }
}

#[cfg(test)]
mod iso_tests {
    use super::Timestamp;

    #[test]
    fn dates_parse_and_print_back() {
        use super::{date, parse_date};
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-01-05"), Some(1_767_571_200));
        assert_eq!(date(1_767_571_200 + 3_599), "2026-01-05");
        assert_eq!(
            parse_date("2024-02-29").map(date).as_deref(),
            Some("2024-02-29")
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-05",
            "1969-12-31",
            "20260105",
            "2026-01-0x",
            "",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(Timestamp(0).iso(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            Timestamp(1_767_600_050_002_400).iso(),
            "2026-01-05T08:00:50.002400Z"
        );
        assert_eq!(
            Timestamp(951_782_400_000_000).iso(),
            "2000-02-29T00:00:00.000000Z"
        );
        assert_eq!(Timestamp(-1).iso(), "1969-12-31T23:59:59.999999Z");
    }
}
