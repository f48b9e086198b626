//! Time-to-remediate metrics: per severity, how many items were remediated
//! and the mean and 90th percentile (nearest rank) of the days from opening
//! to remediation (mitigated, patched or verified; a risk acceptance is not
//! a remediation), how many are open and overdue; and the number of open
//! items at each day of a window (open over time).

use crate::{Severity, DAY};
use serde::Serialize;

/// The times of one item that the metrics need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemTimes {
    /// Severity.
    pub severity: Severity,
    /// When it was opened (Unix seconds).
    pub opened_at: i64,
    /// When it was remediated, if it is.
    pub remediated_at: Option<i64>,
    /// When it stopped being open or in progress (remediated or accepted),
    /// if it did.
    pub closed_at: Option<i64>,
    /// Due date.
    pub due: i64,
}

impl ItemTimes {
    /// Open or in progress at `t`.
    pub fn active_at(&self, t: i64) -> bool {
        self.opened_at <= t && self.closed_at.is_none_or(|c| c > t)
    }
}

/// One severity's numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityStats {
    /// Severity.
    pub severity: Severity,
    /// Items remediated.
    pub remediated: u64,
    /// Mean days to remediate, when any was.
    pub mean_days: Option<f64>,
    /// 90th percentile (nearest rank) of the days to remediate.
    pub p90_days: Option<f64>,
    /// Open or in progress now.
    pub open: u64,
    /// Open or in progress past their due date.
    pub overdue: u64,
}

/// Open items at one time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Point {
    /// Unix seconds.
    pub at: i64,
    /// Items open or in progress then.
    pub open: u64,
}

/// Everything the dashboard and the report chart.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// When they were computed (Unix seconds).
    pub now: i64,
    /// Items in all.
    pub total: u64,
    /// Open or in progress now.
    pub open: u64,
    /// Of which past due.
    pub overdue: u64,
    /// Per severity, critical first.
    pub by_severity: Vec<SeverityStats>,
    /// Open items at the end of each of the last `days` days, oldest first.
    pub open_over_time: Vec<Point>,
}

/// The metrics of `items` at `now`, with `days` points of open-over-time.
pub fn metrics(items: &[ItemTimes], now: i64, days: u32) -> Metrics {
    let mut by_severity = Vec::with_capacity(4);
    for sev in Severity::ALL.into_iter().rev() {
        let mut took: Vec<i64> = items
            .iter()
            .filter(|i| i.severity == sev)
            .filter_map(|i| i.remediated_at.map(|r| (r - i.opened_at).max(0)))
            .collect();
        took.sort_unstable();
        let n = took.len();
        let days_of = |s: i64| s as f64 / DAY as f64;
        let mean_days = (n > 0).then(|| days_of(took.iter().sum::<i64>()) / n as f64);
        // Nearest rank: the smallest value with at least 90% at or below it.
        let p90_days = (n > 0).then(|| days_of(took[(n * 9).div_ceil(10) - 1]));
        let active = items
            .iter()
            .filter(|i| i.severity == sev && i.closed_at.is_none());
        let (open, overdue) = active.fold((0, 0), |(o, d), i| (o + 1, d + u64::from(i.due < now)));
        by_severity.push(SeverityStats {
            severity: sev,
            remediated: n as u64,
            mean_days,
            p90_days,
            open,
            overdue,
        });
    }
    let open_over_time = (0..days.max(1))
        .rev()
        .map(|k| {
            let at = now - i64::from(k) * DAY;
            Point {
                at,
                open: items.iter().filter(|i| i.active_at(at)).count() as u64,
            }
        })
        .collect();
    Metrics {
        now,
        total: items.len() as u64,
        open: by_severity.iter().map(|s| s.open).sum(),
        overdue: by_severity.iter().map(|s| s.overdue).sum(),
        by_severity,
        open_over_time,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(sev: Severity, opened: i64, fixed: Option<i64>, due: i64) -> ItemTimes {
        ItemTimes {
            severity: sev,
            opened_at: opened,
            remediated_at: fixed,
            closed_at: fixed,
            due,
        }
    }

    #[test]
    fn hand_computed_small_history() {
        let d = DAY;
        let items = [
            // High: 1, 2, 3 ... 10 days to fix: mean 5.5, p90 (rank 9) 9.
            item(Severity::High, 0, Some(d), 0),
            item(Severity::High, 0, Some(2 * d), 0),
            item(Severity::High, 0, Some(3 * d), 0),
            item(Severity::High, 0, Some(4 * d), 0),
            item(Severity::High, 0, Some(5 * d), 0),
            item(Severity::High, 0, Some(6 * d), 0),
            item(Severity::High, 0, Some(7 * d), 0),
            item(Severity::High, 0, Some(8 * d), 0),
            item(Severity::High, 0, Some(9 * d), 0),
            item(Severity::High, 0, Some(10 * d), 0),
            // Critical: one open and overdue, one open and not yet due.
            item(Severity::Critical, 5 * d, None, 8 * d),
            item(Severity::Critical, 9 * d, None, 30 * d),
        ];
        let m = metrics(&items, 10 * d, 3);
        let high = &m.by_severity[1];
        assert_eq!(high.severity, Severity::High);
        assert_eq!(
            (high.remediated, high.mean_days, high.p90_days),
            (10, Some(5.5), Some(9.0))
        );
        let crit = &m.by_severity[0];
        assert_eq!((crit.open, crit.overdue, crit.mean_days), (2, 1, None));
        assert_eq!((m.total, m.open, m.overdue), (12, 2, 1));
        // Day 8: criticals 1 open; highs fixed after day 8: 9 and 10 → 3.
        // Day 9: 2 criticals + high fixed at 10 → 3. Day 10: 2.
        let opens: Vec<u64> = m.open_over_time.iter().map(|p| p.open).collect();
        assert_eq!(opens, vec![3, 3, 2]);
    }
}
