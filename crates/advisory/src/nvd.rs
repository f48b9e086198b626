//! NVD CVE API 2.0 JSON: a single CVE record (`{"id": "CVE-…", …}`, the
//! layout of per-CVE mirrors) or an API response (`{"format": "NVD_CVE",
//! "vulnerabilities": [{"cve": {…}}]}`). Read: id, English description, the
//! highest CVSS v3.x base score, and every `vulnerable` CPE match with its
//! version bounds.
//!
//! Simplification: `AND` configurations ("firmware X running on hardware Y")
//! are read as their vulnerable CPE matches; the non-vulnerable platform part
//! is not required to match (a device that runs the firmware is almost always
//! that hardware).

use crate::bounded::{List, Str, MANY, NAME, SHORT, TEXT};
use crate::csaf::Cvss;
use crate::model::{is_cve_id, Advisory, Product, Source, Status, Vulnerability};
use crate::version::VersionRule;
use serde::Deserialize;

#[derive(Deserialize)]
pub(crate) struct Response {
    pub(crate) vulnerabilities: List<Item, MANY>,
}

#[derive(Deserialize)]
pub(crate) struct Item {
    pub(crate) cve: Record,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Record {
    id: Str<SHORT>,
    #[serde(default)]
    last_modified: Str<SHORT>,
    #[serde(default)]
    descriptions: List<Description, 64>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    configurations: List<Config, MANY>,
}

#[derive(Deserialize)]
struct Description {
    lang: Str<SHORT>,
    value: Str<TEXT>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    #[serde(default)]
    cvss_metric_v31: List<Metric, 64>,
    #[serde(default)]
    cvss_metric_v30: List<Metric, 64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    cvss_data: Cvss,
}

#[derive(Deserialize)]
struct Config {
    #[serde(default)]
    nodes: List<Node, MANY>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Node {
    #[serde(default)]
    cpe_match: List<CpeMatch, MANY>,
    #[serde(default)]
    negate: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CpeMatch {
    vulnerable: bool,
    criteria: Str<NAME>,
    #[serde(default)]
    version_start_including: Option<Str<SHORT>>,
    #[serde(default)]
    version_start_excluding: Option<Str<SHORT>>,
    #[serde(default)]
    version_end_including: Option<Str<SHORT>>,
    #[serde(default)]
    version_end_excluding: Option<Str<SHORT>>,
}

/// Splits a CPE 2.3 formatted string into its attributes, honouring `\`
/// escapes. `None` when it is not `cpe:2.3:` with 13 parts.
pub fn split_cpe(s: &str) -> Option<Vec<String>> {
    let mut parts = Vec::with_capacity(13);
    let mut cur = String::new();
    let mut esc = false;
    for c in s.chars() {
        if esc {
            cur.push(c);
            esc = false;
        } else if c == '\\' {
            esc = true;
        } else if c == ':' {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
        if parts.len() > 13 {
            return None;
        }
    }
    parts.push(cur);
    (parts.len() == 13 && parts[0] == "cpe" && parts[1] == "2.3").then_some(parts)
}

/// CPE words ("apexpro_telemetry_server_firmware") as a product name
/// ("apexpro telemetry server"): underscores to spaces, a trailing
/// "firmware" dropped (the `o:` part names the device's firmware).
fn cpe_product_name(p: &str) -> String {
    let s = p.replace('_', " ");
    let s = s.strip_suffix(" firmware").unwrap_or(&s);
    s.to_string()
}

pub(crate) fn record_to_advisory(r: Record, at: &str) -> Result<Advisory, String> {
    let id = r.id.0.trim().to_string();
    if !is_cve_id(&id) {
        return Err(format!("{at}id: {id:?} is not a CVE id"));
    }
    let title = r
        .descriptions
        .0
        .iter()
        .find(|d| d.lang.0 == "en")
        .or(r.descriptions.0.first())
        .map(|d| d.value.0.chars().take(300).collect::<String>())
        .unwrap_or_default();
    let mut cvss: Option<(f32, Option<String>)> = None;
    for m in r
        .metrics
        .cvss_metric_v31
        .0
        .into_iter()
        .chain(r.metrics.cvss_metric_v30.0)
    {
        let s = m.cvss_data.base_score;
        if !(0.0..=10.0).contains(&s) {
            return Err(format!("{at}metrics: baseScore {s} is outside 0..10"));
        }
        if cvss.as_ref().is_none_or(|(b, _)| s as f32 > *b) {
            cvss = Some((s as f32, m.cvss_data.vector_string.map(Str::into_string)));
        }
    }
    let mut products = Vec::new();
    for (ci, c) in r.configurations.0.iter().enumerate() {
        for (ni, n) in c.nodes.0.iter().enumerate() {
            if n.negate {
                continue;
            }
            for (mi, m) in n.cpe_match.0.iter().enumerate() {
                if !m.vulnerable {
                    continue;
                }
                let Some(parts) = split_cpe(&m.criteria.0) else {
                    return Err(format!("{at}configurations[{ci}].nodes[{ni}].cpeMatch[{mi}].criteria: {:?} is not a CPE 2.3 name", m.criteria.0));
                };
                fn o(b: &Option<Str<SHORT>>) -> Option<&str> {
                    b.as_ref().map(|s| s.0.as_str())
                }
                let (si, se, ei, ee) = (
                    o(&m.version_start_including),
                    o(&m.version_start_excluding),
                    o(&m.version_end_including),
                    o(&m.version_end_excluding),
                );
                let versions = VersionRule::from_cpe(&parts[5], si, se, ei, ee);
                let mut text = vec![format!("cpe version {}", parts[5])];
                for (label, v) in [
                    ("versionStartIncluding", si),
                    ("versionStartExcluding", se),
                    ("versionEndIncluding", ei),
                    ("versionEndExcluding", ee),
                ] {
                    if let Some(v) = v {
                        text.push(format!("{label} {v}"));
                    }
                }
                products.push(Product {
                    id: format!("cpe-{}", products.len() + 1),
                    vendor: parts[3].replace('_', " "),
                    name: cpe_product_name(&parts[4]),
                    version_text: text.join(", "),
                    versions,
                    full_name: m.criteria.0.clone(),
                });
            }
        }
    }
    let status = products
        .iter()
        .map(|p| (p.id.clone(), Status::Affected))
        .collect();
    let (cvss, cvss_vector) = match cvss {
        Some((s, v)) => (Some(s), v),
        None => (None, None),
    };
    Ok(Advisory {
        id: id.clone(),
        source: Source::Nvd,
        title,
        severity: None,
        revision: r.last_modified.0.clone(),
        release_date: r.last_modified.0,
        products,
        vulnerabilities: vec![Vulnerability {
            cve: id,
            cvss,
            cvss_vector,
            status,
            remediations: Vec::new(),
        }],
    })
}

/// Parses a single record.
pub(crate) fn parse_record(bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    let r: Record = crate::bounded::from_json(bytes)?;
    Ok(vec![record_to_advisory(r, "")?])
}

/// Parses an API 2.0 response.
pub(crate) fn parse_response(bytes: &[u8]) -> Result<Vec<Advisory>, String> {
    let r: Response = crate::bounded::from_json(bytes)?;
    r.vulnerabilities
        .0
        .into_iter()
        .enumerate()
        .map(|(i, it)| record_to_advisory(it.cve, &format!("vulnerabilities[{i}].cve.")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::Verdict;

    const REC: &str = r#"{"id":"CVE-2022-2119","lastModified":"2025-11-03T20:15:53.857",
      "descriptions":[{"lang":"en","value":"DCMTK before 3.6.7 ..."}],
      "metrics":{"cvssMetricV31":[{"cvssData":{"baseScore":7.5}},{"cvssData":{"baseScore":9.8,"vectorString":"CVSS:3.1/AV:N"}}]},
      "configurations":[{"nodes":[{"operator":"OR","negate":false,"cpeMatch":[
        {"vulnerable":true,"criteria":"cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*","versionEndExcluding":"3.6.7"},
        {"vulnerable":false,"criteria":"cpe:2.3:h:x:y:-:*:*:*:*:*:*:*"}]}]}]}"#;

    #[test]
    fn record() {
        let a = parse_record(REC.as_bytes()).unwrap().remove(0);
        assert_eq!(a.id, "CVE-2022-2119");
        assert_eq!(a.vulnerabilities[0].cvss, Some(9.8));
        assert_eq!(
            a.products.len(),
            1,
            "non-vulnerable platform entries are not products"
        );
        let p = &a.products[0];
        assert_eq!((p.vendor.as_str(), p.name.as_str()), ("offis", "dcmtk"));
        assert_eq!(p.versions.check(Some("3.6.7")), Verdict::Out);
        assert_eq!(p.versions.check(Some("3.6.6")), Verdict::In);
        let resp = format!(r#"{{"format":"NVD_CVE","vulnerabilities":[{{"cve":{REC}}}]}}"#);
        assert_eq!(parse_response(resp.as_bytes()).unwrap().len(), 1);
        let bad = REC.replace("cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*", "cpe:oops");
        assert!(parse_record(bad.as_bytes())
            .unwrap_err()
            .starts_with("configurations[0].nodes[0].cpeMatch[0].criteria"));
    }

    #[test]
    fn cpe_split() {
        let p = split_cpe(
            r"cpe:2.3:o:baxter:spectrum_wireless_battery_module_firmware:16d38:*:*:*:*:*:*:*",
        )
        .unwrap();
        assert_eq!(
            (p[2].as_str(), p[4].as_str(), p[5].as_str()),
            ("o", "spectrum_wireless_battery_module_firmware", "16d38")
        );
        assert_eq!(
            split_cpe(r"cpe:2.3:a:a\:b:c:1:*:*:*:*:*:*:*").unwrap()[3],
            "a:b"
        );
        assert!(split_cpe("cpe:2.3:a").is_none());
        assert_eq!(
            cpe_product_name("apexpro_telemetry_server_firmware"),
            "apexpro telemetry server"
        );
    }
}
