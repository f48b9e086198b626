//! Tracked items against what the evidence shows now: a problem seen for the
//! first time opens an item; a tracked problem no longer in the evidence of
//! a device still in the inventory is verified automatically; a verified one
//! that is back reopens, as does an accepted one whose acceptance expired.

use crate::{Severity, Status, Subject};
use std::collections::{HashMap, HashSet};

/// A problem the evidence shows now.
#[derive(Debug, Clone, PartialEq)]
pub struct Current {
    /// Device key.
    pub device: String,
    /// What it is.
    pub subject: Subject,
    /// How bad.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// Why Ward believes it (the advisory's rule, the fact's flow and time).
    pub evidence: String,
    /// The KEV catalog's due date (Unix seconds), when the CVE has one.
    pub kev_due: Option<i64>,
}

/// An item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracked {
    /// Item id.
    pub id: i64,
    /// Device key.
    pub device: String,
    /// What it is.
    pub subject: Subject,
    /// Where it is.
    pub status: Status,
    /// End of a risk acceptance (Unix seconds).
    pub accepted_until: Option<i64>,
}

/// What reconciling asks the store to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Change<'a> {
    /// A new problem: open an item.
    Open(&'a Current),
    /// Still there: refresh its title, severity and evidence.
    Refresh {
        /// Item id.
        id: i64,
        /// What the evidence shows.
        current: &'a Current,
    },
    /// Gone from the evidence of a device still in the inventory: verified.
    Verify {
        /// Item id.
        id: i64,
        /// Device key.
        device: &'a str,
        /// What it was.
        subject: &'a Subject,
    },
    /// Back after verification, or accepted past its expiry: open again.
    Reopen {
        /// Item id.
        id: i64,
        /// What the evidence shows.
        current: &'a Current,
        /// True when a risk acceptance expired (else the problem came back).
        expired: bool,
    },
}

/// The changes that bring `tracked` in line with `current` at `now`. Items
/// of devices not in `devices` (the inventory now) are left alone: absence
/// of a device is no evidence that its problem is fixed. Deterministic:
/// changes for tracked items in their order, then new items in `current`'s.
pub fn reconcile<'a>(
    tracked: &'a [Tracked],
    current: &'a [Current],
    devices: &HashSet<&str>,
    now: i64,
) -> Vec<Change<'a>> {
    let now_by_key: HashMap<(&str, &Subject), &Current> = current
        .iter()
        .map(|c| ((c.device.as_str(), &c.subject), c))
        .collect();
    let mut known: HashSet<(&str, &Subject)> = HashSet::with_capacity(tracked.len());
    let mut out = Vec::new();
    for t in tracked {
        known.insert((t.device.as_str(), &t.subject));
        match now_by_key.get(&(t.device.as_str(), &t.subject)) {
            Some(&c) => {
                let expired =
                    t.status == Status::RiskAccepted && t.accepted_until.is_some_and(|u| u < now);
                if t.status == Status::Verified || expired {
                    out.push(Change::Reopen {
                        id: t.id,
                        current: c,
                        expired,
                    });
                } else {
                    out.push(Change::Refresh {
                        id: t.id,
                        current: c,
                    });
                }
            }
            None if t.status != Status::Verified && devices.contains(t.device.as_str()) => out
                .push(Change::Verify {
                    id: t.id,
                    device: &t.device,
                    subject: &t.subject,
                }),
            None => {}
        }
    }
    for c in current {
        if known.insert((c.device.as_str(), &c.subject)) {
            out.push(Change::Open(c));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(dev: &str, cve: &str) -> Current {
        Current {
            device: dev.into(),
            subject: Subject::Vulnerability { cve: cve.into() },
            severity: Severity::High,
            title: cve.into(),
            evidence: String::new(),
            kev_due: None,
        }
    }

    fn tr(id: i64, dev: &str, cve: &str, status: Status, until: Option<i64>) -> Tracked {
        Tracked {
            id,
            device: dev.into(),
            subject: Subject::Vulnerability { cve: cve.into() },
            status,
            accepted_until: until,
        }
    }

    #[test]
    fn new_gone_back_expired_and_vanished_devices() {
        let current = [
            cur("a", "CVE-1"),
            cur("a", "CVE-2"),
            cur("b", "CVE-3"),
            cur("a", "CVE-2"),
        ];
        let tracked = [
            tr(1, "a", "CVE-1", Status::InProgress, None), // still there
            tr(2, "a", "CVE-9", Status::Patched, None),    // gone: verified
            tr(3, "b", "CVE-3", Status::Verified, None),   // back: reopened
            tr(4, "c", "CVE-4", Status::Open, None),       // device gone: left alone
            tr(5, "a", "CVE-8", Status::Verified, None),   // gone and verified: nothing
        ];
        let devices: HashSet<&str> = ["a", "b"].into();
        let ch = reconcile(&tracked, &current, &devices, 100);
        assert_eq!(
            ch,
            vec![
                Change::Refresh {
                    id: 1,
                    current: &current[0]
                },
                Change::Verify {
                    id: 2,
                    device: "a",
                    subject: &tracked[1].subject
                },
                Change::Reopen {
                    id: 3,
                    current: &current[2],
                    expired: false
                },
                Change::Open(&current[1]),
            ],
            "the duplicate CVE-2 opens once"
        );
        let accepted = [tr(7, "a", "CVE-1", Status::RiskAccepted, Some(50))];
        let ch = reconcile(&accepted, &current[..1], &devices, 100);
        assert_eq!(
            ch,
            vec![Change::Reopen {
                id: 7,
                current: &current[0],
                expired: true
            }]
        );
        let ch = reconcile(&accepted, &current[..1], &devices, 40);
        assert_eq!(
            ch,
            vec![Change::Refresh {
                id: 7,
                current: &current[0]
            }]
        );
    }
}
