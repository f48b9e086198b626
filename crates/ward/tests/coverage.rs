//! Issue 16, acceptance item 4: backup coverage from traffic, end to end.
//!
//! The sample generator's coverage scenario (`ward-samplegen coverage`: a CT
//! storing to PACS, a lab analyzer sending ORU results to the interface
//! engine, an ultrasound whose association the PACS rejects) analyzed by the
//! binary: `ward coverage` flags exactly the ultrasound, with evidence; the
//! declared CMMS plan sits beside it; the dashboard's device page, overview
//! and API show the same. On `samples/hospital-room.pcap` the CT's C-STORE
//! to the PACS is its copy.

use std::path::{Path, PathBuf};
use std::process::Command;

const ULTRASOUND: &str = "mac:44:4b:5d:30:00:34";
const CT: &str = "mac:00:0e:8c:30:00:32";
const HOSPITAL_CT: &str = "mac:00:0e:8c:50:c7:32";

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-coverage-{name}-{}", std::process::id()));
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

fn text(args: &[&str]) -> String {
    String::from_utf8(ward(args).stdout).unwrap()
}

/// The coverage scenario analyzed into a fresh database, with a CMMS file
/// declaring plans for the CT and (only on paper) the ultrasound.
fn coverage_db(dir: &Path) -> PathBuf {
    let pcap = dir.join("coverage.pcap");
    std::fs::write(&pcap, samplegen::coverage::write(Vec::new()).unwrap()).unwrap();
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();
    ward(&["analyze", "--quiet", "--db", d, pcap.to_str().unwrap()]);
    let csv = dir.join("cmms.csv");
    std::fs::write(
        &csv,
        "Manufacturer,Model,Serial,MAC Address,Backup Method,Backup Destination,Last Verified Restore\n\
         Siemens,SOMATOM go.Up,CT-0001,00:0e:8c:30:00:32,DICOM to PACS,PACS_MAIN,2025-12-01\n\
         GE Healthcare,LOGIQ E10,US-0002,44-4B-5D-30-00-34,DICOM to PACS,PACS_MAIN,<script>x</script>\n",
    )
    .unwrap();
    ward(&["inventory", "import", "--db", d, csv.to_str().unwrap()]);
    db
}

/// The block of `ward coverage` text about device `key`.
fn block<'a>(out: &'a str, key: &str) -> &'a str {
    let start = out
        .find(&format!("\n{key}"))
        .unwrap_or_else(|| panic!("no block for {key} in:\n{out}"));
    let rest = &out[start + 1..];
    rest.find("\n\n").map_or(rest, |end| &rest[..end])
}

#[test]
fn exactly_the_silent_ultrasound_is_flagged() {
    let dir = tempdir("cli");
    let db = coverage_db(&dir);
    let d = db.to_str().unwrap();
    let out = text(&["coverage", "--db", d]);
    println!("{out}");
    assert!(out.contains("\n1 finding(s)\n"), "{out}");
    assert!(
        out.contains("1 of 2 imaging modalities (50%) sent studies to an archive (DICOM C-STORE) in the last 7 days"),
        "{out}"
    );
    let us = block(&out, ULTRASOUND);
    assert!(
        us.contains("US_ROOM_2  [imaging modality]  no copy observed"),
        "{us}"
    );
    assert!(us.contains("last copy   never seen"), "{us}");
    assert!(
        us.contains("finding     medium   no copy of its data seen leaving in the captures"),
        "{us}"
    );
    // Evidence: the rule and the flow that made it a producer (the rejected association).
    assert!(
        us.contains("evidence rule: every imaging modality must have sent studies"),
        "{us}"
    );
    assert!(
        us.contains("DICOM client proposing ultrasound image storage"),
        "{us}"
    );
    assert!(
        us.contains("10.30.0.52:51300 -> 10.30.0.10:104/tcp"),
        "{us}"
    );
    // The declared plan exists only on paper, shown cleaned.
    assert!(
        us.contains("plan        declared, not observed (plan on paper only)"),
        "{us}"
    );
    assert!(
        us.contains("declared    method \"DICOM to PACS\", destination \"PACS_MAIN\", last verified restore \"<script>x</script>\""),
        "{us}"
    );
    let ct = block(&out, CT);
    assert!(ct.contains("[imaging modality]  protected"), "{ct}");
    assert!(
        ct.contains("copy        DICOM C-STORE -> 10.30.0.10:104/tcp PACS_MAIN  [PACS]"),
        "{ct}"
    );
    assert!(ct.contains("plan        declared and observed"), "{ct}");
    // The PACS's onward copy and the analyzer's results are seen too.
    assert!(out.contains("Commvault -> 10.30.0.90:8400/tcp"), "{out}");
    assert!(out.contains("HL7 ORU -> 10.30.0.11:2575/tcp"), "{out}");

    // JSON: exactly one finding, on the ultrasound, with evidence.
    let json: serde_json::Value =
        serde_json::from_str(&text(&["coverage", "--db", d, "--json"])).unwrap();
    let flagged: Vec<(String, String)> = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["findings"].as_array().unwrap().iter().map(move |f| {
                (
                    p["key"].as_str().unwrap().to_string(),
                    f["kind"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect();
    assert_eq!(
        flagged,
        vec![(ULTRASOUND.to_string(), "no_recent_copy".to_string())]
    );
    let us = json["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == ULTRASOUND)
        .unwrap();
    assert_eq!(us["plan"], "declared_not_observed");
    assert!(us["findings"][0]["evidence"].as_array().unwrap().len() >= 2);
    // The report has the section, the fleet line and the cleaned CMMS text.
    let out_dir = dir.join("report");
    ward(&["report", "--db", d, "--out", out_dir.to_str().unwrap()]);
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("<h2>Data protection</h2>"), "no section");
    assert!(html.contains(
        "1 of 2 imaging modalities (50%) sent studies to an archive (DICOM C-STORE) in the last 7 days"
    ));
    assert!(html.contains("no copy of its data seen leaving in the captures"));
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt;") && !html.contains("<script>x"));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("report.json")).unwrap())
            .unwrap();
    assert_eq!(report["data_protection"]["fleet"][0]["percent"], 50);
    // No patient data anywhere: the captures carry canary names and IDs.
    let db_bytes = std::fs::read(&db).unwrap();
    for canary in [
        samplegen::hospital::CANARY_NAME,
        samplegen::hospital::CANARY_MRN,
        "CANARY",
    ] {
        assert!(
            !db_bytes
                .windows(canary.len())
                .any(|w| w == canary.as_bytes()),
            "{canary} in the database"
        );
        assert!(
            !out.contains(canary) && !html.contains(canary),
            "{canary} shown"
        );
    }
    // A window of one day changes nothing here (everything is minutes apart).
    let one = text(&["coverage", "--db", d, "--days", "1"]);
    assert!(one.contains("\n1 finding(s)\n"), "{one}");
    // A bad window is refused.
    let bad = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["coverage", "--db", d, "--days", "0"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_hospital_room_ct_copy_is_its_store_to_pacs() {
    let dir = tempdir("hospital");
    let db = dir.join("ward.db");
    let d = db.to_str().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/hospital-room.pcap");
    ward(&["analyze", "--quiet", "--db", d, sample.to_str().unwrap()]);
    let json: serde_json::Value = serde_json::from_str(&text(&[
        "coverage",
        "--db",
        d,
        "--device",
        HOSPITAL_CT,
        "--json",
    ]))
    .unwrap();
    let ct = &json["devices"][0];
    assert_eq!(ct["status"], "protected", "{ct}");
    let copy = &ct["copies"][0];
    assert_eq!(
        (
            copy["channel"].as_str(),
            copy["dest"].as_str(),
            copy["dest_name"].as_str(),
            copy["dest_category"].as_str(),
            copy["port"].as_u64()
        ),
        (
            Some("dicom-store"),
            Some("10.20.0.10"),
            Some("PACS_MAIN"),
            Some("pacs"),
            Some(104)
        ),
        "{copy}"
    );
    assert!(copy["evidence"]
        .as_str()
        .unwrap()
        .contains("10.20.0.50:50104 -> 10.20.0.10:104/tcp"));
    // The device detail shows it too.
    let explain = text(&["inventory", "--db", d, "--explain", HOSPITAL_CT]);
    println!("{explain}");
    assert!(explain.contains("Data protection"), "{explain}");
    assert!(
        explain.contains("copy        DICOM C-STORE -> 10.20.0.10:104/tcp PACS_MAIN  [PACS]"),
        "{explain}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// ------------------------------------------------------------ the dashboard

#[path = "support/dashboard.rs"]
mod dashboard;
use dashboard::{add_user, enc, login, serve};

#[test]
fn the_dashboard_shows_data_protection() {
    let dir = tempdir("web");
    let db = coverage_db(&dir);
    let secret = add_user(&db, "vic", "viewer");
    let token = text(&["user", "token", "vic", "--db", db.to_str().unwrap()]);
    let auth = format!("Bearer {}", token.trim());
    let srv = serve(&db, &dir.join("state"));

    // API: the device detail carries its data protection.
    let (status, _, body) = srv.call(
        &format!("/api/v1/devices/{}", enc(ULTRASOUND)),
        "",
        &auth,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let p = &v["data_protection"];
    assert_eq!(p["status"], "none_observed", "{p}");
    assert_eq!(p["findings"][0]["kind"], "no_recent_copy", "{p}");
    let (_, _, body) = srv.call(&format!("/api/v1/devices/{}", enc(CT)), "", &auth, None);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["data_protection"]["status"], "protected", "{body}");
    assert_eq!(v["data_protection"]["copies"][0]["dest_name"], "PACS_MAIN");

    // Pages: sign in (password + TOTP), then the device page and the overview.
    let session = login(&srv, "vic", &secret);
    let (status, _, page) = srv.call(
        &format!("/device?key={}", enc(ULTRASOUND)),
        &session,
        "",
        None,
    );
    assert_eq!(status, 200, "{page}");
    let section = &page[page
        .find("id=\"data-protection\"")
        .expect("data protection section")..];
    assert!(section.contains("no copy observed"), "{section}");
    assert!(
        section.contains("no copy of its data seen leaving in the captures"),
        "{section}"
    );
    assert!(section.contains("declared, not observed"), "{section}");
    // The CMMS field is text, never markup.
    assert!(
        !page.contains("<script>x</script>"),
        "raw CMMS markup in the page"
    );
    let (_, _, page) = srv.call(&format!("/device?key={}", enc(CT)), &session, "", None);
    let section = &page[page.find("id=\"data-protection\"").expect("section")..];
    assert!(section.contains("DICOM C-STORE"), "{section}");
    assert!(section.contains("PACS_MAIN"), "{section}");
    let (_, _, page) = srv.call("/", &session, "", None);
    assert!(
        page.contains("1 of 2 imaging modalities (50%) sent studies to an archive (DICOM C-STORE) in the last 7 days"),
        "overview lacks the coverage line"
    );
    drop(srv);
    let _ = std::fs::remove_dir_all(&dir);
}
