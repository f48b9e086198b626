//! Known vulnerable components: each SBOM component is matched against the
//! imported advisories (CSAF products, NVD CPE configurations, KEV flags)
//! with the advisory crate's [`advisory::match_raw`], under up to three
//! identities — supplier/name/version as written, the CPE's vendor/product/
//! version, and the purl's namespace/name/version — merged once with
//! [`advisory::merge`]: one finding per CVE, the most confident match,
//! listing every source (CSAF, NVD, KEV) behind it.
//!
//! Severity: in the KEV catalog → critical; CVSS ≥ 9 critical, ≥ 7 high,
//! ≥ 4 medium, else low (no score: medium). A match whose version could not
//! be compared (confidence below 0.6) is capped at medium and says so; a
//! vendor-only match (no product name) is not reported at all — an SBOM
//! supplier such as "Microsoft" would otherwise match every advisory.

use crate::sbom::Component;
use crate::{Finding, Severity};
use advisory::nvd::split_cpe;
use advisory::{match_raw, merge, AdvisoryDb, DeviceIdentity, Match, Strength};

/// (vendor, product, version) of a CPE 2.3 name (underscores as spaces;
/// `*`/`-` versions as `None`). CPE 2.2 URIs (`cpe:/a:v:p:ver`) too.
pub(crate) fn cpe_parts(cpe: &str) -> Option<(String, String, Option<String>)> {
    let parts = if let Some(rest) = cpe.strip_prefix("cpe:/") {
        let p: Vec<String> = rest.split(':').map(str::to_string).collect();
        let mut v = vec!["cpe".to_string(), "2.2".into()];
        v.extend(p);
        v
    } else {
        split_cpe(cpe)?
    };
    let get = |i: usize| {
        parts
            .get(i)
            .map(|s| s.replace('_', " "))
            .filter(|s| !s.is_empty() && s != "*" && s != "-")
    };
    Some((get(3)?, get(4)?, get(5)))
}

/// (namespace, name, version) of a purl `pkg:type/namespace/name@version?q#s`.
pub(crate) fn purl_parts(purl: &str) -> Option<(Option<String>, String, Option<String>)> {
    let rest = purl.strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (path, version) = match rest.rsplit_once('@') {
        Some((p, v)) => (p, Some(pct(v)).filter(|v| !v.is_empty())),
        None => (rest, None),
    };
    let mut segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segs.len() < 2 {
        return None;
    }
    let name = pct(segs.pop()?);
    let ns = (segs.len() > 1).then(|| pct(segs[segs.len() - 1]));
    Some((ns, name.replace('_', " "), version))
}

/// Minimal percent-decoding (`%40` → `@`); invalid escapes are kept.
fn pct(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The identities a component is matched under.
pub(crate) fn identities(c: &Component) -> Vec<DeviceIdentity> {
    let mut ids = Vec::new();
    if !c.name.is_empty() {
        ids.push(DeviceIdentity {
            vendor: c.supplier.clone(),
            model: Some(c.name.clone()),
            firmware: c.version.clone(),
        });
    }
    if let Some((v, p, ver)) = c.cpe.as_deref().and_then(cpe_parts) {
        ids.push(DeviceIdentity {
            vendor: Some(v),
            model: Some(p),
            firmware: ver.or_else(|| c.version.clone()),
        });
    }
    if let Some((ns, name, ver)) = c.purl.as_deref().and_then(purl_parts) {
        ids.push(DeviceIdentity {
            vendor: ns.or_else(|| c.supplier.clone()),
            model: Some(name),
            firmware: ver.or_else(|| c.version.clone()),
        });
    }
    ids.dedup();
    ids
}

/// The matches of one component under all its identities, one finding per
/// CVE listing every source ([`advisory::merge`], applied once);
/// vendor-only matches are dropped before merging.
pub fn component_matches(c: &Component, db: &AdvisoryDb) -> Vec<Match> {
    merge(
        identities(c)
            .iter()
            .flat_map(|id| match_raw(id, db))
            .filter(|m| m.strength != Strength::VendorOnly),
    )
}

/// The severity of one match (see the module doc).
pub fn severity(m: &Match) -> Severity {
    let s = if m.kev.is_some() {
        Severity::Critical
    } else {
        match m.cvss {
            Some(c) if c >= 9.0 => Severity::Critical,
            Some(c) if c >= 7.0 => Severity::High,
            Some(c) if c >= 4.0 => Severity::Medium,
            Some(_) => Severity::Low,
            None => Severity::Medium,
        }
    };
    if m.confidence < 0.6 {
        s.min(Severity::Medium)
    } else {
        s
    }
}

/// Findings for every component with known vulnerabilities.
pub fn vulnerability_findings(components: &[Component], db: &AdvisoryDb) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in components {
        for m in component_matches(c, db) {
            let cvss = m
                .cvss
                .map(|c| format!("CVSS {c:.1}"))
                .unwrap_or_else(|| "no CVSS".into());
            let kev = if m.kev.is_some() {
                ", KNOWN EXPLOITED (CISA KEV)"
            } else {
                ""
            };
            let doubt = if m.confidence < 0.6 {
                " — version not comparable, verify"
            } else {
                ""
            };
            let reason = format!(
                "{} ({}, {cvss}{kev}) in {} [{}]: {}; confidence {:.2}{doubt}",
                m.cve,
                m.advisory,
                m.product,
                m.source.as_str(),
                m.reason,
                m.confidence
            );
            let remediation = m
                .remediation
                .as_deref()
                .map(|r| r.chars().take(300).collect::<String>())
                .unwrap_or_else(|| {
                    format!(
                        "ask the vendor for a version not affected by {} or for mitigations",
                        m.cve
                    )
                });
            out.push(Finding::new(
                severity(&m),
                "known-vulnerability",
                c.label(),
                reason,
                remediation,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use advisory::{Advisory, KevEntry, Product, Source, Status, VersionRule, Vulnerability};

    #[test]
    fn identifiers() {
        assert_eq!(
            cpe_parts("cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*"),
            Some(("offis".into(), "dcmtk".into(), Some("3.6.6".into())))
        );
        assert_eq!(
            cpe_parts("cpe:2.3:h:ubiquiti:uap-ac-pro:*:*:*:*:*:*:*:*"),
            Some(("ubiquiti".into(), "uap-ac-pro".into(), None))
        );
        assert_eq!(
            cpe_parts("cpe:/a:openssl:openssl:1.0.2k"),
            Some(("openssl".into(), "openssl".into(), Some("1.0.2k".into())))
        );
        assert_eq!(cpe_parts("nonsense"), None);
        assert_eq!(
            purl_parts("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1?type=jar"),
            Some((
                Some("org.apache.logging.log4j".into()),
                "log4j-core".into(),
                Some("2.14.1".into())
            ))
        );
        assert_eq!(
            purl_parts("pkg:nuget/NLog@4.5.11"),
            Some((None, "NLog".into(), Some("4.5.11".into())))
        );
        assert_eq!(
            purl_parts("pkg:npm/%40angular/core@1.0"),
            Some((Some("@angular".into()), "core".into(), Some("1.0".into())))
        );
        assert_eq!(purl_parts("pkg:x"), None);
        assert_eq!(pct("a%4"), "a%4");
    }

    fn db(cvss: Option<f32>, kev: bool) -> AdvisoryDb {
        let a = Advisory {
            id: "CVE-2022-2119".into(),
            source: Source::Nvd,
            title: "t".into(),
            severity: None,
            revision: "1".into(),
            release_date: "d".into(),
            products: vec![Product {
                id: "cpe-1".into(),
                vendor: "offis".into(),
                name: "dcmtk".into(),
                version_text: "< 3.6.7".into(),
                versions: VersionRule::from_range_text("< 3.6.7"),
                full_name: "cpe".into(),
            }],
            vulnerabilities: vec![Vulnerability {
                cve: "CVE-2022-2119".into(),
                cvss,
                cvss_vector: None,
                status: vec![("cpe-1".into(), Status::Affected)],
                remediations: vec![],
            }],
        };
        let k = KevEntry {
            cve: "CVE-2022-2119".into(),
            vendor: "o".into(),
            product: "d".into(),
            name: "n".into(),
            date_added: "d".into(),
            ransomware: "Unknown".into(),
            due_date: String::new(),
        };
        AdvisoryDb::new(vec![a], if kev { vec![k] } else { vec![] })
    }

    #[test]
    fn matching_by_cpe_and_severity() {
        let c = Component {
            name: "DICOM toolkit".into(),
            version: Some("3.6.6".into()),
            cpe: Some("cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*".into()),
            ..Component::default()
        };
        let f = vulnerability_findings(std::slice::from_ref(&c), &db(Some(7.5), false));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].reason.starts_with("CVE-2022-2119"), "{}", f[0].reason);
        assert_eq!(
            vulnerability_findings(std::slice::from_ref(&c), &db(Some(5.0), true))[0].severity,
            Severity::Critical
        );
        let fixed = Component {
            version: Some("3.6.7".into()),
            cpe: Some("cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*".into()),
            ..c.clone()
        };
        assert!(vulnerability_findings(&[fixed], &db(Some(7.5), false)).is_empty());
        let unknown = Component {
            version: None,
            cpe: Some("cpe:2.3:a:offis:dcmtk:*:*:*:*:*:*:*:*".into()),
            ..c
        };
        let f = vulnerability_findings(&[unknown], &db(Some(9.8), false));
        assert_eq!(f[0].severity, Severity::Medium, "unknown version capped");
    }
}
