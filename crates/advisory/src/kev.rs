//! The CISA Known Exploited Vulnerabilities catalog (JSON, schema v1:
//! `catalogVersion`, `vulnerabilities[]` with `cveID`, `vendorProject`,
//! `product`, `vulnerabilityName`, `dateAdded`, `knownRansomwareCampaignUse`).

use crate::bounded::{List, Str, MANY, NAME, SHORT};
use crate::model::{is_cve_id, is_iso_date, KevCatalog, KevEntry};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Catalog {
    catalog_version: Str<SHORT>,
    vulnerabilities: List<Entry, MANY>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    #[serde(rename = "cveID")]
    cve_id: Str<SHORT>,
    vendor_project: Str<NAME>,
    product: Str<NAME>,
    #[serde(default)]
    vulnerability_name: Str<NAME>,
    date_added: Str<SHORT>,
    #[serde(default)]
    known_ransomware_campaign_use: Str<SHORT>,
    #[serde(default)]
    due_date: Str<SHORT>,
}

/// Parses a KEV catalog.
pub(crate) fn parse(bytes: &[u8]) -> Result<KevCatalog, String> {
    let c: Catalog = crate::bounded::from_json(bytes)?;
    let mut entries = Vec::with_capacity(c.vulnerabilities.0.len());
    for (i, e) in c.vulnerabilities.0.into_iter().enumerate() {
        let cve = e.cve_id.0.trim().to_string();
        if !is_cve_id(&cve) {
            return Err(format!(
                "vulnerabilities[{i}].cveID: {cve:?} is not a CVE id"
            ));
        }
        let date = e.date_added.0.trim();
        if !is_iso_date(date) {
            return Err(format!(
                "vulnerabilities[{i}].dateAdded: {date:?} is not a date (YYYY-MM-DD)"
            ));
        }
        let due = e.due_date.0.trim();
        if !due.is_empty() && !is_iso_date(due) {
            return Err(format!(
                "vulnerabilities[{i}].dueDate: {due:?} is not a date (YYYY-MM-DD)"
            ));
        }
        entries.push(KevEntry {
            cve,
            vendor: e.vendor_project.0,
            product: e.product.0,
            name: e.vulnerability_name.0,
            date_added: date.to_string(),
            ransomware: e.known_ransomware_campaign_use.0,
            due_date: due.to_string(),
        });
    }
    Ok(KevCatalog {
        version: c.catalog_version.0,
        entries,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_ids() {
        let j = r#"{"title":"t","catalogVersion":"2025.08.25","count":1,"vulnerabilities":[
          {"cveID":"CVE-2025-48384","vendorProject":"Git","product":"Git","vulnerabilityName":"n","dateAdded":"2025-08-25","dueDate":"2025-09-15","knownRansomwareCampaignUse":"Unknown","cwes":[]}]}"#;
        let c = parse(j.as_bytes()).unwrap();
        assert_eq!(c.entries[0].cve, "CVE-2025-48384");
        assert_eq!(c.version, "2025.08.25");
        assert_eq!(c.entries[0].due_date, "2025-09-15");
        let none = parse(j.replace(r#""dueDate":"2025-09-15","#, "").as_bytes()).unwrap();
        assert_eq!(
            none.entries[0].due_date, "",
            "an older catalog without due dates"
        );
        let e = parse(j.replace("2025-09-15", "soon").as_bytes()).unwrap_err();
        assert_eq!(
            e,
            r#"vulnerabilities[0].dueDate: "soon" is not a date (YYYY-MM-DD)"#
        );
        let e = parse(j.replace("CVE-2025-48384", "bogus").as_bytes()).unwrap_err();
        assert_eq!(e, r#"vulnerabilities[0].cveID: "bogus" is not a CVE id"#);
        // Issue 19, item 8: dates are dates.
        for bad in ["yesterday", "2025-02-30", ""] {
            let e = parse(
                j.replace(
                    r#""dateAdded":"2025-08-25""#,
                    &format!(r#""dateAdded":"{bad}""#),
                )
                .as_bytes(),
            )
            .unwrap_err();
            assert_eq!(
                e,
                format!("vulnerabilities[0].dateAdded: {bad:?} is not a date (YYYY-MM-DD)")
            );
        }
        let e = parse(
            j.replace(r#""dateAdded":"2025-08-25""#, r#""dateAdded":[]"#)
                .as_bytes(),
        )
        .unwrap_err();
        assert!(
            e.starts_with("vulnerabilities[0].dateAdded: invalid type: sequence"),
            "{e}"
        );
    }
}
