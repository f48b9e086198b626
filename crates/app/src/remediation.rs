//! Remediation use cases: keep every (device, vulnerability or finding) as a
//! tracked item ([`sync`]: after each analysis and feed import, new problems
//! open items with a due date, problems gone from the evidence are verified
//! automatically with the evidence that shows it, verified ones that come
//! back reopen), record firmware changes, change items on people's request
//! (audited, in the store), and compute the metrics.

use crate::Result;
use remediation::{reconcile, Change, Current, Metrics, Severity, Subject};
use risk::FindingKind;
use std::collections::{BTreeMap, HashMap, HashSet};
use store::remediation::{FirmwareChange, FirmwareNow, Op, SyncCounts};

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Synced {
    /// Items opened, verified, reopened.
    pub counts: SyncCounts,
    /// Firmware changes recorded.
    pub firmware: Vec<FirmwareChange>,
}

impl Synced {
    /// Whether the sync opened, verified or reopened an item or recorded a
    /// firmware change.
    pub fn changed(&self) -> bool {
        self.counts.opened + self.counts.verified + self.counts.reopened > 0
            || !self.firmware.is_empty()
    }

    /// What the sync did, in one line.
    pub fn line(&self) -> String {
        format!(
            "remediation: {} opened, {} verified automatically, {} reopened; {} firmware changes",
            self.counts.opened,
            self.counts.verified,
            self.counts.reopened,
            self.firmware.len()
        )
    }
}

/// [`sync_seen`] after a run stored by a command with no output of its own
/// for it (monitoring, learning): what changed goes to `notify` as one line,
/// and so does a failure, as a warning (the run is stored already; the next
/// sync catches up).
pub fn sync_seen_notifying(
    store: &mut store::Store,
    seen: &[identify::Device],
    notify: &dyn crate::Notify,
) {
    match sync_seen(store, seen, crate::now().secs()) {
        Ok(s) if s.changed() => notify.line(&s.line()),
        Ok(_) => {}
        Err(e) => notify.line(&format!(
            "warning: remediation items not updated ({}); `ward remediation sync` retries",
            crate::chain(&e)
        )),
    }
}

/// Severity of a vulnerability: critical when known exploited (KEV) or CVSS
/// ≥ 9, high ≥ 7, medium ≥ 4, else low; medium without a score.
pub fn cve_severity(m: &advisory::Match) -> Severity {
    match (m.kev.is_some(), m.cvss) {
        (true, _) => Severity::Critical,
        (_, Some(s)) if s >= 9.0 => Severity::Critical,
        (_, Some(s)) if s >= 7.0 => Severity::High,
        (_, Some(s)) if s >= 4.0 => Severity::Medium,
        (_, Some(_)) => Severity::Low,
        (_, None) => Severity::Medium,
    }
}

/// The problems the evidence shows now, one per (device, CVE) and per
/// (device, finding kind); the CVE findings of the risk assessment are the
/// vulnerabilities themselves, not items of their own.
pub fn current_problems(scored: &[risk::ScoredDevice]) -> Vec<Current> {
    let mut out = Vec::new();
    for d in scored {
        let key = &d.assessment.key;
        let mut seen_cves = HashSet::new();
        for m in &d.advisories {
            if !seen_cves.insert(m.cve.as_str()) {
                continue;
            }
            out.push(Current {
                device: key.clone(),
                subject: Subject::Vulnerability { cve: m.cve.clone() },
                severity: cve_severity(m),
                title: format!("{}: {}", m.cve, m.title),
                evidence: format!(
                    "{} ({}): {} matched by {}: {}",
                    m.advisory,
                    m.source.as_str(),
                    m.product,
                    m.rule,
                    m.reason
                ),
                kev_due: m
                    .kev
                    .as_ref()
                    .and_then(|k| model::time::parse_date(&k.due_date)),
            });
        }
        let mut kinds: BTreeMap<FindingKind, &risk::Finding> = BTreeMap::new();
        for f in d.assessment.factors.iter().map(|f| &f.finding) {
            if matches!(
                f.kind,
                FindingKind::KnownVulnerability | FindingKind::KnownExploited
            ) {
                continue;
            }
            let e = kinds.entry(f.kind).or_insert(f);
            if f.severity > e.severity {
                *e = f;
            }
        }
        for (kind, f) in kinds {
            let evidence = f
                .evidence
                .first()
                .map(|e| match e.first_seen {
                    Some(t) => format!("{} at {} ({})", e.what, e.at, t.iso()),
                    None => format!("{} ({})", e.what, e.at),
                })
                .unwrap_or_default();
            out.push(Current {
                device: key.clone(),
                subject: Subject::Finding { kind },
                severity: f.severity,
                title: f.title.clone(),
                evidence,
                kev_due: None,
            });
        }
    }
    out
}

/// Brings the tracked items in line with the store's evidence at `now`
/// (Unix seconds) and records firmware changes. One transaction for the
/// items, one for the firmware.
pub fn sync(store: &mut store::Store, now: i64) -> Result<Synced> {
    let scored = crate::score::scored_devices(store)?;
    let observed = store.devices()?;
    sync_scored(store, &scored, &observed, now)
}

/// [`sync`] after a run that saw `seen` (each with all of its facts, as
/// [`store::Store::ingest_run`] returns them): only their items are brought
/// in line and only their firmware recorded, so the cost follows the run,
/// not the inventory. Items of other devices are left as they are (the run
/// is no evidence about them). A store with declared devices is synced
/// whole ([`sync`]): whether a declared row links to a device depends on
/// every observed device (a shared address links nothing).
pub fn sync_seen(store: &mut store::Store, seen: &[identify::Device], now: i64) -> Result<Synced> {
    if store.has_declared_devices()? {
        return sync(store, now);
    }
    let scored = crate::score::scored_observed(store, seen.to_vec())?;
    sync_scored(store, &scored, seen, now)
}

/// Brings the items of the `scored` devices in line (items of devices not
/// among them are left) and records the firmware `observed` states.
fn sync_scored(
    store: &mut store::Store,
    scored: &[risk::ScoredDevice],
    observed: &[identify::Device],
    now: i64,
) -> Result<Synced> {
    // Each observed device's firmware and the conclusion that names it.
    let stated: Vec<(&identify::Device, &str, &identify::Conclusion)> = observed
        .iter()
        .filter_map(|d| {
            let fw = d.identity.firmware.as_deref()?;
            let c = d
                .identity
                .conclusions
                .iter()
                .find(|c| c.field == "firmware")?;
            Some((d, fw, c))
        })
        .collect();
    let firmware: Vec<FirmwareNow> = stated
        .iter()
        .map(|(d, fw, c)| FirmwareNow {
            device: d.key.clone(),
            version: fw.to_string(),
            first_seen: c.seen.secs(),
            device_last_seen: d.last_seen.secs(),
            evidence: format!("{} ({})", c.evidence, c.why),
        })
        .collect();
    let firmware = store.record_firmware(&firmware, now)?;
    let fw_now: HashMap<&str, (&str, String)> = stated
        .iter()
        .map(|(d, fw, c)| {
            (
                d.key.as_str(),
                (*fw, format!("{} at {}", c.evidence, c.seen.iso())),
            )
        })
        .collect();

    let current = current_problems(scored);
    let devices: HashSet<&str> = scored.iter().map(|d| d.assessment.key.as_str()).collect();
    let tracked = store.remediation_tracked()?;
    let sla = store.remediation_sla()?;
    let ops: Vec<Op> = reconcile(&tracked, &current, &devices, now)
        .into_iter()
        .map(|ch| match ch {
            Change::Open(c) => Op::Open {
                device: c.device.clone(),
                subject: c.subject.clone(),
                severity: c.severity,
                title: c.title.clone(),
                evidence: c.evidence.clone(),
                due: sla.due(c.severity, now, c.kev_due),
            },
            Change::Refresh { id, current: c } => Op::Refresh {
                id,
                severity: c.severity,
                title: c.title.clone(),
                evidence: c.evidence.clone(),
            },
            Change::Verify {
                id,
                device,
                subject,
            } => Op::Verify {
                id,
                evidence: gone_evidence(subject, fw_now.get(device)),
            },
            Change::Reopen {
                id,
                current: c,
                expired,
            } => Op::Reopen {
                id,
                evidence: if expired {
                    format!("risk acceptance expired; still seen: {}", c.evidence)
                } else {
                    format!("seen again: {}", c.evidence)
                },
                due: sla.due(c.severity, now, c.kev_due),
            },
        })
        .collect();
    let counts = store.apply_remediation(&ops, now)?;
    Ok(Synced { counts, firmware })
}

/// Why an item is verified: for a vulnerability, the firmware the device
/// shows now (outside the affected range); for a finding, that the
/// evidence no longer shows it.
fn gone_evidence(subject: &Subject, firmware: Option<&(&str, String)>) -> String {
    match (subject, firmware) {
        (Subject::Vulnerability { cve }, Some((fw, at))) => format!(
            "{cve} no longer matches: the device now runs firmware {fw} ({at}), outside the affected versions"
        ),
        (Subject::Vulnerability { cve }, None) => {
            format!("{cve} no longer matches the device's identity")
        }
        (Subject::Finding { kind }, _) => format!(
            "{} is no longer in the evidence for the device",
            kind.as_str()
        ),
    }
}

/// The metrics of every item at `now`, with `days` points of open over time.
pub fn metrics(store: &store::Store, now: i64, days: u32) -> Result<Metrics> {
    Ok(remediation::metrics(&store.remediation_times()?, now, days))
}

/// Devices whose firmware has not changed in `days` days before `now`:
/// `(device key, version, since)`, where since is the last change (or the
/// first sighting), oldest first.
pub fn not_updated(
    store: &store::Store,
    days: u32,
    now: i64,
) -> Result<Vec<(String, String, i64)>> {
    let mut last: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for c in store.firmware_changes(None)? {
        last.insert(c.device, (c.to, c.at));
    }
    let cutoff = now - i64::from(days) * remediation::DAY;
    let mut out: Vec<(String, String, i64)> = last
        .into_iter()
        .filter(|(_, (_, at))| *at <= cutoff)
        .map(|(d, (v, at))| (d, v, at))
        .collect();
    out.sort_by_key(|x| x.2);
    Ok(out)
}

/// A device still on a version an advisory's vendor fix replaced.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Behind {
    /// Device key.
    pub device: String,
    /// Its firmware, when known.
    pub firmware: Option<String>,
    /// The CVE.
    pub cve: String,
    /// The advisory.
    pub advisory: String,
    /// The vendor's fix.
    pub fix: String,
}

/// Devices on a version an advisory's vendor fix replaced (a match with a
/// vendor fix), most severe first.
pub fn behind_fixes(store: &store::Store) -> Result<Vec<Behind>> {
    let mut out = Vec::new();
    for d in crate::score::scored_devices(store)? {
        for m in &d.advisories {
            if let Some(fix) = &m.remediation {
                out.push(Behind {
                    device: d.assessment.key.clone(),
                    firmware: d.firmware.clone(),
                    cve: m.cve.clone(),
                    advisory: m.advisory.clone(),
                    fix: fix.clone(),
                });
            }
        }
    }
    Ok(out)
}
