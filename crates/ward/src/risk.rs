//! `ward risk`: every device (observed in traffic, and declared in a CMMS
//! import) scored 0–100 with its factors, evidence and remediations.

use anyhow::Result;
use std::path::Path;

/// Runs `ward risk`.
pub fn run(db: &Path, json: bool, top: Option<usize>) -> Result<()> {
    let store = crate::analyze::open_existing(db)?;
    let mut scored = app::scored_devices(&store)?;
    if let Some(n) = top {
        scored.truncate(n);
    }
    let mut w = crate::render::stdout();
    if json {
        printer::json(&mut w, &scored)?;
    } else {
        printer::risk::scores(&mut w, &scored)?;
    }
    Ok(())
}
