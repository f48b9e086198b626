//! `ward compliance report` and `ward program`: the evidence a compliance
//! framework's controls are judged on, gathered from the store (inventory,
//! ePHI flows, risk findings and advisory matches, monitoring, intake groups,
//! backups and drills, accounts, the audit log, programme records) into
//! `compliance::Inputs`; the report written as `compliance.html` and
//! `compliance.json`; and the programme records Ward cannot observe
//! (security officer, training, documents, risk analyses), each change
//! audited by the store.

use crate::report::write_atomic;
use crate::{invalid, location, Context, Result};
use ::compliance::inputs as ci;
use std::path::{Path, PathBuf};
use store::program as sp;

/// Matches below this confidence (vendor-only guesses) are not evidence.
const MATCH_MIN_CONFIDENCE: f32 = 0.5;

/// Open alerts listed by id (the rest are counted).
const OPEN_ALERT_IDS: usize = 50;

fn unix_now() -> i64 {
    crate::now().secs()
}

/// Everything the evaluators read, from `store` (at `now`, Unix seconds).
pub fn inputs(store: &store::Store, db: &Path, now: i64) -> Result<ci::Inputs> {
    let scored = crate::scored_devices(store)?;
    let runs = store.run_count()?;
    let observed: Vec<&crate::ScoredDevice> = scored
        .iter()
        .filter(|d| d.kind != crate::DeviceKind::Declared)
        .collect();
    let inventory = ci::Inventory {
        runs,
        observed: observed
            .iter()
            .map(|d| ci::DeviceRef {
                key: d.assessment.key.clone(),
                category: d.category.to_string(),
                medical: d.medical,
                unknown: d.category == identify::Category::Unknown.label(),
                firmware_known: d.firmware.is_some(),
            })
            .collect(),
        declared_unseen: scored
            .iter()
            .filter(|d| d.kind == crate::DeviceKind::Declared)
            .map(|d| d.assessment.key.clone())
            .collect(),
        declared: store.declared_devices()?.len(),
    };
    let mut findings = Vec::new();
    let mut matches = Vec::new();
    for d in &scored {
        for f in &d.assessment.factors {
            findings.push(ci::FindingRef {
                device: d.assessment.key.clone(),
                medical: d.medical,
                kind: f.finding.kind.as_str().to_string(),
                severity: f.finding.severity.as_str().to_string(),
                title: f.finding.title.clone(),
            });
        }
        for m in d
            .advisories
            .iter()
            .filter(|m| m.confidence >= MATCH_MIN_CONFIDENCE)
        {
            matches.push(ci::MatchRef {
                device: d.assessment.key.clone(),
                cve: m.cve.clone(),
                advisory: m.advisory.clone(),
                kev: m.kev.is_some(),
                fix_known: m.remediation.is_some(),
            });
        }
    }
    let totals = store.feed_totals()?;
    let mut updated_at = None;
    for source in ["csaf", "nvd", "kev"] {
        if let Some(s) = store.sync_state(source)? {
            updated_at = updated_at.max(Some(s.synced_unix));
        }
    }
    let advisories = ci::Advisories {
        catalog: totals.csaf + totals.nvd,
        updated_at,
        matches,
    };
    let mut monitoring = ci::Monitoring {
        baselines: store.baseline_names()?,
        ..Default::default()
    };
    for a in store.stored_alerts(&store::AlertFilter::default())? {
        match a.status {
            store::AlertStatus::Open => {
                monitoring.open_count += 1;
                if monitoring.open.len() < OPEN_ALERT_IDS {
                    monitoring.open.push(format!("alert-{}", a.id));
                }
            }
            store::AlertStatus::Acknowledged => monitoring.acknowledged += 1,
            store::AlertStatus::Closed => monitoring.closed += 1,
        }
    }
    let medical: Vec<String> = observed
        .iter()
        .filter(|d| d.medical)
        .map(|d| d.assessment.key.clone())
        .collect();
    let intake = store.intake()?;
    let governed = medical
        .iter()
        .filter(|k| {
            intake.iter().any(|e| {
                &e.device == *k && ((e.approved && e.group.is_some()) || e.mud_url.is_some())
            })
        })
        .cloned()
        .collect();
    let status = crate::backup::status(store, now)?;
    let backup = ci::Backup {
        last_success: status
            .last_success
            .as_ref()
            .map(|r| (r.at, r.snapshot.clone())),
        failing_since: status.failing_since.as_ref().map(|r| r.at),
        runs: status.runs.len(),
        drills: status
            .drills
            .iter()
            .map(|d| ci::DrillRef {
                at: d.at,
                snapshot: d.snapshot.clone(),
                passed: d.passed,
                duration_ms: d.duration_ms,
            })
            .collect(),
    };
    let accounts = ci::Accounts {
        users: store
            .users()?
            .into_iter()
            .map(|u| ci::Account {
                mfa: !u.totp_secret.is_empty(),
                name: u.name,
                role: u.role,
                disabled: u.disabled,
            })
            .collect(),
        tokens_without_expiry: store.api_tokens_without_expiry()?,
    };
    let devices = store.devices_with_facts()?;
    let flows = ::compliance::flows::ephi_flows(&devices);
    Ok(ci::Inputs {
        now,
        scope: format!(
            "{} devices from {} analysis run(s) in {}",
            observed.len(),
            runs,
            location::label(db)
        ),
        inventory,
        flows,
        findings,
        advisories,
        monitoring,
        segmentation: ci::Segmentation { medical, governed },
        backup,
        accounts,
        audit_entries: store.audit_count()?,
        program: program_inputs(&store.program_records()?),
        remediation: remediation_inputs(store, now)?,
    })
}

/// Overdue critical and high remediation items (`app::remediation`), when
/// the store tracks any.
fn remediation_inputs(store: &store::Store, now: i64) -> Result<Option<ci::Remediation>> {
    let m = crate::remediation::metrics(store, now, 1)?;
    let overdue = |s: remediation::Severity| {
        m.by_severity
            .iter()
            .find(|x| x.severity == s)
            .map_or(0, |x| x.overdue)
    };
    Ok((m.total > 0).then(|| ci::Remediation {
        critical_overdue: overdue(remediation::Severity::Critical),
        high_overdue: overdue(remediation::Severity::High),
    }))
}

fn program_inputs(p: &sp::ProgramRecords) -> ci::Program {
    ci::Program {
        officer: p.officer.as_ref().map(|o| ci::Officer {
            user: o.user.clone(),
            since: o.since,
            disabled: o.disabled,
        }),
        training: p
            .training
            .iter()
            .map(|t| ci::Training {
                user: t.user.clone(),
                course: t.course.clone(),
                completed: t.completed.clone(),
            })
            .collect(),
        documents: p
            .documents
            .iter()
            .map(|d| ci::Document {
                kind: d.kind.clone(),
                title: d.title.clone(),
                version: d.version.clone(),
                review_by: d.review_by.clone(),
                link: d.link.clone(),
                owner: d.owner.clone(),
                recorded_at: d.recorded_at,
            })
            .collect(),
        risk_analyses: p
            .risk_analyses
            .iter()
            .map(|r| ci::RiskAnalysis {
                day: r.day.clone(),
                what: r.what.clone(),
                owner: r.owner.clone(),
            })
            .collect(),
    }
}

/// The framework named `id` (one line naming the choices when unknown).
pub fn framework(id: &str) -> Result<::compliance::Framework> {
    match ::compliance::framework(id) {
        Ok(f) => Ok(f),
        Err(e) => invalid!("{e}"),
    }
}

/// The report of framework `id` on `store`, now.
pub fn report(store: &store::Store, db: &Path, id: &str) -> Result<::compliance::Report> {
    let fw = framework(id)?;
    let inputs = inputs(store, db, unix_now())?;
    Ok(::compliance::evaluate(&fw, &inputs))
}

/// Writes `compliance.html` and `compliance.json` into `out` (created if
/// missing; files replaced atomically); returns their paths.
pub fn write(out: &Path, r: &::compliance::Report) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let json = match ::compliance::json(r) {
        Ok(j) => j,
        Err(e) => invalid!("cannot write the compliance JSON: {e}"),
    };
    Ok(vec![
        write_atomic(out, "compliance.html", ::compliance::html(r).as_bytes())?,
        write_atomic(out, "compliance.json", json.as_bytes())?,
    ])
}

fn day(what: &str, s: &str) -> Result<String> {
    let s = s.trim();
    if ::compliance::day::parse(s).is_none() {
        invalid!(
            "{what} {:?} is not a date: give YYYY-MM-DD",
            model::text::bounded(s.as_bytes(), 40)
        );
    }
    Ok(s.to_string())
}

fn text(what: &str, s: &str) -> Result<String> {
    let s = model::text::clean(s.trim()).into_owned();
    if s.is_empty() {
        invalid!("{what} is empty");
    }
    if s.len() > sp::MAX_FIELD {
        invalid!("{what} is longer than {} bytes", sp::MAX_FIELD);
    }
    Ok(s)
}

/// Makes the account `user` the designated security officer.
pub fn set_officer(store: &store::Store, user: &str, actor: &str) -> Result<()> {
    if !store.set_security_officer(user, unix_now(), actor)? {
        invalid!(
            "no user {:?}: create the account first (ward user add)",
            model::text::bounded(user.as_bytes(), 64)
        );
    }
    Ok(())
}

/// Nobody is the security officer any more.
pub fn clear_officer(store: &store::Store, actor: &str) -> Result<()> {
    Ok(store.clear_security_officer(unix_now(), actor)?)
}

/// Records training `course` completed by `user` on `date` (`YYYY-MM-DD`).
pub fn add_training(
    store: &store::Store,
    user: &str,
    course: &str,
    date: &str,
    actor: &str,
) -> Result<()> {
    Ok(store.add_training(&sp::Training {
        user: text("user", user)?,
        course: text("course", course)?,
        completed: day("date", date)?,
        recorded_at: unix_now(),
        recorded_by: actor.to_string(),
    })?)
}

/// A document to record.
#[derive(Debug, Clone, Default)]
pub struct NewDocument {
    /// `policy` or `incident-response`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Version.
    pub version: String,
    /// Review by (`YYYY-MM-DD`).
    pub review_by: String,
    /// Link or file name.
    pub link: Option<String>,
    /// Owner.
    pub owner: Option<String>,
}

/// Document kinds.
pub const DOCUMENT_KINDS: &[&str] = &["policy", "incident-response"];

/// Records a document version.
pub fn add_document(store: &store::Store, d: &NewDocument, actor: &str) -> Result<()> {
    if !DOCUMENT_KINDS.contains(&d.kind.as_str()) {
        invalid!("document kind must be policy or incident-response");
    }
    let opt = |what: &str, v: &Option<String>| -> Result<String> {
        match v {
            Some(s) if !s.trim().is_empty() => text(what, s),
            _ => Ok(String::new()),
        }
    };
    Ok(store.add_document(&sp::Document {
        kind: d.kind.clone(),
        title: text("title", &d.title)?,
        version: text("version", &d.version)?,
        review_by: day("review date", &d.review_by)?,
        link: opt("link", &d.link)?,
        owner: opt("owner", &d.owner)?,
        recorded_at: unix_now(),
        recorded_by: actor.to_string(),
    })?)
}

/// Records a risk analysis on `date` (today when `None`).
pub fn add_risk_analysis(
    store: &store::Store,
    date: Option<&str>,
    what: &str,
    owner: Option<&str>,
    actor: &str,
) -> Result<()> {
    let now = unix_now();
    let day = match date {
        Some(d) => day("date", d)?,
        None => ::compliance::day::format_unix(now),
    };
    Ok(store.add_risk_analysis(&sp::RiskAnalysis {
        day,
        what: text("what", what)?,
        owner: owner
            .map(|o| text("owner", o))
            .transpose()?
            .unwrap_or_default(),
        recorded_at: now,
        recorded_by: actor.to_string(),
    })?)
}

/// Every programme record.
pub fn program(store: &store::Store) -> Result<sp::ProgramRecords> {
    Ok(store.program_records()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_store_reports_and_bad_records_are_refused() {
        let s = store::Store::open_in_memory().unwrap();
        let db = Path::new("ward.db");
        for id in ::compliance::framework_ids() {
            let r = report(&s, db, id).unwrap();
            assert!(!r.controls.is_empty());
            assert!(r.ephi_flows.is_empty());
            let inv = r
                .controls
                .iter()
                .flat_map(|c| &c.evidence)
                .find(|e| e.kind == ::compliance::EvidenceKind::Inventory);
            if let Some(inv) = inv {
                assert_eq!(inv.status, ::compliance::Status::NotAssessable);
            }
        }
        let e = report(&s, db, "sox").unwrap_err().to_string();
        assert!(e.starts_with("unknown framework"), "{e}");

        let doc = |kind: &str, review_by: &str| NewDocument {
            kind: kind.into(),
            title: "Policy".into(),
            version: "1".into(),
            review_by: review_by.into(),
            link: None,
            owner: Some("ada".into()),
        };
        assert!(add_document(&s, &doc("memo", "2027-01-01"), "t").is_err());
        assert!(add_document(&s, &doc("policy", "2027-02-30"), "t").is_err());
        add_document(&s, &doc("policy", "2027-01-01"), "t").unwrap();
        assert!(add_training(&s, "ada", "", "2026-01-01", "t").is_err());
        assert!(set_officer(&s, "nobody", "t").is_err());
        add_risk_analysis(&s, None, "annual", None, "t").unwrap();
        let p = program(&s).unwrap();
        assert_eq!(p.documents.len(), 1);
        assert_eq!(p.documents[0].owner, "ada");
        assert_eq!(p.risk_analyses.len(), 1);
    }
}
