//! Compliance evidence from what Ward knows.
//!
//! Each framework (HIPAA Security Rule with the 2025 proposed rule, the FDA's
//! recommendations for hospital networks, IEC 80001-1, NIST CSF 2.0) is a
//! list of controls kept **as data** (`data/<framework>.json`: identifier,
//! title, requirement, the kinds of evidence that judge it, remediation).
//! Every evidence kind has one typed evaluator ([`evidence::evaluate`]) over
//! [`Inputs`] — plain data the application layer gathers from the store — and
//! answers met / partial / not met / not assessable with the evidence behind
//! it (counts and device, flow, alert or record ids) and the gap. A control's
//! status combines its evidence ([`combine`]).
//!
//! [`flows::ephi_flows`] draws the ePHI flow map from stored facts: which
//! device sends HL7 messages or DICOM C-STOREs to which, how often, and
//! whether the flow was readable on the wire (cleartext). Metadata only.
//!
//! **Invariants:** this crate reads no clock and no database (the caller
//! gives `now`); every string in the HTML goes through `report::esc`, and the
//! JSON through `model::text::CleanWriter`.

pub mod day;
pub mod evidence;
pub mod flows;
mod html;
pub mod inputs;

pub use evidence::{Assessment, EvidenceKind, Item};
pub use flows::{EphiFlow, FlowEnd};
pub use html::html;
pub use inputs::Inputs;

use serde::{Deserialize, Serialize};

/// Errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A framework Ward does not know.
    #[error("unknown framework {0:?}: choose one of hipaa, fda, iec80001, nist-csf")]
    UnknownFramework(String),
    /// An embedded framework table is malformed (a bug; tests parse them all).
    #[error("framework table {0} is malformed: {1}")]
    Table(&'static str, serde_json::Error),
    /// Serialising JSON failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A control's (or an evidence kind's) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The evidence shows the control in place.
    Met,
    /// Some of it is in place, or in place with gaps.
    Partial,
    /// The evidence shows it missing.
    NotMet,
    /// Ward has nothing to judge it on.
    NotAssessable,
}

impl Status {
    /// Words for people (`not met`).
    pub fn label(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::Partial => "partial",
            Status::NotMet => "not met",
            Status::NotAssessable => "not assessable",
        }
    }

    /// Every status, in report order.
    pub const ALL: [Status; 4] = [
        Status::Met,
        Status::Partial,
        Status::NotMet,
        Status::NotAssessable,
    ];
}

/// One control as the framework table states it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ControlDef {
    /// The framework's identifier (`164.308(a)(1)(ii)(A)`, `PR.DS-02`).
    pub id: String,
    /// Short title.
    pub title: String,
    /// What the framework asks, in brief.
    pub requirement: String,
    /// The evidence kinds that judge it.
    pub evidence: Vec<EvidenceKind>,
    /// What to do when it is not met.
    pub remediation: String,
}

/// A framework: its controls as data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// `hipaa`, `fda`, `iec80001`, `nist-csf`.
    pub id: String,
    /// Full name.
    pub name: String,
    /// Where the identifiers come from.
    pub source: String,
    /// Controls, in the framework's order.
    pub controls: Vec<ControlDef>,
}

/// The embedded framework tables, by id.
const TABLES: &[(&str, &str)] = &[
    ("hipaa", include_str!("../data/hipaa.json")),
    ("fda", include_str!("../data/fda.json")),
    ("iec80001", include_str!("../data/iec80001.json")),
    ("nist-csf", include_str!("../data/nist-csf.json")),
];

/// The framework ids, in the order `--help` lists them.
pub fn framework_ids() -> impl Iterator<Item = &'static str> {
    TABLES.iter().map(|(id, _)| *id)
}

/// The framework `id` (case-insensitive; `nist`, `csf` and `iec-80001` are
/// accepted too).
pub fn framework(id: &str) -> Result<Framework, Error> {
    let want = match id.trim().to_ascii_lowercase().as_str() {
        "nist" | "csf" | "nist-csf-2.0" | "nistcsf" => "nist-csf".to_string(),
        "iec-80001" | "iec80001-1" | "iec-80001-1" | "80001" => "iec80001".to_string(),
        other => other.to_string(),
    };
    let (name, text) = TABLES
        .iter()
        .find(|(n, _)| *n == want)
        .ok_or_else(|| Error::UnknownFramework(model::text::bounded(id.as_bytes(), 40)))?;
    serde_json::from_str(text).map_err(|e| Error::Table(name, e))
}

/// One control judged.
#[derive(Debug, Clone, Serialize)]
pub struct ControlResult {
    /// Identifier.
    pub id: String,
    /// Title.
    pub title: String,
    /// Requirement.
    pub requirement: String,
    /// Status from its evidence.
    pub status: Status,
    /// Each evidence kind's assessment.
    pub evidence: Vec<Assessment>,
    /// The gaps (one line each, from the evidence that is not met).
    pub gaps: Vec<String>,
    /// What to do, when not met or partial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
}

/// Counts per status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Met.
    pub met: usize,
    /// Partial.
    pub partial: usize,
    /// Not met.
    pub not_met: usize,
    /// Not assessable.
    pub not_assessable: usize,
}

impl Summary {
    /// The count of `s`.
    pub fn get(&self, s: Status) -> usize {
        match s {
            Status::Met => self.met,
            Status::Partial => self.partial,
            Status::NotMet => self.not_met,
            Status::NotAssessable => self.not_assessable,
        }
    }
}

/// The compliance report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Framework id.
    pub framework: String,
    /// Framework name.
    pub name: String,
    /// Where its identifiers come from.
    pub source: String,
    /// When the report was made (Unix seconds).
    pub generated_at: i64,
    /// What the evidence covers, one line.
    pub scope: String,
    /// Counts per status.
    pub summary: Summary,
    /// Every control, in the framework's order.
    pub controls: Vec<ControlResult>,
    /// The ePHI flow map.
    pub ephi_flows: Vec<EphiFlow>,
    /// The programme records behind the evidence.
    pub program: inputs::Program,
}

/// A control's status from its evidence: not assessable when none of it
/// is; met when all of it is met; not met when everything assessable is
/// not met; partial otherwise (also when some is met and the rest could
/// not be assessed: the control is not shown in full).
pub fn combine(statuses: &[Status]) -> Status {
    let assessable: Vec<Status> = statuses
        .iter()
        .copied()
        .filter(|s| *s != Status::NotAssessable)
        .collect();
    if assessable.is_empty() {
        Status::NotAssessable
    } else if assessable.len() == statuses.len() && assessable.iter().all(|s| *s == Status::Met) {
        Status::Met
    } else if assessable.iter().all(|s| *s == Status::NotMet) {
        Status::NotMet
    } else {
        Status::Partial
    }
}

/// Judges every control of `fw` on `inputs`.
pub fn evaluate(fw: &Framework, inputs: &Inputs) -> Report {
    let mut cache: std::collections::BTreeMap<EvidenceKind, Assessment> = Default::default();
    let mut summary = Summary::default();
    let controls: Vec<ControlResult> = fw
        .controls
        .iter()
        .map(|c| {
            let evidence: Vec<Assessment> = c
                .evidence
                .iter()
                .map(|k| {
                    cache
                        .entry(*k)
                        .or_insert_with(|| evidence::evaluate(*k, inputs))
                        .clone()
                })
                .collect();
            let statuses: Vec<Status> = evidence.iter().map(|a| a.status).collect();
            let status = combine(&statuses);
            match status {
                Status::Met => summary.met += 1,
                Status::Partial => summary.partial += 1,
                Status::NotMet => summary.not_met += 1,
                Status::NotAssessable => summary.not_assessable += 1,
            }
            let gaps = evidence.iter().filter_map(|a| a.gap.clone()).collect();
            ControlResult {
                id: c.id.clone(),
                title: c.title.clone(),
                requirement: c.requirement.clone(),
                status,
                evidence,
                gaps,
                remediation: matches!(status, Status::Partial | Status::NotMet)
                    .then(|| c.remediation.clone()),
            }
        })
        .collect();
    Report {
        framework: fw.id.clone(),
        name: fw.name.clone(),
        source: fw.source.clone(),
        generated_at: inputs.now,
        scope: inputs.scope.clone(),
        summary,
        controls,
        ephi_flows: inputs.flows.clone(),
        program: inputs.program.clone(),
    }
}

/// The report as JSON (pretty, cleaned, times with their RFC 3339 twins).
pub fn json(report: &Report) -> Result<String, Error> {
    let mut w = model::text::CleanWriter::new(Vec::new());
    serde_json::to_writer_pretty(&mut w, &model::json::tidy_value(report)?)?;
    Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
}

#[cfg(test)]
mod tests;
