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

/// How wide the device table may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// The fixed layout for pipes and files (203 columns, long cells cut).
    Fixed,
    /// Fit this many columns (a terminal's width): columns as wide as their
    /// content, the widest shrunk first until the table fits; names and
    /// applications wrap over up to [`NAME_LINES`] lines instead of being cut.
    Fit(usize),
    /// Every cell in full, columns as wide as their content (`--wide`).
    Wide,
}

/// Most lines the names column of one device wraps over when fitting.
pub const NAME_LINES: usize = 4;

/// Column headers.
const HEADERS: [&str; 6] = [
    "DEVICE",
    "VENDOR",
    "CATEGORY",
    "NAMES / APPLICATIONS",
    "SERVICES",
    "SOFTWARE",
];

/// The cells of one device row, uncut.
fn cells(d: &Device) -> [String; 6] {
    [
        match &d.mac {
            Some(m) => m.to_string(),
            None => d.key.trim_start_matches("ip:").to_string(),
        },
        d.vendor.clone().unwrap_or_else(|| "-".into()),
        format!("{} ({:.0}%)", d.category.label(), d.confidence * 100.0),
        d.hostnames
            .iter()
            .chain(&d.applications)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        d.services_offered.join(", "),
        d.software.join(", "),
    ]
}

/// Column widths fitting `total` columns, and how many columns are shown:
/// each column as wide as its content (`natural`), then the widest column
/// above its minimum loses one character at a time until the row fits. When
/// even the minimums do not fit, SOFTWARE and then SERVICES leave the row
/// for detail lines under it. The device column is never shrunk (an address
/// cut is no address), nor the names column below `names_min` (its longest
/// item, so that names wrap whole).
fn fit_widths(natural: [usize; 6], names_min: usize, total: usize) -> ([usize; 6], usize) {
    let min = [
        natural[0],
        natural[1].min(10),
        natural[2].min(24),
        natural[3].min(names_min.clamp(14, 24)),
        natural[4].min(12),
        natural[5].min(10),
    ];
    let row = |w: &[usize]| w.iter().sum::<usize>() + w.len() - 1;
    let mut cols = 6;
    while cols > 4 && row(&min[..cols]) > total {
        cols -= 1;
    }
    let mut w = natural;
    while row(&w[..cols]) > total {
        let Some(i) = (1..cols)
            .filter(|&i| w[i] > min[i])
            .max_by_key(|&i| (w[i], i))
        else {
            break;
        };
        w[i] -= 1;
    }
    for x in &mut w[cols..] {
        *x = 0;
    }
    (w, cols)
}

/// `items` (joined with `, `) wrapped into lines of at most `w` characters,
/// breaking between items; an item longer than a line is cut, and past
/// `max_lines` the last line ends in `…`.
fn wrap_items(items: &[&str], w: usize, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = vec![String::new()];
    let mut more = false;
    for item in items {
        let last = lines.last_mut().map(|l| l.chars().count()).unwrap_or(0);
        let need = item.chars().count() + if last > 0 { 2 } else { 0 };
        if last > 0 && last + need > w {
            if lines.len() == max_lines {
                more = true;
                break;
            }
            lines.push(String::new());
        }
        let Some(line) = lines.last_mut() else { break };
        if !line.is_empty() {
            line.push_str(", ");
        }
        line.push_str(item);
    }
    for l in &mut lines {
        if l.chars().count() > w {
            *l = crate::cut(l, w);
        }
    }
    if more {
        if let Some(l) = lines.last_mut() {
            let keep = w.saturating_sub(1);
            if l.chars().count() > keep {
                *l = l.chars().take(keep).collect();
            }
            l.push('…');
        }
    }
    lines
}

/// Prints the inventory as a table in the fixed layout (see [`Width`]).
pub fn table(out: &mut dyn Write, devices: &[Device]) -> Result<()> {
    table_width(out, devices, Width::Fixed)
}

/// Prints the inventory as a table `width` wide.
pub fn table_width(out: &mut dyn Write, devices: &[Device], width: Width) -> Result<()> {
    let total = match width {
        Width::Fixed => return fixed_table(out, devices),
        Width::Fit(n) => Some(n),
        Width::Wide => None,
    };
    let rows: Vec<[String; 6]> = devices.iter().map(cells).collect();
    let mut natural = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (n, c) in natural.iter_mut().zip(r) {
            *n = (*n).max(c.chars().count());
        }
    }
    let names_min = devices
        .iter()
        .flat_map(|d| d.hostnames.iter().chain(&d.applications))
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0);
    let (w, cols) = match total {
        Some(t) => fit_widths(natural, names_min, t),
        None => (natural, 6),
    };
    let indent = " ".repeat(w[0] + 1);
    // Characters left for a detail line's text after the indent and label.
    let room = |label: usize| total.map(|t| t.saturating_sub(w[0] + 1 + label).max(20));
    let cut_to = |s: &str, n: Option<usize>| match n {
        Some(n) => crate::cut(s, n),
        None => s.to_string(),
    };
    let mut line = String::with_capacity(1024);
    for (i, h) in HEADERS.iter().enumerate().take(cols) {
        push_cell(&mut line, h, w[i]);
    }
    writeln!(out, "{}", line.trim_end())?;
    for (d, r) in devices.iter().zip(&rows) {
        line.clear();
        let names: Vec<&str> = d
            .hostnames
            .iter()
            .chain(&d.applications)
            .map(String::as_str)
            .collect();
        let name_lines = if total.is_some() {
            wrap_items(&names, w[3], NAME_LINES)
        } else {
            vec![r[3].clone()]
        };
        for i in 0..cols {
            let text = if i == 3 { &name_lines[0] } else { &r[i] };
            push_cell(&mut line, text, w[i]);
        }
        let end = line.trim_end().len();
        line.truncate(end);
        line.push('\n');
        let before_names: usize = w[..3].iter().sum::<usize>() + 3;
        for more in &name_lines[1..] {
            line.extend(std::iter::repeat_n(' ', before_names));
            line.push_str(more);
            line.push('\n');
        }
        // Columns that did not fit, as detail lines.
        for (i, label) in [(4, "services: "), (5, "software: ")] {
            if i >= cols && !r[i].is_empty() {
                line.push_str(&indent);
                line.push_str(label);
                line.push_str(&cut_to(&r[i], room(label.len())));
                line.push('\n');
            }
        }
        if !d.ips.is_empty() && d.mac.is_some() {
            let ips: Vec<String> = d.ips.iter().map(|i| i.to_string()).collect();
            line.push_str(&indent);
            line.push_str("ip: ");
            line.push_str(&cut_to(&ips.join(", "), room(4)));
            line.push('\n');
        }
        for a in d.applications.iter().take(8) {
            line.push_str(&indent);
            line.push_str("app: ");
            line.push_str(&cut_to(a, room(5)));
            line.push('\n');
        }
        if let Some(why) = d.reasons.first() {
            line.push_str(&indent);
            line.push_str("why: ");
            let text = format!("{} [{}]", why.why, why.evidence);
            line.push_str(&cut_to(&text, room(5)));
            line.push('\n');
        }
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The fixed layout: 203 columns, long cells cut.
fn fixed_table(out: &mut dyn Write, devices: &[Device]) -> Result<()> {
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

/// After a run into a store that already held other devices: how many the
/// run saw (the table above) against the whole inventory. Nothing when the
/// run saw them all.
pub fn seen_of(out: &mut dyn Write, seen: usize, inventory: u64) -> Result<()> {
    if seen as u64 != inventory {
        writeln!(
            out,
            "{seen} devices seen in this run, {inventory} in the inventory (`ward inventory` lists them all)"
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
    model::json::tidy(&mut doc);
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

    fn fit_devices() -> Vec<Device> {
        vec![
            device(
                "mac:00:09:fb:00:00:01",
                Some(MacAddr([0, 9, 0xfb, 0, 0, 1])),
                "icu-bed-12-pump-left",
                "dicom AE=X",
            ),
            device("ip:10.0.0.7", None, "ward-3-monitor", "hl7 MSH"),
        ]
    }

    fn lines_of(devices: &[Device], w: Width) -> Vec<String> {
        let mut out = Vec::new();
        table_width(&mut out, devices, w).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn table_fits_80_and_200_columns_without_cutting_names() {
        let devices = fit_devices();
        for width in [80, 200] {
            let lines = lines_of(&devices, Width::Fit(width));
            for l in &lines {
                assert!(l.chars().count() <= width, "{width}: {l:?}");
            }
            let text = lines.join("\n");
            // Addresses and host names are whole (names wrap between items).
            for whole in [
                "00:09:fb:00:00:01",
                "10.0.0.7",
                "icu-bed-12-pump-left",
                "ward-3-monitor",
            ] {
                assert!(text.contains(whole), "{width}: {whole} in\n{text}");
            }
            assert!(lines[0].starts_with("DEVICE"), "{}", lines[0]);
        }
        // At 80 columns the widest cells shrink; at 200 fewer do.
        let narrow = lines_of(&devices, Width::Fit(80)).join("\n");
        let roomy = lines_of(&devices, Width::Fit(200)).join("\n");
        assert!(narrow.matches('…').count() > roomy.matches('…').count());
        assert!(roomy.contains("Philips Medical Systems Nederland B.V."));
    }

    #[test]
    fn wide_shows_every_cell_in_full() {
        let devices = fit_devices();
        let text = lines_of(&devices, Width::Wide).join("\n");
        assert!(!text.contains('…'), "{text}");
        for d in &devices {
            for s in d.software.iter().chain(&d.applications).chain(&d.hostnames) {
                assert!(text.contains(s.as_str()), "{s}");
            }
            assert!(text.contains(&d.reasons[0].evidence));
        }
        assert!(text.contains("Philips Medical Systems Nederland B.V. (a long vendor name)"));
    }

    #[test]
    fn wrapping_breaks_between_items() {
        assert_eq!(
            wrap_items(&["alpha", "beta", "gamma"], 11, 4),
            ["alpha, beta", "gamma"]
        );
        assert_eq!(wrap_items(&["a", "b", "c", "d"], 1, 2), ["a", "…"]);
        assert_eq!(wrap_items(&["abcdefgh"], 4, 4), ["abc…"]);
        assert_eq!(wrap_items(&[], 4, 4), [""]);
        let (w, cols) = fit_widths([17, 60, 28, 90, 40, 70], 20, 80);
        assert_eq!((w[0], w[2], w[3] >= 20, cols), (17, 24, true, 4), "{w:?}");
        assert!(w.iter().sum::<usize>() + 3 <= 80, "{w:?}");
        let (w, cols) = fit_widths([17, 60, 28, 90, 40, 70], 29, 200);
        assert_eq!(cols, 6);
        assert!(w.iter().sum::<usize>() + 5 <= 200, "{w:?}");
    }
}
