//! Alert lifecycle (SQLite migration 9, PostgreSQL migration 5): every
//! stored alert gets a stable numeric id and a status — `open` →
//! `acknowledged` → `closed`, and `reopen` back to `open` — with who changed
//! it, when (Unix seconds, wall clock) and an optional comment. Every change
//! is also appended to the `audit` table (`alert_acknowledged`,
//! `alert_closed`, `alert_reopened`), in the same transaction.
//!
//! Folding meets the lifecycle in [`Store::store_alerts`]: an occurrence of
//! an *acknowledged* alert folds into it and leaves it acknowledged; an
//! occurrence of a *closed* alert that is newer (packet time) than anything
//! the alert held when it was closed reopens it (status `open`, by `ward`,
//! `reopened` + 1, audited) — the SOC sees the same alert, with its history,
//! come back instead of a second row. Replaying older traffic (its last
//! occurrence not after the stored one) folds the counts but keeps it closed.
//!
//! **Invariant:** a status change either happens for every id asked for,
//! with its audit rows, or for none (one transaction); comments are bounded
//! ([`MAX_COMMENT`] characters) and have no control characters.

use crate::db::{params, Conn, Val};
use crate::{Error, Store};
use model::Timestamp;
use monitor::{Alert, AlertKind, Severity};
use serde::{Deserialize, Serialize};

/// SQLite: the alerts table is rebuilt with an `INTEGER PRIMARY KEY
/// AUTOINCREMENT` id (ids are never reused) and the status columns; existing
/// alerts keep their data, numbered by first occurrence, and start `open`.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE alerts_v8(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    device TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    severity TEXT NOT NULL,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    count BIGINT NOT NULL,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    status_by TEXT,
    status_at BIGINT,
    status_comment TEXT,
    reopened BIGINT NOT NULL DEFAULT 0,
    UNIQUE (kind, device, alert_key)
);
INSERT INTO alerts_v8(kind, device, alert_key, ip, severity, summary, evidence, count, first_seen, last_seen)
    SELECT kind, device, alert_key, ip, severity, summary, evidence, count, first_seen, last_seen FROM alerts
    ORDER BY first_seen, kind, device, alert_key;
DROP TABLE alerts;
ALTER TABLE alerts_v8 RENAME TO alerts;
CREATE INDEX alerts_first_seen ON alerts(first_seen);
CREATE INDEX alerts_status ON alerts(status);
"#;

/// PostgreSQL: the same columns added in place (an identity column numbers
/// the existing rows).
pub(crate) const PG_MIGRATION: &str = r#"
ALTER TABLE alerts ADD COLUMN id BIGINT GENERATED ALWAYS AS IDENTITY;
ALTER TABLE alerts ADD CONSTRAINT alerts_id_unique UNIQUE (id);
ALTER TABLE alerts ADD COLUMN status TEXT NOT NULL DEFAULT 'open';
ALTER TABLE alerts ADD COLUMN status_by TEXT;
ALTER TABLE alerts ADD COLUMN status_at BIGINT;
ALTER TABLE alerts ADD COLUMN status_comment TEXT;
ALTER TABLE alerts ADD COLUMN reopened BIGINT NOT NULL DEFAULT 0;
CREATE INDEX alerts_status ON alerts(status);
"#;

/// Longest comment accepted on a status change (characters).
pub const MAX_COMMENT: usize = 500;

/// Who reopens a closed alert when a new occurrence arrives.
pub const SYSTEM_ACTOR: &str = "ward";

/// Where an alert is in its handling.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum AlertStatus {
    /// New (or reopened): nobody has looked at it yet.
    #[default]
    Open,
    /// Someone owns it; occurrences keep folding into it.
    Acknowledged,
    /// Done; a newer occurrence reopens it.
    Closed,
}

impl AlertStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [AlertStatus; 3] = [
        AlertStatus::Open,
        AlertStatus::Acknowledged,
        AlertStatus::Closed,
    ];

    /// Lowercase name (`open`, `acknowledged`, `closed`).
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::Open => "open",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Closed => "closed",
        }
    }

    /// Parses [`AlertStatus::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// A status filter by name: a status, `active` (open or acknowledged:
    /// everything not closed) or `all` (an empty list: no filter).
    pub fn filter(s: &str) -> Option<Vec<AlertStatus>> {
        match s {
            "active" => Some(vec![AlertStatus::Open, AlertStatus::Acknowledged]),
            "all" => Some(Vec::new()),
            _ => Self::parse(s).map(|v| vec![v]),
        }
    }
}

/// A status change asked for by someone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusAction {
    /// open → acknowledged.
    Ack,
    /// open or acknowledged → closed.
    Close,
    /// acknowledged or closed → open.
    Reopen,
}

impl StatusAction {
    /// Lowercase name (`ack`, `close`, `reopen`).
    pub fn as_str(self) -> &'static str {
        match self {
            StatusAction::Ack => "ack",
            StatusAction::Close => "close",
            StatusAction::Reopen => "reopen",
        }
    }

    /// Parses [`StatusAction::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [StatusAction::Ack, StatusAction::Close, StatusAction::Reopen]
            .into_iter()
            .find(|a| a.as_str() == s)
    }

    /// The status it leads to.
    pub fn target(self) -> AlertStatus {
        match self {
            StatusAction::Ack => AlertStatus::Acknowledged,
            StatusAction::Close => AlertStatus::Closed,
            StatusAction::Reopen => AlertStatus::Open,
        }
    }

    /// The audit action.
    pub fn audit_action(self) -> &'static str {
        match self {
            StatusAction::Ack => "alert_acknowledged",
            StatusAction::Close => "alert_closed",
            StatusAction::Reopen => "alert_reopened",
        }
    }

    /// Whether it applies to an alert in `from`: `Some(true)` changes it,
    /// `Some(false)` leaves it as it is (it is already there: asking twice
    /// is harmless), `None` is refused (acknowledging a closed alert: reopen
    /// it first).
    pub fn applies(self, from: AlertStatus) -> Option<bool> {
        match (self, from) {
            (a, f) if a.target() == f => Some(false),
            (StatusAction::Ack, AlertStatus::Closed) => None,
            _ => Some(true),
        }
    }
}

/// Why a status change was refused (nothing changed).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatusError {
    /// No alert has this id.
    #[error("no alert #{0}")]
    NotFound(i64),
    /// The change does not apply to the alert's status.
    #[error("alert #{id} is {status}; {action} does not apply (reopen it first)")]
    Conflict {
        /// The alert.
        id: i64,
        /// Its status.
        status: &'static str,
        /// What was asked.
        action: &'static str,
    },
    /// The comment is too long or has control characters.
    #[error("comment: {0}")]
    Comment(String),
    /// No alert id was given.
    #[error("no alert id given")]
    NoIds,
}

/// The checked comment: trimmed, empty → none; `Err` when longer than
/// [`MAX_COMMENT`] characters or holding control characters.
pub fn check_comment(c: Option<&str>) -> Result<Option<String>, StatusError> {
    let Some(c) = c.map(str::trim).filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if c.chars().count() > MAX_COMMENT {
        return Err(StatusError::Comment(format!(
            "at most {MAX_COMMENT} characters"
        )));
    }
    if c.chars().any(char::is_control) {
        return Err(StatusError::Comment("no control characters".into()));
    }
    Ok(Some(c.to_string()))
}

/// A stored alert with its id and lifecycle. Serializes as the alert's
/// fields plus `id`, `status`, `status_by`, `status_at`, `comment`, `reopened`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    /// Stable id (never reused).
    pub id: i64,
    /// The folded alert.
    #[serde(flatten)]
    pub alert: Alert,
    /// Where it is in its handling.
    #[serde(default)]
    pub status: AlertStatus,
    /// Who last changed the status (`ward` for an automatic reopen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_by: Option<String>,
    /// When (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_at: Option<i64>,
    /// The comment given with the last change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// How often a new occurrence reopened it after it was closed.
    #[serde(default)]
    pub reopened: u64,
}

pub(crate) const COLUMNS: &str =
    "id, kind, device, alert_key, ip, severity, summary, evidence, count, first_seen, last_seen, status, status_by, status_at, status_comment, reopened";

/// Reads a row of [`COLUMNS`]; `None` for kinds, severities or statuses this
/// version does not know (rows of a newer Ward).
pub(crate) fn read(r: &crate::db::Row) -> Result<Option<StoredAlert>, Error> {
    let (Some(kind), Some(severity), Ok(ip), Some(status)) = (
        AlertKind::parse(&r.str(1)?),
        Severity::parse(&r.str(5)?),
        r.str(4)?.parse(),
        AlertStatus::parse(&r.str(11)?),
    ) else {
        return Ok(None);
    };
    Ok(Some(StoredAlert {
        id: r.i64(0)?,
        alert: Alert {
            kind,
            severity,
            device: r.str(2)?,
            ip,
            key: r.str(3)?,
            summary: r.str(6)?,
            evidence: serde_json::from_str(&r.str(7)?)?,
            count: r.i64(8)?.max(0) as u64,
            first_seen: Timestamp(r.i64(9)?),
            last_seen: Timestamp(r.i64(10)?),
        },
        status,
        status_by: r.opt_str(12)?,
        status_at: r.opt_i64(13)?,
        comment: r.opt_str(14)?,
        reopened: r.i64(15)?.max(0) as u64,
    }))
}

fn audit_detail(a: &StoredAlert, comment: Option<&str>) -> String {
    let mut d = format!(
        "#{} {} {} {:?}",
        a.id,
        a.alert.kind.as_str(),
        a.alert.device,
        a.alert.key
    );
    if let Some(c) = comment {
        d.push_str(&format!(" comment {c:?}"));
    }
    d
}

fn load(c: &mut Conn, id: i64) -> Result<Option<StoredAlert>, Error> {
    match c.query_opt(
        &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
        params![id],
    )? {
        Some(r) => read(&r),
        None => Ok(None),
    }
}

/// Folds one alert into the store (see [`Store::store_alerts`]), reopening a
/// closed one when the occurrence is newer than what it held.
pub(crate) fn fold(c: &mut Conn, a: &Alert, now: i64) -> Result<(), Error> {
    let before = c.query_opt("SELECT id, status, last_seen FROM alerts WHERE kind = ?1 AND device = ?2 AND alert_key = ?3", params![a.kind.as_str(), &a.device, &a.key])?;
    c.execute(
        "INSERT INTO alerts(kind, device, alert_key, ip, severity, summary, evidence, count, first_seen, last_seen)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT(kind, device, alert_key) DO UPDATE SET
           count = alerts.count + excluded.count,
           summary = CASE WHEN excluded.first_seen < alerts.first_seen THEN excluded.summary ELSE alerts.summary END,
           evidence = CASE WHEN excluded.first_seen < alerts.first_seen THEN excluded.evidence ELSE alerts.evidence END,
           first_seen = CASE WHEN excluded.first_seen < alerts.first_seen THEN excluded.first_seen ELSE alerts.first_seen END,
           last_seen = CASE WHEN excluded.last_seen > alerts.last_seen THEN excluded.last_seen ELSE alerts.last_seen END",
        params![
            a.kind.as_str(),
            &a.device,
            &a.key,
            a.ip.to_string(),
            a.severity.as_str(),
            &a.summary,
            serde_json::to_string(&a.evidence)?,
            a.count,
            a.first_seen.0,
            a.last_seen.0,
        ],
    )?;
    let Some(b) = before else { return Ok(()) };
    let (id, status, last) = (b.i64(0)?, b.str(1)?, b.i64(2)?);
    if status != AlertStatus::Closed.as_str() || a.last_seen.0 <= last {
        return Ok(());
    }
    let why = format!("new occurrence at {}", a.last_seen.iso());
    c.execute(
        "UPDATE alerts SET status = 'open', status_by = ?2, status_at = ?3, status_comment = ?4, reopened = reopened + 1 WHERE id = ?1",
        params![id, SYSTEM_ACTOR, now, &why],
    )?;
    if let Some(s) = load(c, id)? {
        c.execute(
            "INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                now,
                SYSTEM_ACTOR,
                StatusAction::Reopen.audit_action(),
                audit_detail(&s, Some(&why)),
                ""
            ],
        )?;
    }
    Ok(())
}

impl Store {
    /// Stored alerts matching `filter`, with ids and lifecycle, by first
    /// occurrence (newest first when limited).
    pub fn stored_alerts(&self, filter: &crate::AlertFilter) -> Result<Vec<StoredAlert>, Error> {
        // Optional filters are spelled out (no `?N IS NULL` tricks) so that
        // PostgreSQL can type every parameter.
        let mut sql = format!("SELECT {COLUMNS} FROM alerts WHERE 1 = 1");
        let mut args: Vec<Val> = Vec::new();
        if let Some(k) = filter.kind {
            args.push(Val::from(k.as_str()));
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(d) = &filter.device {
            args.push(Val::from(d));
            sql.push_str(&format!(" AND device = ?{}", args.len()));
        }
        if let Some(t) = filter.since {
            args.push(Val::from(t.0));
            sql.push_str(&format!(" AND last_seen >= ?{}", args.len()));
        }
        if !filter.statuses.is_empty() {
            let mut marks = Vec::new();
            for s in &filter.statuses {
                args.push(Val::from(s.as_str()));
                marks.push(format!("?{}", args.len()));
            }
            sql.push_str(&format!(" AND status IN ({})", marks.join(", ")));
        }
        sql.push_str(" ORDER BY first_seen, kind, device, alert_key");
        let rows = self.conn().query(&sql, &args)?;
        let mut out = Vec::new();
        for r in rows {
            let Some(a) = read(&r)? else { continue };
            if filter.min_severity.is_some_and(|m| a.alert.severity < m) {
                continue;
            }
            if let Some(site) = &filter.site {
                let of_site = a
                    .alert
                    .device
                    .strip_prefix(site.as_str())
                    .is_some_and(|r| r.starts_with('/'));
                if !of_site {
                    continue;
                }
            }
            out.push(a);
        }
        if let Some(n) = filter.limit {
            out.reverse();
            out.truncate(n);
        }
        Ok(out)
    }

    /// The stored versions (ids, lifecycle, folded counts) of `alerts`, as
    /// they are after [`Store::store_alerts`]: one per (kind, device, key),
    /// in the order given. Used to export what a `ward monitor` run stored.
    pub fn stored_alerts_for(&self, alerts: &[Alert]) -> Result<Vec<StoredAlert>, Error> {
        let mut out = Vec::with_capacity(alerts.len());
        let mut seen = std::collections::HashSet::new();
        let mut c = self.conn();
        for a in alerts {
            if !seen.insert((a.kind, a.device.as_str(), a.key.as_str())) {
                continue;
            }
            let rows = c.query(
                &format!("SELECT {COLUMNS} FROM alerts WHERE kind = ?1 AND device = ?2 AND alert_key = ?3"),
                &[Val::from(a.kind.as_str()), Val::from(&a.device), Val::from(&a.key)],
            )?;
            for r in rows {
                out.extend(read(&r)?);
            }
        }
        Ok(out)
    }

    /// One stored alert by id.
    pub fn alert_by_id(&self, id: i64) -> Result<Option<StoredAlert>, Error> {
        load(&mut self.conn(), id)
    }

    /// Acknowledges, closes or reopens the alerts `ids` as `actor` (from
    /// `ip`, `""` for the command line) at `at` (Unix seconds), with an
    /// optional comment; each change is audited. All or nothing: an unknown
    /// id, a refused change ([`StatusAction::applies`]) or a bad comment
    /// changes nothing ([`Error::Status`]). Alerts already in the target
    /// status are left as they are (not audited again). Returns the alerts
    /// after the change, in the order asked.
    pub fn set_alert_status(
        &mut self,
        ids: &[i64],
        action: StatusAction,
        actor: &str,
        comment: Option<&str>,
        at: i64,
        ip: &str,
    ) -> Result<Vec<StoredAlert>, Error> {
        if ids.is_empty() {
            return Err(StatusError::NoIds.into());
        }
        let comment = check_comment(comment)?;
        self.conn().transaction(|c| {
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                let a = load(c, id)?.ok_or(StatusError::NotFound(id))?;
                match action.applies(a.status) {
                    None => return Err(StatusError::Conflict { id, status: a.status.as_str(), action: action.as_str() }.into()),
                    Some(false) => out.push(a),
                    Some(true) => {
                        c.execute(
                            "UPDATE alerts SET status = ?2, status_by = ?3, status_at = ?4, status_comment = ?5 WHERE id = ?1",
                            params![id, action.target().as_str(), actor, at, comment.as_deref()],
                        )?;
                        c.execute(
                            "INSERT INTO audit(at, actor, action, detail, ip) VALUES (?1, ?2, ?3, ?4, ?5)",
                            params![at, actor, action.audit_action(), audit_detail(&a, comment.as_deref()), ip],
                        )?;
                        out.push(load(c, id)?.ok_or(StatusError::NotFound(id))?);
                    }
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertFilter;
    use monitor::Evidence;

    fn alert(key: &str, t0: i64, t1: i64) -> Alert {
        Alert {
            kind: AlertKind::PortScan,
            severity: Severity::High,
            device: "ip:10.0.0.66".into(),
            ip: "10.0.0.66".parse().unwrap(),
            key: key.into(),
            summary: format!("probed {key}"),
            evidence: Evidence {
                first_packet: Timestamp(t0),
                last_packet: Timestamp(t1),
                ..Default::default()
            },
            count: 1,
            first_seen: Timestamp(t0),
            last_seen: Timestamp(t1),
        }
    }

    #[test]
    fn site_alerts_are_idempotent_keep_their_site_and_status() {
        crate::testing::each_backend("site_alerts", |mut s| {
            let msg = |id: &str, site: &str, t1: i64| crate::SiteAlerts {
                id: id.into(),
                site: site.into(),
                alerts: vec![alert("10.0.0.5", 1_000, t1)],
            };
            let (stored, dup) = s
                .ingest_alerts(
                    &[msg("s:f:a0", "south", 2_000), msg("n:f:a0", "north", 2_000)],
                    5,
                )
                .unwrap();
            assert_eq!((stored.len(), dup), (2, 0));
            // The same address at two sites: two alerts, devices SITE/KEY.
            let all = s.stored_alerts(&AlertFilter::default()).unwrap();
            let devices: Vec<&str> = all.iter().map(|a| a.alert.device.as_str()).collect();
            assert_eq!(devices, vec!["north/ip:10.0.0.66", "south/ip:10.0.0.66"]);
            let south = AlertFilter {
                site: Some("south".into()),
                ..Default::default()
            };
            let only = s.stored_alerts(&south).unwrap();
            assert_eq!(only.len(), 1);
            // Closed at the centre; the message redelivered, and a later
            // redelivery of a newer copy under the same id: nothing changes.
            s.set_alert_status(&[only[0].id], StatusAction::Close, "ana", None, 6, "")
                .unwrap();
            let (stored, dup) = s
                .ingest_alerts(
                    &[msg("s:f:a0", "south", 2_000), msg("s:f:a0", "south", 9_000)],
                    7,
                )
                .unwrap();
            assert_eq!((stored.len(), dup), (0, 2));
            let again = s.stored_alerts(&south).unwrap();
            assert_eq!(
                (again[0].status, again[0].alert.count),
                (AlertStatus::Closed, 1)
            );
            // A new message with a newer occurrence reopens it, as on a single box.
            let (stored, _) = s
                .ingest_alerts(&[msg("s:g:a0", "south", 9_000)], 8)
                .unwrap();
            assert_eq!(stored.len(), 1);
            let now = s.stored_alerts(&south).unwrap();
            assert_eq!((now[0].status, now[0].alert.count), (AlertStatus::Open, 2));
            assert!(s.ingest_alerts(&[msg("x", "bad site", 1)], 9).is_err());
        });
    }

    fn actions(s: &Store) -> Vec<(String, String, String)> {
        s.audit_log(100)
            .unwrap()
            .into_iter()
            .rev()
            .map(|e| (e.actor, e.action, e.detail))
            .collect()
    }

    #[test]
    fn comments_are_checked() {
        assert_eq!(check_comment(None), Ok(None));
        assert_eq!(check_comment(Some("  ")), Ok(None));
        assert_eq!(
            check_comment(Some(" <script>x</script> ")),
            Ok(Some("<script>x</script>".into()))
        );
        assert!(check_comment(Some("a\nb")).is_err());
        assert!(check_comment(Some(&"é".repeat(MAX_COMMENT))).is_ok());
        assert!(check_comment(Some(&"é".repeat(MAX_COMMENT + 1))).is_err());
        assert_eq!(
            AlertStatus::filter("active"),
            Some(vec![AlertStatus::Open, AlertStatus::Acknowledged])
        );
        assert_eq!(AlertStatus::filter("all"), Some(vec![]));
        assert_eq!(
            AlertStatus::filter("closed"),
            Some(vec![AlertStatus::Closed])
        );
        assert_eq!(AlertStatus::filter("done"), None);
        assert_eq!(StatusAction::Ack.applies(AlertStatus::Closed), None);
        assert_eq!(
            StatusAction::Close.applies(AlertStatus::Closed),
            Some(false)
        );
        assert_eq!(
            StatusAction::Reopen.applies(AlertStatus::Acknowledged),
            Some(true)
        );
    }

    #[test]
    fn ack_close_reopen_audited_all_or_nothing() {
        crate::testing::each_backend("alert_lifecycle", |mut s| {
            s.store_alerts(&[alert("a", 10, 20), alert("b", 30, 40)])
                .unwrap();
            let all = s.stored_alerts(&AlertFilter::default()).unwrap();
            assert_eq!(all.len(), 2);
            let (a, b) = (all[0].id, all[1].id);
            assert_ne!(a, b);
            assert!(all.iter().all(|x| x.status == AlertStatus::Open
                && x.status_by.is_none()
                && x.reopened == 0));

            let done = s
                .set_alert_status(
                    &[a],
                    StatusAction::Ack,
                    "ana",
                    Some(" looking <b>now</b> "),
                    1000,
                    "10.1.1.1",
                )
                .unwrap();
            assert_eq!(done[0].status, AlertStatus::Acknowledged);
            assert_eq!(
                (
                    done[0].status_by.as_deref(),
                    done[0].status_at,
                    done[0].comment.as_deref()
                ),
                (Some("ana"), Some(1000), Some("looking <b>now</b>"))
            );
            // Asking again is harmless and not audited twice.
            s.set_alert_status(&[a], StatusAction::Ack, "ana", None, 1001, "")
                .unwrap();
            assert_eq!(s.alert_by_id(a).unwrap().unwrap().status_at, Some(1000));

            // All or nothing: an unknown id, a refused change or a bad comment changes nothing.
            let e = s
                .set_alert_status(&[b, 999_999], StatusAction::Close, "ana", None, 1002, "")
                .unwrap_err();
            assert!(
                matches!(e, Error::Status(StatusError::NotFound(999_999))),
                "{e}"
            );
            assert_eq!(s.alert_by_id(b).unwrap().unwrap().status, AlertStatus::Open);
            assert!(matches!(
                s.set_alert_status(&[b], StatusAction::Close, "ana", Some("x\u{7}"), 1002, ""),
                Err(Error::Status(StatusError::Comment(_)))
            ));
            assert!(matches!(
                s.set_alert_status(&[], StatusAction::Close, "ana", None, 1002, ""),
                Err(Error::Status(StatusError::NoIds))
            ));

            s.set_alert_status(
                &[a, b],
                StatusAction::Close,
                "ana",
                Some("false positive"),
                1003,
                "",
            )
            .unwrap();
            let e = s
                .set_alert_status(&[a], StatusAction::Ack, "ana", None, 1004, "")
                .unwrap_err();
            assert!(e.to_string().contains("is closed"), "{e}");

            // Filters by status.
            let active = AlertFilter {
                statuses: AlertStatus::filter("active").unwrap(),
                ..Default::default()
            };
            assert!(s.stored_alerts(&active).unwrap().is_empty());
            let closed = AlertFilter {
                statuses: vec![AlertStatus::Closed],
                ..Default::default()
            };
            assert_eq!(s.stored_alerts(&closed).unwrap().len(), 2);

            // Replayed older traffic folds but keeps it closed; a newer occurrence reopens it.
            s.store_alerts(&[alert("a", 12, 18)]).unwrap();
            let x = s.alert_by_id(a).unwrap().unwrap();
            assert_eq!(
                (x.status, x.alert.count, x.reopened),
                (AlertStatus::Closed, 2, 0)
            );
            s.store_alerts(&[alert("a", 50, 60)]).unwrap();
            let x = s.alert_by_id(a).unwrap().unwrap();
            assert_eq!(
                (x.status, x.alert.count, x.alert.last_seen, x.reopened),
                (AlertStatus::Open, 3, Timestamp(60), 1)
            );
            assert_eq!(x.status_by.as_deref(), Some(SYSTEM_ACTOR));
            assert_eq!(x.id, a, "the same alert comes back, not a new one");
            // An acknowledged alert keeps folding and stays acknowledged.
            s.set_alert_status(&[b], StatusAction::Reopen, "ana", None, 1005, "")
                .unwrap();
            s.set_alert_status(&[b], StatusAction::Ack, "ana", None, 1006, "")
                .unwrap();
            s.store_alerts(&[alert("b", 70, 80)]).unwrap();
            let y = s.alert_by_id(b).unwrap().unwrap();
            assert_eq!((y.status, y.alert.count), (AlertStatus::Acknowledged, 2));

            let log = actions(&s);
            let names: Vec<&str> = log.iter().map(|(_, a, _)| a.as_str()).collect();
            assert_eq!(
                names,
                [
                    "alert_acknowledged",
                    "alert_closed",
                    "alert_closed",
                    "alert_reopened",
                    "alert_reopened",
                    "alert_acknowledged"
                ]
            );
            assert_eq!(
                log[0].2,
                format!("#{a} port_scan ip:10.0.0.66 \"a\" comment \"looking <b>now</b>\"")
            );
            assert_eq!(log[3].0, SYSTEM_ACTOR);
            assert!(log[3].2.contains("new occurrence at"), "{:?}", log[3]);
            assert!(s.alert_by_id(424242).unwrap().is_none());
        });
    }

    #[test]
    fn migration_keeps_alerts_of_schema_7() {
        // A database of the previous schema with an alert in it opens with the alert numbered and open.
        let dir = std::env::temp_dir().join(format!("ward-lifecycle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("old.db");
        let _ = std::fs::remove_file(&path);
        {
            let c = rusqlite::Connection::open(&path).unwrap();
            for m in &crate::MIGRATIONS[..7] {
                c.execute_batch(m).unwrap();
            }
            c.pragma_update(None, "user_version", 7).unwrap();
            c.execute(
                "INSERT INTO alerts(kind, device, alert_key, ip, severity, summary, evidence, count, first_seen, last_seen)
                 VALUES ('port_scan', 'ip:10.0.0.66', 'scan', '10.0.0.66', 'high', 'probed', '{\"first_packet\":1,\"last_packet\":2}', 4, 1, 2)",
                [],
            )
            .unwrap();
        }
        let mut s = Store::open(&path).unwrap();
        let v = s.stored_alerts(&AlertFilter::default()).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(
            (
                v[0].id,
                v[0].status,
                v[0].alert.count,
                v[0].alert.summary.as_str()
            ),
            (1, AlertStatus::Open, 4, "probed")
        );
        s.store_alerts(&[alert("other", 5, 6)]).unwrap();
        let v = s.stored_alerts(&AlertFilter::default()).unwrap();
        assert_eq!((v.len(), v[1].id), (2, 2));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
