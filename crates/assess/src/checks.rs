//! SBOM checks that need no advisory feed: completeness (metadata, versions,
//! identifiers, suppliers, hashes, licenses, dependency graph) and a small,
//! documented table of well-known outdated or unsupported components
//! ([`OUTDATED`]), plus the vendor's own end-of-support properties.

use crate::sbom::{Component, Sbom};
use crate::{Finding, Severity};
use advisory::normalize::fold;
use advisory::{AdvisoryDb, Version};

/// One row of the outdated-component table.
pub struct Outdated {
    /// Folded product names (any of them, as a whole-word run of the component's name, CPE product or purl name).
    pub names: &'static [&'static str],
    /// First version the row applies to (inclusive); `None`: from the start.
    pub from: Option<&'static str>,
    /// First version it no longer applies to; `None`: every version (the product line itself is unsupported).
    pub below: Option<&'static str>,
    /// Severity, raised to critical when one of `cves` is in the KEV catalog of the database.
    pub severity: Severity,
    /// Why.
    pub reason: &'static str,
    /// CVEs behind the reason (looked up in KEV).
    pub cves: &'static [&'static str],
    /// What to ask the vendor for.
    pub remediation: &'static str,
}

/// Well-known components whose versions are end of life or carry famous,
/// exploited vulnerabilities. Deliberately short: every row names its source
/// (vendor end-of-life dates, the CVEs). Extend with care — a row is a claim
/// about every SBOM that lists the product.
pub const OUTDATED: &[Outdated] = &[
    Outdated {
        names: &["openssl"],
        from: None,
        below: Some("1.1.1"),
        severity: Severity::High,
        reason: "OpenSSL before 1.1.1 is end of life (1.0.2 since 2019-12-31, 1.1.0 since 2019-09-11): no public security fixes",
        cves: &["CVE-2014-0160"],
        remediation: "require OpenSSL 3.x (or a vendor-supported LTS build) in the shipped firmware",
    },
    Outdated {
        names: &["openssl"],
        from: Some("1.1.1"),
        below: Some("3.0"),
        severity: Severity::Medium,
        reason: "OpenSSL 1.1.1 is end of life since 2023-09-11",
        cves: &[],
        remediation: "require OpenSSL 3.x or proof of paid extended support",
    },
    Outdated {
        names: &["log4j", "log4j core", "log4j2", "log4j api"],
        from: Some("2.0"),
        below: Some("2.17.1"),
        severity: Severity::High,
        reason: "Log4j 2 before 2.17.1 is affected by Log4Shell and its follow-ups (CVE-2021-44228, CVE-2021-45046, CVE-2021-44832)",
        cves: &["CVE-2021-44228", "CVE-2021-45046"],
        remediation: "require Log4j 2.17.1 or later (2.12.4 / 2.3.2 for old Java)",
    },
    Outdated {
        names: &["log4j"],
        from: None,
        below: Some("2.0"),
        severity: Severity::High,
        reason: "Log4j 1.x is end of life since 2015 (CVE-2019-17571, CVE-2022-23305)",
        cves: &[],
        remediation: "require migration to Log4j 2.17.1+ or reload4j",
    },
    Outdated {
        names: &["log4net"],
        from: None,
        below: Some("2.0.10"),
        severity: Severity::High,
        reason: "log4net before 2.0.10 allows XML external entity attacks (CVE-2018-1285, CVSS 9.8)",
        cves: &["CVE-2018-1285"],
        remediation: "require log4net 2.0.10 or later",
    },
    Outdated {
        names: &["jquery"],
        from: None,
        below: Some("3.5.0"),
        severity: Severity::Medium,
        reason: "jQuery before 3.5.0 has cross-site scripting flaws in its HTML handling (CVE-2020-11022, CVE-2020-11023)",
        cves: &["CVE-2020-11023", "CVE-2020-11022"],
        remediation: "require jQuery 3.5.0 or later",
    },
    Outdated {
        names: &["windows xp", "windows vista", "windows 7", "windows server 2003", "windows server 2008", "windows embedded standard 7", "windows 8"],
        from: None,
        below: None,
        severity: Severity::High,
        reason: "this Windows release is past Microsoft's end of support (XP 2014, Vista 2017, 7 / Server 2008 2020, 8 2016)",
        cves: &["CVE-2019-0708", "CVE-2017-0144"],
        remediation: "require a supported Windows (10/11 IoT Enterprise LTSC) or a documented compensating-controls plan",
    },
    Outdated {
        names: &["windows 10"],
        from: None,
        below: None,
        severity: Severity::Medium,
        reason: "Windows 10 (non-LTSC) reached end of support on 2025-10-14",
        cves: &[],
        remediation: "ask for Windows 10/11 IoT Enterprise LTSC or the ESU plan",
    },
];

/// Folded names a component goes by: its name, CPE product and purl name.
pub(crate) fn names_of(c: &Component) -> Vec<String> {
    let mut out = vec![fold(&c.name)];
    if let Some(p) = c.cpe.as_deref().and_then(crate::vulns::cpe_parts) {
        out.push(fold(&p.1));
    }
    if let Some(p) = c.purl.as_deref().and_then(crate::vulns::purl_parts) {
        out.push(fold(&p.1));
    }
    out.retain(|s| !s.is_empty());
    out.dedup();
    out
}

fn has_run(hay: &str, needle: &str) -> bool {
    let h: Vec<&str> = hay.split(' ').collect();
    let n: Vec<&str> = needle.split(' ').collect();
    n.len() <= h.len() && h.windows(n.len()).any(|w| w == n.as_slice())
}

fn outdated_findings(c: &Component, db: Option<&AdvisoryDb>, out: &mut Vec<Finding>) {
    let names = names_of(c);
    let version = c.version.as_deref().and_then(Version::parse);
    for row in OUTDATED {
        // Windows rows name the release in the product name itself.
        let hit = row.names.iter().any(|n| {
            names.iter().any(|h| {
                if row.below.is_none() {
                    has_run(h, n)
                } else {
                    h == n
                }
            })
        });
        if !hit {
            continue;
        }
        let in_range = match (row.from, row.below) {
            (_, None) if row.from.is_none() => true,
            _ => {
                let Some(v) = &version else { continue };
                let ge = row.from.and_then(Version::parse).is_none_or(|f| *v >= f);
                let lt = row.below.and_then(Version::parse).is_none_or(|b| *v < b);
                ge && lt
            }
        };
        if !in_range {
            continue;
        }
        let kev: Vec<&str> = row
            .cves
            .iter()
            .copied()
            .filter(|cve| db.is_some_and(|d| d.kev(cve).is_some()))
            .collect();
        let (severity, reason) = if kev.is_empty() {
            (row.severity, row.reason.to_string())
        } else {
            (
                Severity::Critical,
                format!(
                    "{}; known exploited (CISA KEV): {}",
                    row.reason,
                    kev.join(", ")
                ),
            )
        };
        out.push(Finding::new(
            severity,
            "outdated-component",
            c.label(),
            reason,
            row.remediation,
        ));
        return;
    }
}

/// What the vendor itself says about support, from CycloneDX properties such
/// as `End-of-Support` / `Level of Support` (the FDA premarket SBOM examples use these).
fn support_findings(c: &Component, out: &mut Vec<Finding>) {
    for (k, v) in &c.properties {
        let (k, v) = (fold(k), fold(v));
        let about_support = k.contains("support") || k.contains("end of life") || k == "eol";
        if !about_support {
            continue;
        }
        let unsupported = [
            "no longer supported",
            "unsupported",
            "end of life",
            "deprecated",
            "eol",
            "obsolete",
        ]
        .iter()
        .any(|w| has_run(&v, w));
        if unsupported {
            out.push(Finding::new(
                Severity::Medium,
                "unsupported-component",
                c.label(),
                format!("the SBOM states {k}: {v}"),
                "ask the vendor for a supported replacement or a support commitment covering the device's service life",
            ));
            return;
        }
        if v == "inactive" {
            out.push(Finding::new(
                Severity::Low,
                "unsupported-component",
                c.label(),
                format!("the SBOM states {k}: inactive (no recent maintenance)"),
                "ask how the vendor will obtain security fixes for this component",
            ));
            return;
        }
    }
}

/// Completeness and outdated-component findings of one SBOM.
pub fn sbom_findings(sbom: &Sbom, db: Option<&AdvisoryDb>) -> Vec<Finding> {
    let mut out = Vec::new();
    let m = &sbom.metadata;
    let doc = "SBOM metadata".to_string();
    if m.timestamp.is_none() && m.authors.is_empty() && m.tools.is_empty() {
        out.push(Finding::new(
            Severity::Medium,
            "sbom-metadata",
            doc.clone(),
            "no metadata: no timestamp, authors or tool",
            "ask for an SBOM meeting the NTIA minimum elements (author, timestamp)",
        ));
    } else {
        for (missing, what) in [
            (m.timestamp.is_none(), "timestamp"),
            (m.authors.is_empty(), "authors"),
            (m.tools.is_empty(), "generating tool"),
        ] {
            if missing {
                out.push(Finding::new(
                    Severity::Low,
                    "sbom-metadata",
                    doc.clone(),
                    format!("metadata has no {what}"),
                    "ask the vendor to state it",
                ));
            }
        }
    }
    if sbom.components.is_empty() {
        out.push(Finding::new(
            Severity::High,
            "sbom-empty",
            doc,
            "the SBOM lists no components",
            "ask for a complete SBOM of the shipped software and firmware",
        ));
        return out;
    }
    if sbom.dependency_edges == 0 && sbom.components.len() > 1 {
        out.push(Finding::new(
            Severity::Low,
            "no-dependency-graph",
            doc.clone(),
            "the SBOM has no dependency relationships",
            "ask for the dependency graph (NTIA minimum element)",
        ));
    }
    for c in &sbom.components {
        let label = if c.name.is_empty() {
            "(unnamed component)".to_string()
        } else {
            c.label()
        };
        if c.name.is_empty() {
            out.push(Finding::new(
                Severity::Medium,
                "missing-name",
                label.clone(),
                "component has no name",
                "ask the vendor to name every component",
            ));
        }
        if c.version.is_none() {
            out.push(Finding::new(
                Severity::Medium,
                "missing-version",
                label.clone(),
                "no version: vulnerabilities cannot be matched",
                "ask the vendor for the exact version shipped",
            ));
        }
        if c.purl.is_none() && c.cpe.is_none() {
            out.push(Finding::new(
                Severity::Medium,
                "missing-identifier",
                label.clone(),
                "neither purl nor CPE",
                "ask for a purl or CPE so the component can be tracked in vulnerability feeds",
            ));
        }
        if c.supplier.is_none() {
            out.push(Finding::new(
                Severity::Low,
                "missing-supplier",
                label.clone(),
                "no supplier, publisher or author",
                "ask the vendor to name the supplier",
            ));
        }
        outdated_findings(c, db, &mut out);
        support_findings(c, &mut out);
    }
    // Hashes and licenses: one finding each for the whole SBOM (per component it is noise).
    for (check, missing, what, sev, fix) in [
        (
            "no-hashes",
            sbom.components
                .iter()
                .filter(|c| !c.has_hashes)
                .collect::<Vec<_>>(),
            "hashes",
            Severity::Low,
            "ask for component hashes so shipped binaries can be verified",
        ),
        (
            "no-licenses",
            sbom.components.iter().filter(|c| !c.has_licenses).collect(),
            "licenses",
            Severity::Info,
            "ask for license information",
        ),
    ] {
        if missing.is_empty() {
            continue;
        }
        let some: Vec<String> = missing.iter().take(3).map(|c| c.label()).collect();
        let more = if missing.len() > 3 { ", …" } else { "" };
        out.push(Finding::new(
            sev,
            check,
            format!("{} of {} components", missing.len(), sbom.components.len()),
            format!("no {what} ({}{more})", some.join(", ")),
            fix,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{Metadata, SbomFormat};

    fn comp(name: &str, version: Option<&str>) -> Component {
        Component {
            name: name.into(),
            version: version.map(Into::into),
            supplier: Some("x".into()),
            purl: Some("pkg:generic/x".into()),
            has_hashes: true,
            has_licenses: true,
            ..Component::default()
        }
    }

    fn sbom(components: Vec<Component>) -> Sbom {
        let metadata = Metadata {
            timestamp: Some("t".into()),
            authors: vec!["a".into()],
            tools: vec!["t".into()],
            ..Metadata::default()
        };
        Sbom {
            format: SbomFormat::CycloneDx("1.5".into()),
            metadata,
            components,
            dependency_edges: 3,
        }
    }

    fn checks(f: &[Finding]) -> Vec<(&str, Severity)> {
        f.iter().map(|f| (f.check.as_str(), f.severity)).collect()
    }

    #[test]
    fn outdated_table() {
        let f = sbom_findings(
            &sbom(vec![
                comp("OpenSSL", Some("1.0.2k")),
                comp("openssl", Some("3.0.13")),
                comp("openssl", Some("1.1.1w")),
            ]),
            None,
        );
        assert_eq!(
            checks(&f),
            [
                ("outdated-component", Severity::High),
                ("outdated-component", Severity::Medium)
            ]
        );
        let f = sbom_findings(
            &sbom(vec![
                comp("log4j-core", Some("2.14.1")),
                comp("log4j-core", Some("2.17.1")),
                comp("Microsoft Windows 7 Embedded", None),
            ]),
            None,
        );
        let c = checks(&f);
        assert!(
            c.contains(&("outdated-component", Severity::High))
                && c.iter().filter(|x| x.0 == "outdated-component").count() == 2,
            "{c:?}"
        );
        assert!(f.iter().any(
            |f| f.subject == "Microsoft Windows 7 Embedded" && f.check == "outdated-component"
        ));
        // A version that does not parse is not guessed at.
        assert!(checks(&sbom_findings(
            &sbom(vec![comp("openssl", Some("unknown"))]),
            None
        ))
        .is_empty());
    }

    #[test]
    fn completeness() {
        let mut bare = Component {
            name: "blob".into(),
            ..Component::default()
        };
        bare.properties
            .push(("End-of-Support".into(), "No longer supported".into()));
        let mut s = sbom(vec![bare, comp("ok", Some("1"))]);
        s.metadata = Metadata::default();
        s.dependency_edges = 0;
        let f = sbom_findings(&s, None);
        let c = checks(&f);
        for want in [
            "sbom-metadata",
            "no-dependency-graph",
            "missing-version",
            "missing-identifier",
            "missing-supplier",
            "unsupported-component",
            "no-hashes",
            "no-licenses",
        ] {
            assert!(c.iter().any(|x| x.0 == want), "{want} missing in {c:?}");
        }
        let f = sbom_findings(&sbom(vec![]), None);
        let c = checks(&f);
        assert!(c.contains(&("sbom-empty", Severity::High)));
    }
}
