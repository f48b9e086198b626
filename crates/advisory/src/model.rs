//! The normalised feed model every parser produces and the store keeps:
//! [`Advisory`] (a CSAF document or one NVD CVE record) with its flattened
//! [`Product`]s and [`Vulnerability`]s, and [`KevEntry`] from the CISA KEV
//! catalog. Plain data, serialisable (the store keeps advisories as JSON).

use crate::version::VersionRule;
use serde::{Deserialize, Serialize};

/// Where an advisory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// A CSAF 2.0 document (vendor or CISA advisory).
    Csaf,
    /// An NVD CVE API 2.0 record.
    Nvd,
}

impl Source {
    /// Short lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Csaf => "csaf",
            Source::Nvd => "nvd",
        }
    }
}

/// One advisory: a CSAF document, or an NVD record (id = CVE id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// Tracking id (`ICSMA-22-174-01`) or CVE id for NVD.
    pub id: String,
    /// Source format.
    pub source: Source,
    /// Title (CSAF) or the first English description's start (NVD).
    pub title: String,
    /// CSAF aggregate severity text, when given.
    pub severity: Option<String>,
    /// Revision: CSAF `tracking.version`, NVD `lastModified`.
    pub revision: String,
    /// CSAF `current_release_date`, NVD `lastModified`.
    pub release_date: String,
    /// Products, flattened from the product tree or the CPE configurations.
    pub products: Vec<Product>,
    /// Vulnerabilities.
    pub vulnerabilities: Vec<Vulnerability>,
}

/// One product entry: vendor, product name and a version rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Product {
    /// CSAF product id (`CSAFPID-0001`) or `cpe-N` for NVD.
    pub id: String,
    /// Vendor as written (empty when the advisory does not say).
    pub vendor: String,
    /// Product name as written.
    pub name: String,
    /// The version text as written (branch name, CPE version and bounds).
    pub version_text: String,
    /// The rule read from it.
    pub versions: VersionRule,
    /// The full product name or CPE string.
    pub full_name: String,
}

/// How a product stands with respect to one CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Affected (CSAF known_affected, first_affected, last_affected; NVD vulnerable).
    Affected,
    /// A fixed version (CSAF fixed, first_fixed).
    Fixed,
    /// Not affected (CSAF known_not_affected).
    NotAffected,
}

/// A remediation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remediation {
    /// CSAF category (`vendor_fix`, `mitigation`, `workaround`, …).
    pub category: String,
    /// What to do.
    pub details: String,
    /// Where to get it.
    pub url: Option<String>,
    /// Products it applies to (empty: all).
    pub product_ids: Vec<String>,
}

/// One vulnerability of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vulnerability {
    /// CVE id (`CVE-2022-2119`); CSAF entries without one get `id#N`.
    pub cve: String,
    /// Highest CVSS v3.x base score given.
    pub cvss: Option<f32>,
    /// Its vector.
    pub cvss_vector: Option<String>,
    /// Product ids and their status.
    pub status: Vec<(String, Status)>,
    /// Remediations.
    pub remediations: Vec<Remediation>,
}

/// One entry of the CISA Known Exploited Vulnerabilities catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevEntry {
    /// CVE id.
    pub cve: String,
    /// `vendorProject`.
    pub vendor: String,
    /// `product`.
    pub product: String,
    /// `vulnerabilityName`.
    pub name: String,
    /// `dateAdded` (YYYY-MM-DD).
    pub date_added: String,
    /// `knownRansomwareCampaignUse` ("Known" / "Unknown").
    pub ransomware: String,
    /// `dueDate` (YYYY-MM-DD): when US federal agencies must have remediated
    /// it; a remediation item's due date. Empty when the catalog has none.
    #[serde(default)]
    pub due_date: String,
}

/// A parsed KEV catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KevCatalog {
    /// `catalogVersion`.
    pub version: String,
    /// Entries.
    pub entries: Vec<KevEntry>,
}

/// Whether `s` looks like a CVE id (`CVE-YYYY-NNNN…`).
pub fn is_cve_id(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (4..=12).contains(&num.len())
        && num.bytes().all(|b| b.is_ascii_digit())
}

/// True when `s` is a calendar date `YYYY-MM-DD` (ISO 8601, as the KEV
/// catalog writes `dateAdded`), year 1970–9999, a day that exists in its
/// month. Dates order feed entries, so free text ("yesterday") is refused.
pub fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1970 && (1..=days).contains(&d)
}

#[cfg(test)]
mod date_tests {
    use super::is_iso_date;

    #[test]
    fn calendar_dates_only() {
        for ok in ["2025-08-25", "2024-02-29", "2000-02-29", "1999-12-31"] {
            assert!(is_iso_date(ok), "{ok}");
        }
        for bad in [
            "yesterday",
            "",
            "2025-8-25",
            "2025-13-01",
            "2025-00-10",
            "2025-02-29",
            "1900-02-29",
            "2025-04-31",
            "2025-08-25T00:00:00Z",
            "+025-08-25",
            "2025-08-2a",
            "1969-12-31",
        ] {
            assert!(!is_iso_date(bad), "{bad}");
        }
    }
}
