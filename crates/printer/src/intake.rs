//! `ward intake list`: devices with their intake state (approved or not,
//! owner, location, group) and when they were first seen.

use std::io::{Result, Write};
use store::IntakeEntry;

/// Prints the intake entries as a table.
pub fn table(o: &mut dyn Write, rows: &[IntakeEntry]) -> Result<()> {
    writeln!(
        o,
        "{:<26} {:<11} {:<16} {:<16} {:<20} FIRST SEEN",
        "DEVICE", "STATUS", "OWNER", "LOCATION", "GROUP"
    )?;
    for i in rows {
        let s = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let status = if i.approved { "approved" } else { "unapproved" };
        writeln!(
            o,
            "{:<26} {:<11} {:<16} {:<16} {:<20} {}",
            i.device,
            status,
            s(&i.owner),
            s(&i.location),
            s(&i.group),
            i.first_seen.iso()
        )?;
    }
    Ok(())
}
