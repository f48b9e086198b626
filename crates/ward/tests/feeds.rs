//! End to end: `ward feeds import`, `ward inventory import` and `ward
//! advisories` on the real CISA ICSMA CSAF advisories, KEV catalog and NVD
//! records from `../shared/testdata` (skipped when absent).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vuln");
    if p.is_dir() {
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

fn stored_line(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with("stored:"))
        .expect("stored line")
        .to_string()
}

#[test]
fn feeds_inventory_and_advisories() {
    let Some(vuln) = testdata() else { return };
    let dir = std::env::temp_dir().join(format!("ward-feeds-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    let csaf = vuln.join("csaf_icsma");
    let kev = vuln.join("known_exploited_vulnerabilities.json");
    let nvd = vuln.join("nvd_cve_json");
    let (csaf, kev, nvd) = (
        csaf.to_str().unwrap(),
        kev.to_str().unwrap(),
        nvd.to_str().unwrap(),
    );

    // Import everything.
    let first = ok(&["feeds", "import", csaf, kev, nvd, "--db", db]);
    assert!(
        first.contains("csaf: 144 files (0 unchanged): advisories 144 new"),
        "{first}"
    );
    assert!(first.contains("KEV entries 1404 new"), "{first}");
    assert!(first.contains("nvd: 5 files"), "{first}");
    let totals = stored_line(&first);
    assert!(
        totals.starts_with("stored: 144 CSAF advisories, 5 NVD records,"),
        "{totals}"
    );
    assert!(totals.ends_with("1404 KEV entries, 150 files"), "{totals}");

    // Re-import: idempotent.
    let again = ok(&["feeds", "import", csaf, kev, nvd, "--db", db]);
    assert!(
        again.contains(
            "csaf: 144 files (144 unchanged): advisories 0 new, 0 updated, 144 unchanged"
        ),
        "{again}"
    );
    assert!(
        again.contains("KEV entries 0 new, 0 updated, 1404 unchanged"),
        "{again}"
    );
    assert_eq!(stored_line(&again), totals);

    // Malformed advisories: each fails with one clear line and stores nothing,
    // not even the valid file named in the same command.
    let good_text = std::fs::read_to_string(vuln.join("csaf_icsma/icsma-24-163-01.json")).unwrap();
    let extra = dir.join("extra.json");
    std::fs::write(
        &extra,
        good_text.replace("ICSMA-24-163-01", "ICSMA-99-999-99"),
    )
    .unwrap();
    let truncated = good_text[..good_text.len() / 2].to_string();
    let wrong_type = good_text.replacen("\"cve\": \"CVE-2024-33606\"", "\"cve\": 33606", 1);
    assert_ne!(wrong_type, good_text);
    let huge = good_text.replacen(
        "\"title\": \"MicroDicom DICOM Viewer\"",
        &format!("\"title\": \"{}\"", "A".repeat(10 << 20)),
        1,
    );
    assert_ne!(huge, good_text);
    for (name, text, want) in [
        ("truncated.json", truncated, "truncated.json: invalid JSON: EOF while parsing"),
        ("wrong_type.json", wrong_type, "wrong_type.json: vulnerabilities[0].cve: invalid type: integer `33606`, expected a string"),
        ("huge.json", huge, "huge.json: document.title: string of 10485760 bytes is longer than the limit"),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        let o = ward(&["feeds", "import", extra.to_str().unwrap(), p.to_str().unwrap(), "--db", db]);
        assert_eq!(o.status.code(), Some(2), "{name} must fail");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(want), "{name}: {err}");
        std::fs::remove_file(&p).unwrap();
    }
    let after = ok(&["feeds", "import", nvd, "--db", db]);
    assert_eq!(
        stored_line(&after),
        totals,
        "failed imports stored nothing and lost nothing"
    );

    // Declared devices.
    let csv = dir.join("cmms.csv");
    std::fs::write(
        &csv,
        "Serial,VENDOR,Model,Firmware,Location\n\
         S1,OFFIS,DCMTK,3.6.7,PACS gateway\n\
         S2,OFFIS,DCMTK,3.6.6,PACS archive\n\
         S3,MicroDicom,DICOM Viewer,2024.1,Radiology 1\n\
         S4,MicroDicom,DICOM Viewer,2024.2,Radiology 2\n\
         S5,Baxter Healthcare Corporation,Spectrum Wireless Battery Module,20D30,ICU\n\
         only,two\n\
         S6,,,,\n",
    )
    .unwrap();
    let o = ward(&["inventory", "import", csv.to_str().unwrap(), "--db", db]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("cmms.csv:7: skipped: 2 fields"), "{err}");
    assert!(
        err.contains("cmms.csv:8: skipped: no manufacturer and no model"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("declared devices: 5 new, 0 updated, 0 unchanged, 2 bad rows skipped"));
    let o = ok(&["inventory", "import", csv.to_str().unwrap(), "--db", db]);
    assert!(o.contains("0 new, 0 updated, 5 unchanged"), "{o}");

    // Advisories per device.
    let j: serde_json::Value =
        serde_json::from_str(&ok(&["advisories", "--db", db, "--json"])).unwrap();
    let devices = j.as_array().unwrap();
    let by_serial = |s: &str| {
        let d = devices
            .iter()
            .find(|d| d["serial"] == s)
            .unwrap_or_else(|| panic!("device {s}"));
        d["matches"].as_array().unwrap().clone()
    };
    let cves = |m: &[serde_json::Value]| {
        m.iter()
            .map(|m| m["cve"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    // DCMTK 3.6.7 is the fixed version of CVE-2022-2119 (CSAF "< 3.6.7", NVD versionEndExcluding 3.6.7).
    assert!(
        !cves(&by_serial("S1")).contains(&"CVE-2022-2119".to_string()),
        "{:?}",
        cves(&by_serial("S1"))
    );
    // One finding for the CVE, listing the CSAF advisory and the NVD record.
    let s2 = by_serial("S2");
    let found: Vec<_> = s2.iter().filter(|m| m["cve"] == "CVE-2022-2119").collect();
    assert_eq!(found.len(), 1, "{found:?}");
    let m = found[0];
    assert_eq!(m["strength"], "model_and_version");
    assert!(
        m["reason"].as_str().unwrap().contains("3.6.6 is within"),
        "{m}"
    );
    assert_eq!(
        m["sources"],
        serde_json::json!(["CVE-2022-2119 [nvd]", "ICSMA-22-174-01 [csaf]"])
    );
    let s3 = by_serial("S3");
    let m = s3
        .iter()
        .find(|m| m["cve"] == "CVE-2024-33606")
        .expect("MicroDicom 2024.1");
    assert!(
        m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "ICSMA-24-163-01 [csaf]"),
        "{m}"
    );
    assert!((m["confidence"].as_f64().unwrap() - 0.95).abs() < 1e-6);
    assert!(m["remediation"].as_str().unwrap().contains("2024.2"));
    assert!(
        by_serial("S4").is_empty(),
        "MicroDicom 2024.2 is fixed: {:?}",
        cves(&by_serial("S4"))
    );
    assert!(
        cves(&by_serial("S5")).contains(&"CVE-2022-26390".to_string()),
        "Baxter WBM 20D30"
    );

    // Text output names the reasons.
    let text = ok(&["advisories", "--db", db]);
    assert!(
        text.contains("why: vendor \"MicroDicom\" matches"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes a capture of a DICOM association from an SCU running `scu_version`
/// (DCMTK's implementation version name) to a DCMTK 3.6.7 SCP.
fn dicom_capture(path: &Path, scu_version: &str) {
    use samplegen::conv::TcpConversation;
    use samplegen::packet::Endpoint;
    use samplegen::payload::dicom::{associate_ac, associate_rq, Association};
    use std::net::Ipv4Addr;
    let scu = Endpoint::new(
        [0x00, 0x0e, 0x8c, 0x30, 0x00, 0x05],
        Ipv4Addr::new(10, 30, 0, 5),
        40001,
    );
    let scp = Endpoint::new(
        [0x00, 0x08, 0x74, 0x30, 0x00, 0x10],
        Ipv4Addr::new(10, 30, 0, 10),
        104,
    );
    let rq = Association {
        calling_ae: "CT_OLD",
        called_ae: "PACS_NEW",
        max_pdu: 16384,
        implementation_class_uid: "1.2.276.0.7230010.3.0.3.6.6",
        implementation_version: scu_version,
    };
    let ac = Association {
        calling_ae: "CT_OLD",
        called_ae: "PACS_NEW",
        max_pdu: 16384,
        implementation_class_uid: "1.2.276.0.7230010.3.0.3.6.7",
        implementation_version: "OFFIS_DCMTK_367",
    };
    let mut c = TcpConversation::new(scu, scp, 1_767_600_000_000_000);
    c.handshake()
        .client_send(&associate_rq(
            &rq,
            1,
            "1.2.840.10008.5.1.4.1.1.2",
            &["1.2.840.10008.1.2"],
        ))
        .server_send(&associate_ac(&ac, 1, "1.2.840.10008.1.2"))
        .close();
    let mut w =
        samplegen::pcap::PcapWriter::new(Vec::new(), samplegen::pcap::LINKTYPE_ETHERNET).unwrap();
    w.write_frames(c.frames()).unwrap();
    std::fs::write(path, w.into_inner().unwrap()).unwrap();
}

/// Inventories built from captures: the real DCMTK 3.6.7 endpoints (captured
/// on loopback) and our DCMTK 3.6.6 modality are matched from the software
/// they announce; only 3.6.6 is affected by CVE-2022-2119 (fixed in 3.6.7).
#[test]
fn observed_devices_match_by_announced_software() {
    let Some(vuln) = testdata() else { return };
    let real = vuln.join("../generated/dicom_dcmtk_pynetdicom_loopback.pcap");
    if !real.is_file() {
        eprintln!("skipping: {} not found", real.display());
        return;
    }
    let dir = std::env::temp_dir().join(format!("ward-feeds-observed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    let old = dir.join("dcmtk366.pcap");
    dicom_capture(&old, "OFFIS_DCMTK_366");
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        db,
        real.to_str().unwrap(),
        old.to_str().unwrap(),
    ]);
    let (csaf, kev, nvd) = (
        vuln.join("csaf_icsma"),
        vuln.join("known_exploited_vulnerabilities.json"),
        vuln.join("nvd_cve_json"),
    );
    ok(&[
        "feeds",
        "import",
        csaf.to_str().unwrap(),
        kev.to_str().unwrap(),
        nvd.to_str().unwrap(),
        "--db",
        db,
    ]);
    let all: serde_json::Value =
        serde_json::from_str(&ok(&["advisories", "--json", "--db", db])).unwrap();
    let cves = |key: &str| -> Vec<(String, String)> {
        let d = all
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["key"] == key)
            .unwrap_or_else(|| panic!("no device {key} in {all}"));
        d["matches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["cve"].as_str().unwrap().to_string(),
                    m["strength"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let old_scu = cves("mac:00:0e:8c:30:00:05");
    assert!(
        old_scu.contains(&("CVE-2022-2119".to_string(), "model_and_version".to_string())),
        "DCMTK 3.6.6 must match CVE-2022-2119: {old_scu:?}"
    );
    for fixed in ["mac:00:08:74:30:00:10", "ip:127.0.0.1"] {
        let m = cves(fixed);
        assert!(
            !m.iter().any(|(c, _)| c == "CVE-2022-2119"),
            "{fixed} runs DCMTK 3.6.7, which fixed CVE-2022-2119: {m:?}"
        );
    }
}

/// Issue 17, acceptance 2 (EPSS and recalls): the fixtures of
/// `tests/fixtures/feeds` (made by `scripts/feed-fixtures` in the real
/// formats) import — the gzipped EPSS CSV, an openFDA recall file and an
/// enforcement report of the same recall —; the sample advisory's CVE
/// carries its EPSS score into the risk finding, and the recall that names
/// the declared Example Infusion Pump is a finding with its class and the
/// firm's action. Malformed EPSS and recall files are refused in one line
/// and nothing of them is stored.
#[test]
fn epss_and_recalls_import_and_join_the_risk() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    let dir = std::env::temp_dir().join(format!("ward-feeds-epss-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    let p = |rel: &str| root.join(rel).to_str().unwrap().to_string();
    ok(&["analyze", &p("samples/hospital-room.pcap"), "--db", db]);
    ok(&["inventory", "import", &p("samples/cmms.csv"), "--db", db]);
    ok(&[
        "feeds",
        "import",
        &p("samples/advisory.csaf.json"),
        "--db",
        db,
    ]);

    let out = ok(&["feeds", "import", fx.to_str().unwrap(), "--db", db]);
    assert!(
        out.contains("epss: 1 files (0 unchanged): EPSS scores 3 new"),
        "{out}"
    );
    assert!(
        out.contains("recall: 2 files (0 unchanged): FDA recalls 2 new, 1 updated"),
        "{out}"
    );
    assert!(
        out.contains("stored: 3 EPSS scores, 2 FDA recalls"),
        "{out}"
    );

    let risk: serde_json::Value =
        serde_json::from_str(&ok(&["risk", "--json", "--db", db])).unwrap();
    let pump = risk
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["model"] == "Example Infusion Pump")
        .unwrap_or_else(|| panic!("the declared pump is scored: {risk:#}"));
    let findings: Vec<&serde_json::Value> = pump["factors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["finding"])
        .collect();
    let vuln = findings
        .iter()
        .find(|f| f["title"].as_str().unwrap().starts_with("CVE-0000-0001"))
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        vuln["title"]
            .as_str()
            .unwrap()
            .contains("EPSS 0.912 (percentile 99.8)"),
        "{vuln:#}"
    );
    let recall = findings
        .iter()
        .find(|f| f["kind"] == "device_recall")
        .unwrap_or_else(|| panic!("{findings:#?}"));
    assert!(
        recall["title"]
            .as_str()
            .unwrap()
            .starts_with("FDA recall Z-9001-2026 (Class I, Open, Classified)"),
        "{recall:#}"
    );
    assert_eq!(recall["severity"], "critical", "Class I");
    assert!(
        recall["remediation"]
            .as_str()
            .unwrap()
            .starts_with("Update the pump software to version 2.5"),
        "{recall:#}"
    );
    // The recall of a product nobody has concerns no device.
    assert!(!risk.to_string().contains("Z-9002-2026"));

    // Malformed files: one line, non-zero, nothing stored.
    let before = stored_line(&ok(&[
        "feeds",
        "import",
        &p("samples/advisory.csaf.json"),
        "--db",
        db,
    ]));
    for (name, body) in [
        ("epss-bad.csv", "#model_version:v1,score_date:2026-12-06T00:00:00Z\ncve,epss,percentile\nCVE-2026-0001,0.5,0.5\nCVE-2026-0002,7,0.5\n"),
        ("recall-bad.json", r#"{"meta":{},"results":[{"product_res_number":"Z-9","recalling_firm":"X"}]}"#),
        ("recall-trunc.json", r#"{"meta":{},"results":[{"product_res_number":"Z-9","#),
    ] {
        let f = dir.join(name);
        std::fs::write(&f, body).unwrap();
        let o = ward(&["feeds", "import", f.to_str().unwrap(), "--db", db]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}");
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(name), "{name}: {err}");
    }
    let after = stored_line(&ok(&[
        "feeds",
        "import",
        &p("samples/advisory.csaf.json"),
        "--db",
        db,
    ]));
    assert_eq!(before, after);
    let out = ok(&["feeds", "import", fx.to_str().unwrap(), "--db", db]);
    assert!(
        out.contains("stored: 3 EPSS scores, 2 FDA recalls"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
