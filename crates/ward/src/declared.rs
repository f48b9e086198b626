//! `ward inventory import FILE.csv`: devices declared in a CMMS export.
//! Columns (header names matched case-insensitively, any order): vendor,
//! model, firmware, serial, location; vendor or model is required per row.
//! Bad rows are reported with their line numbers and skipped; the good rows
//! are stored in one transaction.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;

/// Longest field accepted.
const MAX_FIELD: usize = 256;
/// Most rows accepted in one file.
const MAX_ROWS: usize = 1_000_000;

/// Arguments of `ward inventory import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// CSV file (header row with vendor, model, firmware, serial, location).
    file: PathBuf,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Runs `ward inventory import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let text = std::fs::read(&args.file).with_context(|| name.clone())?;
    let text = text.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text);
    let headers = rdr
        .headers()
        .with_context(|| format!("{name}: cannot read the header row"))?
        .clone();
    let col = |want: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(want))
    };
    let (vendor, model, firmware, serial, location) = (
        col("vendor"),
        col("model"),
        col("firmware"),
        col("serial"),
        col("location"),
    );
    if vendor.is_none() && model.is_none() {
        bail!(
            "{name}:1: header has neither a vendor nor a model column (found: {})",
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    }
    let mut devices = Vec::new();
    let mut bad = 0usize;
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                eprintln!("{name}:{line}: skipped: {e}");
                bad += 1;
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if devices.len() >= MAX_ROWS {
            bail!("{name}:{line}: more than {MAX_ROWS} rows");
        }
        if rec.len() != headers.len() {
            eprintln!(
                "{name}:{line}: skipped: {} fields, the header has {}",
                rec.len(),
                headers.len()
            );
            bad += 1;
            continue;
        }
        // Cleaned like strings from the wire: no escapes or bidi controls.
        let get = |i: Option<usize>| {
            model::text::clean(i.and_then(|i| rec.get(i)).unwrap_or(""))
                .trim()
                .to_string()
        };
        let d = store::DeclaredDevice {
            vendor: get(vendor),
            model: get(model),
            firmware: get(firmware),
            serial: get(serial),
            location: get(location),
            source: name.clone(),
            line,
        };
        if let Some(f) = [&d.vendor, &d.model, &d.firmware, &d.serial, &d.location]
            .iter()
            .find(|f| f.len() > MAX_FIELD)
        {
            eprintln!(
                "{name}:{line}: skipped: a field of {} bytes is longer than {MAX_FIELD}",
                f.len()
            );
            bad += 1;
            continue;
        }
        if d.vendor.is_empty() && d.model.is_empty() {
            eprintln!("{name}:{line}: skipped: no vendor and no model");
            bad += 1;
            continue;
        }
        devices.push(d);
    }
    let mut store = crate::location::open(&args.db)?;
    let c = store.import_declared(&devices)?;
    println!(
        "declared devices: {} new, {} updated, {} unchanged, {bad} bad rows skipped",
        c.new, c.updated, c.unchanged
    );
    Ok(())
}
