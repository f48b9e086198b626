//! Acceptance: a CMMS export written the way biomed teams write it
//! (`fixtures/hospital_cmms.csv`: lineage, model aliases, odd versions,
//! fixed versions, other models of the same vendor, unrelated devices)
//! against the shared ICSMA CSAF advisories, NVD records and the KEV
//! catalog. The expected advisories (`hospital_cmms.expected.tsv`) were
//! read from the advisories, not from Ward's output. Every expected
//! advisory must be found, and nothing else; precision and recall printed.
//! `other_hospital.csv` writes the same devices in another hospital's words.

use advisory::{match_device, parse_feed, AdvisoryDb, DeviceIdentity, Feed, Strength};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn feeds() -> Option<AdvisoryDb> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vuln");
    if !root.is_dir() {
        eprintln!("skipping: {} not found", root.display());
        return None;
    }
    let mut advs = Vec::new();
    let mut kev = Vec::new();
    let mut files: Vec<_> = ["csaf_icsma", "nvd_cve_json"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    files.push(root.join("known_exploited_vulnerabilities.json"));
    for p in files {
        let f = parse_feed(&p.display().to_string(), &std::fs::read(&p).unwrap()).unwrap();
        match f.feed {
            Feed::Csaf(a) => advs.push(a),
            Feed::Nvd(v) => advs.extend(v),
            Feed::Kev(k) => kev = k.entries,
            Feed::Epss(_) | Feed::Recalls(_) => {}
        }
    }
    assert_eq!(advs.len(), 149);
    Some(AdvisoryDb::new(advs, kev))
}

/// Matches every row of `fixtures/NAME.csv` and compares with
/// `fixtures/NAME.expected.tsv`; prints precision and recall, fails on any
/// difference.
fn evaluate(db: &AdvisoryDb, name: &str, delimiter: char, min_rows: usize) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let csv = std::fs::read(dir.join(format!("{name}.csv"))).unwrap();
    let import = cmms::parse(&format!("{name}.csv"), &csv).unwrap();
    assert_eq!(import.delimiter, delimiter);
    assert!(import.problems.is_empty(), "{:?}", import.problems);
    assert!(import.rows.len() >= min_rows);
    let mut expected: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for line in std::fs::read_to_string(dir.join(format!("{name}.expected.tsv")))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (asset, ids) = line.split_once('\t').unwrap();
        let e = expected.entry(asset.to_string()).or_default();
        for id in ids.split_whitespace().filter(|i| *i != "-") {
            match id.strip_prefix('?') {
                Some(u) => e.1.insert(u.to_string()),
                None => e.0.insert(id.to_string()),
            };
        }
    }
    assert_eq!(expected.len(), import.rows.len(), "one expectation per row");
    let (mut tp, mut fp, mut fneg) = (0usize, 0usize, 0usize);
    let mut errors = Vec::new();
    for r in &import.rows {
        let id = DeviceIdentity {
            vendor: Some(r.vendor.clone()).filter(|s| !s.is_empty()),
            model: Some(r.model.clone()).filter(|s| !s.is_empty()),
            firmware: Some(r.firmware.clone()).filter(|s| !s.is_empty()),
        };
        let matches = match_device(&id, db);
        let mut affected = BTreeSet::new();
        let mut unknown = BTreeSet::new();
        for m in &matches {
            assert_ne!(m.strength, Strength::VendorOnly);
            for s in &m.sources {
                let Some(adv) = s.split(' ').next().filter(|_| s != "KEV") else {
                    continue;
                };
                if m.strength == Strength::ModelUnknownVersion {
                    unknown.insert(adv.to_string());
                } else {
                    affected.insert(adv.to_string());
                }
            }
        }
        // A CVE may be affected through one advisory and unknown through another.
        let unknown: BTreeSet<String> = unknown.difference(&affected).cloned().collect();
        let (want, want_unknown) = &expected[&r.asset_tag];
        tp += affected.intersection(want).count() + unknown.intersection(want_unknown).count();
        fp += affected.difference(want).count() + unknown.difference(want_unknown).count();
        fneg += want.difference(&affected).count() + want_unknown.difference(&unknown).count();
        if &affected != want || &unknown != want_unknown {
            errors.push(format!(
                "{} {} / {} / {}: affected {affected:?} (want {want:?}), unknown {unknown:?} (want {want_unknown:?})\n  {:#?}",
                r.asset_tag,
                r.vendor,
                r.model,
                r.firmware,
                matches.iter().map(|m| format!("{} {} {:.2} {}", m.cve, m.advisory, m.confidence, m.reason)).collect::<Vec<_>>()
            ));
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fneg).max(1) as f64;
    println!("{name}: {} rows, {tp} expected advisories found, {fp} unexpected, {fneg} missed; precision {precision:.3}, recall {recall:.3}", import.rows.len());
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn hospital_cmms_matches_exactly_the_expected_advisories() {
    let Some(db) = feeds() else { return };
    evaluate(&db, "hospital_cmms", ';', 40);
}

/// The same devices as another hospital writes them: what generalises.
#[test]
fn another_hospitals_wording_matches_the_same_advisories() {
    let Some(db) = feeds() else { return };
    evaluate(&db, "other_hospital", ',', 25);
}
