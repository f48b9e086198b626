//! Remediation views: the item table, one item with its history, status
//! changes, the metrics and the firmware views (`ward remediation`,
//! `ward firmware`).

use app::remediation::{Behind, Synced};
use model::time::date;
use remediation::Metrics;
use std::io::{Result, Write};
use store::remediation::{FirmwareChange, HistoryEntry, Item};

/// The item table (`ward remediation list`).
pub fn table(o: &mut dyn Write, items: &[Item], now: i64) -> Result<()> {
    writeln!(
        o,
        "{:>5} {:<13} {:<8} {:<26} {:<22} {:<10} {:<12} TITLE",
        "ID", "STATUS", "SEVERITY", "DEVICE", "SUBJECT", "DUE", "OWNER"
    )?;
    for i in items {
        let due = format!("{}{}", date(i.due), if i.overdue(now) { "!" } else { "" });
        writeln!(
            o,
            "{:>5} {:<13} {:<8} {:<26} {:<22} {:<10} {:<12} {}",
            i.id,
            i.status.label(),
            i.severity.as_str(),
            crate::cut(&i.device, 26),
            crate::cut(&i.subject.to_string(), 22),
            due,
            crate::cut(i.owner.as_deref().unwrap_or("-"), 12),
            crate::cut(&i.title, 80)
        )?;
    }
    let overdue = items.iter().filter(|i| i.overdue(now)).count();
    writeln!(
        o,
        "{} items, {overdue} overdue (! after the due date)",
        items.len()
    )
}

/// One item and its history (`ward remediation show`).
pub fn item(o: &mut dyn Write, i: &Item, history: &[HistoryEntry], now: i64) -> Result<()> {
    writeln!(o, "item #{}: {}", i.id, i.title)?;
    writeln!(o, "  device    {}", i.device)?;
    writeln!(o, "  subject   {}", i.subject)?;
    writeln!(o, "  severity  {}", i.severity.as_str())?;
    writeln!(o, "  status    {}", i.status.label())?;
    writeln!(
        o,
        "  due       {}{}",
        date(i.due),
        if i.overdue(now) { " (overdue)" } else { "" }
    )?;
    writeln!(o, "  owner     {}", i.owner.as_deref().unwrap_or("-"))?;
    if let (Some(by), Some(until)) = (&i.accepted_by, i.accepted_until) {
        writeln!(o, "  accepted  by {by} until {}", date(until))?;
    }
    writeln!(o, "  reopened  {} times", i.reopened)?;
    writeln!(o, "  evidence  {}", i.evidence)?;
    writeln!(o, "  history")?;
    for h in history {
        write!(
            o,
            "    {} {:<10} {:<28} {} -> {}",
            model::Timestamp(h.at * 1_000_000).iso(),
            crate::cut(&h.actor, 10),
            h.action,
            h.from.map_or("-", |s| s.label()),
            h.to.label()
        )?;
        if let Some(c) = &h.comment {
            write!(o, ": {c}")?;
        }
        if !h.evidence.is_empty() {
            write!(o, " [{}]", h.evidence)?;
        }
        writeln!(o)?;
    }
    Ok(())
}

/// Confirms changed items.
pub fn changed(o: &mut dyn Write, items: &[Item]) -> Result<()> {
    for i in items {
        writeln!(
            o,
            "item #{} {} ({} on {}; due {}; owner {})",
            i.id,
            i.status.label(),
            i.subject,
            i.device,
            date(i.due),
            i.owner.as_deref().unwrap_or("-")
        )?;
    }
    Ok(())
}

/// What a sync did.
pub fn synced(o: &mut dyn Write, s: &Synced) -> Result<()> {
    writeln!(o, "{}", s.line())
}

fn days(d: Option<f64>) -> String {
    d.map_or("-".into(), |d| format!("{d:.1}"))
}

/// The metrics (`ward remediation metrics`).
pub fn metrics(o: &mut dyn Write, m: &Metrics) -> Result<()> {
    writeln!(
        o,
        "{} items, {} open or in progress, {} overdue",
        m.total, m.open, m.overdue
    )?;
    writeln!(
        o,
        "{:<9} {:>10} {:>10} {:>10} {:>6} {:>8}",
        "SEVERITY", "REMEDIATED", "MEAN DAYS", "P90 DAYS", "OPEN", "OVERDUE"
    )?;
    for s in &m.by_severity {
        writeln!(
            o,
            "{:<9} {:>10} {:>10} {:>10} {:>6} {:>8}",
            s.severity.as_str(),
            s.remediated,
            days(s.mean_days),
            days(s.p90_days),
            s.open,
            s.overdue
        )?;
    }
    if let (Some(first), Some(last)) = (m.open_over_time.first(), m.open_over_time.last()) {
        writeln!(
            o,
            "open over time: {} on {}, {} on {}",
            first.open,
            date(first.at),
            last.open,
            date(last.at)
        )?;
    }
    Ok(())
}

/// Firmware changes (`ward firmware changes`).
pub fn firmware_changes(o: &mut dyn Write, changes: &[FirmwareChange]) -> Result<()> {
    writeln!(
        o,
        "{:<26} {:<20} {:<20} {:<20} EVIDENCE",
        "DEVICE", "WHEN", "FROM", "TO"
    )?;
    for c in changes {
        writeln!(
            o,
            "{:<26} {:<20} {:<20} {:<20} {}",
            crate::cut(&c.device, 26),
            model::Timestamp(c.at * 1_000_000)
                .iso()
                .get(..19)
                .unwrap_or(""),
            crate::cut(c.from.as_deref().unwrap_or("(first seen)"), 20),
            crate::cut(&c.to, 20),
            c.evidence
        )?;
    }
    Ok(())
}

/// Devices not updated in N days (`ward firmware stale`).
pub fn stale(o: &mut dyn Write, rows: &[(String, String, i64)], days: u32) -> Result<()> {
    writeln!(o, "{:<26} {:<20} SINCE", "DEVICE", "FIRMWARE")?;
    for (d, v, at) in rows {
        writeln!(
            o,
            "{:<26} {:<20} {}",
            crate::cut(d, 26),
            crate::cut(v, 20),
            date(*at)
        )?;
    }
    writeln!(
        o,
        "{} devices on the same firmware for {days} days or more",
        rows.len()
    )
}

/// Devices on a version a vendor fix replaced (`ward firmware behind`).
pub fn behind(o: &mut dyn Write, rows: &[Behind]) -> Result<()> {
    writeln!(o, "{:<26} {:<16} {:<16} FIX", "DEVICE", "FIRMWARE", "CVE")?;
    for b in rows {
        writeln!(
            o,
            "{:<26} {:<16} {:<16} {} ({})",
            crate::cut(&b.device, 26),
            crate::cut(b.firmware.as_deref().unwrap_or("-"), 16),
            b.cve,
            b.fix,
            b.advisory
        )?;
    }
    Ok(())
}
