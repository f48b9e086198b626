//! `ward advisories`: every device (declared, observed or both) with the
//! advisories that match it — CVE, CVSS, known exploitation, why it
//! matched, every source, the fix.

use app::advisories::DeviceMatches;
use std::io::{Result, Write};

/// Prints the devices and their matches; `total` is the number of
/// advisories they were matched against.
pub fn matches(w: &mut dyn Write, out: &[DeviceMatches], total: usize) -> Result<()> {
    writeln!(w, "{} devices, {total} advisories known", out.len())?;
    for d in out {
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
