//! SIP (issue 21) against tshark's SIP dissector, on a capture of SIPp user
//! agents (sip-tester) registering with and calling through a Kamailio
//! registrar/proxy on loopback, over UDP and TCP (made by
//! `scripts/sip-capture`): per message (paired on packet time and sender)
//! the method, request-URI host, status code, CSeq method, User-Agent,
//! Server and the From, To and Contact hosts. Then the phones' identity in
//! the inventory, the registrar's role, and the display names (canaries)
//! and user parts stored nowhere. The oracle skips when tshark is absent.

use crate::common::*;
use crate::privacy::assert_canaries_never_stored;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/sip/sip-loopback.pcap")
}

/// The compared fields, in tshark's names.
const FIELDS: &[&str] = &[
    "sip.Method",
    "sip.r-uri.host",
    "sip.Status-Code",
    "sip.CSeq.method",
    "sip.User-Agent",
    "sip.Server",
    "sip.from.host",
    "sip.to.host",
    "sip.contact.host",
];

/// Ward's record keys for [`FIELDS`].
const KEYS: &[&str] = &[
    "method",
    "request_uri_host",
    "status_code",
    "cseq_method",
    "user_agent",
    "server",
    "from_domain",
    "to_domain",
    "contact_host",
];

/// tshark's messages: (packet time in µs, sender IP) -> field values.
fn tshark_messages(file: &std::path::Path) -> BTreeMap<(i64, String), Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(["-Y", "sip", "-T", "fields", "-E", "separator=/t"])
        .args(["-e", "frame.time_epoch", "-e", "ip.src"]);
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut msgs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (secs, frac) = f[0].split_once('.').expect("epoch");
        let us = secs.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
        let vals = (0..FIELDS.len())
            .map(|i| f.get(i + 2).copied().unwrap_or("").to_string())
            .collect();
        msgs.insert((us, f[1].to_string()), vals);
    }
    msgs
}

/// Ward's messages, keyed the same way.
fn ward_messages(events: &[Value]) -> BTreeMap<(i64, String), Vec<String>> {
    let mut msgs = BTreeMap::new();
    for r in records(events, "sip") {
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
fn sip_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("sip-oracle");
    let (_inv, events) = analyze(&file, &dir);
    let oracle = tshark_messages(&file);
    let ours = ward_messages(&events);
    assert!(oracle.len() >= 25, "{oracle:#?}");
    let pct = field_agreement("sip", "message", FIELDS, &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
}

#[test]
fn sip_phones_and_registrar_identified() {
    let dir = scratch("sip-identity");
    let (inv, _events) = analyze(&fixture(), &dir);
    for (ip, vendor, model, firmware) in [
        ("127.0.0.21", "Yealink", "SIP-T46S", "66.86.0.15"),
        ("127.0.0.22", "Cisco", "CP7841", "11.0.1"),
        ("127.0.0.23", "Ascom", "i63", "4.3.12"),
    ] {
        let d = device(&inv, ip);
        println!(
            "{ip}: category {} vendor {} model {} firmware {}",
            d["category"], d["vendor"], d["identity"]["model"], d["identity"]["firmware"]
        );
        assert_eq!(d["category"], "voip_phone", "{d:#}");
        assert_eq!(d["identity"]["model"], model, "{d:#}");
        assert_eq!(d["identity"]["firmware"], firmware, "{d:#}");
        assert!(
            d["vendor"] == vendor || d["identity"]["vendor"] == vendor,
            "{d:#}"
        );
        assert!(strings(&d["roles"]).contains(&"sip-ua"));
    }
    let pbx = device(&inv, "127.0.0.1");
    assert!(strings(&pbx["roles"]).contains(&"sip-registrar"), "{pbx:#}");
    assert_ne!(pbx["category"], "voip_phone");
    assert!(strings(&pbx["applications"]).contains(&"sip registrar domain=pbx.ward.example"));
    assert!(
        strings(&pbx["software"])
            .iter()
            .any(|s| s.starts_with("kamailio")),
        "{pbx:#}"
    );
    // The Yealink's User-Agent, forwarded by the proxy, is not the proxy's.
    assert!(!pbx.to_string().contains("Yealink"), "{pbx:#}");
}

#[test]
fn sip_display_names_and_user_parts_never_stored() {
    assert_canaries_never_stored(
        &fixture(),
        &[
            "Nurse Canary",
            "Canary Alpha",
            "sip:2001@",
            "sip:2002@",
            "SIPpTag",
        ],
        "sip",
    );
}
