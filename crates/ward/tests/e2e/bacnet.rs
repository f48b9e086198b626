//! BACnet/IP (issue 21) against tshark's BVLC/BACnet/BACapp dissectors, on a
//! capture of two PyPI bacpypes3 applications in network namespaces of their
//! own (made by `scripts/bacnet-capture`): per datagram the BVLC function,
//! destination network, APDU type, service choice, invoke ID, I-Am device
//! instance, max APDU, vendor ID and vendor name, the property identifiers
//! and the device object's identity strings. Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/bacnet/bacnet-netns.pcap")
}

/// Field name -> value, per datagram (in capture order).
type Fields = Vec<BTreeMap<String, String>>;

fn tshark(file: &Path, args: &[&str]) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

const STRINGS: [(&str, &str); 4] = [
    ("vendor-name", "vendor_name"),
    ("model-name", "model_name"),
    ("firmware-revision", "firmware_revision"),
    (
        "application-software-version",
        "application_software_version",
    ),
];

/// tshark's view.
fn tshark_fields(file: &Path) -> Fields {
    let mut frames: Fields = Vec::new();
    let fields = tshark(
        file,
        &[
            "-Y",
            "bvlc",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "frame.number",
            "-e",
            "bvlc.function",
            "-e",
            "bacnet.dnet",
            "-e",
            "bacapp.type",
            "-e",
            "bacapp.confirmed_service",
            "-e",
            "bacapp.unconfirmed_service",
            "-e",
            "bacapp.invoke_id",
            "-e",
            "bacapp.vendor_identifier",
            "-e",
            "bacapp.property_identifier",
            "-e",
            "bacapp.object_name",
        ],
    );
    let mut index = BTreeMap::new();
    for line in fields.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let mut m = BTreeMap::new();
        let func = u8::from_str_radix(get(1).trim_start_matches("0x"), 16).unwrap();
        m.insert("bvlc_function".to_string(), func.to_string());
        for (k, i) in [
            ("dnet", 2),
            ("apdu_type", 3),
            ("invoke_id", 6),
            ("vendor_id", 7),
        ] {
            if !get(i).is_empty() {
                m.insert(k.to_string(), get(i).to_string());
            }
        }
        let service = if get(4).is_empty() { get(5) } else { get(4) };
        if !service.is_empty() {
            m.insert("service".into(), service.into());
        }
        if !get(8).is_empty() {
            m.insert("properties".into(), get(8).to_string());
        }
        if !get(9).is_empty() {
            m.insert("object_name".into(), get(9).to_string());
        }
        index.insert(get(0).to_string(), frames.len());
        frames.push(m);
    }
    // Strings, the I-Am's max APDU and the vendor's name, from the detail view.
    let mut cur: Option<usize> = None;
    for line in tshark(file, &["-Y", "bvlc", "-V"]).lines() {
        if let Some(rest) = line.strip_prefix("Frame ") {
            cur = rest.split(':').next().and_then(|n| index.get(n)).copied();
            continue;
        }
        let Some(m) = cur.and_then(|i| frames.get_mut(i)) else {
            continue;
        };
        let t = line.trim();
        for (label, key) in STRINGS {
            if let Some(v) = t.strip_prefix(&format!("{label}: UTF-8 '")) {
                m.insert(key.into(), v.trim_end_matches('\'').into());
            }
        }
        if let Some(v) = t.strip_prefix("Maximum ADPU Length Accepted: (Unsigned) ") {
            if m.get("service").map(String::as_str) == Some("0") && m["apdu_type"] == "1" {
                m.insert("max_apdu".into(), v.into());
            }
        }
        if let Some(v) = t.strip_prefix("Vendor ID: ") {
            if let Some((name, _)) = v.rsplit_once(" (") {
                m.insert("vendor".into(), name.into());
            }
        }
    }
    frames
}

/// Ward's view.
fn ward_fields(events: &[Value]) -> Fields {
    let mut frames = Vec::new();
    for r in records(events, "bacnet") {
        let mut m = BTreeMap::new();
        let mut put = |k: &str, v: &Value| {
            if !v.is_null() {
                m.insert(
                    k.to_string(),
                    v.as_str().map_or(v.to_string(), str::to_string),
                );
            }
        };
        put("bvlc_function", &r["bvlc_function"]);
        put("dnet", &r["dnet"]);
        put("apdu_type", &r["apdu_type"]);
        put("service", &r["service"]);
        put("invoke_id", &r["invoke_id"]);
        put("vendor_id", &r["i_am"]["vendor_id"]);
        put("vendor", &r["i_am"]["vendor"]);
        put("max_apdu", &r["i_am"]["max_apdu"]);
        for (_, key) in STRINGS {
            put(key, &r["device"][key]);
        }
        put("object_name", &r["device"]["object_name"]);
        let props: Vec<String> = r["properties"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p.to_string())
            .collect();
        if !props.is_empty() {
            m.insert("properties".into(), props.join(","));
        }
        frames.push(m);
    }
    frames
}

#[test]
fn bacnet_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("bacnet-oracle");
    let (inv, events) = analyze(&file, &dir);
    let oracle = tshark_fields(&file);
    let ours = ward_fields(&events);
    assert!(oracle.len() >= 10, "{oracle:#?}");
    let by_index = |f: Fields| f.into_iter().enumerate().collect::<BTreeMap<_, _>>();
    let (oracle, ours) = (by_index(oracle), by_index(ours));
    let pct = named_field_agreement("bacnet", "datagram", &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");

    // The device's identity: vendor (stated and by vendor ID), model, firmware.
    let device = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == "10.77.0.2"))
        })
        .expect("the BACnet device");
    let facts: Vec<(String, String)> = device["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (s(f, "kind").to_string(), s(f, "value").to_string()))
        .collect();
    println!("bacnet device facts: {facts:?}");
    for (k, v) in [
        ("manufacturer", "Johnson Controls"),
        ("manufacturer", "Johnson Controls, Inc."),
        ("model", "FX-PCG2621"),
        ("firmware", "10.2.1"),
        ("role", "bacnet-device"),
        ("application", "bacnet device=1201 name=AHU-3 OR Suite"),
    ] {
        assert!(
            facts.iter().any(|(a, b)| a == k && b == v),
            "{k}={v} missing: {device:#}"
        );
    }
}
