//! The evaluators: one per kind of evidence, each over [`Inputs`], each
//! answering a [`Status`] with the evidence (counts and ids) and the gap.
//! How each decides is documented on its kind and in `docs/compliance.md`.

use crate::day::{self, YEAR_DAYS};
use crate::inputs::{Document, Inputs};
use crate::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A kind of evidence Ward has (the framework tables name these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// Devices observed, unknown ones, declared ones never seen.
    Inventory,
    /// HL7 and DICOM flows mapped.
    EphiFlowMap,
    /// Cleartext clinical flows.
    EncryptionInTransit,
    /// Advisory feeds, matches, known-exploited ones, severe findings.
    Vulnerabilities,
    /// Outstanding matches with a known fix (and, once recorded, time to remediate).
    Patching,
    /// Telnet, FTP, SMBv1, SNMP v1/v2c, cleartext web interfaces.
    UnnecessaryServices,
    /// Default and cleartext credentials.
    AccessControl,
    /// Baselines learned and alerts reviewed.
    Monitoring,
    /// Ward's append-only audit log.
    AuditLog,
    /// Medical devices approved into a group or given a MUD policy.
    Segmentation,
    /// Backups of Ward's own state.
    Backup,
    /// Clinical data seen leaving its producers (backup coverage findings).
    DataCoverage,
    /// Restore drills within the 72-hour target.
    RestoreDrill,
    /// Accounts with a second factor; API tokens without expiry.
    Mfa,
    /// The designated security officer.
    SecurityOfficer,
    /// Training within 12 months per account.
    Training,
    /// Security policies within their review dates.
    Policies,
    /// Incident-response plans within their review dates.
    IncidentResponse,
    /// Risk analyses within 12 months.
    RiskAnalysis,
}

impl EvidenceKind {
    /// Words for people.
    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::Inventory => "Device inventory",
            EvidenceKind::EphiFlowMap => "ePHI flow map",
            EvidenceKind::EncryptionInTransit => "Encryption in transit",
            EvidenceKind::Vulnerabilities => "Vulnerabilities",
            EvidenceKind::Patching => "Patching",
            EvidenceKind::UnnecessaryServices => "Unnecessary services",
            EvidenceKind::AccessControl => "Credentials",
            EvidenceKind::Monitoring => "Monitoring",
            EvidenceKind::AuditLog => "Audit log",
            EvidenceKind::Segmentation => "Segmentation",
            EvidenceKind::Backup => "Backups",
            EvidenceKind::DataCoverage => "Clinical data copies",
            EvidenceKind::RestoreDrill => "Restore drills",
            EvidenceKind::Mfa => "Multi-factor authentication",
            EvidenceKind::SecurityOfficer => "Security officer",
            EvidenceKind::Training => "Training",
            EvidenceKind::Policies => "Policies",
            EvidenceKind::IncidentResponse => "Incident response plan",
            EvidenceKind::RiskAnalysis => "Risk analysis",
        }
    }
}

/// Ids listed per item; the rest are counted.
pub const MAX_IDS: usize = 20;

/// One line of evidence: what, how many, which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// What is counted.
    pub label: String,
    /// How many.
    pub count: u64,
    /// Which (device keys, flow ids, alert ids, record names), at most [`MAX_IDS`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
}

impl Item {
    fn new<S: AsRef<str>>(label: &str, ids: impl IntoIterator<Item = S>) -> Item {
        let all: Vec<String> = ids.into_iter().map(|s| s.as_ref().to_string()).collect();
        Item {
            label: label.to_string(),
            count: all.len() as u64,
            ids: all.into_iter().take(MAX_IDS).collect(),
        }
    }

    fn count(label: &str, count: u64) -> Item {
        Item {
            label: label.to_string(),
            count,
            ids: Vec::new(),
        }
    }
}

/// One evidence kind judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessment {
    /// Which.
    pub kind: EvidenceKind,
    /// Its status.
    pub status: Status,
    /// One line: what the evidence says.
    pub summary: String,
    /// The evidence.
    pub items: Vec<Item>,
    /// The gap, when not met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
}

fn a(kind: EvidenceKind, status: Status, summary: String, items: Vec<Item>) -> Assessment {
    let gap = matches!(status, Status::NotMet | Status::Partial).then(|| summary.clone());
    Assessment {
        kind,
        status,
        summary,
        items,
        gap,
    }
}

/// Judges one kind of evidence.
pub fn evaluate(kind: EvidenceKind, i: &Inputs) -> Assessment {
    use EvidenceKind as K;
    match kind {
        K::Inventory => inventory(i),
        K::EphiFlowMap => flow_map(i),
        K::EncryptionInTransit => encryption(i),
        K::Vulnerabilities => vulnerabilities(i),
        K::Patching => patching(i),
        K::UnnecessaryServices => findings(
            i,
            K::UnnecessaryServices,
            &["insecure_service"],
            &[],
            "no Telnet, FTP, SMBv1, SNMP v1/v2c or cleartext web interface seen",
        ),
        K::AccessControl => findings(
            i,
            K::AccessControl,
            &["default_credential"],
            &["cleartext_credential"],
            "no default or cleartext login seen",
        ),
        K::Monitoring => monitoring(i),
        K::AuditLog => audit_log(i),
        K::Segmentation => segmentation(i),
        K::Backup => backup(i),
        K::DataCoverage => findings(
            i,
            K::DataCoverage,
            &[],
            &["no_recent_copy", "no_onward_copy", "cleartext_backup"],
            "every clinical-data producer's data was seen leaving it",
        ),
        K::RestoreDrill => restore_drill(i),
        K::Mfa => mfa(i),
        K::SecurityOfficer => officer(i),
        K::Training => training(i),
        K::Policies => documents(i, K::Policies, "policy"),
        K::IncidentResponse => documents(i, K::IncidentResponse, "incident-response"),
        K::RiskAnalysis => risk_analysis(i),
    }
}

fn no_devices(kind: EvidenceKind) -> Assessment {
    a(
        kind,
        Status::NotAssessable,
        "no devices observed: analyze captures first (ward analyze)".into(),
        Vec::new(),
    )
}

/// Met: devices observed, none of unknown category, every declared device
/// seen. Not met: more than half unknown. Partial otherwise.
fn inventory(i: &Inputs) -> Assessment {
    let inv = &i.inventory;
    let k = EvidenceKind::Inventory;
    if inv.observed.is_empty() && inv.declared == 0 {
        return no_devices(k);
    }
    let unknown: Vec<&str> = inv
        .observed
        .iter()
        .filter(|d| d.unknown)
        .map(|d| d.key.as_str())
        .collect();
    let medical = inv.observed.iter().filter(|d| d.medical).count() as u64;
    let items = vec![
        Item::count("analysis runs", inv.runs),
        Item::count("devices observed", inv.observed.len() as u64),
        Item::count("medical devices", medical),
        Item::new("devices of unknown category", &unknown),
        Item::count("devices declared in the CMMS", inv.declared as u64),
        Item::new(
            "declared devices never seen on the network",
            &inv.declared_unseen,
        ),
    ];
    let n = inv.observed.len();
    let (status, summary) = if unknown.is_empty() && inv.declared_unseen.is_empty() && n > 0 {
        (
            Status::Met,
            format!("{n} devices identified ({medical} medical), none unknown"),
        )
    } else if n == 0 || unknown.len() * 2 > n {
        (
            Status::NotMet,
            format!(
                "{} of {n} observed devices are of unknown category; {} declared devices not seen",
                unknown.len(),
                inv.declared_unseen.len()
            ),
        )
    } else {
        (
            Status::Partial,
            format!(
                "{} of {n} observed devices are of unknown category; {} declared devices not seen",
                unknown.len(),
                inv.declared_unseen.len()
            ),
        )
    };
    a(k, status, summary, items)
}

/// Met: ePHI flows mapped. Partial: devices but no flow seen (the map
/// covers nothing). Not assessable: no devices.
fn flow_map(i: &Inputs) -> Assessment {
    let k = EvidenceKind::EphiFlowMap;
    if i.inventory.observed.is_empty() {
        return no_devices(k);
    }
    let ids: Vec<String> = i.flows.iter().map(|f| f.describe()).collect();
    let ends: std::collections::BTreeSet<&str> = i
        .flows
        .iter()
        .flat_map(|f| [f.source.key.as_str(), f.dest.key.as_str()])
        .collect();
    let items = vec![
        Item::new("ePHI flows (HL7, DICOM)", &ids),
        Item::count("devices in the map", ends.len() as u64),
    ];
    if i.flows.is_empty() {
        a(
            k,
            Status::Partial,
            "no HL7 or DICOM flow seen: the map covers no ePHI flow yet (capture where clinical data travels)".into(),
            items,
        )
    } else {
        a(
            k,
            Status::Met,
            format!(
                "{} ePHI flows mapped between {} devices",
                i.flows.len(),
                ends.len()
            ),
            items,
        )
    }
}

/// Not met: any ePHI flow readable on the wire, or a device with a
/// cleartext patient-data finding. Met: flows seen, all encrypted. Not
/// assessable: no ePHI flow seen.
fn encryption(i: &Inputs) -> Assessment {
    let k = EvidenceKind::EncryptionInTransit;
    let clear: Vec<String> = i
        .flows
        .iter()
        .filter(|f| !f.encrypted)
        .map(|f| f.describe())
        .collect();
    let devices: Vec<&str> = i
        .findings
        .iter()
        .filter(|f| f.kind == "cleartext_phi")
        .map(|f| f.device.as_str())
        .collect();
    let items = vec![
        Item::new("cleartext ePHI flows", &clear),
        Item::new(
            "devices sending or receiving patient data in cleartext",
            &devices,
        ),
        Item::count(
            "encrypted ePHI flows",
            i.flows.iter().filter(|f| f.encrypted).count() as u64,
        ),
    ];
    if i.flows.is_empty() && devices.is_empty() {
        return a(
            k,
            Status::NotAssessable,
            "no HL7 or DICOM flow seen".into(),
            items,
        );
    }
    if clear.is_empty() && devices.is_empty() {
        a(
            k,
            Status::Met,
            format!("all {} ePHI flows encrypted", i.flows.len()),
            items,
        )
    } else {
        a(
            k,
            Status::NotMet,
            format!(
                "{} ePHI flows in cleartext; {} devices send or receive patient data unencrypted",
                clear.len(),
                devices.len()
            ),
            items,
        )
    }
}

/// Not met: no advisory feed imported, or a known-exploited match. Partial:
/// matches, high or critical findings, or feeds older than six months.
/// Met otherwise. Not assessable: no devices.
fn vulnerabilities(i: &Inputs) -> Assessment {
    let k = EvidenceKind::Vulnerabilities;
    if i.inventory.observed.is_empty() && i.inventory.declared == 0 {
        return no_devices(k);
    }
    let adv = &i.advisories;
    let ids = |kev: bool| -> Vec<String> {
        adv.matches
            .iter()
            .filter(|m| !kev || m.kev)
            .map(|m| format!("{} on {}", m.cve, m.device))
            .collect()
    };
    let severe: Vec<String> = i
        .findings
        .iter()
        .filter(|f| matches!(f.severity.as_str(), "critical" | "high"))
        .map(|f| format!("{} on {}", f.kind, f.device))
        .collect();
    let stale = adv.updated_at.is_some_and(|t| i.now - t > 183 * 86_400);
    let mut items = vec![
        Item::count("advisories in the store", adv.catalog),
        Item::new("advisory matches", ids(false)),
        Item::new("known-exploited matches (CISA KEV)", ids(true)),
        Item::new("high or critical risk findings", &severe),
    ];
    if let Some(t) = adv.updated_at {
        items.push(Item::new("feeds last imported", [day::format_unix(t)]));
    }
    let (status, summary) = if adv.catalog == 0 {
        (
            Status::NotMet,
            "no vulnerability feed imported: devices are not checked against advisories (ward feeds sync)".to_string(),
        )
    } else if adv.matches.iter().any(|m| m.kev) {
        (
            Status::NotMet,
            format!(
                "{} known-exploited vulnerabilities match devices",
                ids(true).len()
            ),
        )
    } else if !adv.matches.is_empty() || !severe.is_empty() || stale {
        (
            Status::Partial,
            format!(
                "{} advisory matches and {} high or critical findings outstanding{}",
                adv.matches.len(),
                severe.len(),
                if stale {
                    "; feeds older than six months"
                } else {
                    ""
                }
            ),
        )
    } else {
        (
            Status::Met,
            format!(
                "devices checked against {} advisories: no match, no high finding",
                adv.catalog
            ),
        )
    };
    a(k, status, summary, items)
}

/// Not assessable without advisory feeds. Not met: a known-exploited match
/// with a fix (or overdue critical items, once the remediation lifecycle
/// records them). Partial: matches with a fix outstanding, or overdue high
/// items. Met otherwise.
fn patching(i: &Inputs) -> Assessment {
    let k = EvidenceKind::Patching;
    let adv = &i.advisories;
    if adv.catalog == 0 {
        return a(
            k,
            Status::NotAssessable,
            "no vulnerability feed imported: nothing to judge patching against".into(),
            Vec::new(),
        );
    }
    let fixable: Vec<String> = adv
        .matches
        .iter()
        .filter(|m| m.fix_known)
        .map(|m| format!("{} on {}", m.cve, m.device))
        .collect();
    let kev_fixable = adv.matches.iter().filter(|m| m.fix_known && m.kev).count();
    let firmware = i
        .inventory
        .observed
        .iter()
        .filter(|d| d.medical && d.firmware_known)
        .count();
    let medical = i.inventory.observed.iter().filter(|d| d.medical).count();
    let mut items = vec![
        Item::new("matches with a fix available, outstanding", &fixable),
        Item::count("of them known-exploited", kev_fixable as u64),
        Item::count(
            "medical devices with a known firmware version",
            firmware as u64,
        ),
        Item::count("medical devices", medical as u64),
    ];
    let (critical, high) = match &i.remediation {
        Some(r) => {
            items.push(Item::count(
                "critical items past their due date",
                r.critical_overdue,
            ));
            items.push(Item::count(
                "high items past their due date",
                r.high_overdue,
            ));
            (r.critical_overdue, r.high_overdue)
        }
        None => (0, 0),
    };
    let cadence = if i.remediation.is_none() {
        " (time to remediate not recorded yet: judged from outstanding matches)"
    } else {
        ""
    };
    let (status, summary) = if kev_fixable > 0 || critical > 0 {
        (
            Status::NotMet,
            format!(
                "{kev_fixable} known-exploited vulnerabilities with a fix not applied{cadence}"
            ),
        )
    } else if !fixable.is_empty() || high > 0 {
        (
            Status::Partial,
            format!(
                "{} vulnerabilities with a fix not applied{cadence}",
                fixable.len()
            ),
        )
    } else {
        (
            Status::Met,
            format!("no outstanding vulnerability with a known fix{cadence}"),
        )
    };
    a(k, status, summary, items)
}

/// Findings of the given kinds: `hard` ones make it not met, `soft` ones
/// partial; none of either is met. Not assessable without devices.
fn findings(i: &Inputs, k: EvidenceKind, hard: &[&str], soft: &[&str], met: &str) -> Assessment {
    if i.inventory.observed.is_empty() {
        return no_devices(k);
    }
    let mut by_kind: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &i.findings {
        if hard.contains(&f.kind.as_str()) || soft.contains(&f.kind.as_str()) {
            by_kind.entry(f.kind.as_str()).or_default().push(&f.device);
        }
    }
    let items: Vec<Item> = hard
        .iter()
        .chain(soft)
        .map(|kind| {
            Item::new(
                &format!("devices with {}", kind.replace('_', " ")),
                by_kind.get(kind).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let n_hard: usize = hard
        .iter()
        .filter_map(|h| by_kind.get(h))
        .map(Vec::len)
        .sum();
    let n_soft: usize = soft
        .iter()
        .filter_map(|h| by_kind.get(h))
        .map(Vec::len)
        .sum();
    let what = |n: usize, kinds: &[&str]| {
        format!(
            "{n} device findings: {}",
            kinds
                .iter()
                .filter(|k| by_kind.contains_key(*k))
                .map(|k| k.replace('_', " "))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if n_hard > 0 {
        a(
            k,
            Status::NotMet,
            what(n_hard + n_soft, &[hard, soft].concat()),
            items,
        )
    } else if n_soft > 0 {
        a(k, Status::Partial, what(n_soft, soft), items)
    } else {
        a(k, Status::Met, met.to_string(), items)
    }
}

/// Not met: no baseline learned. Partial: alerts still open. Met: a
/// baseline, and every alert acknowledged or closed.
fn monitoring(i: &Inputs) -> Assessment {
    let m = &i.monitoring;
    let k = EvidenceKind::Monitoring;
    let items = vec![
        Item::new("baselines learned", &m.baselines),
        Item {
            label: "open alerts".into(),
            count: m.open_count,
            ids: m.open.iter().take(MAX_IDS).cloned().collect(),
        },
        Item::count("acknowledged alerts", m.acknowledged),
        Item::count("closed alerts", m.closed),
    ];
    if m.baselines.is_empty() {
        a(
            k,
            Status::NotMet,
            "no communication baseline learned: network activity is not monitored (ward baseline learn, ward monitor)".into(),
            items,
        )
    } else if m.open_count > 0 {
        a(
            k,
            Status::Partial,
            format!("monitoring on; {} alerts not yet reviewed", m.open_count),
            items,
        )
    } else {
        a(
            k,
            Status::Met,
            format!(
                "monitoring on ({} baselines); every alert reviewed",
                m.baselines.len()
            ),
            items,
        )
    }
}

/// Met: the append-only audit log has entries. Partial: it is empty.
fn audit_log(i: &Inputs) -> Assessment {
    let k = EvidenceKind::AuditLog;
    let items = vec![Item::count("audit log entries", i.audit_entries)];
    if i.audit_entries > 0 {
        a(
            k,
            Status::Met,
            format!(
                "{} entries in Ward's append-only audit log",
                i.audit_entries
            ),
            items,
        )
    } else {
        a(
            k,
            Status::Partial,
            "the audit log is empty: no sign-in or recorded change yet".into(),
            items,
        )
    }
}

/// Medical devices approved into a group or given a MUD policy: all met,
/// none not met, some partial. Not assessable without medical devices.
fn segmentation(i: &Inputs) -> Assessment {
    let s = &i.segmentation;
    let k = EvidenceKind::Segmentation;
    if s.medical.is_empty() {
        return a(
            k,
            Status::NotAssessable,
            "no medical device observed".into(),
            Vec::new(),
        );
    }
    let open: Vec<&str> = s
        .medical
        .iter()
        .filter(|d| !s.governed.contains(d))
        .map(String::as_str)
        .collect();
    let items = vec![
        Item::new(
            "medical devices in a group or with a MUD policy",
            &s.governed,
        ),
        Item::new("medical devices without a group or policy", &open),
    ];
    let n = s.medical.len();
    let summary = format!(
        "{} of {n} medical devices are approved into a group or have a MUD policy",
        n - open.len()
    );
    let status = if open.is_empty() {
        Status::Met
    } else if open.len() == n {
        Status::NotMet
    } else {
        Status::Partial
    };
    a(k, status, summary, items)
}

/// Not met: no successful backup recorded. Partial: the last one failed,
/// or the last success is older than 7 days. Met otherwise.
fn backup(i: &Inputs) -> Assessment {
    let b = &i.backup;
    let k = EvidenceKind::Backup;
    let mut items = vec![Item::count("backups recorded (newest 20)", b.runs as u64)];
    let Some((at, snap)) = &b.last_success else {
        return a(
            k,
            Status::NotMet,
            "no successful backup of Ward's state recorded (ward backup create, ward serve --backup-every)".into(),
            items,
        );
    };
    items.push(Item::new(
        "last successful backup",
        [format!("snapshot {snap} on {}", day::format_unix(*at))],
    ));
    let age_days = (i.now - at).max(0) / 86_400;
    if let Some(f) = b.failing_since {
        items.push(Item::new("failing since", [day::format_unix(f)]));
        a(
            k,
            Status::Partial,
            format!("backups failing since {}", day::format_unix(f)),
            items,
        )
    } else if age_days > 7 {
        a(
            k,
            Status::Partial,
            format!("last successful backup {age_days} days ago"),
            items,
        )
    } else {
        a(
            k,
            Status::Met,
            format!("last successful backup {age_days} days ago"),
            items,
        )
    }
}

/// The 72-hour restore target, in milliseconds.
pub const RESTORE_TARGET_MS: u64 = 72 * 3600 * 1000;

/// Not met: no drill, or the newest passed drill took longer than 72 hours.
/// Partial: the newest drill failed, or the newest pass is older than 12
/// months. Met: a drill passed within 12 months, within 72 hours.
fn restore_drill(i: &Inputs) -> Assessment {
    let k = EvidenceKind::RestoreDrill;
    let drills = &i.backup.drills;
    let ids: Vec<String> = drills
        .iter()
        .map(|d| {
            format!(
                "{} snapshot {} {} in {} s",
                day::format_unix(d.at),
                d.snapshot,
                if d.passed { "passed" } else { "failed" },
                d.duration_ms / 1000
            )
        })
        .collect();
    let items = vec![Item::new("restore drills", &ids)];
    let Some(pass) = drills.iter().find(|d| d.passed) else {
        return a(
            k,
            Status::NotMet,
            if drills.is_empty() {
                "no restore drill recorded (ward backup verify-restore)".into()
            } else {
                "no restore drill passed".into()
            },
            items,
        );
    };
    let age = day::of_unix(i.now) - day::of_unix(pass.at);
    if pass.duration_ms > RESTORE_TARGET_MS {
        a(
            k,
            Status::NotMet,
            format!(
                "the last passed restore took {} hours, over the 72-hour target",
                pass.duration_ms / 3_600_000
            ),
            items,
        )
    } else if !drills[0].passed {
        a(
            k,
            Status::Partial,
            format!(
                "the newest restore drill ({}) failed",
                day::format_unix(drills[0].at)
            ),
            items,
        )
    } else if age > YEAR_DAYS {
        a(
            k,
            Status::Partial,
            format!("the last passed restore drill is {age} days old (over 12 months)"),
            items,
        )
    } else {
        a(
            k,
            Status::Met,
            format!(
                "restore drill passed on {} in {} s (target 72 hours)",
                day::format_unix(pass.at),
                pass.duration_ms / 1000
            ),
            items,
        )
    }
}

/// Not assessable without accounts. Not met: an enabled account without a
/// second factor. Partial: API tokens that never expire (they sign in
/// without one). Met otherwise.
fn mfa(i: &Inputs) -> Assessment {
    let k = EvidenceKind::Mfa;
    let enabled: Vec<&crate::inputs::Account> =
        i.accounts.users.iter().filter(|u| !u.disabled).collect();
    if enabled.is_empty() {
        return a(
            k,
            Status::NotAssessable,
            "no enabled web account".into(),
            Vec::new(),
        );
    }
    let with: Vec<&str> = enabled
        .iter()
        .filter(|u| u.mfa)
        .map(|u| u.name.as_str())
        .collect();
    let without: Vec<&str> = enabled
        .iter()
        .filter(|u| !u.mfa)
        .map(|u| u.name.as_str())
        .collect();
    let items = vec![
        Item::new("accounts with password and TOTP", &with),
        Item::new("accounts without a second factor", &without),
        Item::count(
            "API tokens without expiry",
            i.accounts.tokens_without_expiry,
        ),
    ];
    if !without.is_empty() {
        a(
            k,
            Status::NotMet,
            format!(
                "{} enabled accounts sign in without a second factor",
                without.len()
            ),
            items,
        )
    } else if i.accounts.tokens_without_expiry > 0 {
        a(
            k,
            Status::Partial,
            format!(
                "every account uses TOTP; {} API tokens never expire",
                i.accounts.tokens_without_expiry
            ),
            items,
        )
    } else {
        a(
            k,
            Status::Met,
            format!(
                "all {} enabled accounts sign in with password and TOTP",
                with.len()
            ),
            items,
        )
    }
}

/// Met: an enabled account is the designated security officer.
fn officer(i: &Inputs) -> Assessment {
    let k = EvidenceKind::SecurityOfficer;
    match &i.program.officer {
        None => a(
            k,
            Status::NotMet,
            "no security officer designated (ward program officer set USER)".into(),
            Vec::new(),
        ),
        Some(o) => {
            let items = vec![Item::new(
                "designated security officer",
                [format!("{} since {}", o.user, day::format_unix(o.since))],
            )];
            if o.disabled {
                a(
                    k,
                    Status::NotMet,
                    format!("the security officer's account {} is disabled", o.user),
                    items,
                )
            } else {
                a(
                    k,
                    Status::Met,
                    format!("{} is the designated security officer", o.user),
                    items,
                )
            }
        }
    }
}

/// Per person (every enabled account, and everyone with a record), the
/// newest training must be within 12 months. Met: all current. Not met: no
/// training recorded, or none current. Partial otherwise.
fn training(i: &Inputs) -> Assessment {
    let k = EvidenceKind::Training;
    let today = day::of_unix(i.now);
    let mut newest: BTreeMap<&str, Option<(i64, &str, &str)>> = BTreeMap::new();
    for u in i.accounts.users.iter().filter(|u| !u.disabled) {
        newest.entry(u.name.as_str()).or_insert(None);
    }
    for t in &i.program.training {
        let Some(d) = day::parse(&t.completed) else {
            continue;
        };
        let e = newest.entry(t.user.as_str()).or_insert(None);
        if e.is_none_or(|(old, ..)| d > old) {
            *e = Some((d, t.completed.as_str(), t.course.as_str()));
        }
    }
    let mut current = Vec::new();
    let mut overdue = Vec::new();
    let mut never = Vec::new();
    for (user, t) in &newest {
        match t {
            Some((d, day, course)) if today - d <= YEAR_DAYS => {
                current.push(format!("{user}: {course} on {day}"))
            }
            Some((_, day, course)) => overdue.push(format!("{user}: {course} on {day}")),
            None => never.push(user.to_string()),
        }
    }
    let items = vec![
        Item::new("people trained within 12 months", &current),
        Item::new("training older than 12 months (overdue)", &overdue),
        Item::new("accounts with no training recorded", &never),
    ];
    if newest.is_empty() || (current.is_empty() && overdue.is_empty()) {
        return a(
            k,
            Status::NotMet,
            "no training recorded (ward program training add USER --course C --date D)".into(),
            items,
        );
    }
    let n = newest.len();
    let summary = format!(
        "{} of {n} people trained within 12 months; {} overdue, {} never",
        current.len(),
        overdue.len(),
        never.len()
    );
    let status = if current.len() == n {
        Status::Met
    } else if current.is_empty() {
        Status::NotMet
    } else {
        Status::Partial
    };
    a(k, status, summary, items)
}

/// The newest version of each document of `kind` must be within its review
/// date. Met: all are. Not met: none recorded, or all overdue. Partial otherwise.
fn documents(i: &Inputs, k: EvidenceKind, kind: &str) -> Assessment {
    let today = day::of_unix(i.now);
    let mut newest: BTreeMap<&str, &Document> = BTreeMap::new();
    for d in i.program.documents.iter().filter(|d| d.kind == kind) {
        let e = newest.entry(d.title.as_str()).or_insert(d);
        if d.recorded_at > e.recorded_at {
            *e = d;
        }
    }
    let describe = |d: &Document| {
        let mut s = format!("{} v{} (review by {})", d.title, d.version, d.review_by);
        if !d.owner.is_empty() {
            s.push_str(&format!(", owner {}", d.owner));
        }
        if !d.link.is_empty() {
            s.push_str(&format!(", {}", d.link));
        }
        s
    };
    let (current, overdue): (Vec<&Document>, Vec<&Document>) = newest
        .values()
        .copied()
        .partition(|d| day::parse(&d.review_by).is_some_and(|r| r >= today));
    let items = vec![
        Item::new(
            "documents within their review date",
            current.iter().map(|d| describe(d)),
        ),
        Item::new(
            "documents past their review date (overdue)",
            overdue.iter().map(|d| describe(d)),
        ),
    ];
    let what = if kind == "policy" {
        "security policy"
    } else {
        "incident-response plan"
    };
    if newest.is_empty() {
        return a(
            k,
            Status::NotMet,
            format!("no {what} recorded (ward program document add --kind {kind} ...)"),
            items,
        );
    }
    let summary = format!(
        "{} {what} documents current, {} past their review date",
        current.len(),
        overdue.len()
    );
    let status = if overdue.is_empty() {
        Status::Met
    } else if current.is_empty() {
        Status::NotMet
    } else {
        Status::Partial
    };
    a(k, status, summary, items)
}

/// Met: a risk analysis within 12 months. Partial: only older ones. Not met: none.
fn risk_analysis(i: &Inputs) -> Assessment {
    let k = EvidenceKind::RiskAnalysis;
    let today = day::of_unix(i.now);
    let ids: Vec<String> = i
        .program
        .risk_analyses
        .iter()
        .map(|r| {
            let mut s = format!("{}: {}", r.day, r.what);
            if !r.owner.is_empty() {
                s.push_str(&format!(" ({})", r.owner));
            }
            s
        })
        .collect();
    let items = vec![Item::new("risk analyses recorded", &ids)];
    let newest = i
        .program
        .risk_analyses
        .iter()
        .filter_map(|r| day::parse(&r.day).map(|d| (d, r)))
        .max_by_key(|(d, _)| *d);
    match newest {
        None => a(
            k,
            Status::NotMet,
            "no risk analysis recorded (ward program risk-analysis add, or ward report)".into(),
            items,
        ),
        Some((d, r)) if today - d <= YEAR_DAYS => a(
            k,
            Status::Met,
            format!("last risk analysis on {} ({})", r.day, r.what),
            items,
        ),
        Some((_, r)) => a(
            k,
            Status::Partial,
            format!("last risk analysis on {}, over 12 months ago", r.day),
            items,
        ),
    }
}
