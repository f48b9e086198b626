//! Issue 17 (item 3 and programme records): `ward compliance report` on the
//! bundled sample, end to end through the binary — every control listed with
//! a status and evidence, the ePHI flow map naming the sample's HL7 and
//! DICOM flows as cleartext, all four frameworks, an unknown framework
//! refused in one line, programme records moving controls to met, no
//! patient data in the report, hostile names as text, and the page rendered
//! and printed to PDF by headless Chromium (skipped without Chromium).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASSWORD: &str = "correct horse battery staple";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-compliance-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ward(args: &[&str]) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ward {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `capture` analyzed into a fresh database in `dir`.
fn analyzed(dir: &Path, capture: &Path) -> PathBuf {
    let db = dir.join("ward.db");
    ward(&[
        "analyze",
        "--quiet",
        "--db",
        db.to_str().unwrap(),
        capture.to_str().unwrap(),
    ]);
    db
}

/// Writes the report of `framework` into `dir/<framework>`; returns the
/// HTML and the JSON.
fn report(db: &Path, dir: &Path, framework: &str) -> (String, serde_json::Value) {
    let out = dir.join(framework);
    let o = ward(&[
        "compliance",
        "report",
        "--framework",
        framework,
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8(o.stdout).unwrap();
    assert!(stdout.contains("compliance.html"), "{stdout}");
    let html = std::fs::read_to_string(out.join("compliance.html")).unwrap();
    let json = serde_json::from_str(&std::fs::read_to_string(out.join("compliance.json")).unwrap())
        .unwrap();
    (html, json)
}

fn control<'a>(j: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    j["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (y, m, d, ..) = model::time::civil(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

const HIPAA_IDS: &[&str] = &[
    "164.308(a)(1)(ii)(A)",
    "164.308(a)(1)(ii)(B)",
    "164.308(a)(1)(ii)(D)",
    "164.308(a)(1) (NPRM) asset inventory",
    "164.308(a)(1) (NPRM) network map",
    "164.308(a)(2)",
    "164.308(a)(5)(i)",
    "164.308(a)(6)(i)",
    "164.308(a)(7)(ii)(A)",
    "164.308(a)(7)(ii)(B) (NPRM 72-hour restore)",
    "164.308(a)(8)",
    "164.312(a)(1)",
    "164.312(a)(2)(vi) (NPRM) network segmentation",
    "164.312(b)",
    "164.312(d) (NPRM multi-factor authentication)",
    "164.312(e)(1)",
    "164.312(h) (NPRM) vulnerability management",
    "164.316(b)(2)(iii)",
];

#[test]
fn hipaa_report_on_the_sample_lists_every_control_and_the_ephi_flows() {
    let dir = tempdir("hipaa");
    let db = analyzed(&dir, &root().join("samples/hospital-room.pcap"));
    let (html, j) = report(&db, &dir, "hipaa");

    // Every HIPAA control, with a status and evidence.
    let controls = j["controls"].as_array().unwrap();
    let ids: Vec<&str> = controls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, HIPAA_IDS);
    for c in controls {
        let st = c["status"].as_str().unwrap();
        assert!(
            ["met", "partial", "not_met", "not_assessable"].contains(&st),
            "{c}"
        );
        let ev = c["evidence"].as_array().unwrap();
        assert!(!ev.is_empty(), "{c}");
        for e in ev {
            assert!(!e["summary"].as_str().unwrap().is_empty(), "{e}");
        }
        if st == "not_met" || st == "partial" {
            assert!(
                c["remediation"].as_str().is_some_and(|r| !r.is_empty()),
                "{c}"
            );
            assert!(!c["gaps"].as_array().unwrap().is_empty(), "{c}");
        }
        assert!(html.contains(&report_esc(c["id"].as_str().unwrap())), "{c}");
    }
    let n: u64 = ["met", "partial", "not_met", "not_assessable"]
        .iter()
        .map(|k| j["summary"][k].as_u64().unwrap())
        .sum();
    assert_eq!(n as usize, HIPAA_IDS.len());

    // The sample's clinical flows: cleartext HL7 and DICOM.
    assert_eq!(control(&j, "164.312(e)(1)")["status"], "not_met");
    assert_eq!(
        control(&j, "164.308(a)(1) (NPRM) network map")["status"],
        "met"
    );
    // No officer, no training, no drill yet.
    assert_eq!(control(&j, "164.308(a)(2)")["status"], "not_met");
    assert_eq!(
        control(&j, "164.308(a)(7)(ii)(B) (NPRM 72-hour restore)")["status"],
        "not_met"
    );
    // Inventory evidence counts the devices and names unknown ones by key.
    let inv = &control(&j, "164.308(a)(1) (NPRM) asset inventory")["evidence"][0];
    assert_eq!(inv["kind"], "inventory");
    assert!(inv["items"][1]["count"].as_u64().unwrap() >= 15, "{inv}");

    let flows = j["ephi_flows"].as_array().unwrap();
    let find = |proto: &str, msg: &str, from_ip: &str, to_ip: &str| {
        flows
            .iter()
            .find(|f| {
                f["protocol"] == proto
                    && f["messages"].as_array().unwrap().iter().any(|m| m == msg)
                    && f["source"]["ip"] == from_ip
                    && f["dest"]["ip"] == to_ip
            })
            .unwrap_or_else(|| panic!("no {proto} {msg} {from_ip} -> {to_ip} in {flows:?}"))
    };
    let adt = find("HL7", "ADT^A01", "10.20.0.12", "10.20.0.11");
    let oru = find("HL7", "ORU^R01", "10.20.0.31", "10.20.0.11");
    let store = find("DICOM", "C-STORE", "10.20.0.50", "10.20.0.10");
    assert_eq!(adt["dest"]["application"], "MIRTH^HOSP");
    assert_eq!(oru["port"], 2575);
    assert_eq!(store["port"], 104);
    assert_eq!(store["source"]["application"], "CT_SCANNER_1");
    for f in [adt, oru, store] {
        assert_eq!(f["encrypted"], false, "{f}");
        assert!(f["count"].as_u64().unwrap() >= 1);
        assert!(f["first_seen_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-05"));
    }
    assert_eq!(flows.len(), 3, "{flows:?}");
    // The HTML has the table, the diagram and the cleartext marks.
    assert!(html.contains("ePHI flow map"));
    assert!(html.contains("<svg") && html.contains("aria-label=\"ePHI flow map\""));
    assert!(
        html.matches("<span class=\"clear\">cleartext</span>")
            .count()
            == 3
    );
    for name in [
        "ADT^A01",
        "ORU^R01",
        "C-STORE",
        "MIRTH^HOSP",
        "PACS_MAIN",
        "CT_SCANNER_1",
    ] {
        assert!(html.contains(name), "{name} not in the HTML");
    }
    // Self-contained: no script, no external resource.
    for bad in [
        "<script",
        "src=\"http",
        "href=\"http",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(!html.contains(bad), "{bad} in the HTML");
    }

    // No patient data anywhere: the sample carries canaries.
    let json_text = std::fs::read_to_string(dir.join("hipaa/compliance.json")).unwrap();
    for canary in [
        samplegen::hospital::CANARY_NAME,
        samplegen::hospital::CANARY_MRN,
        samplegen::hospital::CANARY_DOB,
        "CANARY",
        "ZEBRA",
    ] {
        assert!(!html.contains(canary), "{canary} in compliance.html");
        assert!(!json_text.contains(canary), "{canary} in compliance.json");
    }

    browser_render_and_print(&dir.join("hipaa/compliance.html"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `report::esc` as the page writes identifiers (`&` and quotes only matter here).
fn report_esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[test]
fn every_framework_reports_and_an_unknown_one_is_one_line() {
    let dir = tempdir("frameworks");
    let db = analyzed(&dir, &root().join("samples/hospital-room.pcap"));
    for (fw, id) in [
        ("hipaa", "164.312(e)(1)"),
        ("fda", "FDA-2013-4"),
        ("iec80001", "4.3.3"),
        ("nist-csf", "PR.DS-02"),
    ] {
        let (html, j) = report(&db, &dir, fw);
        assert_eq!(j["framework"], fw);
        assert!(j["controls"].as_array().unwrap().len() >= 7, "{fw}");
        assert!(!control(&j, id)["evidence"].as_array().unwrap().is_empty());
        assert!(html.contains(id), "{fw}: {id}");
        assert_eq!(j["ephi_flows"].as_array().unwrap().len(), 3, "{fw}");
    }
    let j = report(&db, &dir, "nist-csf").1;
    assert_eq!(control(&j, "PR.DS-02")["status"], "not_met");
    assert_eq!(control(&j, "ID.AM-01")["evidence"][0]["kind"], "inventory");

    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["compliance", "report", "--framework", "sox", "--db"])
        .arg(&db)
        .arg("--out")
        .arg(dir.join("sox"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("unknown framework \"sox\"") && err.contains("hipaa, fda, iec80001, nist-csf"),
        "{err}"
    );
    assert!(!dir.join("sox").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

fn add_user(db: &Path, name: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "user",
            "add",
            name,
            "--role",
            "admin",
            "--password-stdin",
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
}

#[test]
fn programme_records_change_statuses_and_are_audited() {
    let dir = tempdir("program");
    let db = analyzed(&dir, &root().join("samples/hospital-room.pcap"));
    let d = db.to_str().unwrap();
    add_user(&db, "ada");
    let before = report(&db, &dir, "hipaa").1;
    assert_eq!(control(&before, "164.308(a)(2)")["status"], "not_met");
    assert_eq!(control(&before, "164.308(a)(5)(i)")["status"], "not_met");
    assert_eq!(control(&before, "164.316(b)(2)(iii)")["status"], "not_met");
    assert_eq!(
        control(&before, "164.312(d) (NPRM multi-factor authentication)")["status"],
        "met",
        "accounts sign in with TOTP"
    );

    // An unknown officer and a bad date are refused, one line each.
    for args in [
        vec!["program", "officer", "set", "nobody", "--db", d],
        vec![
            "program",
            "training",
            "add",
            "ada",
            "--course",
            "HIPAA",
            "--date",
            "05/01/2026",
            "--db",
            d,
        ],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    }

    let today = today();
    ward(&[
        "program", "officer", "set", "ada", "--db", d, "--by", "lead",
    ]);
    ward(&[
        "program",
        "training",
        "add",
        "ada",
        "--course",
        "HIPAA security awareness",
        "--date",
        &today,
        "--db",
        d,
    ]);
    ward(&[
        "program",
        "document",
        "add",
        "--kind",
        "policy",
        "--title",
        "Information security policy",
        "--version",
        "3.1",
        "--review-by",
        "2999-01-01",
        "--owner",
        "ada",
        "--link",
        "policies/infosec-3.1.pdf",
        "--db",
        d,
    ]);
    ward(&[
        "program",
        "document",
        "add",
        "--kind",
        "incident-response",
        "--title",
        "Incident response plan",
        "--version",
        "1",
        "--review-by",
        "2020-01-01",
        "--db",
        d,
    ]);
    ward(&[
        "program",
        "risk-analysis",
        "add",
        "--what",
        "annual risk analysis",
        "--owner",
        "ada",
        "--db",
        d,
    ]);
    let after = report(&db, &dir, "hipaa").1;
    assert_eq!(control(&after, "164.308(a)(2)")["status"], "met");
    assert_eq!(control(&after, "164.308(a)(5)(i)")["status"], "met");
    assert_eq!(control(&after, "164.316(b)(2)(iii)")["status"], "met");
    assert_eq!(
        control(&after, "164.308(a)(1)(ii)(A)")["evidence"][0]["status"],
        "met"
    );
    // The overdue incident-response plan is a gap.
    let ir = control(&after, "164.308(a)(6)(i)");
    assert_ne!(ir["status"], "met");
    assert!(
        ir["gaps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g.as_str().unwrap().contains("past their review date")),
        "{ir}"
    );
    assert_eq!(after["program"]["officer"]["user"], "ada");

    // Listed, and every change in the audit log.
    let list = String::from_utf8(ward(&["program", "list", "--db", d]).stdout).unwrap();
    assert!(list.contains("security officer\tada"), "{list}");
    assert!(list.contains("Information security policy"), "{list}");
    let json: serde_json::Value =
        serde_json::from_slice(&ward(&["program", "list", "--json", "--db", d]).stdout).unwrap();
    assert_eq!(json["training"][0]["course"], "HIPAA security awareness");
    let store = store::Store::open(&db).unwrap();
    let actions: Vec<String> = store
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.actor, e.action))
        .collect();
    assert!(
        actions.iter().any(|a| a == "lead program_officer_set"),
        "{actions:?}"
    );
    for a in [
        "program_training_added",
        "program_document_added",
        "program_risk_analysis_recorded",
    ] {
        assert!(actions.iter().any(|x| x.ends_with(a)), "{a}: {actions:?}");
    }
    // `ward report` records a risk analysis too.
    ward(&[
        "report",
        "--db",
        d,
        "--out",
        dir.join("risk").to_str().unwrap(),
    ]);
    let p = store.program_records().unwrap();
    assert!(
        p.risk_analyses
            .iter()
            .any(|r| r.what.starts_with("ward report")),
        "{p:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_names_in_the_flow_map_render_as_text() {
    let dir = tempdir("hostile");
    let pcap = dir.join("hostile.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Hostile).unwrap(),
    )
    .unwrap();
    let db = analyzed(&dir, &pcap);
    let (html, j) = report(&db, &dir, "hipaa");
    let flows = j["ephi_flows"].as_array().unwrap();
    assert!(
        flows.iter().any(|f| f["source"]["application"]
            .as_str()
            .is_some_and(|a| a.contains("<img"))),
        "{flows:?}"
    );
    assert!(!html.contains("<img"), "an img element in the page");
    assert!(!html.contains("<script"), "a script element in the page");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Headless Chromium renders the page (a screenshot in the artefacts
/// folder) and prints it to PDF. Skips, saying so, without Chromium.
fn browser_render_and_print(page: &Path) {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        println!("skipping the browser check: {chromium} is missing");
        return;
    }
    let artifacts = std::env::var_os("WARD_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/artifacts/browser"));
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("compliance-hipaa.png");
    let pdf = artifacts.join("compliance-hipaa.pdf");
    let _ = std::fs::remove_file(&shot);
    let _ = std::fs::remove_file(&pdf);
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    let profile = page.parent().unwrap().join("chromium-profile");
    for what in [
        format!("--screenshot={}", shot.display()),
        format!("--print-to-pdf={}", pdf.display()),
    ] {
        let mut child = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-pdf-header-footer",
                "--window-size=1360,2400",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg(&what)
            .arg(&url)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if started.elapsed() > std::time::Duration::from_secs(120) {
                let _ = child.kill();
                panic!("chromium {what} did not finish in 120 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
    let png =
        std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
    let doc = std::fs::read(&pdf).unwrap_or_else(|e| panic!("no PDF {}: {e}", pdf.display()));
    assert!(doc.starts_with(b"%PDF"), "not a PDF");
    assert!(doc.len() > 20_000, "PDF of {} bytes", doc.len());
    println!("wrote {} and {}", shot.display(), pdf.display());
}
