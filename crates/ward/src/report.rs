//! `ward report`: writes the risk report — `report.html` (self-contained, with
//! charts), `report.json`, `devices.csv` and `findings.csv` — into a folder.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;

/// Arguments of `ward report`.
#[derive(Args)]
pub struct ReportArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Folder to write the report into (created if missing; files in it are replaced).
    #[arg(long, default_value = "ward-report")]
    out: PathBuf,
    /// Title of the report.
    #[arg(long, default_value = "Ward medical device risk report")]
    title: String,
}

/// Runs `ward report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let store = crate::analyze::open_existing(&args.db)?;
    let input = app::report::input(&store, &args.db, args.title)?;
    for p in app::report::write(&args.out, &input)? {
        println!("wrote {}", p.display());
    }
    // Evidence of a risk analysis for `ward compliance report`.
    app::compliance::add_risk_analysis(
        &store,
        None,
        "ward report (device risk report)",
        None,
        &crate::alerts::actor(None)?,
    )?;
    Ok(())
}
