//! `ward inventory import FILE`: devices declared in a CMMS export, read by
//! the `cmms` crate — CSV (comma, semicolon or tab, sniffed) or xlsx, with
//! the headers biomed teams write (manufacturer/vendor, model/model number,
//! serial, asset tag, MAC, IP, hostname, department/location,
//! firmware/software version). Bad rows are reported one line each with
//! their line numbers and skipped; the good rows are stored in one
//! transaction. A file that cannot be read at all stops the command with one
//! line and nothing stored.

use anyhow::{Context, Result};
use std::io::Read;
use std::path::PathBuf;

/// Arguments of `ward inventory import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// CMMS export: CSV (delimiter sniffed) or xlsx, with a header row naming
    /// manufacturer and/or model, and any of serial, asset tag, MAC, IP,
    /// hostname, location, firmware.
    file: PathBuf,
    /// Database file.
    #[arg(long, default_value = "ward.db")]
    db: PathBuf,
}

/// Runs `ward inventory import`.
pub fn import(args: ImportArgs) -> Result<()> {
    let name = args.file.display().to_string();
    let f = std::fs::File::open(&args.file).with_context(|| name.clone())?;
    let mut bytes = Vec::new();
    f.take(cmms::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| name.clone())?;
    let import = cmms::parse(&name, &bytes)?;
    for p in &import.problems {
        eprintln!("{}", model::text::clean(p));
    }
    if import.skipped > import.problems.len() {
        eprintln!(
            "{name}: {} more bad rows not listed",
            import.skipped - import.problems.len()
        );
    }
    // Cleaned like strings from the wire: no escapes or bidi controls.
    let clean = |s: &str| model::text::clean(s).trim().to_string();
    let devices: Vec<store::DeclaredDevice> = import
        .rows
        .iter()
        .map(|r| store::DeclaredDevice {
            vendor: clean(&r.vendor),
            model: clean(&r.model),
            firmware: clean(&r.firmware),
            serial: clean(&r.serial),
            location: clean(&r.location),
            asset_tag: clean(&r.asset_tag),
            mac: r.mac.clone(),
            ip: clean(&r.ip),
            hostname: clean(&r.hostname),
            backup_method: clean(&r.backup_method),
            backup_destination: clean(&r.backup_destination),
            last_restore: clean(&r.last_restore),
            source: name.clone(),
            line: r.line,
        })
        .collect();
    let mut store = crate::location::open(&args.db)?;
    let c = store.import_declared(&devices)?;
    println!(
        "declared devices: {} new, {} updated, {} unchanged, {} bad rows skipped",
        c.new, c.updated, c.unchanged, import.skipped
    );
    // Declared firmware is evidence too: a declared update verifies items,
    // a declared device on an affected version opens them.
    crate::remediate::sync_after(&mut store, false);
    Ok(())
}
