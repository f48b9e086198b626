//! `ward assess`: one verdict per vendor document (SBOM or MDS2 form) —
//! PASS, PASS WITH FINDINGS or FAIL — with a table of findings.

use crate::cut;
use assess::Report;
use std::io::{Result, Write};

/// Prints every report, a blank line between two.
pub fn reports(w: &mut dyn Write, reports: &[Report]) -> Result<()> {
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        report(w, r)?;
    }
    Ok(())
}

/// Prints one document's verdict: what it is, the verdict with its counts
/// by severity, and every finding with its reason and fix.
pub fn report(w: &mut dyn Write, r: &Report) -> Result<()> {
    let s = &r.summary;
    let what = if r.kind == "MDS2" {
        format!("{} questions", s.questions)
    } else {
        let adv = if s.advisories_checked {
            "advisories checked"
        } else {
            "no advisory database"
        };
        format!(
            "{} components, {} dependency edges, {adv}",
            s.components, s.dependency_edges
        )
    };
    let subject = s
        .subject
        .as_deref()
        .map(|x| format!(" ({})", cut(x, 60)))
        .unwrap_or_default();
    writeln!(w, "{}: {}{subject}, {what}", r.file, r.kind)?;
    let mut counts = std::collections::BTreeMap::new();
    for f in &r.findings {
        *counts
            .entry(std::cmp::Reverse(f.severity))
            .or_insert(0usize) += 1;
    }
    let counts: Vec<String> = counts
        .iter()
        .map(|(k, n)| format!("{n} {}", k.0.as_str().to_lowercase()))
        .collect();
    let counts = if counts.is_empty() {
        "no findings".to_string()
    } else {
        counts.join(", ")
    };
    writeln!(w, "verdict: {} ({counts})", r.verdict.as_str())?;
    if r.findings.is_empty() {
        return Ok(());
    }
    let sw = r
        .findings
        .iter()
        .map(|f| cut(&f.subject, 40).chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    writeln!(
        w,
        "  {:<8}  {:<22}  {:<sw$}  REASON",
        "SEVERITY", "CHECK", "SUBJECT"
    )?;
    for f in &r.findings {
        writeln!(
            w,
            "  {:<8}  {:<22}  {:<sw$}  {}",
            f.severity.as_str(),
            f.check,
            cut(&f.subject, 40),
            cut(&f.reason, 220)
        )?;
        writeln!(
            w,
            "  {:<8}  {:<22}  {:<sw$}  fix: {}",
            "",
            "",
            "",
            cut(&f.remediation, 200)
        )?;
    }
    Ok(())
}
