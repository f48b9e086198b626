//! `ward advisories`: every device, declared (CMMS import) and observed
//! (vendor, models and software strings from the traffic), with the
//! advisories that match it and why.

use advisory::{match_device, observed_identities, DeviceIdentity, Match};
use anyhow::{bail, Result};
use serde::Serialize;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

#[derive(Serialize)]
struct DeviceMatches {
    kind: &'static str,
    key: String,
    vendor: Option<String>,
    model: Option<String>,
    firmware: Option<String>,
    serial: Option<String>,
    location: Option<String>,
    matches: Vec<Match>,
}

fn opt(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
}

/// The best match per (advisory, CVE) over several identities of one device.
pub(crate) fn merge(all: Vec<Match>) -> Vec<Match> {
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

/// Runs `ward advisories`.
pub fn run(db: &Path, json: bool) -> Result<()> {
    if !crate::location::exists(db) {
        bail!(
            "no database at {} (run `ward feeds import PATH --db {}` first)",
            db.display(),
            db.display()
        );
    }
    let store = crate::location::open(db)?;
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
    let mut w = crate::render::stdout();
    if json {
        serde_json::to_writer_pretty(&mut w, &out)?;
        writeln!(w)?;
        return Ok(());
    }
    let total = adb.advisories().len();
    writeln!(w, "{} devices, {total} advisories known", out.len())?;
    for d in &out {
        let f = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        writeln!(
            w,
            "\n{} {}: {} / {} / {} — {} matches",
            d.kind,
            d.key,
            f(&d.vendor),
            f(&d.model),
            f(&d.firmware),
            d.matches.len()
        )?;
        for m in &d.matches {
            let cvss = m
                .cvss
                .map(|c| format!("{c:.1}"))
                .unwrap_or_else(|| "-".into());
            let kev = if m.kev.is_some() {
                "  KNOWN EXPLOITED"
            } else {
                ""
            };
            writeln!(
                w,
                "  {} cvss {cvss} {} [{}] confidence {:.2}{kev}",
                m.cve,
                m.advisory,
                m.source.as_str(),
                m.confidence
            )?;
            writeln!(w, "    why: {}", m.reason)?;
            writeln!(w, "    product: {}", m.product)?;
            if let Some(r) = &m.remediation {
                let r: String = r.chars().take(200).collect();
                writeln!(w, "    fix: {r}")?;
            }
        }
    }
    Ok(())
}
