//! CSAF 2.0 advisories (OASIS CSAF v2.0, `csaf_security_advisory` and the
//! other profiles): document tracking, product tree flattened to products,
//! vulnerabilities with CVSS v3 scores, product status and remediations.
//!
//! Own serde structs rather than `csaf-rs`: we read a small subset (about 25
//! fields) of a large schema, must bound every string and list against
//! hostile files (see `bounded`) and report the JSON path of any problem;
//! `csaf-rs` pulls in jsonschema/regress/symspell (minutes of build on our
//! 2-core machines) and validates far more than matching needs. Unknown
//! fields are ignored, so newer CSAF minor revisions still parse.

use crate::bounded::{List, Str, MANY, NAME, SHORT, TEXT};
use crate::model::{is_cve_id, Advisory, Product, Remediation, Source, Status, Vulnerability};
use crate::version::VersionRule;
use serde::Deserialize;

#[derive(Deserialize)]
struct Doc {
    document: Document,
    #[serde(default)]
    product_tree: Option<ProductTree>,
    #[serde(default)]
    vulnerabilities: List<Vuln, MANY>,
}

#[derive(Deserialize)]
struct Document {
    csaf_version: Str<SHORT>,
    title: Str<NAME>,
    tracking: Tracking,
    #[serde(default)]
    aggregate_severity: Option<AggregateSeverity>,
}

#[derive(Deserialize)]
struct AggregateSeverity {
    text: Str<SHORT>,
}

#[derive(Deserialize)]
struct Tracking {
    id: Str<SHORT>,
    version: Str<SHORT>,
    current_release_date: Str<SHORT>,
}

#[derive(Deserialize, Default)]
struct ProductTree {
    #[serde(default)]
    branches: List<Branch, MANY>,
    #[serde(default)]
    full_product_names: List<FullProductName, MANY>,
    #[serde(default)]
    relationships: List<Relationship, MANY>,
}

#[derive(Deserialize)]
struct Branch {
    category: Str<SHORT>,
    name: Str<NAME>,
    #[serde(default)]
    branches: List<Branch, MANY>,
    #[serde(default)]
    product: Option<FullProductName>,
}

#[derive(Deserialize)]
struct FullProductName {
    name: Str<NAME>,
    product_id: Str<SHORT>,
}

#[derive(Deserialize)]
struct Relationship {
    full_product_name: FullProductName,
    product_reference: Str<SHORT>,
}

#[derive(Deserialize)]
struct Vuln {
    #[serde(default)]
    cve: Option<Str<SHORT>>,
    #[serde(default)]
    product_status: Option<ProductStatus>,
    #[serde(default)]
    scores: List<Score, MANY>,
    #[serde(default)]
    remediations: List<Rem, MANY>,
}

type Ids = List<Str<SHORT>, MANY>;

#[derive(Deserialize, Default)]
struct ProductStatus {
    #[serde(default)]
    known_affected: Ids,
    #[serde(default)]
    first_affected: Ids,
    #[serde(default)]
    last_affected: Ids,
    #[serde(default)]
    fixed: Ids,
    #[serde(default)]
    first_fixed: Ids,
    #[serde(default)]
    known_not_affected: Ids,
}

#[derive(Deserialize)]
struct Score {
    #[serde(default)]
    cvss_v3: Option<Cvss>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Cvss {
    pub(crate) base_score: f64,
    #[serde(default)]
    pub(crate) vector_string: Option<Str<SHORT>>,
}

#[derive(Deserialize)]
struct Rem {
    category: Str<SHORT>,
    #[serde(default)]
    details: Str<TEXT>,
    #[serde(default)]
    url: Option<Str<NAME>>,
    #[serde(default)]
    product_ids: Ids,
}

/// Context while walking the product tree.
#[derive(Default, Clone)]
struct Ctx {
    vendor: String,
    product: String,
    version: Option<(String, bool)>, // (text, is_range)
}

fn walk(
    branches: &[Branch],
    ctx: &Ctx,
    depth: usize,
    out: &mut Vec<Product>,
) -> Result<(), String> {
    if depth > 32 {
        return Err("product_tree: branches nested deeper than 32 levels".into());
    }
    for b in branches {
        let mut c = ctx.clone();
        let name = b.name.0.trim().to_string();
        match b.category.0.as_str() {
            "vendor" => c.vendor = name,
            "product_name" => c.product = name,
            "product_family" if c.product.is_empty() => c.product = name,
            "product_version" => c.version = Some((name, false)),
            "product_version_range" => c.version = Some((name, true)),
            _ => {}
        }
        if let Some(p) = &b.product {
            if out.len() >= MANY {
                return Err(format!("product_tree: more than {MANY} products"));
            }
            out.push(product_from(&c, p));
        }
        walk(&b.branches.0, &c, depth + 1, out)?;
    }
    Ok(())
}

fn product_from(c: &Ctx, p: &FullProductName) -> Product {
    let (version_text, versions) = match &c.version {
        Some((t, true)) => (t.clone(), VersionRule::from_range_text(t)),
        Some((t, false)) => (t.clone(), VersionRule::from_version_text(t)),
        None => (String::new(), VersionRule::Any),
    };
    let name = if c.product.is_empty() {
        p.name.0.clone()
    } else {
        c.product.clone()
    };
    Product {
        id: p.product_id.0.clone(),
        vendor: c.vendor.clone(),
        name,
        version_text,
        versions,
        full_name: p.name.0.clone(),
    }
}

/// Parses one CSAF 2.0 document. Errors name the JSON path.
pub(crate) fn parse(bytes: &[u8]) -> Result<Advisory, String> {
    let doc: Doc = crate::bounded::from_json(bytes)?;
    if !doc.document.csaf_version.0.starts_with("2.") {
        return Err(format!(
            "document.csaf_version: unsupported CSAF version {:?}",
            doc.document.csaf_version.0
        ));
    }
    let id = doc.document.tracking.id.0.trim().to_string();
    if id.is_empty() {
        return Err("document.tracking.id: empty".into());
    }
    let mut products = Vec::new();
    let tree = doc.product_tree.unwrap_or_default();
    walk(&tree.branches.0, &Ctx::default(), 0, &mut products)?;
    for f in tree.full_product_names.0 {
        products.push(product_from(&Ctx::default(), &f));
    }
    for r in tree.relationships.0 {
        // A combination ("X installed on Y"): it inherits what the referenced
        // product says about vendor, name and version.
        let base = products
            .iter()
            .find(|p| p.id == r.product_reference.0)
            .cloned();
        let fp = r.full_product_name;
        let p = match base {
            Some(b) => Product {
                id: fp.product_id.0,
                full_name: fp.name.0,
                ..b
            },
            None => product_from(&Ctx::default(), &fp),
        };
        if products.len() >= MANY {
            return Err(format!("product_tree: more than {MANY} products"));
        }
        products.push(p);
    }
    let mut vulnerabilities = Vec::new();
    for (i, v) in doc.vulnerabilities.0.into_iter().enumerate() {
        let cve = match v.cve {
            Some(c) if is_cve_id(c.0.trim()) => c.0.trim().to_string(),
            Some(c) => {
                return Err(format!(
                    "vulnerabilities[{i}].cve: {:?} is not a CVE id",
                    c.0
                ))
            }
            None => format!("{id}#{}", i + 1),
        };
        let mut cvss: Option<(f32, Option<String>)> = None;
        for (j, s) in v.scores.0.into_iter().enumerate() {
            if let Some(c) = s.cvss_v3 {
                if !(0.0..=10.0).contains(&c.base_score) {
                    return Err(format!(
                        "vulnerabilities[{i}].scores[{j}].cvss_v3.baseScore: {} is outside 0..10",
                        c.base_score
                    ));
                }
                let score = c.base_score as f32;
                if cvss.as_ref().is_none_or(|(s, _)| score > *s) {
                    cvss = Some((score, c.vector_string.map(Str::into_string)));
                }
            }
        }
        let ps = v.product_status.unwrap_or_default();
        let mut status = Vec::new();
        for (ids, st) in [
            (ps.known_affected, Status::Affected),
            (ps.first_affected, Status::Affected),
            (ps.last_affected, Status::Affected),
            (ps.fixed, Status::Fixed),
            (ps.first_fixed, Status::Fixed),
            (ps.known_not_affected, Status::NotAffected),
        ] {
            status.extend(ids.0.into_iter().map(|p| (p.0, st)));
        }
        let remediations = v
            .remediations
            .0
            .into_iter()
            .map(|r| Remediation {
                category: r.category.0,
                details: r.details.0,
                url: r.url.map(Str::into_string),
                product_ids: r.product_ids.0.into_iter().map(Str::into_string).collect(),
            })
            .collect();
        let (cvss, cvss_vector) = match cvss {
            Some((s, v)) => (Some(s), v),
            None => (None, None),
        };
        vulnerabilities.push(Vulnerability {
            cve,
            cvss,
            cvss_vector,
            status,
            remediations,
        });
    }
    Ok(Advisory {
        id,
        source: Source::Csaf,
        title: doc.document.title.0,
        severity: doc.document.aggregate_severity.map(|s| s.text.0),
        revision: doc.document.tracking.version.0,
        release_date: doc.document.tracking.current_release_date.0,
        products,
        vulnerabilities,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINI: &str = r#"{
      "document": {"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "OFFIS DCMTK",
        "aggregate_severity": {"text": "High"},
        "tracking": {"id": "ICSMA-22-174-01", "version": "2", "current_release_date": "2022-06-23T00:00:00Z"}},
      "product_tree": {"branches": [{"category": "vendor", "name": "OFFIS", "branches": [
        {"category": "product_name", "name": "DCMTK", "branches": [
          {"category": "product_version_range", "name": "< 3.6.7", "product": {"name": "DCMTK: < 3.6.7", "product_id": "P1"}},
          {"category": "product_version", "name": "3.6.7", "product": {"name": "DCMTK 3.6.7", "product_id": "P2"}}]}]}]},
      "vulnerabilities": [{"cve": "CVE-2022-2119",
        "product_status": {"known_affected": ["P1"], "fixed": ["P2"]},
        "scores": [{"cvss_v3": {"baseScore": 7.5, "vectorString": "CVSS:3.1/AV:A"}, "products": ["P1"]}],
        "remediations": [{"category": "vendor_fix", "details": "Update to 3.6.7", "url": "https://example.org", "product_ids": ["P1"]}]}]
    }"#;

    #[test]
    fn flattens_tree_and_statuses() {
        let a = parse(MINI.as_bytes()).unwrap();
        assert_eq!(
            (a.id.as_str(), a.revision.as_str(), a.severity.as_deref()),
            ("ICSMA-22-174-01", "2", Some("High"))
        );
        assert_eq!(a.products.len(), 2);
        assert_eq!(
            (
                a.products[0].vendor.as_str(),
                a.products[0].name.as_str(),
                a.products[0].version_text.as_str()
            ),
            ("OFFIS", "DCMTK", "< 3.6.7")
        );
        assert_eq!(
            a.products[1].versions.check(Some("3.6.7")),
            crate::Verdict::In
        );
        assert_eq!(
            a.products[1].versions.check(Some("3.6.8")),
            crate::Verdict::Out
        );
        let v = &a.vulnerabilities[0];
        assert_eq!(v.cve, "CVE-2022-2119");
        assert_eq!(v.cvss, Some(7.5));
        assert_eq!(
            v.status,
            vec![
                ("P1".to_string(), Status::Affected),
                ("P2".to_string(), Status::Fixed)
            ]
        );
        assert_eq!(
            v.remediations[0].url.as_deref(),
            Some("https://example.org")
        );
    }

    #[test]
    fn errors_name_the_path() {
        let bad = MINI.replace(r#""cve": "CVE-2022-2119""#, r#""cve": 5"#);
        let e = parse(bad.as_bytes()).unwrap_err();
        assert!(
            e.starts_with("vulnerabilities[0].cve: invalid type: integer `5`, expected a string"),
            "{e}"
        );
        let bad = MINI.replace(r#""cve": "CVE-2022-2119""#, r#""cve": "nope""#);
        assert_eq!(
            parse(bad.as_bytes()).unwrap_err(),
            r#"vulnerabilities[0].cve: "nope" is not a CVE id"#
        );
        let bad = MINI.replace("7.5", "75");
        assert!(parse(bad.as_bytes()).unwrap_err().contains("outside 0..10"));
        let e = parse(&MINI.as_bytes()[..200]).unwrap_err();
        assert!(e.contains("EOF while parsing"), "{e}");
        let big = MINI.replace("OFFIS DCMTK", &"A".repeat(10 << 20));
        let e = parse(big.as_bytes()).unwrap_err();
        assert!(
            e.starts_with("document.title: string of 10485760 bytes is longer than the limit"),
            "{e}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut s = String::from(
            r#"{"document":{"csaf_version":"2.0","title":"t","tracking":{"id":"x","version":"1","current_release_date":"d"}},"product_tree":{"branches":["#,
        );
        for _ in 0..200 {
            s.push_str(r#"{"category":"vendor","name":"v","branches":["#);
        }
        s.push_str(&"]}".repeat(200));
        s.push_str("]}}");
        assert!(parse(s.as_bytes()).is_err());
    }
}
