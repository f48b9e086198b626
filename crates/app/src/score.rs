//! Scoring: every device in a store — observed in traffic, declared in a
//! CMMS import, or both as one asset (`store::assets`) — with the advisories
//! that match it (merged once, [`advisory::match_identities`]) and its 0–100
//! risk assessment (`risk::assess`), highest risk first. A declared model
//! gives the device its category (`store::assets::Asset::device`: the
//! model-category table, with the line that decided as a reason).

use crate::Result;
use advisory::match_identities;
use risk::{DeviceKind, ScoredDevice};

/// The name in an application endpoint (`identify::Device::applications`):
/// the AE title of `dicom-scu AE=PACS1 impl=...`, the application of
/// `hl7 LAB^NORTH`.
fn app_name(a: &str) -> Option<&str> {
    let n = match a.strip_prefix("hl7 ") {
        Some(app) => app,
        None => a.split_once("AE=")?.1.split(' ').next()?,
    };
    Some(n.trim()).filter(|n| !n.is_empty())
}

/// Every device in the store (one per asset), scored, highest first.
pub fn scored_devices(store: &store::Store) -> Result<Vec<ScoredDevice>> {
    score_assets(store, store.assets()?)
}

/// Observed devices scored as assets of their own (no declared row linked),
/// highest first: for a store without declared devices, the same scores as
/// [`scored_devices`] gives them, without rebuilding the rest.
pub fn scored_observed(
    store: &store::Store,
    devices: Vec<identify::Device>,
) -> Result<Vec<ScoredDevice>> {
    score_assets(store, store::assets::assemble(Vec::new(), devices))
}

fn score_assets(
    store: &store::Store,
    assets: Vec<store::assets::Asset>,
) -> Result<Vec<ScoredDevice>> {
    let adb = store.advisory_db()?;
    let recalls = store.recalls()?;
    let mut scored = Vec::new();
    for a in assets {
        let matches = match_identities(&a.identities(), &adb);
        let (vendor, model) = (
            a.vendor().unwrap_or_default(),
            a.model().unwrap_or_default(),
        );
        let recalled: Vec<&advisory::Recall> = recalls
            .iter()
            .filter(|r| r.concerns(&vendor, &model))
            .collect();
        let d = a.device(adb.knowledge());
        // Host names first, then DICOM AE titles and HL7 applications:
        // what the dashboard shows as a device's name (`web::names`).
        let mut names = d.hostnames.clone();
        for n in d.applications.iter().filter_map(|a| app_name(a)) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        if let Some(decl) = &a.declared {
            for s in [&decl.model, &decl.location] {
                if !s.trim().is_empty() && !names.contains(s) {
                    names.push(s.clone());
                }
            }
        }
        let kind = match (&a.declared, &a.observed) {
            (Some(_), Some(_)) => DeviceKind::Linked,
            (Some(_), None) => DeviceKind::Declared,
            _ => DeviceKind::Observed,
        };
        scored.push(ScoredDevice {
            kind,
            category: d.category.label(),
            medical: d.category.is_medical(),
            vendor: a.vendor(),
            model: a.model(),
            firmware: a.firmware(),
            names,
            ips: d.ips.iter().map(|ip| ip.to_string()).collect(),
            assessment: risk::assess_with_recalls(&d, &matches, &recalled),
            advisories: matches,
        });
    }
    scored.sort_by(|a, b| {
        b.assessment
            .score
            .cmp(&a.assessment.score)
            .then_with(|| a.assessment.key.cmp(&b.assessment.key))
    });
    Ok(scored)
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn application_names() {
        assert_eq!(
            super::app_name("dicom-scu AE=CT_01 impl=X (1.2)"),
            Some("CT_01")
        );
        assert_eq!(super::app_name("dicom-scp AE=PACS port=104"), Some("PACS"));
        assert_eq!(super::app_name("hl7 LAB^NORTH"), Some("LAB^NORTH"));
        assert_eq!(
            super::app_name("dicom-scp port=104 (rejects associations)"),
            None
        );
    }
}
