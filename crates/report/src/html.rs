//! The HTML report: one self-contained page (inline CSS and SVG, no scripts,
//! no external assets) with summary cards, charts, top risks, findings,
//! affected fleets and the full device list.

use crate::{fleets, ranked, Input};
use risk::ScoredDevice;
use risk::Severity;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Controls, bidi overrides and other invisible format characters.
            c if model::text::is_hidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f9;color:#1d2733}
header{background:#12263f;color:#fff;padding:22px 32px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c7da}
main{padding:24px 32px;max-width:1280px}
h2{font-size:17px;margin:28px 0 10px;color:#12263f}
.cards{display:flex;gap:14px;flex-wrap:wrap}.card{background:#fff;border-radius:8px;padding:14px 18px;min-width:150px;box-shadow:0 1px 3px #0002}
.card b{display:block;font-size:26px}.card span{color:#5b6b7f}
.charts{display:flex;gap:18px;flex-wrap:wrap}.chart{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 3px #0002}
.chart h3{margin:0 0 6px;font-size:14px;color:#34475e}
table{border-collapse:collapse;width:100%;background:#fff;box-shadow:0 1px 3px #0002;border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #e6eaf0;vertical-align:top}th{background:#eef2f7;font-weight:600;color:#34475e}
.score{display:inline-block;min-width:34px;text-align:center;border-radius:4px;color:#fff;font-weight:700;padding:1px 4px}
.sev{font-size:12px;font-weight:600;text-transform:uppercase}.critical{color:#b00020}.high{color:#d35400}.medium{color:#b7950b}.low{color:#1e8449}
.muted{color:#6b7a8c;font-size:12px}details summary{cursor:pointer}ul.f{margin:6px 0 0 0;padding-left:18px}ul.f li{margin-bottom:6px}
code{background:#eef2f7;padding:0 3px;border-radius:3px;font-size:12px}
"#;

fn score_color(score: u8) -> &'static str {
    match score {
        0 => "#7f8c8d",
        1..=19 => "#27ae60",
        20..=39 => "#b7950b",
        40..=59 => "#e67e22",
        60..=79 => "#d35400",
        _ => "#b00020",
    }
}

fn badge(score: u8) -> String {
    format!(
        r#"<span class="score" style="background:{}">{score}</span>"#,
        score_color(score)
    )
}

/// Vertical bar chart (risk distribution).
fn columns(title: &str, bars: &[(String, usize, &str)]) -> String {
    let (w, h, pad) = (420.0_f32, 200.0_f32, 28.0_f32);
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f32;
    let bw = (w - pad) / bars.len().max(1) as f32;
    let mut s = format!(
        r#"<div class="chart"><h3>{}</h3><svg width="{w}" height="{}" role="img" aria-label="{}">"#,
        esc(title),
        h + 34.0,
        esc(title)
    );
    for (i, (label, n, color)) in bars.iter().enumerate() {
        let bh = (h - 20.0) * (*n as f32) / max;
        let x = pad + i as f32 * bw + 6.0;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{bh:.1}" fill="{color}" rx="3"/><text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{n}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#5b6b7f">{}</text>"##,
            h - bh,
            bw - 12.0,
            x + (bw - 12.0) / 2.0,
            h - bh - 4.0,
            x + (bw - 12.0) / 2.0,
            h + 16.0,
            esc(label)
        );
    }
    s.push_str("</svg></div>");
    s
}

/// Horizontal bar chart (categories, findings).
fn bars(title: &str, rows: &[(String, usize, &str)]) -> String {
    let (label_w, bar_w, row_h) = (190.0_f32, 230.0_f32, 22.0_f32);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f32;
    let h = row_h * rows.len().max(1) as f32 + 6.0;
    let mut s = format!(
        r#"<div class="chart"><h3>{}</h3><svg width="{}" height="{h}" role="img" aria-label="{}">"#,
        esc(title),
        label_w + bar_w + 40.0,
        esc(title)
    );
    for (i, (label, n, color)) in rows.iter().enumerate() {
        let y = i as f32 * row_h + 3.0;
        let w = bar_w * (*n as f32) / max;
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="end">{}</text><rect x="{label_w}" y="{y:.1}" width="{w:.1}" height="{:.1}" fill="{color}" rx="3"/><text x="{:.1}" y="{:.1}" font-size="12">{n}</text>"#,
            label_w - 8.0,
            y + 14.0,
            esc(label),
            row_h - 6.0,
            label_w + w + 5.0,
            y + 14.0
        );
    }
    s.push_str("</svg></div>");
    s
}

/// The data-protection section: the fleet lines, then per producer or
/// sender its copies (destination, channel, last seen) and findings.
fn data_protection(s: &mut String, c: &risk::coverage::Coverage) {
    let _ = write!(
        s,
        "<h2>Data protection</h2><p class=\"muted\">Copies of clinical data seen leaving each device (DICOM C-STORE, HL7, file shares, backup agents), judged over the {} days before the latest packet ({}).</p><ul>",
        c.stale_days,
        esc(&c.as_of.iso())
    );
    for f in &c.fleet {
        let _ = write!(s, "<li>{}</li>", esc(&f.text));
    }
    s.push_str("</ul><table><tr><th>Device</th><th>Category</th><th>Status</th><th>Copies (destination, channel, last seen)</th><th>Declared plan</th><th>Findings</th></tr>");
    for p in c
        .devices
        .iter()
        .filter(|p| p.status != risk::coverage::Status::NotProducer || !p.copies.is_empty())
    {
        let copies: Vec<String> = p
            .copies
            .iter()
            .map(|k| {
                format!(
                    "{} → {} ({}{}) {}",
                    esc(&k.label),
                    esc(k.dest_name.as_deref().unwrap_or(&k.dest.to_string())),
                    esc(&k.dest.to_string()),
                    k.dest_category
                        .map(|c| format!(", {}", c.label()))
                        .unwrap_or_default(),
                    esc(&k.last_seen.iso())
                )
            })
            .collect();
        let findings: Vec<String> = p
            .findings
            .iter()
            .map(|f| {
                format!(
                    "<span class=\"sev {0}\">{0}</span> {1}<br><span class=\"muted\">{2}</span>",
                    f.severity.as_str(),
                    esc(&f.title),
                    esc(&f.remediation)
                )
            })
            .collect();
        let plan = match &p.declared {
            Some(d) => format!(
                "{} → {} (restore verified {})<br><span class=\"muted\">{}</span>",
                esc(&d.method),
                esc(&d.destination),
                esc(&d.last_restore),
                p.plan.label()
            ),
            None => format!("<span class=\"muted\">{}</span>", p.plan.label()),
        };
        let name = p
            .name
            .as_deref()
            .map(|n| format!("{} ", esc(n)))
            .unwrap_or_default();
        let _ = write!(
            s,
            "<tr><td>{name}<span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{plan}</td><td>{}</td></tr>",
            esc(&p.key),
            esc(p.category.label()),
            p.status.label(),
            if copies.is_empty() { "<span class=\"muted\">none seen</span>".to_string() } else { copies.join("<br>") },
            findings.join("<br>")
        );
    }
    s.push_str("</table>");
}

fn device_name(d: &ScoredDevice) -> String {
    match d.names.first() {
        Some(n) => format!(
            "{} <span class=\"muted\">{}</span>",
            esc(n),
            esc(&d.assessment.key)
        ),
        None => esc(&d.assessment.key),
    }
}

fn sev(s: Severity) -> String {
    format!(r#"<span class="sev {0}">{0}</span>"#, s.as_str())
}

fn factors(d: &ScoredDevice) -> String {
    let mut s = String::from(r#"<ul class="f">"#);
    for f in &d.assessment.factors {
        let fi = &f.finding;
        let _ = write!(
            s,
            "<li>{} <b>{:.1} pts</b> {}",
            sev(fi.severity),
            f.points,
            esc(&fi.title)
        );
        for e in &fi.evidence {
            let when = e
                .first_seen
                .filter(|t| t.0 != 0)
                .map(|t| format!(", first seen {}", t.iso()))
                .unwrap_or_default();
            let _ = write!(
                s,
                r#"<br><span class="muted">evidence: <code>{}</code> [{}]{}</span>"#,
                esc(&e.what),
                esc(&e.at),
                esc(&when)
            );
        }
        let _ = write!(
            s,
            r#"<br><span class="muted">fix: {}</span></li>"#,
            esc(&fi.remediation)
        );
    }
    s.push_str("</ul>");
    s
}

/// Renders the report page.
pub fn html(input: &Input) -> String {
    let devices = ranked(input);
    let fleets = fleets(input);
    let n = devices.len();
    let medical = devices.iter().filter(|d| d.medical).count();
    let with_findings = devices.iter().filter(|d| d.assessment.score > 0).count();
    let critical = devices
        .iter()
        .filter(|d| {
            d.assessment
                .factors
                .iter()
                .any(|f| f.finding.severity == Severity::Critical)
        })
        .count();
    let phi = devices
        .iter()
        .filter(|d| {
            d.assessment
                .factors
                .iter()
                .any(|f| f.finding.kind == risk::FindingKind::CleartextPhi)
        })
        .count();
    let mut s = String::with_capacity(64 * 1024);
    let _ = write!(s, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{CSS}</style></head><body>", esc(&input.title));
    let _ = write!(
        s,
        "<header><h1>{}</h1><p>{}</p></header><main>",
        esc(&input.title),
        esc(&input.scope)
    );
    let _ = write!(
        s,
        r#"<div class="cards"><div class="card"><b>{n}</b><span>devices</span></div><div class="card"><b>{medical}</b><span>medical devices</span></div><div class="card"><b>{with_findings}</b><span>with findings</span></div><div class="card"><b style="color:#b00020">{critical}</b><span>with critical findings</span></div><div class="card"><b>{phi}</b><span>send patient data in cleartext</span></div><div class="card"><b>{}</b><span>affected fleets</span></div></div>"#,
        fleets.len()
    );

    // Charts.
    let buckets: [(&str, u8, u8); 6] = [
        ("none", 0, 0),
        ("1-19", 1, 19),
        ("20-39", 20, 39),
        ("40-59", 40, 59),
        ("60-79", 60, 79),
        ("80-100", 80, 100),
    ];
    let dist: Vec<(String, usize, &str)> = buckets
        .iter()
        .map(|(l, lo, hi)| {
            (
                l.to_string(),
                devices
                    .iter()
                    .filter(|d| (*lo..=*hi).contains(&d.assessment.score))
                    .count(),
                score_color(*lo),
            )
        })
        .collect();
    let mut cats: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for d in &devices {
        let e = cats.entry(d.category).or_default();
        e.0 += 1;
        e.1 |= d.medical;
    }
    let mut cats: Vec<(String, usize, &str)> = cats
        .into_iter()
        .map(|(c, (n, med))| (c.to_string(), n, if med { "#c0392b" } else { "#5d7fa3" }))
        .collect();
    cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for d in &devices {
        let mut seen: Vec<&str> = d
            .assessment
            .factors
            .iter()
            .map(|f| f.finding.kind.as_str())
            .collect();
        seen.dedup();
        for k in seen {
            *kinds.entry(k).or_default() += 1;
        }
    }
    let mut kinds: Vec<(String, usize, &str)> = kinds
        .into_iter()
        .map(|(k, n)| (k.replace('_', " "), n, "#8e44ad"))
        .collect();
    kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    s.push_str("<h2>Overview</h2><div class=\"charts\">");
    s.push_str(&columns("Risk score distribution (devices)", &dist));
    s.push_str(&bars("Device categories (red: medical)", &cats));
    if !kinds.is_empty() {
        s.push_str(&bars("Devices per finding", &kinds));
    }
    s.push_str("</div>");

    // Top risks.
    s.push_str("<h2>Top risks</h2><table><tr><th>Score</th><th>Device</th><th>Category</th><th>Vendor</th><th>Main factor</th><th>What to do</th></tr>");
    for d in devices.iter().filter(|d| d.assessment.score > 0).take(15) {
        let (title, fix) = d
            .assessment
            .factors
            .first()
            .map(|f| (esc(&f.finding.title), esc(&f.finding.remediation)))
            .unwrap_or_default();
        let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{title}</td><td class=\"muted\">{fix}</td></tr>", badge(d.assessment.score), device_name(d), esc(d.category), esc(d.vendor.as_deref().unwrap_or("-")));
    }
    s.push_str("</table>");

    // Affected fleets.
    s.push_str("<h2>Affected fleets</h2>");
    if fleets.is_empty() {
        s.push_str("<p class=\"muted\">No device matches an imported advisory (import feeds with <code>ward feeds import</code>).</p>");
    } else {
        s.push_str("<table><tr><th>CVE</th><th>Advisory</th><th>CVSS</th><th>Vendor / model / firmware</th><th>Devices</th><th>Fix</th></tr>");
        for f in &fleets {
            let kev = if f.known_exploited {
                r#" <span class="sev critical">known exploited</span>"#
            } else {
                ""
            };
            let _ = write!(
                s,
                "<tr><td>{}{kev}</td><td>{}</td><td>{}</td><td>{} / {} / {}</td><td>{} <span class=\"muted\">{}</span></td><td class=\"muted\">{}</td></tr>",
                esc(&f.cve),
                esc(&f.advisory),
                f.cvss.map(|c| format!("{c:.1}")).unwrap_or_else(|| "-".into()),
                esc(&f.vendor),
                esc(&f.model),
                esc(&f.firmware),
                f.devices.len(),
                esc(&f.devices.join(", ")),
                esc(f.remediation.as_deref().unwrap_or("-"))
            );
        }
        s.push_str("</table>");
    }

    if let Some(c) = &input.coverage {
        data_protection(&mut s, c);
    }
    if let Some(m) = &input.remediation {
        s.push_str(&crate::remediation::section(m));
    }

    // Every device.
    s.push_str("<h2>All devices</h2><table><tr><th>Score</th><th>Device</th><th>Category</th><th>Vendor / model</th><th>Addresses</th><th>Factors</th></tr>");
    for d in &devices {
        let model = d
            .model
            .as_deref()
            .map(|m| format!(" / {}", esc(m)))
            .unwrap_or_default();
        let detail = if d.assessment.factors.is_empty() {
            "<span class=\"muted\">none found</span>".to_string()
        } else {
            format!(
                "<details><summary>{} factor(s); impact {:.1}: {}</summary>{}</details>",
                d.assessment.factors.len(),
                d.assessment.impact,
                esc(&d.assessment.impact_reason),
                factors(d)
            )
        };
        let _ = write!(s, "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}{model}</td><td>{}</td><td>{detail}</td></tr>", badge(d.assessment.score), device_name(d), esc(d.category), esc(d.vendor.as_deref().unwrap_or("-")), esc(&d.ips.join(", ")));
    }
    s.push_str("</table><p class=\"muted\">Scores: likelihood (exposures seen in traffic, matching advisories) × clinical impact (device category). Every factor lists its evidence (flow and first packet time, or the advisory rule that matched) and a remediation. Ward keeps metadata only: no patient data is stored or shown.</p></main></body></html>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use risk::{Assessment, Evidence, Factor, Finding, FindingKind};

    fn row(name: &str, score: u8) -> ScoredDevice {
        ScoredDevice {
            kind: risk::DeviceKind::Observed,
            category: "infusion pump",
            medical: true,
            vendor: Some("Acme <b>".into()),
            model: Some("P1".into()),
            firmware: Some("1.0".into()),
            names: vec![name.into()],
            ips: vec!["10.0.0.5".into()],
            assessment: Assessment {
                key: "mac:00:11:22:33:44:55".into(),
                score,
                likelihood: 0.5,
                impact: 1.0,
                impact_reason: "life-sustaining".into(),
                factors: vec![Factor {
                    finding: Finding {
                        kind: FindingKind::DefaultCredential,
                        severity: Severity::Critical,
                        title: "A default password was used for HTTP".into(),
                        remediation: "Change it".into(),
                        evidence: vec![Evidence {
                            what: "http-basic user=admin".into(),
                            at: "flow 1 a -> b/tcp".into(),
                            first_seen: Some(model::Timestamp(1_767_600_050_002_400)),
                            last_seen: None,
                            count: 1,
                        }],
                    },
                    probability: 0.6,
                    points: score as f32,
                }],
            },
            advisories: Vec::new(),
        }
    }

    #[test]
    fn the_data_protection_section_escapes_names_and_plans() {
        use risk::coverage::{Coverage, DeclaredPlan, PlanState, Protection, Status};
        let input = Input {
            title: "t".into(),
            scope: "s".into(),
            devices: vec![],
            coverage: Some(Coverage {
                as_of: model::Timestamp(0),
                stale_days: 7,
                fleet: vec![],
                devices: vec![Protection {
                    key: "mac:02:00:00:00:00:01".into(),
                    category: identify::Category::ImagingModality,
                    name: Some("<img src=x onerror=alert(1)>".into()),
                    status: Status::NoneObserved,
                    copies: vec![],
                    last_copy: None,
                    received: vec![],
                    declared: Some(DeclaredPlan {
                        method: "<b>Veeam</b>".into(),
                        destination: "\"vault\"".into(),
                        last_restore: "'2025'".into(),
                    }),
                    plan: PlanState::DeclaredNotObserved,
                    findings: vec![],
                }],
            }),
            remediation: None,
        };
        let page = html(&input);
        assert!(page.contains("<h2>Data protection</h2>"));
        assert!(!page.contains("<img src=x") && !page.contains("<b>Veeam"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(page.contains("&lt;b&gt;Veeam&lt;/b&gt;"));
        assert!(page.contains("plan on paper only"));
        // Without coverage, no section.
        let page = html(&Input {
            coverage: None,
            remediation: None,
            ..input
        });
        assert!(!page.contains("Data protection"));
    }

    #[test]
    fn hostile_names_render_as_text() {
        let input = Input {
            title: "Ward <report>".into(),
            scope: "x".into(),
            devices: vec![row("<script>alert(1)</script>' OR 1=1 --", 66)],
            coverage: None,
            remediation: None,
        };
        let page = html(&input);
        assert!(!page.contains("<script>"), "raw script tag in the page");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&#39; OR 1=1 --"));
        assert!(page.contains("Acme &lt;b&gt;") && page.contains("Ward &lt;report&gt;"));
        assert!(
            page.contains("2026-01-05T08:00:50.002400Z"),
            "evidence time"
        );
        assert!(
            page.contains("<svg") && !page.contains("http://") && !page.contains("https://"),
            "self-contained"
        );
    }
}
