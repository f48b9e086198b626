//! Calendar days (`YYYY-MM-DD`, UTC) as day numbers since 1970-01-01, for
//! the dates of programme records (training, review dates, analyses).

/// Days in the "12 months" a record stays current.
pub const YEAR_DAYS: i64 = 365;

/// Day number of `YYYY-MM-DD` (a real calendar day), else `None`.
pub fn parse(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 || d > month_days(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d))
}

fn month_days(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// H. Hinnant's days-from-civil.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The day of Unix time `secs`.
pub fn of_unix(secs: i64) -> i64 {
    secs.div_euclid(86_400)
}

/// `YYYY-MM-DD` of Unix time `secs`.
pub fn format_unix(secs: i64) -> String {
    let (y, m, d, ..) = model::time::civil(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_bad_days_are_refused() {
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(parse("2026-01-05"), Some(of_unix(1_767_600_050)));
        assert_eq!(format_unix(1_767_600_050), "2026-01-05");
        assert_eq!(parse("2024-02-29").map(|d| d + 1), parse("2024-03-01"));
        for bad in [
            "2025-02-29",
            "2026-13-01",
            "2026-1-01",
            "20260101",
            "",
            "2026-01-0x",
            "+026-01-01",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
