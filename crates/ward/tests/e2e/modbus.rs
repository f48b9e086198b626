//! Modbus/TCP (issue 21) against tshark's Modbus/TCP dissector, on a capture
//! of the PyPI pymodbus client talking to a pymodbus server on loopback (made
//! by `scripts/modbus-capture`): per connection (paired on the client port)
//! the request and response counts, unit identifiers, per function code
//! request and response counts, exception responses by function and code,
//! and every Read Device Identification object string. Skips when tshark is
//! absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/modbus/modbus-loopback.pcap")
}

/// Field name -> value, per client port.
type Fields = BTreeMap<u64, BTreeMap<String, String>>;

fn bump(m: &mut BTreeMap<String, String>, key: String) {
    let n: u64 = m.get(&key).and_then(|v| v.parse().ok()).unwrap_or(0);
    m.insert(key, (n + 1).to_string());
}

/// tshark's view.
fn tshark_fields(file: &std::path::Path) -> Fields {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "mbtcp", "-T", "fields", "-E", "separator=/t"])
        .args([
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "mbtcp.unit_id",
        ])
        .args(["-e", "modbus.func_code", "-e", "modbus.exception_code"])
        .args(["-e", "modbus.object_id", "-e", "modbus.object_str_value"])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conns = Fields::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let (src, dst): (u64, u64) = (get(0).parse().unwrap(), get(1).parse().unwrap());
        let request = dst == 502;
        let c = conns.entry(if request { src } else { dst }).or_default();
        c.insert(format!("unit {}", get(2)), "seen".into());
        bump(c, if request { "requests" } else { "responses" }.into());
        let (fc, exc) = (get(3), get(4));
        if !exc.is_empty() {
            bump(c, format!("exception fc={fc} code={exc}"));
        } else {
            bump(
                c,
                format!("fc={fc} {}", if request { "req" } else { "rsp" }),
            );
        }
        if !request {
            let values: Vec<&str> = get(6).split(',').collect();
            for (id, v) in get(5).split(',').zip(values) {
                if !v.is_empty() {
                    c.insert(format!("object {id}"), v.to_string());
                }
            }
        }
    }
    conns
}

/// Ward's view.
fn ward_fields(events: &[Value]) -> Fields {
    let mut conns = Fields::new();
    for r in records(events, "modbus") {
        let port = r["flow"]["client"]["port"].as_u64().expect("flow");
        let c = conns.entry(port).or_default();
        for u in r["unit_ids"].as_array().into_iter().flatten() {
            c.insert(format!("unit {u}"), "seen".into());
        }
        for k in ["requests", "responses"] {
            c.insert(k.into(), r[k].to_string());
        }
        for f in r["functions"].as_array().into_iter().flatten() {
            for (k, tag) in [("requests", "req"), ("responses", "rsp")] {
                if f[k].as_u64().unwrap_or(0) > 0 {
                    c.insert(format!("fc={} {tag}", f["code"]), f[k].to_string());
                }
            }
        }
        for e in r["exceptions"].as_array().into_iter().flatten() {
            c.insert(
                format!("exception fc={} code={}", e["function"], e["code"]),
                e["count"].to_string(),
            );
        }
        let id = &r["device_id"];
        for (i, k) in [
            "vendor_name",
            "product_code",
            "revision",
            "vendor_url",
            "product_name",
            "model_name",
            "user_application_name",
        ]
        .iter()
        .enumerate()
        {
            if let Some(v) = id[k].as_str() {
                c.insert(format!("object {i}"), v.to_string());
            }
        }
    }
    conns
}

#[test]
fn modbus_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("modbus-oracle");
    let (inv, events) = analyze(&file, &dir);
    let oracle = tshark_fields(&file);
    let ours = ward_fields(&events);
    assert!(oracle.len() >= 3, "{oracle:#?}");
    let pct = named_field_agreement("modbus", "connection", &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");

    // Register values are never kept: no field of a record holds them.
    for r in records(&events, "modbus") {
        let keys: Vec<&String> = r.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| !k.contains("regist") && !k.contains("value")),
            "{keys:?}"
        );
    }

    // The server's identity: vendor, model and firmware as it stated them.
    let server = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == "127.0.0.1"))
        })
        .expect("the server's device");
    let facts: Vec<(String, String)> = server["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| (s(f, "kind").to_string(), s(f, "value").to_string()))
        .collect();
    println!("modbus server facts: {facts:?}");
    for (k, v) in [
        ("manufacturer", "Acme Building Controls"),
        ("model", "AHU-200 OR Suite"),
        ("firmware", "4.7.2"),
        ("role", "modbus-server"),
    ] {
        assert!(
            facts.iter().any(|(a, b)| a == k && b == v),
            "{k}={v} missing: {server:#}"
        );
    }
}
