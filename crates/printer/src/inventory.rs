//! The device inventory: the table `ward analyze` and `ward inventory`
//! print, the run counters under it, and the JSON document of `--json`.

use identify::Device;
use sensor::Report;
use std::io::{Result, Write};
use std::path::Path;

/// Appends `s` cut to `w` characters (the last one `…` when cut); the
/// characters appended.
fn push_cut(out: &mut String, s: &str, w: usize) -> usize {
    match s.char_indices().nth(w) {
        None => {
            out.push_str(s);
            s.chars().count()
        }
        Some(_) => {
            let end = s
                .char_indices()
                .nth(w.saturating_sub(1))
                .map_or(s.len(), |(i, _)| i);
            out.push_str(&s[..end]);
            out.push('…');
            w.saturating_sub(1) + 1
        }
    }
}

/// Appends `s` cut to `w` characters and padded with spaces to `w` (as
/// `{:<w}` pads), then one space.
fn push_cell(out: &mut String, s: &str, w: usize) {
    let n = push_cut(out, s, w);
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(n) + 1));
}

/// `v` joined with `, ` into `buf` (cleared first).
fn join_into<'a>(buf: &'a mut String, v: impl IntoIterator<Item = &'a str>) -> &'a str {
    buf.clear();
    for (i, s) in v.into_iter().enumerate() {
        if i > 0 {
            buf.push_str(", ");
        }
        buf.push_str(s);
    }
    buf
}

/// Column where the detail lines (`ip:`, `app:`, `why:`) start.
const DETAIL: &str = "                           ";

/// Prints the inventory as a table.
pub fn table(out: &mut dyn Write, devices: &[Device]) -> Result<()> {
    writeln!(
        out,
        "{:<26} {:<24} {:<28} {:<30} {:<30} SOFTWARE",
        "DEVICE", "VENDOR", "CATEGORY", "NAMES / APPLICATIONS", "SERVICES"
    )?;
    // Rows are built in one reused line (no formatting machinery per padding
    // character); the text is the same as `{:<26} {:<24} ...` of the cut cells.
    let (mut line, mut buf, mut joined) = (
        String::with_capacity(1024),
        String::with_capacity(256),
        String::with_capacity(256),
    );
    for d in devices {
        line.clear();
        match &d.mac {
            Some(m) => push_cell(&mut line, &m.text(), 26),
            None => push_cell(&mut line, d.key.trim_start_matches("ip:"), 26),
        }
        push_cell(&mut line, d.vendor.as_deref().unwrap_or("-"), 24);
        buf.clear();
        {
            use std::fmt::Write as _;
            let _ = write!(buf, "{} ({:.0}%)", d.category.label(), d.confidence * 100.0);
        }
        push_cell(&mut line, &buf, 28);
        push_cell(
            &mut line,
            join_into(
                &mut joined,
                d.hostnames
                    .iter()
                    .chain(&d.applications)
                    .map(String::as_str),
            ),
            30,
        );
        push_cell(
            &mut line,
            join_into(&mut joined, d.services_offered.iter().map(String::as_str)),
            30,
        );
        push_cut(
            &mut line,
            join_into(&mut joined, d.software.iter().map(String::as_str)),
            60,
        );
        line.push('\n');
        if !d.ips.is_empty() && d.mac.is_some() {
            line.push_str(DETAIL);
            line.push_str("ip: ");
            joined.clear();
            for (i, ip) in d.ips.iter().enumerate() {
                if i > 0 {
                    joined.push_str(", ");
                }
                model::addr::push_ip(&mut joined, ip);
            }
            push_cut(&mut line, &joined, 100);
            line.push('\n');
        }
        for a in d.applications.iter().take(8) {
            line.push_str(DETAIL);
            line.push_str("app: ");
            push_cut(&mut line, a, 110);
            line.push('\n');
        }
        if let Some(r) = d.reasons.first() {
            line.push_str(DETAIL);
            line.push_str("why: ");
            push_cut(&mut line, &r.why, 80);
            line.push_str(" [");
            push_cut(&mut line, &r.evidence, 60);
            line.push_str("]\n");
        }
        out.write_all(line.as_bytes())?;
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
        app::location::label(db)
    )?;
    for (link, frames) in r.unsupported_links() {
        writeln!(
            out,
            "link type {link} is not supported: {frames} frames not decoded"
        )?;
    }
    let anomalies: u64 = r.anomalies().iter().map(|(_, v)| v).sum();
    if anomalies > 0 {
        writeln!(
            out,
            "{anomalies} anomalies (malformed or lost input) counted; see `--json` for details"
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use identify::{Category, Reason};
    use model::{MacAddr, Timestamp};

    /// The table as first written with `{:<w}` formats, the oracle for `table`.
    mod reference {
        use super::*;
        pub fn cut(s: &str, w: usize) -> String {
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
            writeln!(
                out,
                "{:<26} {:<24} {:<28} {:<30} {:<30} SOFTWARE",
                "DEVICE", "VENDOR", "CATEGORY", "NAMES / APPLICATIONS", "SERVICES"
            )?;
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
                    cut(
                        &format!("{} ({:.0}%)", d.category.label(), d.confidence * 100.0),
                        28
                    ),
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
                    writeln!(
                        out,
                        "{:<26} why: {} [{}]",
                        "",
                        cut(&r.why, 80),
                        cut(&r.evidence, 60)
                    )?;
                }
            }
            Ok(())
        }
    }

    fn device(key: &str, mac: Option<MacAddr>, name: &str, app: &str) -> Device {
        Device {
            key: key.into(),
            mac,
            vendor: mac
                .map(|_| "Philips Medical Systems Nederland B.V. (a long vendor name)".into()),
            ips: vec!["10.0.0.7".parse().unwrap(), "fe80::1".parse().unwrap()],
            hostnames: vec![name.into(), "b".into()],
            category: Category::PatientMonitor,
            confidence: 0.875,
            reasons: vec![Reason {
                category: Category::PatientMonitor,
                weight: 0.5,
                why: format!("hostname \"{name}\" mentions \"monitor\""),
                evidence: "flow 1 10.0.0.7:4000 -> 10.0.0.9:2575/tcp".repeat(3),
                knowledge: None,
            }],
            services_offered: vec![
                "hl7/tcp/2575".into(),
                "http/tcp/80".into(),
                "https/tcp/443".into(),
            ],
            services_used: vec![],
            roles: vec![],
            software: vec!["Server: Apache/2.4.1 (Unix) mod_ssl".repeat(2)],
            applications: (0..10).map(|i| format!("{app} {i}")).collect(),
            models: vec![],
            peer_count: 0,
            first_seen: Timestamp(1),
            last_seen: Timestamp(2),
            identity: Default::default(),
            facts: vec![],
        }
    }

    #[test]
    fn table_matches_padded_formats() {
        let devices = vec![
            device(
                "mac:00:09:fb:00:00:01",
                Some(MacAddr([0, 9, 0xfb, 0, 0, 1])),
                "pump",
                "dicom AE=X",
            ),
            device(
                "ip:10.0.0.7",
                None,
                "ünïcödé-名前-that-is-much-longer-than-thirty-characters",
                "é",
            ),
            device("ip:192.168.100.200", None, "", &"x".repeat(200)),
            Device {
                reasons: vec![],
                ips: vec![],
                applications: vec![],
                hostnames: vec![],
                software: vec![],
                vendor: None,
                confidence: 0.0,
                ..device(
                    "mac:aa:bb:cc:dd:ee:ff",
                    Some(MacAddr([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])),
                    "",
                    "",
                )
            },
        ];
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        table(&mut fast, &devices).unwrap();
        reference::table(&mut slow, &devices).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            String::from_utf8(slow).unwrap()
        );
        for (s, w) in [("", 0), ("abc", 0), ("abc", 3), ("abcd", 3), ("ééé", 2)] {
            let mut out = String::new();
            push_cut(&mut out, s, w);
            assert_eq!(out, reference::cut(s, w), "{s} {w}");
        }
    }
}
