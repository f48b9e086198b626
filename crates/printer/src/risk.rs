//! `ward risk`: every device scored 0–100, highest first, with each
//! factor's points, severity, first evidence and remediation.

use app::ScoredDevice;
use std::io::{Result, Write};

/// Prints scored devices (best first, as `app::scored_devices` orders
/// them); devices without findings are counted but not listed.
pub fn scores(w: &mut dyn Write, scored: &[ScoredDevice]) -> Result<()> {
    let at_risk = scored.iter().filter(|s| s.assessment.score > 0).count();
    writeln!(
        w,
        "{} devices, {at_risk} with findings (highest risk first)",
        scored.len()
    )?;
    for s in scored.iter().filter(|s| s.assessment.score > 0) {
        let a = &s.assessment;
        let name = s.names.first().map(|n| format!(" {n}")).unwrap_or_default();
        writeln!(
            w,
            "\n{:>3}/100  {}{name}  [{}, impact {:.1}: {}]  {}",
            a.score,
            a.key,
            s.category,
            a.impact,
            a.impact_reason,
            s.vendor.as_deref().unwrap_or("-")
        )?;
        for f in &a.factors {
            let fi = &f.finding;
            writeln!(
                w,
                "  {:>5.1} pts  {:<8} {}",
                f.points,
                fi.severity.as_str(),
                fi.title
            )?;
            if let Some(e) = fi.evidence.first() {
                let when = e
                    .first_seen
                    .filter(|t| t.0 != 0)
                    .map(|t| format!(" first seen {}", t.iso()))
                    .unwrap_or_default();
                writeln!(
                    w,
                    "             evidence: {} [{}]{when}{}",
                    e.what,
                    e.at,
                    if fi.evidence.len() > 1 {
                        format!(" (+{} more)", fi.evidence.len() - 1)
                    } else {
                        String::new()
                    }
                )?;
            }
            let fix: String = fi.remediation.chars().take(240).collect();
            writeln!(w, "             fix: {fix}")?;
        }
    }
    Ok(())
}
