//! `ward advisories`: every device — declared (CMMS import), observed, or
//! both as one asset — with the advisories that match it and why
//! (`app::advisories`): one finding per CVE, every source listed.

use anyhow::Result;
use std::io::Write;
use std::path::Path;

/// Runs `ward advisories`.
pub fn run(db: &Path, json: bool) -> Result<()> {
    let hint = format!("ward feeds import PATH --db {}", db.display());
    let store = app::analyze::open_existing(db, &hint)?;
    let (out, adb) = app::advisories::device_matches(&store)?;
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
