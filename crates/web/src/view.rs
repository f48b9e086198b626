//! What the dashboard and the API share: device filters, sorting, paging,
//! summaries and the overview figures, computed from scored devices.

use app::ScoredDevice;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Filters, sort and page of a device list (query string of `/devices` and
/// `/api/v1/devices`).
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeviceQuery {
    /// Text search over key, names, addresses, vendor and model (case-insensitive).
    pub q: Option<String>,
    /// Category, as labelled (`infusion pump`) or in the JSON spelling (`infusion_pump`).
    pub category: Option<String>,
    /// Site (multi-site deployments: devices whose key is `SITE/...`).
    pub site: Option<String>,
    /// Lowest score shown (0-100).
    pub min_score: Option<u8>,
    /// `score` (default, highest first), `name`, `category`, `vendor`.
    pub sort: Option<String>,
    /// Page number, from 1.
    pub page: Option<usize>,
    /// Devices per page (1-500, default 50).
    pub per_page: Option<usize>,
}

/// One device in a list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeviceSummary {
    /// Stable key (MAC, IP or `declared:...`).
    pub key: String,
    /// `observed` or `declared`.
    pub kind: String,
    /// Names (DHCP/DNS host names, declared location); network input, shown as text.
    pub names: Vec<String>,
    /// Addresses.
    pub ips: Vec<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Model.
    pub model: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Category label.
    pub category: String,
    /// Clinical category.
    pub medical: bool,
    /// Risk score 0-100.
    pub score: u8,
    /// Number of findings.
    pub findings: usize,
    /// Number of matching advisories.
    pub advisories: usize,
    /// Site of a multi-site deployment (key `SITE/...`); absent on a single box.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

impl DeviceSummary {
    /// From a scored device.
    pub fn of(d: &ScoredDevice) -> DeviceSummary {
        DeviceSummary {
            site: site_of(&d.assessment.key).map(str::to_string),
            key: d.assessment.key.clone(),
            kind: d.kind.to_string(),
            names: d.names.clone(),
            ips: d.ips.clone(),
            vendor: d.vendor.clone(),
            model: d.model.clone(),
            firmware: d.firmware.clone(),
            category: d.category.to_string(),
            medical: d.medical,
            score: d.assessment.score,
            findings: d.assessment.factors.len(),
            advisories: d.advisories.len(),
        }
    }
}

/// A page of devices.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DevicePage {
    /// Devices matching the filters.
    pub total: usize,
    /// This page (from 1).
    pub page: usize,
    /// Page size.
    pub per_page: usize,
    /// The page's devices.
    pub devices: Vec<DeviceSummary>,
}

/// `?site=`: one site of a multi-site deployment (empty or absent: all).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SiteQuery {
    /// Site (devices whose key is `SITE/...`); empty or absent: every site.
    pub site: Option<String>,
}

impl SiteQuery {
    /// The site asked for, if any (a name that cannot be a site's matches
    /// no device; [`SiteQuery::checked`] refuses it).
    pub fn site(&self) -> Option<&str> {
        self.site.as_deref().filter(|s| !s.is_empty())
    }

    /// Refuses a site name that no site can have (`[A-Za-z0-9_-]`, 1-64).
    pub fn checked(&self) -> Result<&SiteQuery, String> {
        match self.site() {
            Some(s) if !store::valid_site(s) => Err("invalid site name".into()),
            _ => Ok(self),
        }
    }
}

/// The site of a device key (`SITE/KEY`), if it has one.
pub fn site_of(key: &str) -> Option<&str> {
    key.split_once('/')
        .map(|(s, _)| s)
        .filter(|s| store::valid_site(s))
}

/// Score bands of the risk distribution.
pub const BANDS: [(&str, u8, u8); 6] = [
    ("none", 0, 0),
    ("1-19", 1, 19),
    ("20-39", 20, 39),
    ("40-59", 40, 59),
    ("60-79", 60, 79),
    ("80-100", 80, 100),
];

/// CSS class of a score (`s0`..`s5`).
pub fn score_class(score: u8) -> &'static str {
    match score {
        0 => "s0",
        1..=19 => "s1",
        20..=39 => "s2",
        40..=59 => "s3",
        60..=79 => "s4",
        _ => "s5",
    }
}

/// A label and a count.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    /// Label.
    pub label: String,
    /// Count.
    pub count: usize,
}

/// Fleet-wide figures (overview page, `/api/v1/risk`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    /// All devices.
    pub devices: usize,
    /// Devices in clinical categories.
    pub medical: usize,
    /// Devices with a score above 0.
    pub at_risk: usize,
    /// Open findings over all devices.
    pub findings: usize,
    /// Devices with a matching advisory.
    pub with_advisories: usize,
    /// Devices per category, largest first.
    pub categories: Vec<Count>,
    /// Devices per score band.
    pub distribution: Vec<Count>,
    /// Findings per severity.
    pub severities: Vec<Count>,
    /// Devices per site (multi-site deployments; empty on a single box), by name.
    pub sites: Vec<Count>,
}

/// Computes the overview.
pub fn overview(rows: &[ScoredDevice]) -> Overview {
    let mut cats: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in rows {
        *cats.entry(d.category).or_default() += 1;
    }
    let mut categories: Vec<Count> = cats
        .into_iter()
        .map(|(l, n)| Count {
            label: l.to_string(),
            count: n,
        })
        .collect();
    categories.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.label.cmp(&b.label)));
    let distribution = BANDS
        .iter()
        .map(|(l, lo, hi)| Count {
            label: l.to_string(),
            count: rows
                .iter()
                .filter(|d| (*lo..=*hi).contains(&d.assessment.score))
                .count(),
        })
        .collect();
    let severities = ["critical", "high", "medium", "low"]
        .iter()
        .map(|s| Count {
            label: s.to_string(),
            count: rows
                .iter()
                .flat_map(|d| &d.assessment.factors)
                .filter(|f| f.finding.severity.as_str() == *s)
                .count(),
        })
        .collect();
    let mut sites: std::collections::BTreeMap<&str, usize> = Default::default();
    for d in rows {
        if let Some(s) = site_of(&d.assessment.key) {
            *sites.entry(s).or_default() += 1;
        }
    }
    let sites = sites
        .into_iter()
        .map(|(l, n)| Count {
            label: l.to_string(),
            count: n,
        })
        .collect();
    Overview {
        sites,
        devices: rows.len(),
        medical: rows.iter().filter(|d| d.medical).count(),
        at_risk: rows.iter().filter(|d| d.assessment.score > 0).count(),
        findings: rows.iter().map(|d| d.assessment.factors.len()).sum(),
        with_advisories: rows.iter().filter(|d| !d.advisories.is_empty()).count(),
        categories,
        distribution,
        severities,
    }
}

/// An ISO 8601 time as people read it: `2026-01-05 08:00:01 UTC` (no
/// fractions of a second).
pub fn readable_time(iso: &str) -> String {
    match iso.split_once('T') {
        Some((date, rest)) => {
            let time = rest.trim_end_matches('Z');
            let time = time.split('.').next().unwrap_or(time);
            format!("{date} {time} UTC")
        }
        None => iso.to_string(),
    }
}

/// A count with thousands separators: `12,345`.
pub fn thousands(n: impl std::borrow::Borrow<usize>) -> String {
    let digits = n.borrow().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `s` cut to at most `max` characters at a word boundary, with `…` when
/// cut (a word longer than `max` is cut inside).
pub fn clip_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(i) if i > 0 => head[..i].trim_end(),
        _ => head.as_str(),
    };
    format!("{cut}…")
}

/// CSS class of a CVSS base score (same colours as risk scores).
pub fn cvss_class(cvss: Option<f64>) -> &'static str {
    match cvss {
        Some(c) if c >= 9.0 => "s5",
        Some(c) if c >= 7.0 => "s4",
        Some(c) if c >= 4.0 => "s2",
        Some(_) => "s1",
        None => "s0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_cvss_classes() {
        assert_eq!(
            readable_time("2026-01-05T08:00:01.000000Z"),
            "2026-01-05 08:00:01 UTC"
        );
        assert_eq!(
            readable_time("2026-01-05T08:00:01Z"),
            "2026-01-05 08:00:01 UTC"
        );
        assert_eq!(readable_time("garbage"), "garbage");
        assert_eq!(
            (
                cvss_class(Some(9.8)),
                cvss_class(Some(7.5)),
                cvss_class(Some(4.2)),
                cvss_class(Some(1.0)),
                cvss_class(None)
            ),
            ("s5", "s4", "s2", "s1", "s0")
        );
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(
            [0, 999, 1000, 12_345, 99_999, 1_234_567].map(thousands),
            ["0", "999", "1,000", "12,345", "99,999", "1,234,567"]
        );
    }

    #[test]
    fn clipped_text_ends_at_a_word() {
        assert_eq!(clip_words("Install the update", 100), "Install the update");
        assert_eq!(clip_words("Install the update now", 14), "Install the…");
        assert_eq!(clip_words("Installation", 4), "Inst…");
    }

    #[test]
    fn site_of_keys() {
        assert_eq!(site_of("north/ip:10.0.0.1"), Some("north"));
        assert_eq!(site_of("ip:10.0.0.1"), None);
        assert_eq!(site_of("declared:serial:a/b|S1"), None, "not a site name");
    }
}
