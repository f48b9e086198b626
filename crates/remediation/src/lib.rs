//! Remediation: every (device, vulnerability or finding) Ward knows about is
//! an *item* tracked to its fix — `open → in progress → mitigated | patched |
//! risk accepted → verified` — with an owner, a due date (the KEV catalog's
//! `dueDate`, else the site's SLA per severity), comments and history.
//!
//! This crate is the pure logic: the lifecycle's rules ([`Status`],
//! [`Action`]), what an item is about ([`Subject`]), due dates ([`Sla`]),
//! the comparison of tracked items with what the evidence shows now
//! ([`reconcile`]: new items open, items whose problem is gone are verified,
//! verified ones that come back reopen) and the metrics ([`metrics`]). The
//! store keeps the items (`store::remediation`), `app::remediation` runs the
//! use cases.

mod lifecycle;
pub mod metrics;
mod reconcile;
mod subject;

pub use lifecycle::{Action, Sla, Status, TransitionError, DAY};
pub use metrics::{metrics, ItemTimes, Metrics, SeverityStats};
pub use reconcile::{reconcile, Change, Current, Tracked};
pub use risk::{FindingKind, Severity};
pub use subject::Subject;
