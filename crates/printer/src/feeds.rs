//! What a feed import (`ward feeds import`, `ward feeds sync`) stored: per
//! kind of feed what was new, updated, unchanged or older, then the totals,
//! then every `new_advisory_match` alert the import raised.

use std::io::{Result, Write};
use store::{FeedTotals, ImportReport};

/// Prints the import report `rep` (kinds without files left out), the
/// store's totals `t` after it, and the alerts raised for devices that an
/// advisory newly matches.
pub fn imported(
    o: &mut dyn Write,
    rep: &ImportReport,
    t: &FeedTotals,
    raised: &[monitor::Alert],
) -> Result<()> {
    for (kind, c, what) in [
        ("csaf", rep.csaf, "advisories"),
        ("nvd", rep.nvd, "CVE records"),
        ("kev", rep.kev, "KEV entries"),
        ("epss", rep.epss, "EPSS scores"),
        ("recall", rep.recalls, "FDA recalls"),
    ] {
        if c.files == 0 {
            continue;
        }
        writeln!(
            o,
            "{kind}: {} files ({} unchanged): {what} {} new, {} updated, {} unchanged, {} older revisions skipped",
            c.files, c.files_unchanged, c.new, c.updated, c.unchanged, c.older
        )?;
    }
    writeln!(
        o,
        "stored: {} CSAF advisories, {} NVD records, {} products, {} KEV entries, {} files",
        t.csaf, t.nvd, t.products, t.kev, t.files
    )?;
    if t.epss > 0 || t.recalls > 0 {
        writeln!(
            o,
            "stored: {} EPSS scores, {} FDA recalls",
            t.epss, t.recalls
        )?;
    }
    if raised.is_empty() {
        return Ok(());
    }
    writeln!(
        o,
        "new advisory matches: {} (stored as alerts of kind new_advisory_match)",
        raised.len()
    )?;
    for a in raised {
        writeln!(
            o,
            "  {} {}: {}",
            a.severity.as_str(),
            model::text::bounded(a.device.as_bytes(), 128),
            model::text::bounded(a.summary.as_bytes(), 1024)
        )?;
    }
    Ok(())
}
