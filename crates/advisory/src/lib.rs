//! Vulnerability feeds for Ward: parsers for CSAF 2.0 advisories, the CISA
//! KEV catalog, NVD CVE API 2.0 records, FIRST EPSS scores and openFDA
//! device recalls ([`parse_feed`] detects which by content), version rules and messy firmware versions ([`version`]), vendor
//! and model normalisation ([`normalize`]), and matching a device against
//! everything known ([`match_device`]).
//!
//! **Hostile input.** Feed files come from the internet. Parsing never
//! panics; files larger than [`MAX_FILE_BYTES`], strings and lists beyond
//! fixed limits, nesting beyond serde_json's recursion limit are errors. Every
//! error is one line naming the file and, where it applies, the JSON path:
//! `icsma-x.json: vulnerabilities[3].cve: invalid type: integer …`.
//!
//! No I/O here: callers read files and hand over bytes.

pub mod bounded;
pub mod csaf;
pub mod epss;
pub mod kev;
pub mod knowledge;
pub mod matching;
pub mod model;
pub mod names;
pub mod normalize;
pub mod nvd;
pub mod recall;
pub mod version;

pub use epss::{EpssCatalog, EpssScore};
pub use matching::{
    match_device, match_identities, match_raw, merge, observed_identities, AdvisoryDb,
    DeviceIdentity, Match, Strength,
};
pub use model::{
    Advisory, KevCatalog, KevEntry, Product, Remediation, Source, Status, Vulnerability,
};
pub use recall::Recall;
pub use version::{CompiledRule, Verdict, Version, VersionRule};

use serde::Deserialize;

/// Largest feed file accepted (the NVD full-year files are ~50 MB at most
/// once split per API page; CSAF and KEV files are a few MB).
pub const MAX_FILE_BYTES: usize = 64 << 20;

/// A feed file that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is malformed; `problem` names the JSON path where possible.
    #[error("{file}: {problem}")]
    Invalid {
        /// File name as given.
        file: String,
        /// What is wrong, and where.
        problem: String,
    },
    /// The file is valid JSON but none of the supported formats.
    #[error("{file}: not a CSAF 2.0 advisory, KEV catalog, NVD CVE 2.0 record, EPSS CSV or openFDA recall file")]
    Unrecognised {
        /// File name as given.
        file: String,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{file}: {size} bytes is larger than the limit of {MAX_FILE_BYTES}")]
    TooLarge {
        /// File name as given.
        file: String,
        /// Its size.
        size: usize,
    },
}

/// What a feed file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Feed {
    /// One CSAF advisory.
    Csaf(Advisory),
    /// NVD records (one, or an API page).
    Nvd(Vec<Advisory>),
    /// The KEV catalog.
    Kev(KevCatalog),
    /// FIRST EPSS scores (the daily CSV).
    Epss(EpssCatalog),
    /// openFDA device recalls or enforcement reports.
    Recalls(Vec<Recall>),
}

impl Feed {
    /// `csaf`, `nvd` or `kev`.
    pub fn kind(&self) -> &'static str {
        match self {
            Feed::Csaf(_) => "csaf",
            Feed::Nvd(_) => "nvd",
            Feed::Kev(_) => "kev",
            Feed::Epss(_) => "epss",
            Feed::Recalls(_) => "recall",
        }
    }

    /// Number of advisories, records or KEV entries.
    pub fn items(&self) -> usize {
        match self {
            Feed::Csaf(_) => 1,
            Feed::Nvd(v) => v.len(),
            Feed::Kev(k) => k.entries.len(),
            Feed::Epss(e) => e.scores.len(),
            Feed::Recalls(r) => r.len(),
        }
    }
}

/// A parsed feed file.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedFile {
    /// Name as given.
    pub name: String,
    /// SHA-256 of the bytes, lower-case hex.
    pub sha256: String,
    /// Size.
    pub bytes: usize,
    /// Content.
    pub feed: Feed,
}

/// Top-level keys that tell the formats apart.
#[derive(Deserialize)]
struct Sniff {
    #[serde(default)]
    document: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "catalogVersion")]
    catalog_version: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    format: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    vulnerabilities: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    id: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    configurations: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    descriptions: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    results: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    meta: Option<serde::de::IgnoredAny>,
}

/// Parses a feed file, detecting its format by content.
pub fn parse_feed(name: &str, bytes: &[u8]) -> Result<FeedFile, Error> {
    let invalid = |problem: String| Error::Invalid {
        file: name.to_string(),
        problem,
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Error::TooLarge {
            file: name.to_string(),
            size: bytes.len(),
        });
    }
    // A UTF-8 byte order mark (Windows tools write one) is not part of the JSON.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let first = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map(|i| bytes[i]);
    if epss::looks_like(bytes) {
        let feed = Feed::Epss(epss::parse(bytes).map_err(invalid)?);
        return Ok(file(name, bytes, feed));
    }
    if first != Some(b'{') && name.to_ascii_lowercase().ends_with(".csv") {
        return Err(Error::Unrecognised {
            file: name.to_string(),
        });
    }
    if first != Some(b'{') {
        // Not a JSON object.
        return match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Ok(_) => Err(Error::Unrecognised {
                file: name.to_string(),
            }),
            Err(e) => Err(invalid(format!("invalid JSON: {e}"))),
        };
    }
    let sniff: Sniff = match serde_json::from_slice(bytes) {
        Ok(s) => s,
        Err(e) if e.is_syntax() || e.is_eof() => return Err(invalid(format!("invalid JSON: {e}"))),
        Err(_) => {
            return Err(Error::Unrecognised {
                file: name.to_string(),
            })
        }
    };
    let feed = if sniff.document.is_some() {
        Feed::Csaf(csaf::parse(bytes).map_err(invalid)?)
    } else if sniff.catalog_version.is_some() {
        Feed::Kev(kev::parse(bytes).map_err(invalid)?)
    } else if sniff.format.is_some() && sniff.vulnerabilities.is_some() {
        Feed::Nvd(nvd::parse_response(bytes).map_err(invalid)?)
    } else if sniff.id.is_some() && (sniff.configurations.is_some() || sniff.descriptions.is_some())
    {
        Feed::Nvd(nvd::parse_record(bytes).map_err(invalid)?)
    } else if sniff.results.is_some() && sniff.meta.is_some() {
        Feed::Recalls(recall::parse(bytes).map_err(invalid)?)
    } else {
        return Err(Error::Unrecognised {
            file: name.to_string(),
        });
    };
    Ok(file(name, bytes, feed))
}

/// A parsed file with its name, digest and size.
fn file(name: &str, bytes: &[u8], feed: Feed) -> FeedFile {
    use sha2::Digest;
    let sha256 = sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    FeedFile {
        name: name.to_string(),
        sha256,
        bytes: bytes.len(),
        feed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn testdata() -> Option<PathBuf> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vuln");
        if p.is_dir() {
            Some(p)
        } else {
            eprintln!("skipping: {} not found", p.display());
            None
        }
    }

    fn load(p: &Path) -> FeedFile {
        let bytes = std::fs::read(p).unwrap();
        parse_feed(&p.display().to_string(), &bytes).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn detects_and_rejects() {
        assert!(matches!(
            parse_feed("a.json", b"{}"),
            Err(Error::Unrecognised { .. })
        ));
        assert!(matches!(
            parse_feed("a.json", b"[1,2]"),
            Err(Error::Unrecognised { .. })
        ));
        let e = parse_feed("a.json", b"{\"document\": {")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("a.json: invalid JSON: EOF while parsing"),
            "{e}"
        );
        let e = parse_feed("x.json", br#"{"document": {"csaf_version": 2}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "x.json: document.csaf_version: invalid type: integer `2`, expected a string"
            ),
            "{e}"
        );
    }

    /// Issue 19, item 8: a CSAF file saved with a UTF-8 byte order mark is
    /// read like the same file without one.
    #[test]
    fn byte_order_mark_is_accepted() {
        let doc = br#"{"document":{"csaf_version":"2.0","title":"t","tracking":{"id":"ICSMA-1","version":"1","current_release_date":"2024-01-01T00:00:00Z"}}}"#;
        let plain = parse_feed("a.json", doc).unwrap();
        let bom = parse_feed("a.json", &[b"\xEF\xBB\xBF".as_slice(), doc].concat())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(bom.feed, plain.feed);
        assert!(matches!(bom.feed, Feed::Csaf(_)));
    }

    #[test]
    fn every_real_csaf_advisory_parses() {
        let Some(dir) = testdata() else { return };
        let mut n = 0;
        let mut vulns = 0;
        let mut unreadable = 0;
        for e in std::fs::read_dir(dir.join("csaf_icsma")).unwrap() {
            let f = load(&e.unwrap().path());
            let Feed::Csaf(a) = f.feed else {
                panic!("{} not CSAF", f.name)
            };
            assert!(!a.products.is_empty(), "{}", a.id);
            n += 1;
            vulns += a.vulnerabilities.len();
            unreadable += a
                .products
                .iter()
                .filter(|p| matches!(p.versions, VersionRule::Unreadable { .. }))
                .count();
        }
        assert_eq!(n, 144);
        assert_eq!(vulns, 433);
        eprintln!("{unreadable} product version rules unreadable");
    }

    #[test]
    fn compiled_rules_agree_with_rules() {
        let Some(dir) = testdata() else { return };
        let versions = [
            "", "0", "1.0", "2.1.3", "3.6.6", "3.6.7", "4.2", "4.3", "8.0", "8.1", "20d30", "v1.5",
            "2024.2", "abc", "9.19", "10",
        ];
        let mut n = 0;
        for e in std::fs::read_dir(dir.join("csaf_icsma")).unwrap() {
            let Feed::Csaf(a) = load(&e.unwrap().path()).feed else {
                panic!()
            };
            for p in &a.products {
                let c = CompiledRule::new(&p.versions);
                let texts: Vec<String> = versions
                    .iter()
                    .map(|v| v.to_string())
                    .chain([p.version_text.clone()])
                    .collect();
                for v in &texts {
                    let raw = Some(v.trim()).filter(|v| !v.is_empty());
                    let parsed = raw.and_then(Version::parse);
                    assert_eq!(
                        c.check(raw, parsed.as_ref()),
                        p.versions.check(raw),
                        "{} {v:?}",
                        p.versions
                    );
                    n += 1;
                }
            }
        }
        assert!(n > 5000, "{n}");
    }

    #[test]
    fn real_kev_and_nvd() {
        let Some(dir) = testdata() else { return };
        let f = load(&dir.join("known_exploited_vulnerabilities.json"));
        let Feed::Kev(k) = f.feed else {
            panic!("not KEV")
        };
        assert_eq!(k.entries.len(), 1404);
        assert_eq!(f.sha256.len(), 64);
        let mut advs = Vec::new();
        for e in std::fs::read_dir(dir.join("nvd_cve_json")).unwrap() {
            let Feed::Nvd(v) = load(&e.unwrap().path()).feed else {
                panic!("not NVD")
            };
            advs.extend(v);
        }
        assert_eq!(advs.len(), 5);
        let csaf = load(&dir.join("csaf_icsma/icsma-22-174-01.json"));
        let Feed::Csaf(dcmtk) = csaf.feed else {
            panic!()
        };
        advs.push(dcmtk);
        let db = AdvisoryDb::new(advs, k.entries);
        let dev = |v: &str, m: &str, f: &str| DeviceIdentity {
            vendor: Some(v.into()),
            model: Some(m.into()),
            firmware: Some(f.into()),
        };
        // CVE-2022-2119 is fixed in DCMTK 3.6.7: neither NVD nor CSAF may match it.
        let m = match_device(&dev("OFFIS", "DCMTK", "3.6.7"), &db);
        assert!(m.iter().all(|m| m.cve != "CVE-2022-2119"), "{m:#?}");
        let m = match_device(&dev("OFFIS", "DCMTK", "3.6.6"), &db);
        // One finding for the CVE, listing both sources.
        let f: Vec<_> = m.iter().filter(|m| m.cve == "CVE-2022-2119").collect();
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            (f[0].source, f[0].strength),
            (Source::Csaf, Strength::ModelAndVersion)
        );
        assert_eq!(
            f[0].sources,
            ["CVE-2022-2119 [nvd]", "ICSMA-22-174-01 [csaf]"]
        );
        // GE ApexPro Telemetry Server firmware <= 4.2 (NVD, AND configuration).
        let m = match_device(
            &dev("GE Healthcare", "ApexPro Telemetry Server", "4.2"),
            &db,
        );
        assert!(m.iter().any(|m| m.cve == "CVE-2020-6961"), "{m:#?}");
        assert!(match_device(
            &dev("GE Healthcare", "ApexPro Telemetry Server", "4.3"),
            &db
        )
        .iter()
        .all(|m| m.cve != "CVE-2020-6961"));
        // Baxter's odd firmware versions: 20d29..20d32 affected.
        let m = match_device(
            &dev(
                "Baxter Healthcare Corporation",
                "Spectrum Wireless Battery Module",
                "20d30",
            ),
            &db,
        );
        assert!(
            m.iter()
                .any(|m| m.cve == "CVE-2022-26390" && m.strength == Strength::ModelAndVersion),
            "{m:#?}"
        );
    }

    /// `match_device` and `match_identities` merge hits before writing
    /// matches; they give what merging `match_raw`'s matches gives, for
    /// devices named after every product of the real advisories.
    #[test]
    fn merged_matches_agree_with_merged_raw_matches() {
        let Some(dir) = testdata() else { return };
        let (mut advs, mut kev) = (Vec::new(), Vec::new());
        for sub in ["csaf_icsma", "nvd_cve_json"] {
            for e in std::fs::read_dir(dir.join(sub)).unwrap() {
                match load(&e.unwrap().path()).feed {
                    Feed::Csaf(a) => advs.push(a),
                    Feed::Nvd(v) => advs.extend(v),
                    other => panic!("{} among advisories", other.kind()),
                }
            }
        }
        if let Feed::Kev(k) = load(&dir.join("known_exploited_vulnerabilities.json")).feed {
            kev = k.entries;
        }
        let db = AdvisoryDb::new(advs, kev);
        let products: Vec<Product> = db
            .advisories()
            .iter()
            .flat_map(|a| a.products.iter().cloned())
            .collect();
        let (mut checked, mut found) = (0, 0);
        for p in &products {
            let version = p.version_text.split_whitespace().last().map(String::from);
            let first = p.name.split_whitespace().next().map(String::from);
            let ids = [
                (
                    Some(p.vendor.clone()),
                    Some(p.name.clone()),
                    version.clone(),
                ),
                (None, Some(p.name.clone()), None),
                (Some(p.vendor.clone()), None, version.clone()),
                (Some(p.vendor.to_uppercase()), first, Some("1.0".into())),
            ]
            .map(|(vendor, model, firmware)| DeviceIdentity {
                vendor,
                model,
                firmware,
            });
            for d in &ids {
                let m = match_device(d, &db);
                assert_eq!(m, merge(match_raw(d, &db)), "{d:?}");
                found += m.len();
                checked += 1;
            }
            assert_eq!(
                match_identities(&ids, &db),
                merge(ids.iter().flat_map(|d| match_raw(d, &db))),
                "{ids:?}"
            );
        }
        assert!(checked > 2000 && found > 10_000, "{checked} {found}");
    }
}
