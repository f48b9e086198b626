//! Terminal and JSON rendering of the inventory.

use anyhow::Result;
use identify::Device;
use sensor::Report;
use std::io::Write;
use std::path::Path;

/// A byte-based progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(total: u64) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr_with_hz(10));
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})") {
        bar.set_style(style);
    }
    bar
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(w.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn join_cut(v: &[String], w: usize) -> String {
    cut(&v.join(", "), w)
}

/// Prints the inventory as a table.
pub fn table(out: &mut dyn Write, devices: &[Device]) -> Result<()> {
    writeln!(out, "{:<26} {:<24} {:<28} {:<30} {:<30} SOFTWARE", "DEVICE", "VENDOR", "CATEGORY", "NAMES / APPLICATIONS", "SERVICES")?;
    for d in devices {
        let ips: Vec<String> = d.ips.iter().map(|i| i.to_string()).collect();
        let mut names = d.hostnames.clone();
        names.extend(d.applications.iter().cloned());
        let id = match &d.mac {
            Some(m) => m.to_string(),
            None => d.key.trim_start_matches("ip:").to_string(),
        };
        writeln!(
            out,
            "{:<26} {:<24} {:<28} {:<30} {:<30} {}",
            cut(&id, 26),
            cut(d.vendor.as_deref().unwrap_or("-"), 24),
            cut(&format!("{} ({:.0}%)", d.category.label(), d.confidence * 100.0), 28),
            join_cut(&names, 30),
            join_cut(&d.services_offered, 30),
            join_cut(&d.software, 60),
        )?;
        if !ips.is_empty() && d.mac.is_some() {
            writeln!(out, "{:<26} ip: {}", "", join_cut(&ips, 100))?;
        }
        for a in d.applications.iter().take(8) {
            writeln!(out, "{:<26} app: {}", "", cut(a, 110))?;
        }
        if let Some(r) = d.reasons.first() {
            writeln!(out, "{:<26} why: {} [{}]", "", cut(&r.why, 80), cut(&r.evidence, 60))?;
        }
    }
    Ok(())
}

/// Prints run counters under the table.
pub fn summary(out: &mut dyn Write, r: &Report, db: &Path) -> Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{} packets, {:.1} MB, {} flows, {} records; inventory stored in {}",
        r.packets,
        r.bytes as f64 / 1e6,
        r.flows,
        r.events,
        crate::location::label(db)
    )?;
    let anomalies: u64 = r.anomalies().iter().map(|(_, v)| v).sum();
    if anomalies > 0 {
        writeln!(out, "{anomalies} anomalies (malformed or lost input) counted; see `--json` for details")?;
    }
    Ok(())
}

/// Prints the inventory (and run report) as JSON.
pub fn json(out: &mut dyn Write, devices: &[Device], report: Option<&Report>) -> Result<()> {
    let mut doc = serde_json::json!({ "devices": devices });
    if let Some(r) = report {
        doc["run"] = serde_json::json!({
            "packets": r.packets,
            "bytes": r.bytes,
            "flows": r.flows,
            "events": r.events,
            "first_packet": r.first_packet,
            "last_packet": r.last_packet,
            "records": r.records,
            "counters": r.counters,
        });
    }
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)?;
    Ok(())
}
