//! Monitoring alerts and device intake as the dashboard and the API show
//! them: filters (severity, kind, status, device) and paging over
//! `Store::stored_alerts`, the alert lifecycle (acknowledge, close, reopen:
//! analysts and admins, audited), intake records, and the checked input of
//! an approval. Summaries, keys and intake fields come from
//! the network or from operators: they reach HTML only through askama's
//! escaping and JSON only through serde.

use crate::snapshot::Snapshot;
use model::Timestamp;
use monitor::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{AlertStatus, StatusAction, StatusError, StoredAlert};
use utoipa::{IntoParams, ToSchema};

/// Alerts per page by default, and at most.
pub const PER_PAGE: usize = 50;
const MAX_PER_PAGE: usize = 500;
/// Longest owner, location, group or device key accepted at approval.
pub const MAX_FIELD: usize = 200;

/// Alert filters and paging (dashboard and API).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only this severity or worse: `low`, `medium`, `high`, `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Only this kind (`new_peer`, `port_scan`..., or its display name: `Port scan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Only this status: `open`, `acknowledged`, `closed`, `active` (open or acknowledged; the default) or `all`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Only this device key (`mac:..`, `ip:..`, `SITE/mac:..`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Only alerts of this site (multi-site deployments).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Page, from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    /// Alerts per page (1-500, default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_page: Option<usize>,
}

impl AlertQuery {
    /// The store filter; `Err` names an unknown severity or kind. Empty
    /// values mean "any".
    pub fn filter(&self) -> Result<store::AlertFilter, String> {
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let min_severity =
            match some(&self.severity) {
                None => None,
                Some(s) => Some(Severity::parse(&s).ok_or_else(|| {
                    format!("unknown severity {s:?} (low, medium, high, critical)")
                })?),
            };
        let kind = match some(&self.kind) {
            None => None,
            Some(k) => Some(
                crate::names::parse_kind(&k).ok_or_else(|| format!("unknown alert kind {k:?}"))?,
            ),
        };
        let statuses = match some(&self.status) {
            None => AlertStatus::filter("active").unwrap_or_default(),
            Some(s) => AlertStatus::filter(&s).ok_or_else(|| {
                format!("unknown status {s:?} (open, acknowledged, closed, active, all)")
            })?,
        };
        Ok(store::AlertFilter {
            kind,
            min_severity,
            statuses,
            device: some(&self.device),
            site: some(&self.site),
            ..Default::default()
        })
    }
}

/// An alert's evidence.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EvidenceView {
    /// The first flow that showed it (`tcp 10.0.0.1:51000 -> 10.0.0.2:23`).
    pub flow: Option<String>,
    /// First packet of the evidence (ISO 8601).
    pub first_packet: String,
    /// Last packet of the evidence (ISO 8601).
    pub last_packet: String,
    /// Counters (`ports`, `hosts`, `bytes`...).
    pub counts: BTreeMap<String, u64>,
}

/// One (folded) alert.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertView {
    /// Stable id (for `POST /api/v1/alerts/{id}/ack|close|reopen`).
    pub id: i64,
    /// `open`, `acknowledged` or `closed`.
    pub status: String,
    /// Who last changed the status (`ward` when a new occurrence reopened it).
    pub status_by: Option<String>,
    /// When (ISO 8601, wall clock).
    pub status_at: Option<String>,
    /// The comment given with the last change.
    pub comment: Option<String>,
    /// How often a new occurrence reopened it after it was closed.
    pub reopened: u64,
    /// What was detected (`new_peer`, `port_scan`...).
    pub kind: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    /// The device concerned (`mac:..` or `ip:..`; `SITE/...` from a site sensor).
    pub device: String,
    /// The site whose sensor raised it (multi-site deployments).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Its address.
    pub ip: String,
    /// What makes this alert distinct for its device (peer, port, AE title...).
    pub key: String,
    /// One line for people.
    pub summary: String,
    /// Occurrences folded into it.
    pub count: u64,
    /// First occurrence (ISO 8601, packet time).
    pub first_seen: String,
    /// Last occurrence.
    pub last_seen: String,
    /// Why it was raised.
    pub evidence: EvidenceView,
}

fn iso(t: Timestamp) -> String {
    t.iso()
}

impl AlertView {
    /// The view of a stored alert.
    pub fn of(s: &StoredAlert) -> AlertView {
        let a = &s.alert;
        AlertView {
            id: s.id,
            status: s.status.as_str().into(),
            status_by: s.status_by.clone(),
            status_at: s
                .status_at
                .map(|t| iso(Timestamp(t.saturating_mul(1_000_000)))),
            comment: s.comment.clone(),
            reopened: s.reopened,
            kind: a.kind.as_str().into(),
            severity: a.severity.as_str().into(),
            device: a.device.clone(),
            site: crate::view::site_of(&a.device).map(str::to_string),
            ip: a.ip.to_string(),
            key: a.key.clone(),
            summary: a.summary.clone(),
            count: a.count,
            first_seen: iso(a.first_seen),
            last_seen: iso(a.last_seen),
            evidence: EvidenceView {
                flow: a.evidence.flow.map(|f| f.to_string()),
                first_packet: iso(a.evidence.first_packet),
                last_packet: iso(a.evidence.last_packet),
                counts: a.evidence.counts.clone(),
            },
        }
    }
}

/// A page of alerts, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AlertPage {
    /// Alerts matching the filters.
    pub total: usize,
    /// This page (from 1).
    pub page: usize,
    /// Alerts per page.
    pub per_page: usize,
    /// The alerts of this page.
    pub alerts: Vec<AlertView>,
}

/// Newest first (by first occurrence, then last), then paged: (total, page, per_page, shown).
pub fn select(
    mut all: Vec<StoredAlert>,
    q: &AlertQuery,
) -> (usize, usize, usize, Vec<StoredAlert>) {
    all.sort_by(|a, b| {
        b.alert
            .first_seen
            .cmp(&a.alert.first_seen)
            .then(b.alert.last_seen.cmp(&a.alert.last_seen))
            .then(b.id.cmp(&a.id))
    });
    let per_page = q.per_page.unwrap_or(PER_PAGE).clamp(1, MAX_PER_PAGE);
    let total = all.len();
    let pages = total.div_ceil(per_page).max(1);
    let page = q.page.unwrap_or(1).clamp(1, pages);
    let shown = all
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    (total, page, per_page, shown)
}

/// The inventory device an alert's device key names, if any: the key
/// itself, or for `ip:ADDR` the device holding that address.
pub fn device_link(snap: &Snapshot, device: &str) -> Option<String> {
    if snap.get(device).is_some() {
        return Some(device.to_string());
    }
    let ip = device.strip_prefix("ip:")?;
    snap.rows
        .iter()
        .find(|r| r.ips.iter().any(|i| i == ip))
        .map(|r| r.assessment.key.clone())
}

/// A status change's optional comment (API body; unknown fields are ignored).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct StatusRequest {
    /// Why (at most 500 characters, no control characters).
    #[serde(default)]
    pub comment: Option<String>,
}

/// Changes one alert's status as `actor` (audited, in one store call).
/// `Ok(Err(_))`: refused (no such alert, change that does not apply, bad comment).
pub fn change_status(
    s: &mut store::Store,
    id: i64,
    action: StatusAction,
    comment: Option<&str>,
    actor: &str,
    ip: &str,
) -> Result<Result<StoredAlert, StatusError>, crate::Error> {
    match s.set_alert_status(&[id], action, actor, comment, crate::auth::now(), ip) {
        Ok(mut v) => Ok(v.pop().ok_or(StatusError::NotFound(id))),
        Err(store::Error::Status(e)) => Ok(Err(e)),
        Err(e) => Err(e.into()),
    }
}

/// A device's intake record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IntakeView {
    /// Device key (`mac:..` or `ip:..`).
    pub device: String,
    /// True once an operator approved it.
    pub approved: bool,
    /// Responsible person or team.
    pub owner: Option<String>,
    /// Where it is.
    pub location: Option<String>,
    /// Its group (model or category) for baselines and policies.
    pub group: Option<String>,
    /// MUD URL assigned to it (or announced by it).
    pub mud_url: Option<String>,
    /// When it was first seen (ISO 8601, packet time).
    pub first_seen: String,
}

impl IntakeView {
    /// The view of a stored record.
    pub fn of(e: &store::IntakeEntry) -> IntakeView {
        IntakeView {
            device: e.device.clone(),
            approved: e.approved,
            owner: e.owner.clone(),
            location: e.location.clone(),
            group: e.group.clone(),
            mud_url: e.mud_url.clone(),
            first_seen: iso(e.first_seen),
        }
    }
}

/// An approval: the device and what to record about it (absent or empty
/// fields keep the stored value).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ApproveRequest {
    /// Device key, as listed by `GET /api/v1/intake`.
    pub device: String,
    /// Responsible person or team.
    #[serde(default)]
    pub owner: Option<String>,
    /// Where it is.
    #[serde(default)]
    pub location: Option<String>,
    /// Group (model or category).
    #[serde(default)]
    pub group: Option<String>,
}

impl ApproveRequest {
    /// The checked approval: fields trimmed, empty ones dropped; `Err` says
    /// what is wrong (too long, control characters, no device).
    pub fn checked(&self) -> Result<(String, store::Approval), String> {
        let field = |name: &str, v: &Option<String>| -> Result<Option<String>, String> {
            let Some(v) = v.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
                return Ok(None);
            };
            if v.chars().count() > MAX_FIELD {
                return Err(format!("{name}: at most {MAX_FIELD} characters"));
            }
            if v.chars().any(char::is_control) {
                return Err(format!("{name}: no control characters"));
            }
            Ok(Some(v.to_string()))
        };
        let device = field("device", &Some(self.device.clone()))?.ok_or("device: required")?;
        Ok((
            device,
            store::Approval {
                owner: field("owner", &self.owner)?,
                location: field("location", &self.location)?,
                group: field("group", &self.group)?,
                mud_url: None,
            },
        ))
    }
}

/// The audit detail of an approval.
pub fn audit_detail(device: &str, a: &store::Approval) -> String {
    let mut d = device.to_string();
    for (k, v) in [
        ("owner", &a.owner),
        ("location", &a.location),
        ("group", &a.group),
    ] {
        if let Some(v) = v {
            d.push_str(&format!(" {k} {v:?}"));
        }
    }
    d
}

/// Approves a device already in intake and audits it, in one store call.
/// `Ok(false)`: no such device in intake.
pub fn approve(
    s: &mut store::Store,
    device: &str,
    a: &store::Approval,
    actor: &str,
    ip: &str,
) -> Result<bool, crate::Error> {
    if !s.intake()?.iter().any(|e| e.device == device) {
        return Ok(false);
    }
    let t = crate::auth::now();
    s.intake_approve(device, a, Timestamp(t * 1_000_000))?;
    s.audit(t, actor, "intake_approved", &audit_detail(device, a), ip)?;
    Ok(true)
}

/// Approves every device of `approvals` (each must be in intake) with its
/// fields and audits each like a single approval, in one store transaction.
/// `Ok(Err(n))`: `n` of them are not in intake, none approved.
pub fn approve_many(
    s: &mut store::Store,
    approvals: &[(String, store::Approval)],
    actor: &str,
    ip: &str,
) -> Result<Result<usize, usize>, crate::Error> {
    let known: std::collections::HashSet<String> =
        s.intake()?.into_iter().map(|e| e.device).collect();
    let missing = approvals.iter().filter(|(d, _)| !known.contains(d)).count();
    if missing > 0 {
        return Ok(Err(missing));
    }
    let t = crate::auth::now();
    let n = s.intake_approve_many(
        approvals,
        Timestamp(t * 1_000_000),
        (t, actor, ip),
        audit_detail,
    )?;
    Ok(Ok(n))
}

/// A CSV text's records (RFC 4180: `,` separated, `"` quoted with `""`
/// inside, CRLF or LF line ends); blank lines are skipped. `Err`: an
/// unterminated quote.
pub fn parse_csv(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut was_quoted) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => (quoted, was_quoted) = (true, true),
            (false, ',') => {
                record.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '\r') if chars.peek() == Some(&'\n') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].is_empty() && !was_quoted) {
                    records.push(std::mem::take(&mut record));
                }
                record.clear();
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    if !field.is_empty() || !record.is_empty() || was_quoted {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

/// A cell as `model::text::csv_cell` wrote it, back: the `'` put before a
/// formula-looking value is dropped.
pub fn uncell(s: &str) -> &str {
    match s.strip_prefix('\'') {
        Some(rest)
            if rest
                .trim_start()
                .starts_with(['=', '+', '-', '@', '\t', '\r']) =>
        {
            rest
        }
        _ => s,
    }
}

/// The approvals of an imported CSV: a header naming `device` and any of
/// `owner`, `location`, `group` (other columns, like the export's, are
/// ignored), one device a line. `Err` says which line is wrong.
pub fn approvals_from_csv(text: &str) -> Result<Vec<(String, store::Approval)>, String> {
    let records = parse_csv(text)?;
    let Some((header, rows)) = records.split_first() else {
        return Err("empty CSV".into());
    };
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let device = col("device").ok_or("the header names no device column")?;
    let (owner, location, group) = (col("owner"), col("location"), col("group"));
    let get =
        |r: &[String], c: Option<usize>| c.and_then(|c| r.get(c)).map(|v| uncell(v).to_string());
    let mut out: Vec<(String, store::Approval)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let req = ApproveRequest {
            device: get(r, Some(device)).unwrap_or_default(),
            owner: get(r, owner),
            location: get(r, location),
            group: get(r, group),
        };
        let checked = req.checked().map_err(|e| format!("line {}: {e}", i + 2))?;
        if out.iter().any(|(d, _)| *d == checked.0) {
            return Err(format!("line {}: {} is listed twice", i + 2, checked.0));
        }
        out.push(checked);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monitor::AlertKind;

    fn alert(t: i64) -> StoredAlert {
        StoredAlert {
            id: t,
            alert: raw(t),
            status: AlertStatus::Open,
            status_by: None,
            status_at: None,
            comment: None,
            reopened: 0,
        }
    }

    fn raw(t: i64) -> monitor::Alert {
        monitor::Alert {
            kind: AlertKind::NewPeer,
            severity: Severity::Low,
            device: "ip:10.0.0.1".into(),
            ip: "10.0.0.1".parse().unwrap(),
            key: format!("k{t}"),
            summary: String::new(),
            evidence: Default::default(),
            count: 1,
            first_seen: Timestamp(t),
            last_seen: Timestamp(t),
        }
    }

    #[test]
    fn filters_parse_and_pages_are_newest_first() {
        let q = AlertQuery {
            severity: Some("high".into()),
            kind: Some("".into()),
            ..Default::default()
        };
        let f = q.filter().unwrap();
        assert_eq!((f.min_severity, f.kind), (Some(Severity::High), None));
        assert_eq!(
            f.statuses,
            vec![AlertStatus::Open, AlertStatus::Acknowledged],
            "not closed by default"
        );
        let f = AlertQuery {
            status: Some("all".into()),
            device: Some(" ip:10.0.0.1 ".into()),
            ..Default::default()
        }
        .filter()
        .unwrap();
        assert_eq!(
            (f.statuses.len(), f.device.as_deref()),
            (0, Some("ip:10.0.0.1"))
        );
        assert!(AlertQuery {
            status: Some("done".into()),
            ..Default::default()
        }
        .filter()
        .is_err());
        assert!(AlertQuery {
            severity: Some("urgent".into()),
            ..Default::default()
        }
        .filter()
        .is_err());
        assert!(AlertQuery {
            kind: Some("nope".into()),
            ..Default::default()
        }
        .filter()
        .is_err());
        let all: Vec<StoredAlert> = (1..=5).map(alert).collect();
        let (total, page, per, shown) = select(
            all.clone(),
            &AlertQuery {
                per_page: Some(2),
                page: Some(2),
                ..Default::default()
            },
        );
        assert_eq!((total, page, per), (5, 2, 2));
        assert_eq!(
            shown
                .iter()
                .map(|a| a.alert.first_seen.0)
                .collect::<Vec<_>>(),
            vec![3, 2]
        );
        // Past the end: the last page.
        let (_, page, _, shown) = select(
            all,
            &AlertQuery {
                per_page: Some(2),
                page: Some(99),
                ..Default::default()
            },
        );
        assert_eq!((page, shown.len()), (3, 1));
    }

    #[test]
    fn csv_records_and_imported_approvals() {
        assert_eq!(
            parse_csv("a,\"b,\"\"c\"\"\"\r\n\nd,\n").unwrap(),
            vec![
                vec!["a".to_string(), "b,\"c\"".into()],
                vec!["d".into(), "".into()]
            ]
        );
        assert!(parse_csv("\"open").is_err());
        let a = approvals_from_csv(
            "\"device\",\"name\",\"owner\",\"group\"\n\"ip:10.0.0.1\",\"x\",\"biomed\",\"'-pumps\"\nip:10.0.0.2,,,\n",
        )
        .unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(
            (
                a[0].1.owner.as_deref(),
                a[0].1.group.as_deref(),
                a[0].1.location.as_deref()
            ),
            (Some("biomed"), Some("-pumps"), None)
        );
        assert_eq!(
            (a[1].0.as_str(), a[1].1.owner.as_deref()),
            ("ip:10.0.0.2", None)
        );
        assert!(approvals_from_csv("owner\nx\n")
            .unwrap_err()
            .contains("device"));
        assert!(approvals_from_csv("device\n\n,\n")
            .unwrap_err()
            .starts_with("line 2"));
        assert!(approvals_from_csv("device\nip:1\nip:1\n")
            .unwrap_err()
            .contains("twice"));
        assert_eq!(uncell("'=1"), "=1");
        assert_eq!(uncell("'quoted"), "'quoted");
    }

    #[test]
    fn approvals_are_checked() {
        let r = |d: &str, o: Option<&str>| ApproveRequest {
            device: d.into(),
            owner: o.map(Into::into),
            location: Some("  ".into()),
            group: None,
        };
        let (d, a) = r(" ip:10.0.0.1 ", Some(" biomed ")).checked().unwrap();
        assert_eq!(
            (d.as_str(), a.owner.as_deref(), a.location.as_deref()),
            ("ip:10.0.0.1", Some("biomed"), None)
        );
        assert!(r("", None).checked().is_err());
        assert!(r("ip:1", Some("a\u{0}b")).checked().is_err());
        assert!(r("ip:1", Some(&"x".repeat(MAX_FIELD + 1)))
            .checked()
            .is_err());
        assert_eq!(audit_detail("ip:1", &a), "ip:1 owner \"biomed\"");
    }
}
