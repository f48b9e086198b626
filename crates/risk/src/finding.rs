//! Findings: one problem with a device, its severity, evidence and fix.

use identify::Fact;
use model::Timestamp;
use serde::{Deserialize, Serialize};

/// How bad a finding is on its own (before clinical impact).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Should be fixed.
    Medium,
    /// Fix soon.
    High,
    /// Fix now (known-exploited, or patient data / credentials exposed).
    Critical,
}

impl Severity {
    /// Every severity, lowest first.
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    /// Parses [`Severity::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Probability-like weight of one finding of this severity in the
    /// likelihood of compromise (see `score`).
    pub fn weight(self) -> f32 {
        match self {
            Severity::Low => 0.05,
            Severity::Medium => 0.15,
            Severity::High => 0.35,
            Severity::Critical => 0.6,
        }
    }
}

/// What kind of problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// HL7 or DICOM carrying patient data without TLS.
    CleartextPhi,
    /// A default password (or SNMP `public`/`private`) was used.
    DefaultCredential,
    /// A login crossed the network in cleartext.
    CleartextCredential,
    /// Telnet, FTP, SMBv1, SNMPv1/v2c or a cleartext web interface offered.
    InsecureService,
    /// SSLv3/TLS 1.0/1.1 or a weak cipher negotiated.
    WeakTls,
    /// A certificate that had expired when it was presented.
    ExpiredCertificate,
    /// A self-signed certificate.
    SelfSignedCertificate,
    /// An operating system out of vendor support.
    OutdatedOs,
    /// A medical or local device talking to internet addresses.
    InternetCommunication,
    /// HL7 or DICOM served on a port other than the registered ones.
    NonStandardPort,
    /// A published vulnerability matches the device.
    KnownVulnerability,
    /// A matching vulnerability is in CISA's Known Exploited catalog.
    KnownExploited,
    /// A clinical-data producer whose data was not seen leaving it lately.
    NoRecentCopy,
    /// An archive (PACS) with no copy to another archive or a backup service.
    NoOnwardCopy,
    /// A copy sent over a cleartext channel or SMBv1.
    CleartextBackup,
    /// An FDA recall (openFDA) names the device's maker and model.
    DeviceRecall,
}

impl FindingKind {
    /// Every kind.
    pub const ALL: [FindingKind; 16] = [
        FindingKind::CleartextPhi,
        FindingKind::DefaultCredential,
        FindingKind::CleartextCredential,
        FindingKind::InsecureService,
        FindingKind::WeakTls,
        FindingKind::ExpiredCertificate,
        FindingKind::SelfSignedCertificate,
        FindingKind::OutdatedOs,
        FindingKind::InternetCommunication,
        FindingKind::NonStandardPort,
        FindingKind::KnownVulnerability,
        FindingKind::KnownExploited,
        FindingKind::NoRecentCopy,
        FindingKind::NoOnwardCopy,
        FindingKind::CleartextBackup,
        FindingKind::DeviceRecall,
    ];

    /// Parses [`FindingKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::CleartextPhi => "cleartext_phi",
            FindingKind::DefaultCredential => "default_credential",
            FindingKind::CleartextCredential => "cleartext_credential",
            FindingKind::InsecureService => "insecure_service",
            FindingKind::WeakTls => "weak_tls",
            FindingKind::ExpiredCertificate => "expired_certificate",
            FindingKind::SelfSignedCertificate => "self_signed_certificate",
            FindingKind::OutdatedOs => "outdated_os",
            FindingKind::InternetCommunication => "internet_communication",
            FindingKind::NonStandardPort => "non_standard_port",
            FindingKind::KnownVulnerability => "known_vulnerability",
            FindingKind::KnownExploited => "known_exploited",
            FindingKind::NoRecentCopy => "no_recent_copy",
            FindingKind::NoOnwardCopy => "no_onward_copy",
            FindingKind::CleartextBackup => "cleartext_backup",
            FindingKind::DeviceRecall => "device_recall",
        }
    }
}

/// Where a finding comes from: a fact seen in traffic (flow and packet
/// times) or an advisory match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// What was seen (`ftp user=admin password=default`, an advisory rule...).
    pub what: String,
    /// Flow or frame (`flow 7 10.0.0.5:40000 -> 10.0.0.9:21/tcp`) or advisory id.
    pub at: String,
    /// First sighting (packet time), when from traffic.
    pub first_seen: Option<Timestamp>,
    /// Last sighting (packet time), when from traffic.
    pub last_seen: Option<Timestamp>,
    /// Sightings.
    pub count: u64,
}

impl Evidence {
    /// Evidence from an observed fact.
    pub fn of_fact(f: &Fact) -> Evidence {
        Evidence {
            what: f.value.clone(),
            at: f.evidence.clone(),
            first_seen: Some(f.first_seen),
            last_seen: Some(f.last_seen),
            count: f.count,
        }
    }
}

/// One problem with one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Kind.
    pub kind: FindingKind,
    /// Severity on its own.
    pub severity: Severity,
    /// One line, for people.
    pub title: String,
    /// What to do about it.
    pub remediation: String,
    /// Why we believe it (at most [`MAX_EVIDENCE`] items, strongest first).
    pub evidence: Vec<Evidence>,
}

/// Evidence items kept per finding.
pub const MAX_EVIDENCE: usize = 5;

#[cfg(test)]
mod kind_tests {
    use super::*;

    #[test]
    fn every_kind_and_severity_parses_back() {
        for k in FindingKind::ALL {
            assert_eq!(FindingKind::parse(k.as_str()), Some(k));
        }
        // ALL lists every variant: a new one without an entry fails here.
        let n = FindingKind::ALL.len();
        assert_eq!(FindingKind::DeviceRecall as usize + 1, n);
        for s in Severity::ALL {
            assert_eq!(Severity::parse(s.as_str()), Some(s));
        }
        assert_eq!(FindingKind::parse("nope"), None);
    }
}
