//! SSDP (issue 21) against tshark's SSDP dissector, on a capture of a
//! MiniDLNA media server in a network namespace announcing itself and
//! answering the async-upnp-client control point's searches (made by
//! `scripts/ssdp-capture`): per datagram (paired on packet time and sender)
//! the method or status, SERVER, USER-AGENT, LOCATION, NT, NTS, ST and the
//! USN's uuid and type. Then the device's role and announced type in the
//! inventory. Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/ssdp/ssdp-netns.pcap")
}

/// Compared fields, in Ward's names.
const KEYS: &[&str] = &[
    "method",
    "status_code",
    "server",
    "user_agent",
    "location",
    "nt",
    "nts",
    "st",
    "usn_uuid",
    "usn_type",
];

fn header<'a>(lines: &'a str, name: &str) -> &'a str {
    lines
        .split('|')
        .filter_map(|l| l.split_once(':'))
        .find(|(n, _)| n.trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim_end_matches("\\r\\n").trim())
        .unwrap_or("")
}

/// tshark's datagrams: (packet time in µs, sender IP) -> values of [`KEYS`].
fn tshark_messages(file: &std::path::Path) -> BTreeMap<(i64, String), Vec<String>> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "ssdp", "-T", "fields", "-E", "separator=/t"])
        .args(["-E", "aggregator=|"])
        .args(["-e", "frame.time_epoch", "-e", "ip.src"])
        .args(["-e", "http.request.method", "-e", "http.response.code"])
        .args([
            "-e",
            "http.server",
            "-e",
            "http.user_agent",
            "-e",
            "http.location",
        ])
        .args(["-e", "http.request.line", "-e", "http.response.line"])
        .args(["-e", "http.unknown_header"])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut msgs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        let (secs, frac) = get(0).split_once('.').expect("epoch");
        let us = secs.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
        let lines = format!("{}|{}|{}", get(7), get(8), get(9));
        let usn = header(&lines, "USN");
        let (uuid, kind) = match usn.split_once("::") {
            Some((u, k)) => (u, k),
            None => (usn, ""),
        };
        let uuid = uuid.strip_prefix("uuid:").unwrap_or(uuid);
        let vals = [
            get(2),
            get(3),
            get(4),
            get(5),
            get(6),
            header(&lines, "NT"),
            header(&lines, "NTS"),
            header(&lines, "ST"),
            uuid,
            kind,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        msgs.insert((us, get(1).to_string()), vals);
    }
    msgs
}

fn ward_messages(events: &[Value]) -> BTreeMap<(i64, String), Vec<String>> {
    let mut msgs = BTreeMap::new();
    for r in records(events, "ssdp") {
        let end = if s(r, "direction") == "to_client" {
            "server"
        } else {
            "client"
        };
        let ip = r["flow"][end]["ip"].as_str().expect("flow").to_string();
        let vals = KEYS
            .iter()
            .map(|k| match &r[*k] {
                Value::String(v) => v.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            })
            .collect();
        msgs.insert((r["ts"].as_i64().expect("ts"), ip), vals);
    }
    msgs
}

#[test]
fn ssdp_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("ssdp-oracle");
    let (inv, events) = analyze(&file, &dir);
    let oracle = tshark_messages(&file);
    let ours = ward_messages(&events);
    assert!(oracle.len() >= 20, "{oracle:#?}");
    let pct = field_agreement("ssdp", "datagram", KEYS, &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");

    // The media server: a UPnP device with its type, location and product.
    let dev = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == "10.77.0.2"))
        })
        .expect("the media server");
    let has = |k: &str, want: &str| {
        dev[k].as_array().is_some_and(|a| {
            a.iter()
                .any(|v| v.as_str().is_some_and(|v| v.starts_with(want)))
        })
    };
    println!(
        "upnp device: roles {} applications {}",
        dev["roles"], dev["applications"]
    );
    assert!(has("roles", "upnp-device"), "{dev:#}");
    assert!(
        has(
            "applications",
            "upnp device=urn:schemas-upnp-org:device:MediaServer:1 uuid="
        ),
        "{dev:#}"
    );
    assert!(
        has(
            "applications",
            "upnp location=http://10.77.0.2:8200/rootDesc.xml"
        ),
        "{dev:#}"
    );
    assert!(
        has("software", "Debian DLNADOC/1.50 UPnP/1.0 MiniDLNA/"),
        "{dev:#}"
    );
}
