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
