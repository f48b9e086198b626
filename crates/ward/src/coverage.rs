//! `ward coverage`: data protection from traffic — where each clinical-data
//! producer's data goes and when it last went there, the declared backup
//! plans beside it, and the findings (`app::coverage`, `risk::coverage`).

use ::risk::coverage::{CoverageConfig, DEFAULT_STALE_DAYS, MAX_STALE_DAYS};
use anyhow::{bail, Result};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `ward coverage`.
#[derive(Args)]
pub struct CoverageArgs {
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
    /// Flag a producer whose data was not seen leaving for this many days
    /// before the latest packet time in the store (not the clock).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_STALE_DAYS,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_STALE_DAYS)))]
    days: u32,
    /// Only this device (its KEY as listed).
    #[arg(long, value_name = "KEY")]
    device: Option<String>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs `ward coverage`.
pub fn run(args: CoverageArgs) -> Result<()> {
    let store = crate::analyze::open_existing(&args.db)?;
    let mut c = app::coverage::coverage(
        &store,
        CoverageConfig {
            stale_days: args.days,
        },
    )?;
    if let Some(key) = &args.device {
        c.devices.retain(|p| &p.key == key);
        if c.devices.is_empty() {
            bail!(
                "no data-protection entry for device {} (not a producer, sender or destination; see `ward coverage`)",
                model::text::bounded(key.as_bytes(), 512)
            );
        }
    }
    let mut w = crate::render::stdout();
    if args.json {
        printer::json(&mut w, &c)?;
    } else {
        printer::coverage::coverage(&mut w, &c)?;
    }
    w.flush()?;
    Ok(())
}

/// The data-protection section of `ward inventory --explain KEY`, when the
/// device has one.
pub fn explain_section(store: &store::Store, key: &str) -> Result<()> {
    let c = app::coverage::coverage(store, CoverageConfig::default())?;
    if let Some(p) = c.device(key) {
        let mut w = crate::render::stdout();
        writeln!(
            w,
            "\nData protection (window {} days before {}):",
            c.stale_days,
            c.as_of.iso()
        )?;
        printer::coverage::device(&mut w, p)?;
        w.flush()?;
    }
    Ok(())
}
