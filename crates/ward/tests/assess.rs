//! End to end: `ward assess` on the two real medical-device CycloneDX SBOMs
//! from `../shared/testdata/sbom` (after `ward feeds import` of the testdata
//! CSAF/KEV/NVD feeds into a temporary database), on an SBOM naming a DCMTK
//! version with a known CVE, on the generated MDS2 form, and on malformed
//! inputs, which must fail with one line naming the file and leave the
//! database untouched.

#[path = "../../assess/tests/fixtures/mds2_fixture.rs"]
mod mds2_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    if p.join("sbom").is_dir() && p.join("vuln").is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward")
}

fn ok(args: &[&str]) -> String {
    let o = ward(args);
    assert!(
        o.status.success(),
        "ward {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn tmpdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-assess-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A temp database with the testdata feeds imported.
fn feeds_db(td: &Path, dir: &Path) -> PathBuf {
    let db = dir.join("ward.db");
    let v = td.join("vuln");
    ok(&[
        "feeds",
        "import",
        s(&v.join("csaf_icsma")),
        s(&v.join("known_exploited_vulnerabilities.json")),
        s(&v.join("nvd_cve_json")),
        "--db",
        s(&db),
    ]);
    db
}

#[test]
fn real_sboms_assess_with_findings() {
    let Some(td) = testdata() else { return };
    let dir = tmpdir("sbom");
    let db = feeds_db(&td, &dir);
    let ext = td.join("sbom/sbom-completeness_extended.sbom.json");
    let narrow = td.join("sbom/sbom-completeness_narrow.sbom.json");

    let table = ok(&["assess", s(&ext), s(&narrow), "--db", s(&db)]);
    assert!(
        table.contains(
            "sbom-completeness_extended.sbom.json: CycloneDX 1.4 (REDACTED), 65 components"
        ),
        "{table}"
    );
    assert!(
        table.contains(
            "sbom-completeness_narrow.sbom.json: CycloneDX 1.4 (REDACTED), 55 components"
        ),
        "{table}"
    );
    assert_eq!(table.matches("verdict: FAIL").count(), 2, "{table}");
    // jQuery 3.1.1: CVE-2020-11023 is in the imported KEV catalog → critical.
    assert!(
        table.contains("CRITICAL  outdated-component")
            && table.contains("known exploited (CISA KEV): CVE-2020-11023"),
        "{table}"
    );
    assert!(
        table.contains("log4net 2.0.8") && table.contains("no hashes"),
        "{table}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&ok(&["assess", s(&ext), "--db", s(&db), "--json"])).unwrap();
    let r = &json[0];
    assert_eq!(r["verdict"], "fail");
    assert_eq!(r["summary"]["advisories_checked"], true);
    let findings = r["findings"].as_array().unwrap();
    for check in [
        "outdated-component",
        "missing-version",
        "no-hashes",
        "unsupported-component",
        "sbom-metadata",
    ] {
        assert!(
            findings.iter().any(|f| f["check"] == check),
            "{check} missing"
        );
    }
    for f in findings {
        for k in ["severity", "subject", "reason", "remediation"] {
            assert!(f[k].as_str().is_some_and(|x| !x.is_empty()), "{f}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn known_vulnerable_component_from_the_feeds() {
    let Some(td) = testdata() else { return };
    let dir = tmpdir("vuln");
    let db = feeds_db(&td, &dir);
    let sbom = dir.join("pacs.cdx.json");
    let doc = r#"{"bomFormat":"CycloneDX","specVersion":"1.5",
      "metadata":{"timestamp":"2024-05-01T00:00:00Z","authors":[{"name":"ACME"}],"tools":{"components":[{"name":"syft"}]}},
      "components":[
        {"type":"library","name":"dcmtk","version":"3.6.6","supplier":{"name":"OFFIS e.V."},
         "cpe":"cpe:2.3:a:offis:dcmtk:3.6.6:*:*:*:*:*:*:*","hashes":[{"alg":"SHA-256","content":"00"}],"licenses":[{"license":{"id":"BSD-3-Clause"}}]},
        {"type":"library","name":"dcmtk-fixed","version":"3.6.7","supplier":{"name":"OFFIS"},
         "cpe":"cpe:2.3:a:offis:dcmtk:3.6.7:*:*:*:*:*:*:*","hashes":[{"alg":"SHA-256","content":"00"}],"licenses":[{"license":{"id":"BSD-3-Clause"}}]}],
      "dependencies":[{"ref":"a","dependsOn":["b"]}]}"#;
    std::fs::write(&sbom, doc).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&ok(&["assess", s(&sbom), "--db", s(&db), "--json"])).unwrap();
    let findings = json[0]["findings"].as_array().unwrap();
    let vulns: Vec<&serde_json::Value> = findings
        .iter()
        .filter(|f| f["check"] == "known-vulnerability")
        .collect();
    assert!(
        vulns.iter().any(|f| f["subject"] == "dcmtk 3.6.6"
            && f["reason"].as_str().unwrap().starts_with("CVE-2022-2119")),
        "{findings:#?}"
    );
    assert!(
        vulns.iter().all(|f| f["subject"] != "dcmtk-fixed 3.6.7"),
        "fixed version matched: {vulns:#?}"
    );
    assert_eq!(json[0]["verdict"], "fail", "CVE-2022-2119 is CVSS 7.5");

    // Without a database: assessed, says so, and no database file is created.
    let none = dir.join("absent.db");
    let out = ok(&["assess", s(&sbom), "--db", s(&none)]);
    assert!(
        out.contains("no advisory database") && out.contains("verdict: PASS"),
        "{out}"
    );
    assert!(!none.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn generated_mds2_form() {
    let dir = tmpdir("mds2");
    let form = dir.join("mds2.xlsx");
    mds2_fixture::write(&form);
    let db = dir.join("absent.db");
    let out = ok(&["assess", s(&form), "--db", s(&db)]);
    assert!(
        out.contains("mds2.xlsx: MDS2 (Example Medical Inc. / InfuPump X200), 14 questions"),
        "{out}"
    );
    assert!(out.contains("verdict: FAIL (2 high, 3 medium)"), "{out}");
    for want in [
        "STCF-1 answered No: data at rest is encrypted is required",
        "PAUT-6 answered No: no hard-coded passwords",
        "SBOM-1 answered N/A",
        "CSUP-12 not answered",
        "RDMP-3 not found in the form",
    ] {
        assert!(out.contains(want), "{want:?} missing:\n{out}");
    }
    assert!(
        !out.contains("MLDP"),
        "allow-listing satisfies the malware rule:\n{out}"
    );
    assert!(!db.exists(), "an MDS2 needs no database");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn malformed_inputs_fail_with_one_line_and_leave_the_db_alone() {
    let dir = tmpdir("bad");
    // A database to watch: real feeds when available, else an empty one.
    let db = match testdata() {
        Some(td) => feeds_db(&td, &dir),
        None => {
            let db = dir.join("ward.db");
            std::fs::write(&db, b"").unwrap();
            db
        }
    };
    let before = std::fs::read(&db).unwrap();
    let real = testdata()
        .map(|td| std::fs::read(td.join("sbom/sbom-completeness_narrow.sbom.json")).unwrap());
    let truncated = real.as_ref().map_or_else(
        || br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{"name":"x""#.to_vec(),
        |r| r[..r.len() / 2].to_vec(),
    );
    let huge = format!(
        r#"{{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{{"name":"{}"}}]}}"#,
        "A".repeat(1 << 20)
    );
    let form = dir.join("form.xlsx");
    mds2_fixture::write(&form);
    let xlsx = std::fs::read(&form).unwrap();
    // Deterministic pseudo-random bytes (xorshift).
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated.json", truncated, "invalid JSON: EOF while parsing"),
        ("wrongtypes.json", br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[{"name":"ok"},{"name":5}]}"#.to_vec(), "components[1].name: invalid type: integer `5`"),
        ("wronglist.json", br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":"none"}"#.to_vec(), "components: invalid type: string"),
        ("huge.json", huge.into_bytes(), "components[0].name: string of 1048576 bytes is longer than the limit of 2048"),
        ("spdx.json", br#"{"spdxVersion":"SPDX-2.3","packages":[{"name":["x"]}]}"#.to_vec(), "packages[0].name: invalid type: sequence"),
        ("truncated.xlsx", xlsx[..xlsx.len() / 2].to_vec(), "not a readable xlsx"),
        ("corrupt.xlsx", [b"PK\x03\x04".as_slice(), &random[..1000]].concat(), "not a readable xlsx"),
        ("random.bin", random, "binary content"),
        ("empty.json", Vec::new(), "empty file"),
    ];
    for (name, bytes, want) in cases {
        let p = dir.join(name);
        std::fs::write(&p, &bytes).unwrap();
        let o = ward(&["assess", s(&p), "--db", s(&db)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {err}");
        assert!(o.stdout.is_empty(), "{name}: printed a report");
        assert_eq!(err.lines().count(), 1, "{name}: not one line: {err}");
        assert!(
            err.starts_with(&format!("ward: error: {}: ", p.display())),
            "{name}: {err}"
        );
        assert!(err.contains(want), "{name}: want {want:?} in {err}");
        assert!(err.len() < 400, "{name}: error too long: {err}");
        // One bad file among good ones still stops everything.
        let o = ward(&["assess", s(&form), s(&p), "--db", s(&db)]);
        assert_eq!(o.status.code(), Some(2), "{name} with a good file");
        assert_eq!(
            std::fs::read(&db).unwrap(),
            before,
            "{name}: database changed"
        );
    }
    let missing = dir.join("missing.json");
    let o = ward(&["assess", s(&missing), "--db", s(&db)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("missing.json"));
    let _ = std::fs::remove_dir_all(&dir);
}
