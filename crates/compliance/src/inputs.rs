//! What the evaluators read: plain data the application layer gathers from
//! the store (no database types here, so every evaluator is testable alone).

use crate::flows::EphiFlow;
use serde::Serialize;

/// Everything the evidence comes from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inputs {
    /// Report time (Unix seconds): what "within 12 months" counts from.
    pub now: i64,
    /// What the data covers, one line.
    pub scope: String,
    /// The inventory.
    pub inventory: Inventory,
    /// The ePHI flow map (`flows::ephi_flows`).
    pub flows: Vec<EphiFlow>,
    /// Risk findings, one per device and kind.
    pub findings: Vec<FindingRef>,
    /// Advisory feeds and matches.
    pub advisories: Advisories,
    /// Monitoring: baselines and alerts.
    pub monitoring: Monitoring,
    /// Intake groups and MUD policies of the medical devices.
    pub segmentation: Segmentation,
    /// Backups of Ward's own state and restore drills.
    pub backup: Backup,
    /// Web accounts.
    pub accounts: Accounts,
    /// Rows in the append-only audit log.
    pub audit_entries: u64,
    /// Programme records (officer, training, documents, risk analyses).
    pub program: Program,
    /// Remediation metrics (time to remediate per severity): the hook for
    /// the remediation lifecycle; `None` until it records them, and the
    /// patching cadence is then judged from outstanding matches only.
    pub remediation: Option<Remediation>,
}

/// The inventory, counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Inventory {
    /// Analysis runs stored.
    pub runs: u64,
    /// Devices observed in traffic.
    pub observed: Vec<DeviceRef>,
    /// Declared (CMMS) devices never linked to an observed one.
    pub declared_unseen: Vec<String>,
    /// Declared devices in all.
    pub declared: usize,
}

/// One observed device.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DeviceRef {
    /// Key (`mac:..`).
    pub key: String,
    /// Category label.
    pub category: String,
    /// Clinical category.
    pub medical: bool,
    /// Category `unknown`.
    pub unknown: bool,
    /// Firmware or software version known.
    pub firmware_known: bool,
}

/// One risk finding on one device.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingRef {
    /// Device key.
    pub device: String,
    /// Whether the device is medical.
    pub medical: bool,
    /// Finding kind (`cleartext_phi`, `insecure_service`...).
    pub kind: String,
    /// `low`..`critical`.
    pub severity: String,
    /// One line.
    pub title: String,
}

/// Advisory feeds and the matches.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Advisories {
    /// Advisories in the store (0: no feed imported).
    pub catalog: u64,
    /// Newest feed import or sync (Unix seconds), when known.
    pub updated_at: Option<i64>,
    /// Matches (confident ones), one per device and CVE.
    pub matches: Vec<MatchRef>,
}

/// One advisory match.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatchRef {
    /// Device key.
    pub device: String,
    /// CVE.
    pub cve: String,
    /// Advisory id.
    pub advisory: String,
    /// In CISA's Known Exploited catalog.
    pub kev: bool,
    /// The advisory names a fix.
    pub fix_known: bool,
}

/// Monitoring.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Monitoring {
    /// Baselines learned.
    pub baselines: Vec<String>,
    /// Open alerts (ids `alert-N`), at most the newest 50.
    pub open: Vec<String>,
    /// Open alerts in all.
    pub open_count: u64,
    /// Acknowledged alerts.
    pub acknowledged: u64,
    /// Closed alerts.
    pub closed: u64,
}

/// Segmentation evidence for the medical devices.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Segmentation {
    /// Medical devices observed.
    pub medical: Vec<String>,
    /// Of those, approved into a group or given a MUD policy.
    pub governed: Vec<String>,
}

/// Backups and drills.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Backup {
    /// Newest successful backup (Unix seconds) and its snapshot.
    pub last_success: Option<(i64, String)>,
    /// A failure newer than the last success (Unix seconds).
    pub failing_since: Option<i64>,
    /// Backups recorded (newest 20 looked at).
    pub runs: usize,
    /// Restore drills, newest first.
    pub drills: Vec<DrillRef>,
}

/// One restore drill.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DrillRef {
    /// When (Unix seconds).
    pub at: i64,
    /// Snapshot.
    pub snapshot: String,
    /// Passed.
    pub passed: bool,
    /// Duration.
    pub duration_ms: u64,
}

/// Web accounts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Accounts {
    /// Every account.
    pub users: Vec<Account>,
    /// API tokens that never expire.
    pub tokens_without_expiry: u64,
}

/// One web account.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Account {
    /// Name.
    pub name: String,
    /// Role.
    pub role: String,
    /// Disabled.
    pub disabled: bool,
    /// Signs in with a second factor (TOTP).
    pub mfa: bool,
}

/// Programme records.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Program {
    /// Designated security officer: account, since (Unix seconds), disabled.
    pub officer: Option<Officer>,
    /// Trainings.
    pub training: Vec<Training>,
    /// Documents (every recorded version).
    pub documents: Vec<Document>,
    /// Risk analyses, newest first.
    pub risk_analyses: Vec<RiskAnalysis>,
}

/// The designated security officer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Officer {
    /// Account.
    pub user: String,
    /// Since (Unix seconds).
    pub since: i64,
    /// The account is disabled.
    pub disabled: bool,
}

/// A completed training.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Training {
    /// Person (account name).
    pub user: String,
    /// Course.
    pub course: String,
    /// Day completed (`YYYY-MM-DD`).
    pub completed: String,
}

/// A document version.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Document {
    /// `policy` or `incident-response`.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Version.
    pub version: String,
    /// Review by (`YYYY-MM-DD`).
    pub review_by: String,
    /// Link or file name.
    pub link: String,
    /// Owner.
    pub owner: String,
    /// Recorded (Unix seconds).
    pub recorded_at: i64,
}

/// A risk analysis.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RiskAnalysis {
    /// Day (`YYYY-MM-DD`).
    pub day: String,
    /// What.
    pub what: String,
    /// Owner.
    pub owner: String,
}

/// Remediation items past their due date (`app::remediation`: the KEV due
/// date, else the site's days per severity, 15 and 30 by default).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Remediation {
    /// Open or in-progress critical items past their due date.
    pub critical_overdue: u64,
    /// Open or in-progress high items past their due date.
    pub high_overdue: u64,
}
