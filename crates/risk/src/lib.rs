//! Risk engine: turns what Ward saw about a device (its facts) and the
//! advisories that match it into findings and one explained score.
//!
//! - [`exposures`] reads a device's facts and reports what is exposed on the
//!   network: cleartext patient data, default or cleartext credentials,
//!   insecure services, weak TLS, bad certificates, outdated operating
//!   systems, internet traffic, clinical protocols on unexpected ports.
//! - [`assess`] adds the matching advisories (CVSS, known exploitation) and
//!   scores the device 0–100: likelihood (how exploitable) times clinical
//!   impact (what happens if it is), each factor listed with its evidence and
//!   a concrete remediation.
//! - [`coverage`] (data protection) finds where each clinical-data producer's
//!   data goes and flags producers without a recent copy, archives without an
//!   onward copy and backups over cleartext or SMBv1 (reported apart from the score).
//! - [`ScoredDevice`] is a device with its assessment and matches: what
//!   scoring (`app::score`) produces and reports and the dashboard render.
//!
//! **Invariants:** pure functions of their inputs (no clock, no I/O): the same
//! inventory and advisories give the same findings and scores. Every finding
//! carries at least one piece of evidence (the fact's flow and packet times,
//! or the advisory and product rule that matched).

pub mod coverage;
mod exposure;
mod finding;
mod score;
mod scored;

pub use exposure::exposures;
pub use finding::{Evidence, Finding, FindingKind, Severity};
pub use score::{assess, assess_with_recalls, clinical_impact, Assessment, Factor};
pub use scored::{DeviceKind, ScoredDevice};
