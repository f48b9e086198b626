//! Procurement checks for Ward: evaluate a vendor's documents *before*
//! purchase, as a verdict with reasons.
//!
//! * SBOMs ([`sbom`]): CycloneDX JSON and SPDX 2.x JSON → components →
//!   known vulnerable components against the imported advisories ([`vulns`]),
//!   completeness and well-known outdated components ([`checks`]).
//! * MDS2 forms ([`mds2`]): the xlsx answers against a hospital baseline.
//!
//! [`parse_document`] reads and validates (no advisory data needed, so a
//! caller can reject bad input before touching any database);
//! [`evaluate`] turns a document into a [`Report`]: findings, each with a
//! severity, subject, reason and remediation, and a [`Verdict`] — FAIL when
//! any finding is high or critical, PASS WITH FINDINGS when any is medium or
//! low, PASS otherwise.
//!
//! **Hostile input.** Vendor documents are hostile input: no panics; file
//! size, strings, lists and cells are bounded; every error is one line naming
//! the file and the problem (with the JSON path where there is one). No I/O:
//! callers hand over bytes.

pub mod checks;
pub mod mds2;
pub mod sbom;
pub mod vulns;

use advisory::AdvisoryDb;
use serde::{Deserialize, Serialize};

/// Largest document accepted.
pub const MAX_FILE_BYTES: usize = 32 << 20;

/// A document that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed: `problem` says what and where.
    #[error("{file}: {problem}")]
    Invalid {
        /// File name as given.
        file: String,
        /// What is wrong, and where.
        problem: String,
    },
    /// None of the supported formats.
    #[error("{file}: not a CycloneDX or SPDX JSON SBOM, nor an MDS2 xlsx form ({what})")]
    Unrecognised {
        /// File name as given.
        file: String,
        /// What it looks like instead.
        what: String,
    },
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("{file}: {size} bytes is larger than the limit of {MAX_FILE_BYTES}")]
    TooLarge {
        /// File name as given.
        file: String,
        /// Its size.
        size: usize,
    },
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For the record.
    Info,
    /// Worth asking about.
    Low,
    /// Must be answered before purchase.
    Medium,
    /// Fails the document.
    High,
    /// Fails the document: known exploited or CVSS ≥ 9.
    Critical,
}

impl Severity {
    /// Upper-case name for tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Which check (`known-vulnerability`, `missing-version`, `mds2-baseline`, …).
    pub check: String,
    /// The component (`name version`), MDS2 question ID, or document part.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// What to ask the vendor for.
    pub remediation: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        severity: Severity,
        check: &str,
        subject: impl Into<String>,
        reason: impl Into<String>,
        remediation: impl Into<String>,
    ) -> Finding {
        Finding {
            severity,
            check: check.to_string(),
            subject: subject.into(),
            reason: reason.into(),
            remediation: remediation.into(),
        }
    }
}

/// The verdict on one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No findings above info.
    Pass,
    /// Medium or low findings only.
    PassWithFindings,
    /// A high or critical finding.
    Fail,
}

impl Verdict {
    /// From the findings (see the crate doc).
    pub fn of(findings: &[Finding]) -> Verdict {
        match findings.iter().map(|f| f.severity).max() {
            Some(Severity::High | Severity::Critical) => Verdict::Fail,
            Some(Severity::Medium | Severity::Low) => Verdict::PassWithFindings,
            _ => Verdict::Pass,
        }
    }

    /// `PASS`, `PASS WITH FINDINGS`, `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::PassWithFindings => "PASS WITH FINDINGS",
            Verdict::Fail => "FAIL",
        }
    }
}

/// A parsed vendor document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// An SBOM.
    Sbom(sbom::Sbom),
    /// An MDS2 form.
    Mds2(mds2::Mds2),
}

/// Counts describing the document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Components (SBOM).
    pub components: usize,
    /// Dependency edges (SBOM).
    pub dependency_edges: usize,
    /// Questions read (MDS2).
    pub questions: usize,
    /// What the document describes (SBOM subject, or MDS2 manufacturer and model).
    pub subject: Option<String>,
    /// Whether advisories were available for matching.
    pub advisories_checked: bool,
}

/// The assessment of one document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// File name as given.
    pub file: String,
    /// `CycloneDX 1.4`, `SPDX-2.3`, `MDS2`.
    pub kind: String,
    /// Counts.
    pub summary: Summary,
    /// Verdict.
    pub verdict: Verdict,
    /// Findings, most severe first.
    pub findings: Vec<Finding>,
}

/// Reads a document, detecting its kind by content.
pub fn parse_document(name: &str, bytes: &[u8]) -> Result<Document, Error> {
    let invalid = |problem: String| Error::Invalid {
        file: name.to_string(),
        problem,
    };
    let unrecognised = |what: &str| Error::Unrecognised {
        file: name.to_string(),
        what: what.to_string(),
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::TooLarge {
            file: name.to_string(),
            size: bytes.len(),
        });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return mds2::parse(bytes).map(Document::Mds2).map_err(invalid);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(unrecognised(
            "a legacy .xls workbook: save the MDS2 as .xlsx",
        ));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = body
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| body[i]);
    match first {
        Some(b'{') => {
            let kind = sbom::sniff(body).map_err(invalid)?;
            if matches!(kind, sbom::JsonKind::Other) {
                return Err(unrecognised(
                    "JSON without bomFormat/specVersion or spdxVersion",
                ));
            }
            sbom::parse(kind, body).map(Document::Sbom).map_err(invalid)
        }
        Some(b'<') => {
            let head = String::from_utf8_lossy(&body[..body.len().min(4096)]).to_ascii_lowercase();
            if head.contains("cyclonedx") {
                Err(unrecognised(
                    "CycloneDX XML is not supported yet: ask for the JSON form",
                ))
            } else {
                Err(unrecognised("XML or HTML"))
            }
        }
        None => Err(invalid("empty file".into())),
        Some(_)
            if std::str::from_utf8(&body[..body.len().min(4096)]).is_err()
                || body.iter().take(4096).any(|&b| b == 0) =>
        {
            Err(unrecognised("binary content"))
        }
        Some(_) => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(unrecognised("JSON that is not an object")),
            Err(_) => Err(unrecognised("text that is not JSON")),
        },
    }
}

/// Evaluates a document; `db` holds the imported advisories (`None`: the
/// vulnerability check is skipped and an info finding says so).
pub fn evaluate(name: &str, doc: &Document, db: Option<&AdvisoryDb>) -> Report {
    let (kind, summary, mut findings) = match doc {
        Document::Sbom(s) => {
            let mut f = checks::sbom_findings(s, db);
            match db {
                Some(db) => f.extend(vulns::vulnerability_findings(&s.components, db)),
                None => f.push(Finding::new(
                    Severity::Info,
                    "no-advisories",
                    "vulnerabilities",
                    "no advisory database: known-vulnerability matching was not performed",
                    "run `ward feeds import` and assess again",
                )),
            }
            let summary = Summary {
                components: s.components.len(),
                dependency_edges: s.dependency_edges,
                questions: 0,
                subject: s.metadata.subject.clone(),
                advisories_checked: db.is_some(),
            };
            (s.format.to_string(), summary, f)
        }
        Document::Mds2(m) => {
            let subject = match (&m.manufacturer, &m.model) {
                (None, None) => None,
                (a, b) => Some(
                    [a.as_deref(), b.as_deref()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" / "),
                ),
            };
            let summary = Summary {
                questions: m.questions.len(),
                subject,
                ..Summary::default()
            };
            ("MDS2".to_string(), summary, mds2::findings(m))
        }
    };
    // Most severe first; stable, so the document's order is kept within a severity.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Report {
        file: name.to_string(),
        kind,
        summary,
        verdict: Verdict::of(&findings),
        findings,
    }
}

/// [`parse_document`] then [`evaluate`].
pub fn assess(name: &str, bytes: &[u8], db: Option<&AdvisoryDb>) -> Result<Report, Error> {
    Ok(evaluate(name, &parse_document(name, bytes)?, db))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn testdata() -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/sbom");
        if p.is_dir() {
            Some(p)
        } else {
            eprintln!("skipping: {} not found", p.display());
            None
        }
    }

    #[test]
    fn detection_and_one_line_errors() {
        let e = |b: &[u8]| parse_document("f", b).unwrap_err().to_string();
        assert_eq!(e(b""), "f: empty file");
        assert!(
            e(b"\x00\x01\x02\xff").contains("binary content"),
            "{}",
            e(b"\x00\x01\xff")
        );
        assert!(e(b"[1]").contains("JSON that is not an object"));
        assert!(e(b"{\"a\":1}").contains("without bomFormat"));
        assert!(e(b"<bom xmlns=\"http://cyclonedx.org/schema/bom/1.5\">").contains("CycloneDX XML"));
        assert!(e(b"{\"bomFormat\":\"CycloneDX\",").starts_with("f: invalid JSON"));
        assert!(e(b"PK\x03\x04junk").starts_with("f: not a readable xlsx"));
        for msg in [
            e(b"{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.4\",\"components\":{}}"),
            e(b"\xD0\xCF\x11\xE0"),
        ] {
            assert!(!msg.contains('\n'), "{msg}");
        }
    }

    #[test]
    fn verdicts() {
        let f = |s| Finding::new(s, "x", "s", "r", "m");
        assert_eq!(Verdict::of(&[]), Verdict::Pass);
        assert_eq!(Verdict::of(&[f(Severity::Info)]), Verdict::Pass);
        assert_eq!(
            Verdict::of(&[f(Severity::Low), f(Severity::Medium)]),
            Verdict::PassWithFindings
        );
        assert_eq!(
            Verdict::of(&[f(Severity::Low), f(Severity::High)]),
            Verdict::Fail
        );
    }

    #[test]
    fn real_sboms() {
        let Some(dir) = testdata() else { return };
        for (file, n) in [
            ("sbom-completeness_extended.sbom.json", 65),
            ("sbom-completeness_narrow.sbom.json", 55),
        ] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let r = assess(file, &bytes, None).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(r.kind, "CycloneDX 1.4");
            assert_eq!(r.summary.components, n);
            let has = |check: &str, subject: &str| {
                r.findings
                    .iter()
                    .any(|f| f.check == check && f.subject.starts_with(subject))
            };
            assert!(
                has("no-hashes", &format!("{n} of {n}")),
                "{:#?}",
                r.findings
            );
            assert!(has("sbom-metadata", "SBOM metadata"), "no tool in metadata");
            assert!(
                has("outdated-component", "jQuery 3.1.1")
                    && has("outdated-component", "log4net 2.0.8")
            );
            assert!(has("unsupported-component", "FluentValidationNA"));
            assert_eq!(r.verdict, Verdict::Fail, "log4net 2.0.8 is high");
        }
    }
}
