//! `ward advisories`: every device — declared (CMMS import), observed, or
//! both as one asset — with the advisories that match it and why
//! (`app::advisories`): one finding per CVE, every source listed.

use anyhow::Result;
use std::path::Path;

/// Runs `ward advisories`.
pub fn run(db: &Path, json: bool) -> Result<()> {
    let hint = format!("ward feeds import PATH --db {}", db.display());
    let store = app::analyze::open_existing(db, &hint)?;
    let (out, adb) = app::advisories::device_matches(&store)?;
    let mut w = crate::render::stdout();
    if json {
        printer::json(&mut w, &out)?;
    } else {
        printer::advisories::matches(&mut w, &out, adb.advisories().len())?;
    }
    Ok(())
}
