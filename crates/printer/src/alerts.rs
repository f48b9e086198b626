//! Alerts: the table of a monitor run (and its lines as a live monitor
//! raises them), the stored alerts with ids and status (`ward alerts`), and
//! the confirmations of status changes.

use monitor::Alert;
use std::io::{Result, Write};
use std::path::Path;
use store::StoredAlert;

/// One alert as a row of [`table`] (also the line a live monitor prints).
pub fn row(o: &mut dyn Write, a: &Alert) -> Result<()> {
    writeln!(
        o,
        "{:<9} {:<31} {:<26} {:>6}  {:<27} {}",
        a.severity.as_str(),
        a.kind.as_str(),
        a.device,
        a.count,
        a.first_seen.iso(),
        a.summary
    )
}

/// Prints alerts as a table (`ward monitor`).
pub fn table(o: &mut dyn Write, alerts: &[Alert]) -> Result<()> {
    writeln!(
        o,
        "{:<9} {:<31} {:<26} {:>6}  {:<27} SUMMARY",
        "SEVERITY", "KIND", "DEVICE", "COUNT", "FIRST SEEN"
    )?;
    for a in alerts {
        row(o, a)?;
    }
    Ok(())
}

/// Prints the alerts of a monitor run over capture files as a table, the
/// run's counts and, when some were dropped at the limits, a warning.
pub fn monitor_run(o: &mut dyn Write, run: &app::monitor::MonitorRun, db: &Path) -> Result<()> {
    let alerts = &run.alerts;
    table(o, alerts)?;
    writeln!(
        o,
        "{} alerts ({} occurrences) from {} packets, {} flows; stored in {}",
        alerts.len(),
        alerts.iter().map(|a| a.count).sum::<u64>(),
        run.report.packets,
        run.report.flows,
        db.display()
    )?;
    if run.dropped > 0 {
        writeln!(
            o,
            "warning: {} alerts or scan sources dropped at the limits",
            run.dropped
        )?;
    }
    Ok(())
}

/// Prints stored alerts as a table with ids and status (`ward alerts`).
pub fn stored_table(o: &mut dyn Write, alerts: &[StoredAlert]) -> Result<()> {
    writeln!(
        o,
        "{:>6} {:<12} {:<9} {:<31} {:<26} {:>6}  {:<27} SUMMARY",
        "ID", "STATUS", "SEVERITY", "KIND", "DEVICE", "COUNT", "FIRST SEEN"
    )?;
    for s in alerts {
        let a = &s.alert;
        write!(
            o,
            "{:>6} {:<12} {:<9} {:<31} {:<26} {:>6}  {:<27} {}",
            s.id,
            s.status.as_str(),
            a.severity.as_str(),
            a.kind.as_str(),
            a.device,
            a.count,
            a.first_seen.iso(),
            a.summary
        )?;
        if let Some(by) = &s.status_by {
            write!(
                o,
                " [{} by {by}{}]",
                s.status.as_str(),
                s.comment
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            )?;
        }
        writeln!(o)?;
    }
    Ok(())
}

/// Confirms alerts whose status changed (`ward alerts ack|close|reopen`).
pub fn status_changed(o: &mut dyn Write, done: &[StoredAlert]) -> Result<()> {
    for a in done {
        writeln!(
            o,
            "alert #{} {} ({} {})",
            a.id,
            a.status.as_str(),
            a.alert.kind.as_str(),
            a.alert.device
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Timestamp;
    use monitor::{AlertKind, Severity};

    #[test]
    fn rows_line_up_under_the_header() {
        let a = Alert {
            kind: AlertKind::PortScan,
            severity: Severity::High,
            device: "ip:10.0.0.9".into(),
            ip: "10.0.0.9".parse().unwrap(),
            key: String::new(),
            summary: "probed 40 ports".into(),
            evidence: Default::default(),
            count: 3,
            first_seen: Timestamp(0),
            last_seen: Timestamp(0),
        };
        let mut out = Vec::new();
        table(&mut out, &[a]).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].find("SUMMARY"), lines[1].find("probed 40 ports"));
        assert!(lines[1].starts_with("high      port_scan"), "{text}");
    }
}
