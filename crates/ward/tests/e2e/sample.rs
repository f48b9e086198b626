//! The bundled synthetic hospital-room capture yields the inventory a
//! hospital security engineer expects, and bad input is refused cleanly.

use crate::common::*;
use std::process::Command;

#[test]
fn sample_inventory_names_the_devices() {
    let file = repo().join("samples/hospital-room.pcap");
    let dir = scratch("sample");
    let (inv, _events) = analyze(&file, &dir);
    let devices = inv["devices"].as_array().expect("devices");
    let text = inv.to_string();
    for want in [
        "ALARIS-PC-07",
        "INTELLIVUE^ICU-3",
        "MIRTH^HOSP",
        "CT_SCANNER_1",
        "PACS_MAIN",
        "SIEMENS_CT_VA40",
        "icu-sw-01",
        "GoAhead-Webs",
        "SSH-2.0-OpenSSH_5.3",
    ] {
        assert!(text.contains(want), "inventory lacks {want}");
    }
    let category_of = |needle: &str| -> String {
        devices
            .iter()
            .find(|d| d.to_string().contains(needle))
            .map(|d| d["category"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(category_of("CT_SCANNER_1\""), "imaging_modality");
    assert_eq!(category_of("ALARIS-PC-07"), "infusion_pump");
    assert_eq!(category_of("icu-sw-01"), "network_gear");
    // Every category comes with reasons and evidence.
    for d in devices {
        if d["category"] != "unknown" {
            let r = &d["reasons"][0];
            assert!(
                !r["why"].as_str().unwrap_or("").is_empty()
                    && !r["evidence"].as_str().unwrap_or("").is_empty(),
                "{d}"
            );
        }
    }
}

#[test]
fn appending_a_second_capture_keeps_the_first() {
    let file = repo().join("samples/hospital-room.pcap");
    let dir = scratch("append");
    let db = dir.join("w.db");
    let first = ward(&[
        "analyze",
        "--quiet",
        "--json",
        "--db",
        db.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let n1 = serde_json::from_slice::<serde_json::Value>(&first.stdout).unwrap()["devices"]
        .as_array()
        .unwrap()
        .len();
    // A bad input is refused with one line and a non-zero exit, and nothing stored is lost.
    let bad = dir.join("not-a-capture.pcap");
    std::fs::write(&bad, b"hello, this is not a capture").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "analyze",
            "--quiet",
            "--db",
            db.to_str().unwrap(),
            bad.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one-line error: {err}");
    assert!(err.contains("not-a-capture.pcap"), "{err}");
    let missing = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["analyze", "--db", db.to_str().unwrap(), "/nonexistent.pcap"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let inv = ward(&["inventory", "--json", "--db", db.to_str().unwrap()]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&inv.stdout).unwrap()["devices"]
            .as_array()
            .unwrap()
            .len(),
        n1
    );
    if let Some(td) = testdata() {
        let second = td.join("generated/dicom_dcmtk_pynetdicom_loopback.pcap");
        let o = ward(&[
            "analyze",
            "--quiet",
            "--json",
            "--db",
            db.to_str().unwrap(),
            second.to_str().unwrap(),
        ]);
        // The run shows the devices it saw; the inventory holds both captures'.
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let text = v.to_string();
        assert!(
            text.contains("PYNETDICOM_304"),
            "the second capture's devices"
        );
        let seen = v["devices"].as_array().unwrap().len();
        assert!(seen > 0);
        let inv = ward(&["inventory", "--json", "--db", db.to_str().unwrap()]);
        let all: serde_json::Value = serde_json::from_slice(&inv.stdout).unwrap();
        let text = all.to_string();
        assert!(
            text.contains("PYNETDICOM_304") && text.contains("ALARIS-PC-07"),
            "one inventory from both captures"
        );
        assert!(all["devices"].as_array().unwrap().len() > n1);
        // The table says how many of them the run saw.
        let table = ward(&[
            "analyze",
            "--db",
            db.to_str().unwrap(),
            second.to_str().unwrap(),
        ]);
        let out = String::from_utf8_lossy(&table.stdout);
        let total = all["devices"].as_array().unwrap().len();
        assert!(
            out.contains(&format!(
                "{seen} devices seen in this run, {total} in the inventory"
            )),
            "{out}"
        );
    }
}
