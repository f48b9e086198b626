//! Identification acceptance (issue 22): every device of the shipped sample
//! with its category; every labelled non-Bluetooth device of the
//! iotsec-lab-medical captures (`../shared/testdata/medical_pcaps`, skipped
//! when absent); no public address owned by a device; and the non-medical
//! control (the Zeek traces name nothing medical without medical evidence).
//! Each prints its per-device table.

use crate::common::{repo, scratch, testdata, ward};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn devices(inv: &Value) -> &Vec<Value> {
    inv["devices"].as_array().expect("devices")
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("-").to_string()
}

/// Analyzes files into a fresh database; the inventory JSON.
fn analyze(name: &str, files: &[PathBuf]) -> Value {
    let dir = scratch(name);
    let db = dir.join("ward.db");
    let mut args = vec![
        "analyze",
        "--quiet",
        "--json",
        "--workers",
        "1",
        "--db",
        db.to_str().unwrap(),
    ];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let out = ward(&args);
    serde_json::from_slice(&out.stdout).expect("inventory JSON")
}

fn public_ip(ip: &str) -> bool {
    match ip.parse::<std::net::IpAddr>() {
        Ok(ip) => model::addr::is_public(&ip),
        Err(_) => false,
    }
}

/// (3) No device owns a public address; gateways are network gear.
fn no_public_addresses(inv: &Value, what: &str) {
    for d in devices(inv) {
        for ip in d["ips"].as_array().into_iter().flatten() {
            assert!(
                !public_ip(ip.as_str().unwrap_or("")),
                "{what}: {} owns public {ip}",
                d["key"]
            );
        }
        let gateway = d["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| s(&r["why"]).starts_with("gateway: forwards"));
        if gateway {
            assert_eq!(
                d["category"], "network_gear",
                "{what}: gateway {}",
                d["key"]
            );
        }
    }
}

fn table(inv: &Value) {
    for d in devices(inv) {
        let apps: Vec<String> = d["identity"]["apps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| format!("{} {}", s(&a["vendor"]), s(&a["app"])))
            .collect();
        eprintln!(
            "  {:<26} {:<22} {:>4.2} {:<18} {:<14} {:<22} {:<12} {}",
            s(&d["key"]),
            s(&d["category"]),
            d["confidence"].as_f64().unwrap_or(0.0),
            s(&d["vendor"]).chars().take(18).collect::<String>(),
            s(&d["identity"]["model"]),
            s(&d["identity"]["device_type"]),
            s(&d["identity"]["os"]),
            apps.join(", ")
        );
    }
}

#[test]
fn hospital_room_lists_all_twenty_devices_with_their_category() {
    let inv = analyze(
        "ident-hospital",
        &[repo().join("samples/hospital-room.pcap")],
    );
    table(&inv);
    // From samples/README.md's device table.
    let want = [
        ("00:01:42:3a:10:01", "network_gear"),
        ("00:00:0c:7a:10:00", "network_gear"),
        ("00:08:74:5c:21:0a", "pacs"),
        ("00:12:f0:44:01:0b", "hl7_interface_engine"),
        ("00:0b:db:71:30:0c", "clinical_information_system"),
        ("00:11:32:8e:0d:0d", "server"),
        ("f8:c6:78:07:a1:15", "infusion_pump"),
        ("58:42:e4:12:34:16", "infusion_pump"),
        ("00:09:5c:1f:03:1f", "patient_monitor"),
        ("00:a0:37:2b:20:20", "patient_monitor"),
        ("00:1a:fa:33:00:21", "patient_monitor"),
        ("f0:e5:c3:34:00:22", "medical_device"),
        ("9c:c8:ae:41:00:29", "medical_device"),
        ("00:0e:8c:50:c7:32", "imaging_modality"),
        // The MRI console only negotiates SMB1: its server name (MRI-CONSOLE)
        // comes from the negotiate response.
        ("44:4b:5d:51:0a:33", "imaging_modality"),
        ("20:e7:91:60:00:3c", "lab_analyzer"),
        ("00:06:6b:61:00:3d", "lab_analyzer"),
        ("00:01:e6:1a:2b:3c", "printer"),
        ("00:06:5b:64:00:64", "workstation"),
        ("10:c5:95:65:00:65", "workstation"),
    ];
    let keys: Vec<String> = devices(&inv).iter().map(|d| s(&d["key"])).collect();
    let mut wrong = Vec::new();
    for (mac, cat) in want {
        let key = format!("mac:{mac}");
        match devices(&inv).iter().find(|d| d["key"] == key.as_str()) {
            None => wrong.push(format!("{key} missing")),
            Some(d) if d["category"] != cat => {
                wrong.push(format!("{key}: {} not {cat}", d["category"]))
            }
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert_eq!(keys.len(), want.len(), "exactly the 20 devices: {keys:?}");
    // The pump's model from its DHCP vendor class (advisories match on it).
    let pump = devices(&inv)
        .iter()
        .find(|d| d["key"] == "mac:f8:c6:78:07:a1:15")
        .unwrap();
    assert_eq!(pump["identity"]["model"], "Alaris PC 8015");
    let mri = devices(&inv)
        .iter()
        .find(|d| d["key"] == "mac:44:4b:5d:51:0a:33")
        .unwrap();
    assert!(
        mri["hostnames"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|h| h == "MRI-CONSOLE"),
        "the MRI console by its SMB name: {}",
        mri["hostnames"]
    );
    no_public_addresses(&inv, "hospital-room");

    // --explain: every conclusion with its evidence and knowledge entry (source, licence).
    let db = std::env::temp_dir()
        .join(format!("ward-e2e-{}-ident-hospital", std::process::id()))
        .join("ward.db");
    let out = ward(&[
        "inventory",
        "--db",
        db.to_str().unwrap(),
        "--explain",
        "mac:f8:c6:78:07:a1:15",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}");
    assert!(text.contains("model = Alaris PC 8015"), "{text}");
    assert!(text.contains("knowledge keyword/alaris"), "{text}");
    assert!(text.contains("licence CC0-1.0"), "{text}");
    assert!(
        text.contains("dhcp DISCOVER xid="),
        "packet evidence: {text}"
    );
}

fn folder_captures(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_labelled_medical_capture_device_is_identified() {
    let Some(td) = testdata() else { return };
    let root = td.join("medical_pcaps");
    let Ok(labels) = std::fs::read_to_string(root.join("iotsec-lab-medical.LABELS.tsv")) else {
        eprintln!("skipping: medical_pcaps/iotsec-lab-medical.LABELS.tsv not found");
        return;
    };
    let mut failures: Vec<String> = Vec::new();
    let mut inventories: std::collections::BTreeMap<String, Value> = Default::default();
    for line in labels
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let [folder, device, expected, ..] = cols[..] else {
            continue;
        };
        if folder.contains("bluetooth") {
            continue; // BLE rows: the `ble` work's own test.
        }
        if !inventories.contains_key(folder) {
            let files = folder_captures(&root.join("iotsec-lab-medical").join(folder));
            if files.is_empty() {
                eprintln!("skipping {folder}: no captures");
                continue;
            }
            let inv = analyze(&format!("ident-{}", folder.replace('/', "-")), &files);
            eprintln!("{folder}:");
            table(&inv);
            no_public_addresses(&inv, folder);
            // PCAPdroid's virtual resolver is never a device.
            for d in devices(&inv) {
                if d["ips"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|i| i == "10.215.173.2")
                {
                    failures.push(format!(
                        "{folder}: the PCAPdroid resolver is a device ({})",
                        d["key"]
                    ));
                }
            }
            inventories.insert(folder.to_string(), inv);
        }
        let inv = &inventories[folder];
        let found = devices(inv).iter().find(|d| {
            d["key"] == format!("mac:{device}").as_str()
                || d["ips"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|i| i == device)
        });
        let exp = expected.to_lowercase();
        let Some(d) = found else {
            failures.push(format!(
                "{folder} {device}: not in the inventory ({expected})"
            ));
            continue;
        };
        let cat = s(&d["category"]);
        let dtype = s(&d["identity"]["device_type"]).to_lowercase();
        let mut check = |ok: bool, what: &str| {
            if !ok {
                failures.push(format!("{folder} {device}: {what} (got {cat}, {dtype}, vendor {}, model {}; expected {expected})", s(&d["vendor"]), s(&d["identity"]["model"])));
            }
        };
        if exp.contains("not scored") {
            continue;
        }
        if exp.contains("phone") && exp.contains("running") {
            check(cat == "mobile_device", "a phone");
            let apps = d["identity"]["apps"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            check(
                apps.iter().any(|a| {
                    let (v, p) = (s(&a["vendor"]).to_lowercase(), s(&a["app"]).to_lowercase());
                    exp.contains(&v) || p.split_whitespace().any(|w| w.len() > 3 && exp.contains(w))
                }),
                "the app's vendor/product named",
            );
        } else if exp.contains("router") || exp.contains("gateway") {
            check(cat == "network_gear" && dtype == "gateway", "the gateway");
        } else if exp.contains("blood pressure monitor") {
            check(
                cat == "medical_device" && dtype == "blood pressure monitor",
                "a blood pressure monitor",
            );
            check(s(&d["vendor"]) == "Withings", "vendor Withings");
            check(
                exp.contains(&s(&d["identity"]["model"]).to_lowercase()),
                "the model stated in the label",
            );
        } else if exp.contains("camera") {
            check(
                cat == "medical_device" && dtype.contains("camera"),
                "a medical camera",
            );
        } else {
            check(cat != "unknown", "identified");
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn ordinary_it_traffic_names_nothing_medical() {
    let Some(td) = testdata() else { return };
    let traces = td.join("zeek/Traces");
    if !traces.is_dir() {
        eprintln!("skipping: zeek/Traces not found");
        return;
    }
    let mut files = Vec::new();
    let mut stack = vec![traces];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .is_some_and(|x| x == "pcap" || x == "trace" || x == "pcapng")
            {
                files.push(p);
            }
        }
    }
    files.sort();
    // One run over every trace (one process; devices of different traces
    // only meet when they share a MAC or address).
    let inv = analyze("ident-zeek", &files);
    no_public_addresses(&inv, "zeek traces");
    let mut medical = Vec::new();
    for d in devices(&inv) {
        let cat = s(&d["category"]);
        if [
            "imaging_modality",
            "pacs",
            "imaging_workstation",
            "hl7_interface_engine",
            "clinical_information_system",
            "patient_monitor",
            "infusion_pump",
            "lab_analyzer",
            "medical_device",
        ]
        .contains(&cat.as_str())
        {
            // Medical evidence: a clinical protocol role.
            let clinical = d["roles"].as_array().into_iter().flatten().any(|r| {
                let r = s(r);
                r.starts_with("hl7") || r.starts_with("dicom")
            });
            if !clinical {
                medical.push(format!(
                    "{} {} {:?}",
                    s(&d["key"]),
                    cat,
                    d["reasons"][0]["why"]
                ));
            }
        }
    }
    eprintln!("{} Zeek traces analyzed", files.len());
    assert!(
        medical.is_empty(),
        "medical without medical evidence: {medical:#?}"
    );
}
