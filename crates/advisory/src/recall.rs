//! openFDA medical device recalls: `device/recall.json` (one row per
//! product recalled: `product_res_number`, firm, product, reason, `action`,
//! `recall_status`) and `device/enforcement.json` (enforcement reports:
//! `recall_number`, `classification` — Class I, II or III —, firm, product,
//! reason, `status`), both `{"meta": …, "results": […]}`; read into one
//! [`Recall`] type. Every string is bounded and cleaned while it is read
//! ([`crate::bounded`]).
//!
//! A recall concerns a device when the recalling firm is the device's
//! vendor (vendor keys, [`crate::normalize`]) and every word of the
//! device's model appears in the recalled product's description
//! ([`Recall::concerns`]); the model must say something (two characters or
//! more), so a vendor alone never matches.

use crate::bounded::{from_json, List, Str, MANY, NAME, SHORT, TEXT};
use crate::normalize::{fold, model_words, vendor_keys, vendors_match};
use serde::{Deserialize, Serialize};

/// One recalled product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recall {
    /// `Z-0557-04` (recall.json `product_res_number`, enforcement `recall_number`).
    pub id: String,
    /// Recalling firm.
    pub firm: String,
    /// What was recalled, as FDA describes it.
    pub product: String,
    /// Why.
    pub reason: String,
    /// `Class I` (most serious) … `Class III`; empty when the file does not say (recall.json).
    pub class: String,
    /// What the firm asked customers to do (recall.json `action`); empty in enforcement reports.
    pub action: String,
    /// `Ongoing`, `Terminated`, `Completed` …
    pub status: String,
    /// When it started (`event_date_initiated` or `recall_initiation_date`).
    pub date: String,
    /// FDA product code (`FRN` for infusion pumps).
    pub product_code: String,
}

#[derive(Deserialize)]
struct Doc {
    results: List<Row, MANY>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Row {
    product_res_number: Option<Str<SHORT>>,
    recall_number: Option<Str<SHORT>>,
    recalling_firm: Option<Str<NAME>>,
    product_description: Option<Str<TEXT>>,
    reason_for_recall: Option<Str<TEXT>>,
    classification: Option<Str<SHORT>>,
    action: Option<Str<TEXT>>,
    recall_status: Option<Str<SHORT>>,
    status: Option<Str<SHORT>>,
    event_date_initiated: Option<Str<SHORT>>,
    recall_initiation_date: Option<Str<SHORT>>,
    product_code: Option<Str<SHORT>>,
}

fn s<const M: usize>(v: Option<Str<M>>) -> String {
    v.map(Str::into_string).unwrap_or_default()
}

/// Parses an openFDA device recall or enforcement file. A row without an
/// id, a firm or a product description is an error naming the row.
pub fn parse(bytes: &[u8]) -> Result<Vec<Recall>, String> {
    let doc: Doc = from_json(bytes)?;
    let mut out = Vec::with_capacity(doc.results.0.len());
    for (i, r) in doc.results.0.into_iter().enumerate() {
        let id = s(r.product_res_number.or(r.recall_number));
        let rec = Recall {
            id,
            firm: s(r.recalling_firm),
            product: s(r.product_description),
            reason: s(r.reason_for_recall),
            class: s(r.classification),
            action: s(r.action),
            status: s(r.recall_status.or(r.status)),
            date: s(r.event_date_initiated.or(r.recall_initiation_date)),
            product_code: s(r.product_code),
        };
        for (what, v) in [
            ("product_res_number or recall_number", &rec.id),
            ("recalling_firm", &rec.firm),
            ("product_description", &rec.product),
        ] {
            if v.trim().is_empty() {
                return Err(format!("results[{i}]: no {what}"));
            }
        }
        out.push(rec);
    }
    Ok(out)
}

impl Recall {
    /// Whether this recall concerns a device of `vendor` and `model` (see the module doc).
    pub fn concerns(&self, vendor: &str, model: &str) -> bool {
        let (dv, fv) = (vendor_keys(vendor), vendor_keys(&self.firm));
        if dv.is_empty() || !vendors_match(&dv, &fv) {
            return false;
        }
        let words = model_words(model, &dv);
        if words.concat().len() < 2 {
            return false;
        }
        let product = fold(&self.product);
        let have: Vec<&str> = product.split(' ').collect();
        words.iter().all(|w| have.contains(&w.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RECALL: &str = r#"{"meta":{"disclaimer":"x","results":{"skip":0,"limit":1,"total":1}},
      "results":[{"cfres_id":"1","product_res_number":"Z-0001-26","event_date_initiated":"2026-01-02",
      "recall_status":"Open, Classified","product_code":"FRN","product_description":"Example Infusion Pump, model EIP-2, software 2.4",
      "recalling_firm":"Example Medical, Inc.","reason_for_recall":"Software may stop infusion.","action":"Update the software to 2.5.",
      "openfda":{"device_class":"2"}}]}"#;
    const ENFORCEMENT: &str = r#"{"meta":{},"results":[{"recall_number":"Z-0002-26","classification":"Class I","status":"Ongoing",
      "recalling_firm":"Example Medical","product_description":"Example Infusion Pump","reason_for_recall":"Free flow.",
      "recall_initiation_date":"20260103"}]}"#;

    #[test]
    fn reads_both_files_and_matches_vendor_and_model() {
        let r = parse(RECALL.as_bytes()).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].id.as_str(), r[0].class.as_str()), ("Z-0001-26", ""));
        assert_eq!(r[0].action, "Update the software to 2.5.");
        let e = parse(ENFORCEMENT.as_bytes()).unwrap();
        assert_eq!(
            (e[0].id.as_str(), e[0].class.as_str(), e[0].status.as_str()),
            ("Z-0002-26", "Class I", "Ongoing")
        );
        assert!(r[0].concerns("Example Medical", "Example Infusion Pump"));
        assert!(r[0].concerns("EXAMPLE MEDICAL INC", "Infusion Pump"));
        assert!(!r[0].concerns("Other Medical", "Example Infusion Pump"));
        assert!(!r[0].concerns("Example Medical", "Example Ventilator"));
        assert!(
            !r[0].concerns("Example Medical", ""),
            "a vendor alone never matches"
        );
        assert!(
            parse(br#"{"results":[{"recalling_firm":"X","product_description":"Y"}]}"#)
                .unwrap_err()
                .starts_with("results[0]: no product_res_number")
        );
        assert!(parse(br#"{"results":{}}"#).is_err());
    }
}
