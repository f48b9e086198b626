//! Risk reports: what a hospital security officer reads (a self-contained
//! HTML page with charts, no external assets) and what their tools read
//! (JSON, CSV).
//!
//! Input is plain data ([`Input`]: scored devices with their advisory
//! matches); this crate knows no database. Fleets — every device of one
//! vendor/model/firmware affected by one advisory — are derived here.
//!
//! **Invariant:** every string that reaches the HTML goes through [`esc`];
//! device names come from the network and are hostile (`<script>` renders as
//! text). Every CSV cell goes through `model::text::csv_cell` (no control or
//! bidi characters, no live spreadsheet formulas) and the JSON through
//! `model::text::CleanWriter`.

mod html;
pub mod remediation;

pub use html::{esc, html};

use risk::ScoredDevice;
use serde::Serialize;
use std::collections::BTreeMap;

/// Report errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing CSV failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Serialising JSON failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// What a report is made from.
#[derive(Debug, Clone, Serialize)]
pub struct Input {
    /// Title line.
    pub title: String,
    /// What the data covers (captures, time span), one line.
    pub scope: String,
    /// Devices, any order (reports sort them).
    pub devices: Vec<ScoredDevice>,
    /// Data protection (backup coverage), when the caller computed it.
    pub coverage: Option<risk::coverage::Coverage>,
    /// Remediation metrics, when the caller computed them.
    pub remediation: Option<::remediation::Metrics>,
}

/// Every device of one vendor/model/firmware affected by one advisory CVE.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    /// Advisory id.
    pub advisory: String,
    /// CVE.
    pub cve: String,
    /// CVSS v3 base score.
    pub cvss: Option<f32>,
    /// Known exploited (CISA KEV).
    pub known_exploited: bool,
    /// Vendor / model / firmware of the devices.
    pub vendor: String,
    /// Model.
    pub model: String,
    /// Firmware.
    pub firmware: String,
    /// Device keys.
    pub devices: Vec<String>,
    /// The fix the advisory names.
    pub remediation: Option<String>,
}

/// Matches below this confidence (vendor-only guesses) are not fleets.
const FLEET_MIN_CONFIDENCE: f32 = 0.5;

/// Groups affected devices by advisory CVE and vendor/model/firmware,
/// largest and most severe first.
pub fn fleets(input: &Input) -> Vec<Fleet> {
    let mut map: BTreeMap<(String, String, String, String, String), Fleet> = BTreeMap::new();
    for d in &input.devices {
        for m in d
            .advisories
            .iter()
            .filter(|m| m.confidence >= FLEET_MIN_CONFIDENCE)
        {
            let (vendor, model, firmware) = (
                d.vendor.clone().unwrap_or_default(),
                d.model.clone().unwrap_or_default(),
                d.firmware.clone().unwrap_or_default(),
            );
            let key = (
                m.advisory.clone(),
                m.cve.clone(),
                vendor.clone(),
                model.clone(),
                firmware.clone(),
            );
            let fleet = map.entry(key).or_insert_with(|| Fleet {
                advisory: m.advisory.clone(),
                cve: m.cve.clone(),
                cvss: m.cvss,
                known_exploited: m.kev.is_some(),
                vendor,
                model,
                firmware,
                devices: Vec::new(),
                remediation: m.remediation.clone(),
            });
            fleet.devices.push(d.assessment.key.clone());
        }
    }
    let mut v: Vec<Fleet> = map.into_values().collect();
    v.sort_by(|a, b| {
        b.known_exploited
            .cmp(&a.known_exploited)
            .then(b.cvss.unwrap_or(0.0).total_cmp(&a.cvss.unwrap_or(0.0)))
            .then(b.devices.len().cmp(&a.devices.len()))
            .then(a.cve.cmp(&b.cve))
    });
    v
}

/// Devices sorted for reading: highest score first, then key.
pub fn ranked(input: &Input) -> Vec<&ScoredDevice> {
    let mut v: Vec<&ScoredDevice> = input.devices.iter().collect();
    v.sort_by(|a, b| {
        b.assessment
            .score
            .cmp(&a.assessment.score)
            .then_with(|| a.assessment.key.cmp(&b.assessment.key))
    });
    v
}

/// The whole report as JSON: input plus fleets.
pub fn json(input: &Input) -> Result<String, Error> {
    #[derive(Serialize)]
    struct Doc<'a> {
        title: &'a str,
        scope: &'a str,
        devices: Vec<&'a ScoredDevice>,
        fleets: Vec<Fleet>,
        #[serde(skip_serializing_if = "Option::is_none")]
        data_protection: Option<&'a risk::coverage::Coverage>,
    }
    let mut w = model::text::CleanWriter::new(Vec::new());
    serde_json::to_writer_pretty(
        &mut w,
        &model::json::tidy_value(&Doc {
            title: &input.title,
            scope: &input.scope,
            devices: ranked(input),
            fleets: fleets(input),
            data_protection: input.coverage.as_ref(),
        })?,
    )?;
    Ok(String::from_utf8_lossy(&w.into_inner()).into_owned())
}

/// Writes one CSV record, each cell through `model::text::csv_cell`.
fn record<W: std::io::Write, S: AsRef<str>>(
    w: &mut csv::Writer<W>,
    cells: impl IntoIterator<Item = S>,
) -> csv::Result<()> {
    w.write_record(
        cells
            .into_iter()
            .map(|c| model::text::csv_cell(c.as_ref()).into_owned()),
    )
}

/// One row per device.
pub fn devices_csv(input: &Input) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    record(
        &mut w,
        [
            "device",
            "kind",
            "category",
            "vendor",
            "model",
            "firmware",
            "names",
            "ips",
            "score",
            "impact",
            "top_finding",
            "advisories",
        ],
    )?;
    for d in ranked(input) {
        let top = d
            .assessment
            .factors
            .first()
            .map(|f| f.finding.title.as_str())
            .unwrap_or("");
        record(
            &mut w,
            [
                d.assessment.key.as_str(),
                d.kind.as_str(),
                d.category,
                d.vendor.as_deref().unwrap_or(""),
                d.model.as_deref().unwrap_or(""),
                d.firmware.as_deref().unwrap_or(""),
                &d.names.join("; "),
                &d.ips.join("; "),
                &d.assessment.score.to_string(),
                &format!("{:.2}", d.assessment.impact),
                top,
                &d.advisories
                    .iter()
                    .map(|m| m.cve.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ],
        )?;
    }
    w.into_inner()
        .map_err(|e| Error::Csv(e.into_error().into()))
}

/// One row per finding (factor) per device.
pub fn findings_csv(input: &Input) -> Result<Vec<u8>, Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    record(
        &mut w,
        [
            "device",
            "score",
            "kind",
            "severity",
            "points",
            "title",
            "evidence",
            "first_seen_us",
            "remediation",
        ],
    )?;
    for d in ranked(input) {
        for f in &d.assessment.factors {
            let e = f.finding.evidence.first();
            record(
                &mut w,
                [
                    d.assessment.key.as_str(),
                    &d.assessment.score.to_string(),
                    f.finding.kind.as_str(),
                    f.finding.severity.as_str(),
                    &format!("{:.1}", f.points),
                    &f.finding.title,
                    &e.map(|e| format!("{} [{}]", e.what, e.at))
                        .unwrap_or_default(),
                    &e.and_then(|e| e.first_seen)
                        .map(|t| t.0.to_string())
                        .unwrap_or_default(),
                    &f.finding.remediation,
                ],
            )?;
        }
    }
    w.into_inner()
        .map_err(|e| Error::Csv(e.into_error().into()))
}
