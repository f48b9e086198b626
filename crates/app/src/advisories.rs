//! Devices with the advisories that match them, and why: declared devices
//! (CMMS import) under their stated identity, observed ones under every
//! identity their traffic gives (vendor, models, software strings).

use crate::Result;
use advisory::{match_device, observed_identities, DeviceIdentity, Match};
use serde::Serialize;
use std::collections::HashMap;

/// One device and its matches.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceMatches {
    /// `declared` or `observed`.
    pub kind: &'static str,
    /// Declared key or inventory key.
    pub key: String,
    /// Vendor.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Firmware (declared devices).
    pub firmware: Option<String>,
    /// Serial number (declared devices).
    pub serial: Option<String>,
    /// Location (declared devices).
    pub location: Option<String>,
    /// The advisories that match, best first.
    pub matches: Vec<Match>,
}

fn opt(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

/// The best match per (advisory, CVE) over several identities of one device.
pub fn merge(all: Vec<Match>) -> Vec<Match> {
    let mut best: HashMap<(String, String), Match> = HashMap::new();
    for m in all {
        let k = (m.advisory.clone(), m.cve.clone());
        if best.get(&k).is_none_or(|b| m.confidence > b.confidence) {
            best.insert(k, m);
        }
    }
    let mut v: Vec<Match> = best.into_values().collect();
    v.sort_by(|a, b| {
        b.confidence
            .total_cmp(&a.confidence)
            .then_with(|| a.cve.cmp(&b.cve))
            .then_with(|| a.advisory.cmp(&b.advisory))
    });
    v
}

/// Every device in the store, declared first, with its matches; and the
/// advisory database they were matched against.
pub fn device_matches(store: &store::Store) -> Result<(Vec<DeviceMatches>, advisory::AdvisoryDb)> {
    let adb = store.advisory_db()?;
    let mut out = Vec::new();
    for d in store.declared_devices()? {
        let id = DeviceIdentity {
            vendor: opt(&d.vendor),
            model: opt(&d.model),
            firmware: opt(&d.firmware),
        };
        out.push(DeviceMatches {
            kind: "declared",
            key: d.key(),
            vendor: id.vendor.clone(),
            model: id.model.clone(),
            firmware: id.firmware.clone(),
            serial: opt(&d.serial),
            location: opt(&d.location),
            matches: match_device(&id, &adb),
        });
    }
    for d in store.devices()? {
        let ids = observed_identities(d.vendor.as_deref(), &d.models, &d.software);
        let matches = merge(ids.iter().flat_map(|i| match_device(i, &adb)).collect());
        out.push(DeviceMatches {
            kind: "observed",
            key: d.key.clone(),
            vendor: d.vendor.clone(),
            model: d.models.first().cloned(),
            firmware: None,
            serial: None,
            location: None,
            matches,
        });
    }
    Ok((out, adb))
}
