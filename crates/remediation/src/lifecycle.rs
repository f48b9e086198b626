//! The lifecycle's rules: the statuses, the changes people ask for and which
//! status each applies to, and due dates from the site's SLA.

use risk::Severity;
use serde::{Deserialize, Serialize};

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Where an item is in its handling.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// New, or back: nobody works on it yet.
    #[default]
    Open,
    /// Someone works on it.
    InProgress,
    /// A compensating control is in place (segmentation, a disabled service).
    Mitigated,
    /// The vendor's fix is applied.
    Patched,
    /// Left as it is on purpose, by someone, until a date.
    RiskAccepted,
    /// The evidence shows the problem gone (Ward verified it, or a person did).
    Verified,
}

impl Status {
    /// Every status, in lifecycle order.
    pub const ALL: [Status; 6] = [
        Status::Open,
        Status::InProgress,
        Status::Mitigated,
        Status::Patched,
        Status::RiskAccepted,
        Status::Verified,
    ];

    /// snake_case name (`in_progress`, `risk_accepted`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::InProgress => "in_progress",
            Status::Mitigated => "mitigated",
            Status::Patched => "patched",
            Status::RiskAccepted => "risk_accepted",
            Status::Verified => "verified",
        }
    }

    /// For people (`in progress`, `risk accepted`).
    pub fn label(self) -> &'static str {
        match self {
            Status::InProgress => "in progress",
            Status::RiskAccepted => "risk accepted",
            s => s.as_str(),
        }
    }

    /// Parses [`Status::as_str`] (also with `-` or a space for `_`).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().replace(['-', ' '], "_");
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Open or in progress: the problem is there and nobody has dealt with it.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Open | Status::InProgress)
    }

    /// Fixed or worked around (mitigated, patched, verified): what
    /// time-to-remediate measures. Risk acceptance is not remediation.
    pub fn is_remediated(self) -> bool {
        matches!(self, Status::Mitigated | Status::Patched | Status::Verified)
    }
}

/// A change someone asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// open → in progress.
    Start,
    /// → mitigated.
    Mitigate,
    /// → patched.
    Patch,
    /// → risk accepted (needs an expiry date).
    Accept,
    /// mitigated or patched → verified (a person checked it).
    Verify,
    /// → open.
    Reopen,
}

impl Action {
    /// Every action.
    pub const ALL: [Action; 6] = [
        Action::Start,
        Action::Mitigate,
        Action::Patch,
        Action::Accept,
        Action::Verify,
        Action::Reopen,
    ];

    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Mitigate => "mitigate",
            Action::Patch => "patch",
            Action::Accept => "accept",
            Action::Verify => "verify",
            Action::Reopen => "reopen",
        }
    }

    /// Parses [`Action::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s.trim())
    }

    /// The status it leads to.
    pub fn target(self) -> Status {
        match self {
            Action::Start => Status::InProgress,
            Action::Mitigate => Status::Mitigated,
            Action::Patch => Status::Patched,
            Action::Accept => Status::RiskAccepted,
            Action::Verify => Status::Verified,
            Action::Reopen => Status::Open,
        }
    }

    /// The audit log's action name (`remediation_patched`...).
    pub fn audit_action(self) -> &'static str {
        match self {
            Action::Start => "remediation_started",
            Action::Mitigate => "remediation_mitigated",
            Action::Patch => "remediation_patched",
            Action::Accept => "remediation_risk_accepted",
            Action::Verify => "remediation_verified",
            Action::Reopen => "remediation_reopened",
        }
    }

    /// Whether it applies to an item in `from`: `Ok(true)` changes it,
    /// `Ok(false)` leaves it (already there, except acceptance, which may
    /// be renewed with a new expiry), `Err` is refused with the reason.
    pub fn applies(self, from: Status) -> Result<bool, TransitionError> {
        use Status::*;
        let refuse = |why: &'static str| {
            Err(TransitionError {
                from,
                action: self,
                why,
            })
        };
        match (self, from) {
            (Action::Accept, RiskAccepted) => Ok(true),
            (a, f) if a.target() == f => Ok(false),
            (Action::Start, Open) => Ok(true),
            (Action::Start, _) => refuse("only an open item can be started (reopen it first)"),
            (_, Verified) if self != Action::Reopen => {
                refuse("a verified item is closed (reopen it first)")
            }
            (Action::Verify, Mitigated | Patched) => Ok(true),
            (Action::Verify, _) => refuse("only a mitigated or patched item can be verified"),
            _ => Ok(true),
        }
    }
}

/// A change refused by the lifecycle (nothing changed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{action} does not apply to a {status} item: {why}", action = .action.as_str(), status = .from.label())]
pub struct TransitionError {
    /// The item's status.
    pub from: Status,
    /// What was asked.
    pub action: Action,
    /// Why not.
    pub why: &'static str,
}

/// Days to remediate per severity, as the site sets them; a KEV entry's
/// `dueDate` overrides them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sla {
    /// Critical findings.
    pub critical: u32,
    /// High.
    pub high: u32,
    /// Medium.
    pub medium: u32,
    /// Low.
    pub low: u32,
}

impl Default for Sla {
    /// 15 / 30 / 90 / 180 days (critical / high / medium / low): the CISA
    /// BOD 19-02 timelines for critical and high, common policy below.
    fn default() -> Self {
        Sla {
            critical: 15,
            high: 30,
            medium: 90,
            low: 180,
        }
    }
}

impl Sla {
    /// Days allowed for a severity.
    pub fn days(&self, s: Severity) -> u32 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
        }
    }

    /// Sets the days of one severity.
    pub fn set(&mut self, s: Severity, days: u32) {
        *match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
        } = days;
    }

    /// Due date (Unix seconds) of an item opened at `opened`: the KEV
    /// catalog's due date when the CVE has one, else the SLA's days.
    pub fn due(&self, s: Severity, opened: i64, kev_due: Option<i64>) -> i64 {
        kev_due.unwrap_or(opened.saturating_add(i64::from(self.days(s)) * DAY))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lifecycle_allows_what_people_do_and_refuses_the_rest() {
        use Status::*;
        assert_eq!(Action::Start.applies(Open), Ok(true));
        assert_eq!(Action::Start.applies(InProgress), Ok(false));
        assert!(Action::Start.applies(Patched).is_err());
        for a in [Action::Mitigate, Action::Patch, Action::Accept] {
            assert_eq!(a.applies(Open), Ok(true));
            assert_eq!(a.applies(InProgress), Ok(true));
            assert!(a.applies(Verified).is_err(), "{a:?}");
        }
        assert_eq!(Action::Accept.applies(RiskAccepted), Ok(true), "renewed");
        assert_eq!(Action::Verify.applies(Patched), Ok(true));
        assert_eq!(Action::Verify.applies(Mitigated), Ok(true));
        assert!(Action::Verify.applies(Open).is_err());
        assert_eq!(Action::Reopen.applies(Verified), Ok(true));
        assert_eq!(Action::Reopen.applies(Open), Ok(false));
        let e = Action::Patch.applies(Verified).unwrap_err();
        assert_eq!(
            e.to_string(),
            "patch does not apply to a verified item: a verified item is closed (reopen it first)"
        );
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(Status::parse(s.label()), Some(s));
        }
        assert_eq!(Status::parse("in-progress"), Some(InProgress));
    }

    #[test]
    fn due_dates_come_from_kev_else_the_sla() {
        let mut sla = Sla::default();
        assert_eq!(sla.due(Severity::High, 1_000, None), 1_000 + 30 * DAY);
        assert_eq!(sla.due(Severity::High, 1_000, Some(5)), 5);
        sla.set(Severity::Low, 7);
        assert_eq!(sla.due(Severity::Low, 0, None), 7 * DAY);
    }
}
