//! Remediation items (SQLite migration 15, PostgreSQL: the migration after
//! `backup::MIGRATION`): one row per (device, subject) with its status,
//! owner, due date, risk acceptance and times; `remediation_history` keeps
//! every change (who, when, from what to what, comment, evidence);
//! `remediation_sla` the site's days per severity; `firmware_changes` every
//! change of a device's observed firmware (when, from what to what, the
//! evidence); the KEV catalog gains its `dueDate`.
//!
//! **Invariants:** every status change is in the history *and* the audit log,
//! written in the same transaction as the change; a change asked for several
//! items happens for all of them or none; comments are bounded and clean
//! (`lifecycle::check_comment`).

use crate::db::{params, Conn, Dialect, Row};
use crate::lifecycle::check_comment;
use crate::users::audit_row as audit;
use crate::{Error, Store};
use remediation::{Action, ItemTimes, Severity, Sla, Status, Subject, TransitionError};
use serde::Serialize;

/// SQLite: the items (ids never reused), their history, the SLA, firmware
/// changes, KEV due dates.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE remediation(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    owner TEXT,
    due BIGINT NOT NULL,
    accepted_by TEXT,
    accepted_until BIGINT,
    opened_at BIGINT NOT NULL,
    remediated_at BIGINT,
    closed_at BIGINT,
    reopened BIGINT NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (device, subject)
);
CREATE INDEX remediation_status ON remediation(status);
CREATE TABLE remediation_history(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    comment TEXT,
    evidence TEXT NOT NULL
);
CREATE INDEX remediation_history_item ON remediation_history(item);
CREATE TABLE remediation_sla(
    severity TEXT PRIMARY KEY,
    days BIGINT NOT NULL
);
CREATE TABLE firmware_changes(
    device TEXT NOT NULL,
    at BIGINT NOT NULL,
    from_version TEXT,
    to_version TEXT NOT NULL,
    evidence TEXT NOT NULL,
    recorded BIGINT NOT NULL
);
CREATE INDEX firmware_changes_device ON firmware_changes(device);
ALTER TABLE kev ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
"#;

/// PostgreSQL: the same with an identity column.
pub(crate) const PG_MIGRATION: &str = r#"
CREATE TABLE remediation(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device TEXT NOT NULL,
    subject TEXT NOT NULL,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    owner TEXT,
    due BIGINT NOT NULL,
    accepted_by TEXT,
    accepted_until BIGINT,
    opened_at BIGINT NOT NULL,
    remediated_at BIGINT,
    closed_at BIGINT,
    reopened BIGINT NOT NULL DEFAULT 0,
    evidence TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (device, subject)
);
CREATE INDEX remediation_status ON remediation(status);
CREATE TABLE remediation_history(
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    comment TEXT,
    evidence TEXT NOT NULL
);
CREATE INDEX remediation_history_item ON remediation_history(item);
CREATE TABLE remediation_sla(
    severity TEXT PRIMARY KEY,
    days BIGINT NOT NULL
);
CREATE TABLE firmware_changes(
    device TEXT NOT NULL,
    at BIGINT NOT NULL,
    from_version TEXT,
    to_version TEXT NOT NULL,
    evidence TEXT NOT NULL,
    recorded BIGINT NOT NULL
);
CREATE INDEX firmware_changes_device ON firmware_changes(device);
ALTER TABLE kev ADD COLUMN due_date TEXT NOT NULL DEFAULT '';
"#;

/// Who changes items automatically.
pub const SYSTEM_ACTOR: &str = "ward";

/// Why a remediation change was refused (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemediationError {
    /// No item has this id.
    #[error("no remediation item #{0}")]
    NotFound(i64),
    /// The lifecycle refuses the change.
    #[error("item #{id}: {source}")]
    Transition {
        /// The item.
        id: i64,
        /// Why.
        source: TransitionError,
    },
    /// A risk acceptance without an expiry in the future.
    #[error("accepting a risk needs an expiry date after today (--until YYYY-MM-DD)")]
    NeedsExpiry,
    /// A bad comment or owner.
    #[error("{0}")]
    Text(String),
    /// No id was given.
    #[error("no remediation item id given")]
    NoIds,
}

/// One item, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// Stable id.
    pub id: i64,
    /// Device key.
    pub device: String,
    /// What it is about.
    pub subject: Subject,
    /// One line for people.
    pub title: String,
    /// Severity.
    pub severity: Severity,
    /// Where it is.
    pub status: Status,
    /// Who works on it.
    pub owner: Option<String>,
    /// Due date (Unix seconds).
    pub due: i64,
    /// Who accepted the risk.
    pub accepted_by: Option<String>,
    /// Until when (Unix seconds).
    pub accepted_until: Option<i64>,
    /// Opened (Unix seconds, wall clock of the run that found it).
    pub opened_at: i64,
    /// Remediated (mitigated, patched or verified), if it is.
    pub remediated_at: Option<i64>,
    /// Left open / in progress, if it did.
    pub closed_at: Option<i64>,
    /// Times it came back.
    pub reopened: i64,
    /// Latest evidence: why Ward believes it, or why it was verified.
    pub evidence: String,
    /// Last change.
    pub updated_at: i64,
}

impl Item {
    /// Open or in progress past its due date at `now`.
    pub fn overdue(&self, now: i64) -> bool {
        self.status.is_active() && self.due < now
    }
}

/// One change of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    /// When (Unix seconds).
    pub at: i64,
    /// Who (`ward` for automatic changes).
    pub actor: String,
    /// What (`opened`, `verified_automatically`, `remediation_patched`, `comment`...).
    pub action: String,
    /// Status before, if any.
    pub from: Option<Status>,
    /// Status after.
    pub to: Status,
    /// Comment.
    pub comment: Option<String>,
    /// Evidence (automatic changes).
    pub evidence: String,
}

/// One change of a device's observed firmware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FirmwareChange {
    /// Device key.
    pub device: String,
    /// Packet time of the first sighting of the new version (Unix seconds).
    pub at: i64,
    /// Version before (none: the first one seen).
    pub from: Option<String>,
    /// Version after.
    pub to: String,
    /// Where it was seen.
    pub evidence: String,
}

/// The firmware a device shows now ([`Store::record_firmware`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirmwareNow {
    /// Device key.
    pub device: String,
    /// The version it runs (its identity's firmware).
    pub version: String,
    /// First sighting of that version (Unix seconds, packet time).
    pub first_seen: i64,
    /// The device's last sighting (Unix seconds, packet time).
    pub device_last_seen: i64,
    /// Where the version was seen.
    pub evidence: String,
}

/// What a run of `app::remediation::sync` asks the store to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Open a new item.
    Open {
        /// Device key.
        device: String,
        /// Subject.
        subject: Subject,
        /// Severity.
        severity: Severity,
        /// Title.
        title: String,
        /// Evidence.
        evidence: String,
        /// Due date.
        due: i64,
    },
    /// Refresh a present item's title, severity and evidence.
    Refresh {
        /// Item.
        id: i64,
        /// Severity.
        severity: Severity,
        /// Title.
        title: String,
        /// Evidence.
        evidence: String,
    },
    /// Mark verified automatically.
    Verify {
        /// Item.
        id: i64,
        /// Why.
        evidence: String,
    },
    /// Reopen automatically.
    Reopen {
        /// Item.
        id: i64,
        /// Why.
        evidence: String,
        /// New due date.
        due: i64,
    },
}

/// Counts of what a sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
    /// Items opened.
    pub opened: u64,
    /// Items verified automatically.
    pub verified: u64,
    /// Items reopened.
    pub reopened: u64,
}

/// Filter for [`Store::remediation_items`].
#[derive(Debug, Clone, Default)]
pub struct ItemFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<Status>,
    /// Only this device.
    pub device: Option<String>,
}

const SELECT: &str = "SELECT id, device, subject, title, severity, status, owner, due, accepted_by, accepted_until, opened_at, remediated_at, closed_at, reopened, evidence, updated_at FROM remediation";

fn item(r: &Row) -> Result<Item, Error> {
    let bad = |what: &str, v: String| Error::Value(format!("remediation {what} {v:?}"));
    let subject = r.str(2)?;
    let severity = r.str(4)?;
    let status = r.str(5)?;
    Ok(Item {
        id: r.i64(0)?,
        device: r.str(1)?,
        subject: Subject::parse(&subject).ok_or_else(|| bad("subject", subject.clone()))?,
        title: r.str(3)?,
        severity: Severity::parse(&severity).ok_or_else(|| bad("severity", severity.clone()))?,
        status: Status::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        owner: r.opt_str(6)?,
        due: r.i64(7)?,
        accepted_by: r.opt_str(8)?,
        accepted_until: r.opt_i64(9)?,
        opened_at: r.i64(10)?,
        remediated_at: r.opt_i64(11)?,
        closed_at: r.opt_i64(12)?,
        reopened: r.i64(13)?,
        evidence: r.str(14)?,
        updated_at: r.i64(15)?,
    })
}

fn load(c: &mut Conn, id: i64) -> Result<Option<Item>, Error> {
    c.query_opt(&format!("{SELECT} WHERE id = ?1"), params![id])?
        .map(|r| item(&r))
        .transpose()
}

#[allow(clippy::too_many_arguments)]
fn history(
    c: &mut Conn,
    item: i64,
    at: i64,
    actor: &str,
    action: &str,
    from: Option<Status>,
    to: Status,
    comment: Option<&str>,
    evidence: &str,
) -> Result<(), Error> {
    c.execute(
        "INSERT INTO remediation_history(item, at, actor, action, from_status, to_status, comment, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![item, at, actor, action, from.map(Status::as_str), to.as_str(), comment, evidence],
    )?;
    Ok(())
}

fn describe(i: &Item) -> String {
    format!("#{} {} on {}", i.id, i.subject, i.device)
}

/// A bounded, clean one-line text (owner names).
fn check_name(s: &str) -> Result<String, RemediationError> {
    let s = s.trim();
    if s.is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
        return Err(RemediationError::Text(
            "owner: 1 to 100 characters, no control characters".into(),
        ));
    }
    Ok(s.to_string())
}

impl From<RemediationError> for Error {
    fn from(e: RemediationError) -> Error {
        Error::Remediation(e)
    }
}

impl Store {
    /// Items, newest first within status order (open first), by filter.
    pub fn remediation_items(&self, f: &ItemFilter) -> Result<Vec<Item>, Error> {
        let mut c = self.conn();
        let rows = match &f.device {
            Some(d) => c.query(
                &format!("{SELECT} WHERE device = ?1 ORDER BY id"),
                params![d.as_str()],
            )?,
            None => c.query(&format!("{SELECT} ORDER BY id"), &[])?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let i = item(r)?;
            if f.statuses.is_empty() || f.statuses.contains(&i.status) {
                out.push(i);
            }
        }
        out.sort_by(|a, b| {
            a.status
                .cmp(&b.status)
                .then(b.severity.cmp(&a.severity))
                .then(a.due.cmp(&b.due))
                .then(a.id.cmp(&b.id))
        });
        Ok(out)
    }

    /// One item.
    pub fn remediation_item(&self, id: i64) -> Result<Option<Item>, Error> {
        load(&mut self.conn(), id)
    }

    /// An item's changes, oldest first.
    pub fn remediation_history(&self, id: i64) -> Result<Vec<HistoryEntry>, Error> {
        let rows = self.conn().query(
            "SELECT at, actor, action, from_status, to_status, comment, evidence FROM remediation_history WHERE item = ?1 ORDER BY id",
            params![id],
        )?;
        rows.iter()
            .map(|r| {
                let to = r.str(4)?;
                Ok(HistoryEntry {
                    at: r.i64(0)?,
                    actor: r.str(1)?,
                    action: r.str(2)?,
                    from: r.opt_str(3)?.and_then(|s| Status::parse(&s)),
                    to: Status::parse(&to).ok_or_else(|| Error::Value(format!("status {to:?}")))?,
                    comment: r.opt_str(5)?,
                    evidence: r.str(6)?,
                })
            })
            .collect()
    }

    /// The times metrics need, of every item.
    pub fn remediation_times(&self) -> Result<Vec<ItemTimes>, Error> {
        let rows = self.conn().query(
            "SELECT severity, opened_at, remediated_at, closed_at, due FROM remediation",
            &[],
        )?;
        rows.iter()
            .map(|r| {
                let s = r.str(0)?;
                Ok(ItemTimes {
                    severity: Severity::parse(&s)
                        .ok_or_else(|| Error::Value(format!("severity {s:?}")))?,
                    opened_at: r.i64(1)?,
                    remediated_at: r.opt_i64(2)?,
                    closed_at: r.opt_i64(3)?,
                    due: r.i64(4)?,
                })
            })
            .collect()
    }

    /// The site's SLA (defaults where unset).
    pub fn remediation_sla(&self) -> Result<Sla, Error> {
        let mut sla = Sla::default();
        for r in self
            .conn()
            .query("SELECT severity, days FROM remediation_sla", &[])?
        {
            if let Some(s) = Severity::parse(&r.str(0)?) {
                sla.set(s, r.i64(1)?.clamp(0, u32::MAX as i64) as u32);
            }
        }
        Ok(sla)
    }

    /// Sets the site's SLA (audited as `remediation_sla`).
    pub fn set_remediation_sla(
        &mut self,
        sla: &Sla,
        actor: &str,
        at: i64,
        ip: &str,
    ) -> Result<(), Error> {
        self.conn().transaction(|c| {
            for s in Severity::ALL {
                c.execute(
                    "INSERT INTO remediation_sla(severity, days) VALUES (?1, ?2) ON CONFLICT(severity) DO UPDATE SET days = excluded.days",
                    params![s.as_str(), sla.days(s)],
                )?;
            }
            let detail = format!(
                "critical {} high {} medium {} low {} days",
                sla.critical, sla.high, sla.medium, sla.low
            );
            audit(c, at, actor, "remediation_sla", &detail, ip)
        })
    }

    /// The tracked items reconciling compares with the evidence.
    pub fn remediation_tracked(&self) -> Result<Vec<remediation::Tracked>, Error> {
        let rows = self.conn().query(
            "SELECT id, device, subject, status, accepted_until FROM remediation ORDER BY id",
            &[],
        )?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let (subject, status) = (r.str(2)?, r.str(3)?);
            let (Some(subject), Some(status)) = (Subject::parse(&subject), Status::parse(&status))
            else {
                return Err(Error::Value(format!("remediation item {}", r.i64(0)?)));
            };
            out.push(remediation::Tracked {
                id: r.i64(0)?,
                device: r.str(1)?,
                subject,
                status,
                accepted_until: r.opt_i64(4)?,
            });
        }
        Ok(out)
    }

    /// Applies what a sync decided, as `ward` at `at`, in one transaction:
    /// items opened, refreshed, verified and reopened, each status change in
    /// the history and the audit log. Two processes syncing at once (two
    /// `ward analyze` on one store) each apply what is still to do: an item
    /// the other opened, verified or reopened first is left as it is.
    pub fn apply_remediation(&mut self, ops: &[Op], at: i64) -> Result<SyncCounts, Error> {
        self.conn().transaction(|c| {
            let mut n = SyncCounts::default();
            for op in ops {
                match op {
                    Op::Open { device, subject, severity, title, evidence, due } => {
                        // Another process may have opened it since this sync read
                        // the items: then it is theirs, and nothing happens here.
                        let Some(row) = c.query_opt(
                            "INSERT INTO remediation(device, subject, title, severity, status, due, opened_at, evidence, updated_at) VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?6) ON CONFLICT (device, subject) DO NOTHING RETURNING id",
                            params![device.as_str(), subject.key(), title.as_str(), severity.as_str(), *due, at, evidence.as_str()],
                        )?
                        else {
                            continue;
                        };
                        let id = row.i64(0)?;
                        history(c, id, at, SYSTEM_ACTOR, "opened", None, Status::Open, None, evidence)?;
                        audit(c, at, SYSTEM_ACTOR, "remediation_opened", &format!("#{id} {subject} on {device}: {evidence}"), "")?;
                        n.opened += 1;
                    }
                    Op::Refresh { id, severity, title, evidence } => {
                        c.execute(
                            "UPDATE remediation SET severity = ?2, title = ?3, evidence = ?4 WHERE id = ?1 AND (severity <> ?2 OR title <> ?3 OR evidence <> ?4)",
                            params![*id, severity.as_str(), title.as_str(), evidence.as_str()],
                        )?;
                    }
                    Op::Verify { id, evidence } => {
                        let Some(i) = load(c, *id)?.filter(|i| i.status != Status::Verified) else {
                            continue;
                        };
                        c.execute(
                            "UPDATE remediation SET status = 'verified', evidence = ?2, updated_at = ?3, remediated_at = COALESCE(remediated_at, ?3), closed_at = COALESCE(closed_at, ?3) WHERE id = ?1",
                            params![*id, evidence.as_str(), at],
                        )?;
                        history(c, *id, at, SYSTEM_ACTOR, "verified_automatically", Some(i.status), Status::Verified, None, evidence)?;
                        audit(c, at, SYSTEM_ACTOR, "remediation_verified", &format!("{} automatically: {evidence}", describe(&i)), "")?;
                        n.verified += 1;
                    }
                    Op::Reopen { id, evidence, due } => {
                        // Reopened by another process meanwhile: nothing to do.
                        let Some(i) = load(c, *id)?.filter(|i| !i.status.is_active()) else {
                            continue;
                        };
                        c.execute(
                            "UPDATE remediation SET status = 'open', evidence = ?2, updated_at = ?3, due = ?4, remediated_at = NULL, closed_at = NULL, accepted_by = NULL, accepted_until = NULL, reopened = reopened + 1 WHERE id = ?1",
                            params![*id, evidence.as_str(), at, *due],
                        )?;
                        history(c, *id, at, SYSTEM_ACTOR, "reopened_automatically", Some(i.status), Status::Open, None, evidence)?;
                        audit(c, at, SYSTEM_ACTOR, "remediation_reopened", &format!("{} automatically: {evidence}", describe(&i)), "")?;
                        n.reopened += 1;
                    }
                }
            }
            Ok(n)
        })
    }

    /// Changes the status of `ids` as `actor` (from `ip`, `""` for the
    /// command line) at `at`: all or none. Accepting a risk needs
    /// `accepted_until` after `at`. Items already in the target status are
    /// left (not audited again), except a renewed acceptance.
    #[allow(clippy::too_many_arguments)]
    pub fn set_remediation_status(
        &mut self,
        ids: &[i64],
        action: Action,
        actor: &str,
        comment: Option<&str>,
        accepted_until: Option<i64>,
        at: i64,
        ip: &str,
    ) -> Result<Vec<Item>, Error> {
        if ids.is_empty() {
            return Err(RemediationError::NoIds.into());
        }
        let comment = check_comment(comment).map_err(|e| RemediationError::Text(e.to_string()))?;
        let until = match action {
            Action::Accept => Some(
                accepted_until
                    .filter(|u| *u > at)
                    .ok_or(RemediationError::NeedsExpiry)?,
            ),
            _ => None,
        };
        self.conn().transaction(|c| {
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                let i = load(c, id)?.ok_or(RemediationError::NotFound(id))?;
                let change = action
                    .applies(i.status)
                    .map_err(|source| RemediationError::Transition { id, source })?;
                if !change {
                    out.push(i);
                    continue;
                }
                let to = action.target();
                let remediated = to.is_remediated().then_some(at);
                let closed = (!to.is_active()).then_some(at);
                c.execute(
                    "UPDATE remediation SET status = ?2, updated_at = ?3,
                       remediated_at = CASE WHEN ?4 IS NULL THEN NULL ELSE COALESCE(remediated_at, ?4) END,
                       closed_at = CASE WHEN ?5 IS NULL THEN NULL ELSE COALESCE(closed_at, ?5) END,
                       accepted_by = ?6, accepted_until = ?7,
                       reopened = reopened + ?8
                     WHERE id = ?1",
                    params![
                        id,
                        to.as_str(),
                        at,
                        remediated,
                        closed,
                        until.map(|_| actor),
                        until,
                        i64::from(action == Action::Reopen)
                    ],
                )?;
                let evidence = match until {
                    Some(u) => format!("accepted until {}", model::time::date(u)),
                    None => String::new(),
                };
                history(c, id, at, actor, action.audit_action(), Some(i.status), to, comment.as_deref(), &evidence)?;
                let mut detail = format!("{}: {} -> {}", describe(&i), i.status.as_str(), to.as_str());
                if !evidence.is_empty() {
                    detail.push_str(&format!(" ({evidence})"));
                }
                if let Some(cm) = &comment {
                    detail.push_str(&format!(": {cm}"));
                }
                audit(c, at, actor, action.audit_action(), &detail, ip)?;
                out.push(load(c, id)?.ok_or(RemediationError::NotFound(id))?);
            }
            Ok(out)
        })
    }

    /// Sets the owner and/or due date of `ids`, or adds a comment (history
    /// and audit `remediation_assigned` / `remediation_comment`). All or none.
    #[allow(clippy::too_many_arguments)]
    pub fn update_remediation(
        &mut self,
        ids: &[i64],
        owner: Option<&str>,
        due: Option<i64>,
        comment: Option<&str>,
        actor: &str,
        at: i64,
        ip: &str,
    ) -> Result<Vec<Item>, Error> {
        if ids.is_empty() {
            return Err(RemediationError::NoIds.into());
        }
        let owner = owner.map(check_name).transpose()?;
        let comment = check_comment(comment).map_err(|e| RemediationError::Text(e.to_string()))?;
        self.conn().transaction(|c| {
            let mut out = Vec::with_capacity(ids.len());
            for &id in ids {
                let i = load(c, id)?.ok_or(RemediationError::NotFound(id))?;
                let mut what = Vec::new();
                if let Some(o) = &owner {
                    c.execute(
                        "UPDATE remediation SET owner = ?2, updated_at = ?3 WHERE id = ?1",
                        params![id, o.as_str(), at],
                    )?;
                    what.push(format!("owner {o}"));
                }
                if let Some(d) = due {
                    c.execute(
                        "UPDATE remediation SET due = ?2, updated_at = ?3 WHERE id = ?1",
                        params![id, d, at],
                    )?;
                    what.push(format!("due {}", model::time::date(d)));
                }
                let action = if what.is_empty() {
                    "remediation_comment"
                } else {
                    "remediation_assigned"
                };
                if what.is_empty() && comment.is_none() {
                    out.push(i);
                    continue;
                }
                history(
                    c,
                    id,
                    at,
                    actor,
                    action,
                    Some(i.status),
                    i.status,
                    comment.as_deref(),
                    &what.join(", "),
                )?;
                let mut detail = describe(&i);
                if !what.is_empty() {
                    detail.push_str(&format!(": {}", what.join(", ")));
                }
                if let Some(cm) = &comment {
                    detail.push_str(&format!(": {cm}"));
                }
                audit(c, at, actor, action, &detail, ip)?;
                out.push(load(c, id)?.ok_or(RemediationError::NotFound(id))?);
            }
            Ok(out)
        })
    }

    /// Records the firmware each device shows now: a row when it differs
    /// from the last one recorded for the device, dated by the version's
    /// first sighting — or, for a version seen before that last change (a
    /// downgrade back to an older version), by the device's last sighting.
    /// Returns the changes recorded (a device's first version is recorded
    /// too, with no `from`).
    pub fn record_firmware(
        &mut self,
        now: &[FirmwareNow],
        recorded: i64,
    ) -> Result<Vec<FirmwareChange>, Error> {
        self.conn().transaction(|c| {
            let last: std::collections::HashMap<String, (String, i64)> = {
                let sql = match c.dialect() {
                    Dialect::Sqlite => "SELECT device, to_version, at FROM firmware_changes f WHERE rowid = (SELECT max(rowid) FROM firmware_changes g WHERE g.device = f.device)",
                    Dialect::Postgres => "SELECT DISTINCT ON (device) device, to_version, at FROM firmware_changes ORDER BY device, recorded DESC, at DESC",
                };
                c.query(sql, &[])?
                    .iter()
                    .map(|r| Ok((r.str(0)?, (r.str(1)?, r.i64(2)?))))
                    .collect::<Result<_, Error>>()?
            };
            let mut out = Vec::new();
            for FirmwareNow { device, version, first_seen, device_last_seen, evidence } in now {
                let prev = last.get(device);
                if prev.is_some_and(|(v, _)| v == version) {
                    continue;
                }
                let from = prev.map(|(v, _)| v);
                let at = match prev {
                    Some((_, t)) if first_seen <= t => *device_last_seen,
                    _ => *first_seen,
                };
                c.execute(
                    "INSERT INTO firmware_changes(device, at, from_version, to_version, evidence, recorded) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![device.as_str(), at, from.map(String::as_str), version.as_str(), evidence.as_str(), recorded],
                )?;
                out.push(FirmwareChange {
                    device: device.clone(),
                    at,
                    from: from.cloned(),
                    to: version.clone(),
                    evidence: evidence.clone(),
                });
            }
            Ok(out)
        })
    }

    /// Firmware changes, oldest first (of one device, or all).
    pub fn firmware_changes(&self, device: Option<&str>) -> Result<Vec<FirmwareChange>, Error> {
        let mut c = self.conn();
        let order = match c.dialect() {
            Dialect::Sqlite => "ORDER BY rowid",
            Dialect::Postgres => "ORDER BY recorded, at",
        };
        let rows = match device {
            Some(d) => c.query(
                &format!("SELECT device, at, from_version, to_version, evidence FROM firmware_changes WHERE device = ?1 {order}"),
                params![d],
            )?,
            None => c.query(&format!("SELECT device, at, from_version, to_version, evidence FROM firmware_changes {order}"), &[])?,
        };
        rows.iter()
            .map(|r| {
                Ok(FirmwareChange {
                    device: r.str(0)?,
                    at: r.i64(1)?,
                    from: r.opt_str(2)?,
                    to: r.str(3)?,
                    evidence: r.str(4)?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(device: &str) -> Op {
        Op::Open {
            device: device.into(),
            subject: Subject::Finding {
                kind: remediation::FindingKind::CleartextPhi,
            },
            severity: Severity::High,
            title: "t".into(),
            evidence: "e".into(),
            due: 10,
        }
    }

    #[test]
    fn syncs_that_race_apply_each_change_once() {
        crate::testing::each_backend("remediation_race", |mut s| {
            // Two syncs decided from the same empty state: one item, one history row.
            let a = s.apply_remediation(&[open("ip:10.0.0.1")], 1).unwrap();
            let b = s.apply_remediation(&[open("ip:10.0.0.1")], 2).unwrap();
            assert_eq!((a.opened, b.opened), (1, 0));
            let id = s.remediation_items(&ItemFilter::default()).unwrap()[0].id;
            let verify = Op::Verify {
                id,
                evidence: "gone".into(),
            };
            let v = s.apply_remediation(&[verify.clone(), verify], 3).unwrap();
            assert_eq!(v.verified, 1);
            let reopen = Op::Reopen {
                id,
                evidence: "back".into(),
                due: 9,
            };
            let r = s.apply_remediation(&[reopen.clone(), reopen], 4).unwrap();
            assert_eq!(r.reopened, 1);
            let h: Vec<String> = s
                .remediation_history(id)
                .unwrap()
                .into_iter()
                .map(|h| h.action)
                .collect();
            assert_eq!(
                h,
                ["opened", "verified_automatically", "reopened_automatically"]
            );
        });
    }
}
