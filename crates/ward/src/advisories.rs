//! `ward advisories`: every device — declared (CMMS import), observed
//! (vendor, models and software strings from the traffic), or both as one
//! asset when they are linked (`store::assets`) — with the advisories that
//! match it and why: one finding per CVE listing every source behind it
//! (`advisory::match_identities`, one merge).

use advisory::{match_identities, Match};
use anyhow::{bail, Result};
use serde::Serialize;
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
    asset_tag: Option<String>,
    location: Option<String>,
    /// Why a declared row and an observed device are one asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    linked: Option<String>,
    matches: Vec<Match>,
}

fn opt(s: &str) -> Option<String> {
    (!s.trim().is_empty()).then(|| s.to_string())
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
    // One row per asset: a declared device and the same device on the wire are one.
    for a in store.assets()? {
        let d = a.declared.as_ref();
        out.push(DeviceMatches {
            kind: a.kind(),
            key: a.key(),
            vendor: a.vendor(),
            model: a.model(),
            firmware: a.firmware(),
            serial: d.and_then(|d| opt(&d.serial)),
            asset_tag: d.and_then(|d| opt(&d.asset_tag)),
            location: d.and_then(|d| opt(&d.location)),
            linked: a.link.as_ref().map(|l| l.describe()),
            matches: match_identities(&a.identities(), &adb),
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
        if let Some(l) = &d.linked {
            writeln!(w, "  {l}")?;
        }
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
            if m.sources.len() > 1 {
                writeln!(w, "    sources: {}", m.sources.join(", "))?;
            }
            if let Some(r) = &m.remediation {
                let r: String = r.chars().take(200).collect();
                writeln!(w, "    fix: {r}")?;
            }
        }
    }
    Ok(())
}
