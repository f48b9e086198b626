//! The risk score: likelihood of compromise × clinical impact, 0–100, with
//! every factor's share, evidence and remediation.
//!
//! - Each finding (exposure or matching advisory) is a chance of compromise
//!   `p = weight(severity) × confidence`; they combine as independent
//!   chances: `likelihood = 1 − Π(1 − p)`.
//! - Clinical impact comes from the device category (life-sustaining >
//!   diagnostic > clinical information > administrative), raised to at least
//!   0.6 when patient data crosses the device's links in cleartext.
//! - `score = round(100 × likelihood × (0.3 + 0.7 × impact))`: a device with
//!   nothing found scores 0; an exposed infusion pump approaches 100.
//! - A factor's `points` is its share of the score, proportional to
//!   `−ln(1 − p)` (its contribution to the combined likelihood).

use crate::exposure::exposures;
use crate::finding::{Evidence, Finding, FindingKind, Severity};
use advisory::{Match, Recall};
use identify::{Category, Device, FactKind};
use serde::{Deserialize, Serialize};

/// One contribution to a device's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    /// The finding behind it.
    pub finding: Finding,
    /// Chance of compromise it stands for, 0..1.
    pub probability: f32,
    /// Its share of the score.
    pub points: f32,
}

/// A device's risk, explained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Device key (`mac:..`, `ip:..`, or a declared device's key).
    pub key: String,
    /// Score 0–100.
    pub score: u8,
    /// Combined likelihood, 0..1.
    pub likelihood: f32,
    /// Clinical impact, 0..1.
    pub impact: f32,
    /// Why that impact.
    pub impact_reason: String,
    /// Factors, largest share first.
    pub factors: Vec<Factor>,
}

/// Clinical impact of a category, 0..1, and why.
pub fn clinical_impact(c: Category) -> (f32, &'static str) {
    match c {
        Category::InfusionPump => (1.0, "life-sustaining: an infusion pump delivers medication"),
        Category::PatientMonitor => (
            0.9,
            "life-critical: a patient monitor raises clinical alarms",
        ),
        Category::ImagingModality => (0.8, "diagnostic: images feed diagnoses"),
        Category::LabAnalyzer => (
            0.8,
            "diagnostic: results go straight into the health record",
        ),
        Category::MedicalDevice => (0.75, "medical device"),
        Category::Pacs | Category::Hl7InterfaceEngine | Category::ClinicalInformationSystem => {
            (0.7, "clinical information: stores or routes patient data")
        }
        Category::ImagingWorkstation => (0.6, "clinical: image review"),
        Category::Server | Category::NetworkGear => {
            (0.5, "infrastructure other clinical systems depend on")
        }
        Category::Workstation | Category::Unknown => (0.4, "administrative or unidentified"),
        Category::Printer | Category::VoipPhone | Category::MobileDevice | Category::IotDevice => {
            (0.3, "administrative")
        }
    }
}

/// At most `n` characters of `s`, with an ellipsis when cut (NVD "titles"
/// are whole descriptions).
fn short(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_string(),
    }
}

/// Findings for the advisories that match a device, with the probability
/// each adds to the likelihood: the severity's weight times the match's
/// confidence, or the CVE's EPSS score times that confidence when higher
/// (FIRST's estimate that it is exploited in the next 30 days).
fn vulnerability_findings(matches: &[Match]) -> Vec<(Finding, f32)> {
    matches
        .iter()
        .map(|m| {
            let (kind, severity) = match (m.kev.is_some(), m.cvss.unwrap_or(5.0)) {
                (true, _) => (FindingKind::KnownExploited, Severity::Critical),
                (false, s) if s >= 9.0 => (FindingKind::KnownVulnerability, Severity::Critical),
                (false, s) if s >= 7.0 => (FindingKind::KnownVulnerability, Severity::High),
                (false, s) if s >= 4.0 => (FindingKind::KnownVulnerability, Severity::Medium),
                _ => (FindingKind::KnownVulnerability, Severity::Low),
            };
            let cvss = m.cvss.map(|c| format!(" (CVSS {c:.1})")).unwrap_or_default();
            let kev = if m.kev.is_some() { ", known exploited (CISA KEV)" } else { "" };
            let epss = m
                .epss
                .as_ref()
                .map(|e| format!(", EPSS {:.3} (percentile {:.1})", e.epss, e.percentile * 100.0))
                .unwrap_or_default();
            let finding = Finding {
                kind,
                severity,
                title: format!("{}{cvss}{kev}{epss}: {}", m.cve, short(&m.title, 110)),
                remediation: m.remediation.clone().unwrap_or_else(|| format!("Apply the manufacturer's fix for {} ({}); until patched, restrict the device's network access.", m.cve, m.advisory)),
                evidence: vec![Evidence { what: format!("{}; rule {}; {}", m.product, m.rule, m.reason), at: m.advisory.clone(), first_seen: None, last_seen: None, count: 1 }],
            };
            let confidence = m.confidence.clamp(0.0, 1.0);
            let p = severity.weight().max(m.epss.as_ref().map_or(0.0, |e| e.epss.clamp(0.0, 1.0))) * confidence;
            (finding, p)
        })
        .collect()
}

/// Findings for the FDA recalls that name the device: severity by the
/// recall's class (Class I critical, II high, III medium; high when the
/// file does not say), the firm's action as the remediation.
fn recall_findings(recalls: &[&Recall]) -> Vec<(Finding, f32)> {
    recalls
        .iter()
        .map(|r| {
            let severity = match r.class.trim() {
                "Class I" => Severity::Critical,
                "Class III" => Severity::Medium,
                _ => Severity::High,
            };
            let class = if r.class.is_empty() {
                "class not given".to_string()
            } else {
                r.class.clone()
            };
            let status = if r.status.is_empty() {
                String::new()
            } else {
                format!(", {}", r.status)
            };
            let remediation = if r.action.trim().is_empty() {
                format!(
                    "Follow {}'s recall notice {} (reason: {}).",
                    r.firm,
                    r.id,
                    short(&r.reason, 200)
                )
            } else {
                format!("{} (recall {}, {}).", short(&r.action, 400), r.id, r.firm)
            };
            let finding = Finding {
                kind: FindingKind::DeviceRecall,
                severity,
                title: format!(
                    "FDA recall {} ({class}{status}): {}",
                    r.id,
                    short(&r.product, 110)
                ),
                remediation,
                evidence: vec![Evidence {
                    what: format!(
                        "recalling firm {}; product {}; reason {}",
                        r.firm,
                        short(&r.product, 200),
                        short(&r.reason, 200)
                    ),
                    at: format!("openFDA {}", r.id),
                    first_seen: None,
                    last_seen: None,
                    count: 1,
                }],
            };
            // The recall names the maker and every word of the model: a name match, not a version one.
            (finding, severity.weight() * RECALL_CONFIDENCE)
        })
        .collect()
}

/// How sure a recall match is (maker and model words, no version).
const RECALL_CONFIDENCE: f32 = 0.8;

/// Scores one device from its facts and the advisories that match it.
pub fn assess(device: &Device, matches: &[Match]) -> Assessment {
    assess_with_recalls(device, matches, &[])
}

/// [`assess`] with the FDA recalls that name the device
/// ([`Recall::concerns`]) as findings too.
pub fn assess_with_recalls(device: &Device, matches: &[Match], recalls: &[&Recall]) -> Assessment {
    let mut weighted: Vec<(Finding, f32)> = exposures(device)
        .into_iter()
        .map(|f| {
            let p = f.severity.weight();
            (f, p)
        })
        .collect();
    weighted.extend(vulnerability_findings(matches));
    weighted.extend(recall_findings(recalls));
    let (mut impact, why) = clinical_impact(device.category);
    let mut impact_reason = format!("{}: {why}", device.category.label());
    if impact < 0.6
        && device
            .facts
            .iter()
            .any(|f| f.kind == FactKind::CleartextPhi)
    {
        impact = 0.6;
        impact_reason.push_str("; raised to 0.6: patient data crosses its links");
    }
    let mut factors: Vec<Factor> = weighted
        .into_iter()
        .map(|(finding, p)| {
            let p = p.clamp(0.0, 0.99);
            Factor {
                finding,
                probability: p,
                points: 0.0,
            }
        })
        .collect();
    let survive: f32 = factors.iter().map(|f| 1.0 - f.probability).product();
    let likelihood = 1.0 - survive;
    let score = (100.0 * likelihood * (0.3 + 0.7 * impact))
        .round()
        .clamp(0.0, 100.0);
    let total_log: f32 = factors.iter().map(|f| -(1.0 - f.probability).ln()).sum();
    if total_log > 0.0 {
        for f in &mut factors {
            f.points = score * (-(1.0 - f.probability).ln()) / total_log;
        }
    }
    factors.sort_by(|a, b| {
        b.points
            .total_cmp(&a.points)
            .then(b.finding.severity.cmp(&a.finding.severity))
            .then(a.finding.title.cmp(&b.finding.title))
    });
    Assessment {
        key: device.key.clone(),
        score: score as u8,
        likelihood,
        impact,
        impact_reason,
        factors,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identify::{EndpointKey, Fact};
    use model::Timestamp;

    fn fact(kind: FactKind, value: &str) -> Fact {
        Fact {
            endpoint: EndpointKey {
                mac: None,
                ip: "10.1.2.3".parse().ok(),
            },
            kind,
            value: value.into(),
            source: "test".into(),
            first_seen: Timestamp(1_700_000_000_000_000),
            last_seen: Timestamp(1_700_000_100_000_000),
            count: 3,
            evidence: "flow 7 10.1.2.3:40000 -> 10.1.2.9:21/tcp".into(),
        }
    }

    fn device(category: Category, facts: Vec<Fact>) -> Device {
        let mut d: Device = serde_json::from_value(serde_json::json!({
            "key": "ip:10.1.2.3", "mac": null, "vendor": null, "ips": ["10.1.2.3"], "hostnames": [],
            "category": "unknown", "confidence": 0.0, "reasons": [], "services_offered": [], "services_used": [],
            "roles": [], "software": [], "applications": [], "models": [], "peer_count": 0,
            "first_seen": 0, "last_seen": 0, "facts": []
        }))
        .unwrap();
        d.category = category;
        d.facts = facts;
        d
    }

    #[test]
    fn clean_device_scores_zero() {
        let a = assess(
            &device(
                Category::InfusionPump,
                vec![fact(FactKind::Hostname, "pump-1")],
            ),
            &[],
        );
        assert_eq!((a.score, a.factors.len()), (0, 0));
    }

    #[test]
    fn open_vnc_and_standard_rdp_security_are_findings() {
        let a = assess(
            &device(
                Category::Workstation,
                vec![
                    fact(FactKind::Role, "vnc-no-auth"),
                    fact(FactKind::Role, "rdp-standard-security"),
                    fact(FactKind::Role, "vnc-server"),
                ],
            ),
            &[],
        );
        let titles: Vec<(&str, FindingKind)> = a
            .factors
            .iter()
            .map(|f| (f.finding.title.as_str(), f.finding.kind))
            .collect();
        assert_eq!(titles.len(), 2, "{titles:?}");
        assert!(titles
            .iter()
            .all(|(_, k)| *k == FindingKind::InsecureService));
        assert!(titles
            .iter()
            .any(|(t, _)| t.contains("VNC") && t.contains("without authentication")));
        assert!(titles
            .iter()
            .any(|(t, _)| t.contains("standard RDP security")));
        let vnc = a
            .factors
            .iter()
            .find(|f| f.finding.title.contains("VNC"))
            .unwrap();
        assert_eq!(vnc.finding.severity, crate::finding::Severity::Critical);
        assert!(vnc
            .finding
            .evidence
            .iter()
            .all(|e| e.at.starts_with("flow 7")));
    }

    #[test]
    fn remote_support_tools_and_cleartext_poct_are_findings() {
        let facts = vec![
            fact(FactKind::Role, "remote-support-teamviewer"),
            fact(FactKind::Role, "remote-support-anydesk"),
            fact(FactKind::Software, "TeamViewer"),
            fact(FactKind::CleartextPhi, "poct1a"),
        ];
        let a = assess(&device(Category::LabAnalyzer, facts.clone()), &[]);
        let remote = a
            .factors
            .iter()
            .find(|f| f.finding.title.contains("remote-support"))
            .expect("the remote-support finding");
        assert_eq!(
            remote.finding.title,
            "Vendor remote-support tool in use (AnyDesk, TeamViewer)"
        );
        assert_eq!(remote.finding.severity, crate::finding::Severity::High);
        assert_eq!(remote.finding.evidence.len(), 2);
        assert!(a
            .factors
            .iter()
            .any(|f| f.finding.kind == FindingKind::CleartextPhi
                && f.finding.title.contains("POCT1A")));
        let pc = assess(&device(Category::Workstation, facts), &[]);
        let remote = pc
            .factors
            .iter()
            .find(|f| f.finding.title.contains("remote-support"))
            .unwrap();
        assert_eq!(remote.finding.severity, crate::finding::Severity::Medium);
    }

    #[test]
    fn same_exposures_weigh_more_on_a_pump_than_a_printer() {
        let facts = vec![
            fact(
                FactKind::CleartextCredential,
                "telnet user=admin password=default accepted",
            ),
            fact(FactKind::ServiceOffered, "telnet/tcp/23"),
        ];
        let pump = assess(&device(Category::InfusionPump, facts.clone()), &[]);
        let printer = assess(&device(Category::Printer, facts), &[]);
        assert!(
            pump.score > printer.score && pump.score >= 50,
            "{} vs {}",
            pump.score,
            printer.score
        );
        // Every factor explains itself: evidence with flow and packet time, and a fix.
        for f in &pump.factors {
            assert!(!f.finding.remediation.is_empty());
            assert!(f
                .finding
                .evidence
                .iter()
                .all(|e| e.at.starts_with("flow 7") && e.first_seen.is_some()));
        }
        let kinds: Vec<FindingKind> = pump.factors.iter().map(|f| f.finding.kind).collect();
        assert!(
            kinds.contains(&FindingKind::DefaultCredential)
                && kinds.contains(&FindingKind::InsecureService),
            "{kinds:?}"
        );
        let sum: f32 = pump.factors.iter().map(|f| f.points).sum();
        assert!(
            (sum - pump.score as f32).abs() < 0.6,
            "points add up to the score: {sum}"
        );
    }

    #[test]
    fn exposures_are_read_from_facts() {
        let d = device(
            Category::ImagingModality,
            vec![
                fact(FactKind::CleartextPhi, "dicom"),
                fact(FactKind::ServiceOffered, "dicom/tcp/4242"),
                fact(
                    FactKind::TlsServerParams,
                    "TLSv10 TLS_RSA_WITH_RC4_128_SHA port=443",
                ),
                fact(
                    FactKind::TlsCertificate,
                    "subject=CN=ct | issuer=CN=ct | not_after=1600000000 | self-signed",
                ),
                fact(FactKind::Os, "Windows 7 Professional 7601 Service Pack 1"),
                fact(FactKind::Peer, "8.8.8.8"),
                fact(FactKind::Peer, "10.1.2.4"),
                fact(FactKind::Smb1, "smb1"),
                fact(FactKind::CleartextCredential, "snmp-v2c community=public"),
            ],
        );
        let kinds: Vec<FindingKind> = exposures(&d).iter().map(|f| f.kind).collect();
        for k in [
            FindingKind::CleartextPhi,
            FindingKind::NonStandardPort,
            FindingKind::WeakTls,
            FindingKind::ExpiredCertificate,
            FindingKind::SelfSignedCertificate,
            FindingKind::OutdatedOs,
            FindingKind::InternetCommunication,
            FindingKind::InsecureService,
            FindingKind::DefaultCredential,
        ] {
            assert!(kinds.contains(&k), "{k:?} missing from {kinds:?}");
        }
        let internet = exposures(&d)
            .into_iter()
            .find(|f| f.kind == FindingKind::InternetCommunication)
            .unwrap();
        assert_eq!(
            (internet.severity, internet.evidence.len()),
            (Severity::High, 1),
            "only the public peer, high for a modality"
        );
    }

    #[test]
    fn known_exploited_advisory_dominates() {
        let m: Match = serde_json::from_value(serde_json::json!({
            "advisory": "ICSMA-00-000-00", "source": "csaf", "title": "Example pump", "cve": "CVE-2020-0001", "cvss": 9.8,
            "product": "Acme / Pump 1 / < 2.0", "rule": "< 2.0", "strength": "model_and_version", "confidence": 0.95,
            "reason": "model and version match", "remediation": "Update to 2.0",
            "kev": {"cve": "CVE-2020-0001", "vendor": "Acme", "product": "Pump", "name": "Acme Pump flaw", "date_added": "2021-01-01", "ransomware": "Unknown"}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        let a = assess(&device(Category::InfusionPump, vec![]), &[m]);
        assert_eq!(a.factors[0].finding.kind, FindingKind::KnownExploited);
        assert_eq!(a.factors[0].finding.remediation, "Update to 2.0");
        assert!(a.score >= 55, "{}", a.score);
    }
}
