//! What a feed import (`ward feeds import`, `ward feeds sync`) stored: per
//! kind of feed what was new, updated, unchanged or older, then the totals.

use std::io::{Result, Write};
use store::{FeedTotals, ImportReport};

/// Prints the import report `rep` (kinds without files left out) and the
/// store's totals `t` after it.
pub fn imported(o: &mut dyn Write, rep: &ImportReport, t: &FeedTotals) -> Result<()> {
    for (kind, c, what) in [
        ("csaf", rep.csaf, "advisories"),
        ("nvd", rep.nvd, "CVE records"),
        ("kev", rep.kev, "KEV entries"),
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
    )
}
