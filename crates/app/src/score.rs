//! Scoring: every device in a store — observed in traffic, and declared in a
//! CMMS import — with the advisories that match it and its 0–100 risk
//! assessment (`risk::assess`), highest risk first.

use crate::Result;
use advisory::{match_device, observed_identities, DeviceIdentity};
use identify::{Device, EndpointKey, Fact, FactKind};
use model::Timestamp;
use risk::{DeviceKind, ScoredDevice};

/// A declared device as an inventory entry: its stated vendor, model and
/// firmware are its facts, so it is classified like an observed one.
fn declared_device(d: &store::DeclaredDevice) -> Device {
    let evidence = format!("declared in {} line {}", d.source, d.line);
    let fact = |kind, value: &str| Fact {
        endpoint: EndpointKey {
            mac: None,
            ip: None,
        },
        kind,
        value: value.to_string(),
        source: "cmms".into(),
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        count: 1,
        evidence: evidence.clone(),
    };
    let facts: Vec<Fact> = [
        (FactKind::Manufacturer, &d.vendor),
        (FactKind::Model, &d.model),
        (FactKind::Firmware, &d.firmware),
    ]
    .into_iter()
    .filter(|(_, v)| !v.trim().is_empty())
    .map(|(k, v)| fact(k, v))
    .collect();
    let refs: Vec<&Fact> = facts.iter().collect();
    let vendor = (!d.vendor.trim().is_empty()).then(|| d.vendor.clone());
    let (category, confidence, reasons) = identify::classify(&refs, vendor.as_deref());
    Device {
        key: format!("declared:{}", d.key()),
        mac: None,
        vendor,
        ips: Vec::new(),
        hostnames: Vec::new(),
        category,
        confidence,
        reasons,
        services_offered: Vec::new(),
        services_used: Vec::new(),
        roles: Vec::new(),
        software: Vec::new(),
        applications: Vec::new(),
        models: vec![d.model.clone()],
        peer_count: 0,
        first_seen: Timestamp(0),
        last_seen: Timestamp(0),
        identity: Default::default(),
        facts,
    }
}

/// Every device in the store (observed and declared), scored, highest first.
pub fn scored_devices(store: &store::Store) -> Result<Vec<ScoredDevice>> {
    let adb = store.advisory_db()?;
    let mut scored = Vec::new();
    for d in store.devices_with_facts()? {
        let ids = observed_identities(d.vendor.as_deref(), &d.models, &d.software);
        let matches =
            crate::advisories::merge(ids.iter().flat_map(|i| match_device(i, &adb)).collect());
        // The identity that matched best names the model and version.
        let best = ids
            .iter()
            .find(|i| i.model.is_some() && i.firmware.is_some())
            .or(ids.first());
        scored.push(ScoredDevice {
            kind: DeviceKind::Observed,
            category: d.category.label(),
            medical: d.category.is_medical(),
            vendor: d.vendor.clone(),
            model: best
                .and_then(|i| i.model.clone())
                .or_else(|| d.models.first().cloned()),
            firmware: best.and_then(|i| i.firmware.clone()),
            names: d.hostnames.clone(),
            ips: d.ips.iter().map(|ip| ip.to_string()).collect(),
            assessment: risk::assess(&d, &matches),
            advisories: matches,
        });
    }
    for decl in store.declared_devices()? {
        let d = declared_device(&decl);
        let non_empty = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
        let id = DeviceIdentity {
            vendor: d.vendor.clone(),
            model: non_empty(&decl.model),
            firmware: non_empty(&decl.firmware),
        };
        let matches = match_device(&id, &adb);
        scored.push(ScoredDevice {
            kind: DeviceKind::Declared,
            category: d.category.label(),
            medical: d.category.is_medical(),
            vendor: d.vendor.clone(),
            model: id.model.clone(),
            firmware: id.firmware.clone(),
            names: [decl.model.clone(), decl.location.clone()]
                .into_iter()
                .filter(|s| !s.trim().is_empty())
                .collect(),
            ips: Vec::new(),
            assessment: risk::assess(&d, &matches),
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
