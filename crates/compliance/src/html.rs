//! The compliance report as one self-contained, printable HTML page: inline
//! CSS and SVG, no scripts, no external resources. Every string goes
//! through `report::esc` (device names come from the network).

use crate::day;
use crate::flows::EphiFlow;
use crate::{Report, Status};
use report::esc;
use std::fmt::Write as _;

const CSS: &str = r#"
body{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f9;color:#1d2733}
header{background:#12263f;color:#fff;padding:20px 32px}header h1{margin:0;font-size:21px}header p{margin:4px 0 0;color:#b8c7da}
main{padding:20px 32px;max-width:1280px}
h2{font-size:16px;margin:26px 0 10px;color:#12263f}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#fff;border-radius:8px;padding:12px 16px;min-width:130px;box-shadow:0 1px 3px #0002}
.card b{display:block;font-size:24px}.card span{color:#5b6b7f}.card .st{color:#fff}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px #0002}
th,td{text-align:left;padding:6px 9px;border-bottom:1px solid #e6eaf0;vertical-align:top;overflow-wrap:break-word}th{background:#eef2f7;font-weight:600;color:#34475e}
.st{display:inline-block;border-radius:4px;padding:1px 7px;font-weight:700;font-size:12px;white-space:nowrap;color:#fff}
.met{background:#1e8449}.partial{background:#b7950b}.not_met{background:#b00020}.not_assessable{background:#7f8c8d}
.muted{color:#6b7a8c;font-size:12px}ul.ev{margin:0;padding-left:16px}ul.ev li{margin-bottom:3px}
code{background:#eef2f7;padding:0 3px;border-radius:3px;font-size:12px}.clear{color:#b00020;font-weight:600}.enc{color:#1e8449;font-weight:600}
.map{background:#fff;box-shadow:0 1px 3px #0002;padding:8px}
@page{size:A4;margin:14mm}
@media print{body{background:#fff;font-size:11px}header{background:#fff;color:#000;border-bottom:2px solid #12263f;padding:0 0 8px}header p{color:#333}
main{padding:8px 0;max-width:none}table,.card,.map{box-shadow:none}tr{break-inside:avoid}h2{break-after:avoid}
.st{border:1px solid #000;print-color-adjust:exact;-webkit-print-color-adjust:exact}}
"#;

fn badge(s: Status) -> String {
    let class = match s {
        Status::Met => "met",
        Status::Partial => "partial",
        Status::NotMet => "not_met",
        Status::NotAssessable => "not_assessable",
    };
    format!(r#"<span class="st {class}">{}</span>"#, s.label())
}

/// `s` cut to `max` characters (for diagram labels).
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The flow diagram: senders left, receivers right, one line per flow
/// (red dashed: cleartext; green: encrypted).
fn diagram(s: &mut String, flows: &[EphiFlow]) {
    let mut left: Vec<(&str, String)> = Vec::new();
    let mut right: Vec<(&str, String)> = Vec::new();
    for f in flows {
        if !left.iter().any(|(k, _)| *k == f.source.key) {
            left.push((
                f.source.key.as_str(),
                format!("{} ({})", f.source.name, f.source.ip),
            ));
        }
        if !right.iter().any(|(k, _)| *k == f.dest.key) {
            right.push((
                f.dest.key.as_str(),
                format!("{} ({})", f.dest.name, f.dest.ip),
            ));
        }
    }
    let (w, box_w, row) = (860.0_f32, 250.0_f32, 58.0_f32);
    let h = row * left.len().max(right.len()).max(1) as f32 + 20.0;
    let y = |i: usize| 14.0 + i as f32 * row;
    let _ = write!(
        s,
        r#"<div class="map"><svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="ePHI flow map">"#
    );
    for (i, f) in flows.iter().enumerate() {
        let li = left
            .iter()
            .position(|(k, _)| *k == f.source.key)
            .unwrap_or(0);
        let ri = right
            .iter()
            .position(|(k, _)| *k == f.dest.key)
            .unwrap_or(0);
        let (y1, y2) = (y(li) + 18.0, y(ri) + 18.0);
        let (x1, x2) = (box_w + 10.0, w - box_w - 10.0);
        let (color, dash) = if f.encrypted {
            ("#1e8449", "")
        } else {
            ("#b00020", r#" stroke-dasharray="6 4""#)
        };
        // The label a third of the way along, just above the line (apart
        // from the other flows' labels where lines converge).
        let (mx, my) = (
            x1 + (x2 - x1) * 0.33,
            y1 + (y2 - y1) * 0.33 - 6.0 - (i % 2) as f32 * 12.0,
        );
        let _ = write!(
            s,
            r##"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{color}" stroke-width="2"{dash}/><polygon points="{x2},{y2} {},{} {},{}" fill="{color}"/><text x="{mx}" y="{my}" font-size="11" text-anchor="middle" fill="{color}" stroke="#fff" stroke-width="3" paint-order="stroke">{} {} {}</text>"##,
            x2 - 9.0,
            y2 - 5.0,
            x2 - 9.0,
            y2 + 5.0,
            esc(&f.id),
            esc(&f.protocol),
            esc(&short(&f.messages.join(","), 24)),
        );
    }
    for (col, items) in [(0.0, &left), (w - box_w, &right)] {
        for (i, (_, label)) in items.iter().enumerate() {
            let _ = write!(
                s,
                r##"<rect x="{col}" y="{}" width="{box_w}" height="36" rx="6" fill="#eef2f7" stroke="#34475e"/><text x="{}" y="{}" font-size="12" text-anchor="middle">{}</text>"##,
                y(i),
                col + box_w / 2.0,
                y(i) + 22.0,
                esc(&short(label, 36))
            );
        }
    }
    s.push_str(r#"</svg><p class="muted">Left: senders; right: receivers. Red dashed lines: patient data readable on the wire (cleartext); green: encrypted.</p></div>"#);
}

/// The whole page.
pub fn html(r: &Report) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let title = format!("Compliance evidence: {}", r.name);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>",
        esc(&title)
    );
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{} · generated {} · {}</p></header><main>",
        esc(&title),
        esc(&r.scope),
        esc(&day::format_unix(r.generated_at)),
        esc(&r.source)
    );
    s.push_str(r#"<div class="cards">"#);
    let _ = write!(
        s,
        r#"<div class="card"><b>{}</b><span>controls</span></div>"#,
        r.controls.len()
    );
    for st in Status::ALL {
        let _ = write!(
            s,
            r#"<div class="card"><b>{}</b><span>{}</span></div>"#,
            r.summary.get(st),
            badge(st)
        );
    }
    let clear = r.ephi_flows.iter().filter(|f| !f.encrypted).count();
    let _ = write!(
        s,
        r#"<div class="card"><b>{}</b><span>ePHI flows ({clear} cleartext)</span></div></div>"#,
        r.ephi_flows.len()
    );

    // Controls.
    s.push_str("<h2>Controls</h2><table><tr><th>Control</th><th>Status</th><th>Evidence</th><th>Gap and remediation</th></tr>");
    for c in &r.controls {
        let _ = write!(
            s,
            "<tr id=\"control-{}\"><td><b>{}</b><br>{}<div class=\"muted\">{}</div></td><td>{}</td><td><ul class=\"ev\">",
            esc(&c.id.replace(|ch: char| !ch.is_ascii_alphanumeric(), "-")),
            esc(&c.id),
            esc(&c.title),
            esc(&c.requirement),
            badge(c.status)
        );
        for a in &c.evidence {
            let _ = write!(
                s,
                "<li>{} <b>{}</b>: {}",
                badge(a.status),
                esc(a.kind.label()),
                esc(&a.summary)
            );
            let shown: Vec<String> = a
                .items
                .iter()
                .filter(|i| i.count > 0)
                .map(|i| {
                    let mut t = format!("{}: {}", esc(&i.label), i.count);
                    if !i.ids.is_empty() {
                        let ids: Vec<String> = i
                            .ids
                            .iter()
                            .map(|id| format!("<code>{}</code>", esc(id)))
                            .collect();
                        let _ = write!(t, " ({}", ids.join(" "));
                        if i.count as usize > i.ids.len() {
                            let _ = write!(t, " and {} more", i.count as usize - i.ids.len());
                        }
                        t.push(')');
                    }
                    t
                })
                .collect();
            if !shown.is_empty() {
                let _ = write!(s, "<div class=\"muted\">{}</div>", shown.join("; "));
            }
            s.push_str("</li>");
        }
        s.push_str("</ul></td><td>");
        if c.gaps.is_empty() && c.remediation.is_none() {
            s.push_str("<span class=\"muted\">none</span>");
        } else {
            s.push_str("<ul class=\"ev\">");
            for g in &c.gaps {
                let _ = write!(s, "<li>{}</li>", esc(g));
            }
            s.push_str("</ul>");
            if let Some(rem) = &c.remediation {
                let _ = write!(s, "<p><b>Remediation:</b> {}</p>", esc(rem));
            }
        }
        s.push_str("</td></tr>");
    }
    s.push_str("</table>");

    // ePHI flow map.
    s.push_str("<h2 id=\"ephi-flows\">ePHI flow map</h2><p class=\"muted\">HL7 messages and DICOM C-STOREs seen between devices (metadata only: endpoints, protocol, message or command types, counts). HL7 and DICOM that Ward reads on the wire are unencrypted.</p>");
    if r.ephi_flows.is_empty() {
        s.push_str("<p>No HL7 or DICOM flow seen.</p>");
    } else {
        diagram(&mut s, &r.ephi_flows);
        s.push_str("<table><tr><th>Flow</th><th>From</th><th>To</th><th>Protocol</th><th>Messages</th><th>Port</th><th>Count</th><th>Last seen</th><th>Transport security</th><th>Evidence</th></tr>");
        for f in &r.ephi_flows {
            let end = |e: &crate::FlowEnd| {
                format!(
                    "{}<div class=\"muted\">{} · {}{}</div>",
                    esc(&e.name),
                    esc(&e.ip),
                    esc(&e.category),
                    e.application
                        .as_ref()
                        .map(|a| format!(" · {}", esc(a)))
                        .unwrap_or_default()
                )
            };
            let _ = write!(
                s,
                "<tr id=\"flow-{id}\"><td>{id}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
                end(&f.source),
                end(&f.dest),
                esc(&f.protocol),
                esc(&f.messages.join(", ")),
                f.port,
                esc(&f.transport),
                f.count,
                esc(&f.last_seen.iso()),
                if f.encrypted {
                    "<span class=\"enc\">encrypted</span>"
                } else {
                    "<span class=\"clear\">cleartext</span>"
                },
                esc(&f.evidence),
                id = esc(&f.id),
            );
        }
        s.push_str("</table>");
    }

    // Programme records.
    let p = &r.program;
    s.push_str("<h2>Programme records</h2><table><tr><th>Record</th><th>Details</th><th>Date</th><th>Owner</th></tr>");
    match &p.officer {
        Some(o) => {
            let _ = write!(
                s,
                "<tr><td>Security officer</td><td>{}{}</td><td>since {}</td><td>{}</td></tr>",
                esc(&o.user),
                if o.disabled { " (disabled)" } else { "" },
                esc(&day::format_unix(o.since)),
                esc(&o.user)
            );
        }
        None => s.push_str(
            "<tr><td>Security officer</td><td>none designated</td><td></td><td></td></tr>",
        ),
    }
    for t in &p.training {
        let _ = write!(
            s,
            "<tr><td>Training</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&t.course),
            esc(&t.completed),
            esc(&t.user)
        );
    }
    for d in &p.documents {
        let link = if d.link.is_empty() {
            String::new()
        } else {
            format!(" · <code>{}</code>", esc(&d.link))
        };
        let _ = write!(
            s,
            "<tr><td>Document ({})</td><td>{} v{}{link}</td><td>review by {}</td><td>{}</td></tr>",
            esc(&d.kind),
            esc(&d.title),
            esc(&d.version),
            esc(&d.review_by),
            esc(&d.owner)
        );
    }
    for a in &p.risk_analyses {
        let _ = write!(
            s,
            "<tr><td>Risk analysis</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.what),
            esc(&a.day),
            esc(&a.owner)
        );
    }
    s.push_str("</table><p class=\"muted\">Statuses are computed from Ward's own evidence (traffic, store and programme records); they support, and do not replace, an organisation's own assessment.</p></main></body></html>");
    s
}
