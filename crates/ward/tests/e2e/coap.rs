//! CoAP (issue 21) against tshark's CoAP dissector, on a capture of the
//! PyPI aiocoap client talking to an aiocoap server on loopback (made by
//! `scripts/coap-capture`): per message (paired on packet time and sender)
//! version, type, code, message ID, token length, Uri-Host, Uri-Path
//! segments and Content-Format, and the link targets of the
//! `/.well-known/core` answer. Then the server's role and resources in the
//! inventory. Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/coap/coap-loopback.pcap")
}

const FIELDS: &[&str] = &[
    "coap.version",
    "coap.type",
    "coap.code",
    "coap.mid",
    "coap.token_len",
    "coap.opt.uri_host",
    "coap.opt.uri_path",
    "coap.opt.ctype",
    "links",
];

/// Link targets of a link-format payload, as the test reads tshark's payload.
fn link_targets(payload: &str) -> String {
    payload
        .split(',')
        .filter_map(|l| l.trim().strip_prefix('<')?.split_once('>').map(|(t, _)| t))
        .collect::<Vec<_>>()
        .join("|")
}

fn tshark_messages(file: &std::path::Path) -> BTreeMap<(i64, String), Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(["-Y", "coap", "-T", "fields", "-E", "separator=/t"])
        .args(["-E", "aggregator=|"])
        .args(["-e", "frame.time_epoch", "-e", "ip.src"]);
    for f in &FIELDS[..FIELDS.len() - 1] {
        cmd.args(["-e", f]);
    }
    cmd.args(["-e", "coap.payload_length", "-e", "udp.payload"]);
    let out = cmd.output().expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut msgs = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let get = |i: usize| f.get(i).copied().unwrap_or("").to_string();
        let (secs, frac) = f[0].split_once('.').expect("epoch");
        let us = secs.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
        let mut vals: Vec<String> = (0..FIELDS.len() - 1).map(|i| get(i + 2)).collect();
        let ctype = get(9);
        vals.push(if ctype == "application/link-format" {
            // The payload: the last `coap.payload_length` bytes of the datagram.
            let n: usize = get(FIELDS.len() + 1).parse().unwrap_or(0);
            let hex = get(FIELDS.len() + 2);
            let bytes: Vec<u8> = (0..hex.len() / 2)
                .filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok())
                .collect();
            link_targets(&String::from_utf8_lossy(
                &bytes[bytes.len().saturating_sub(n)..],
            ))
        } else {
            String::new()
        });
        vals[7] = ctype;
        msgs.insert((us, get(1)), vals);
    }
    msgs
}

/// tshark's names of the Content-Formats in the capture.
fn content_format(n: u64) -> String {
    match n {
        0 => "text/plain; charset=utf-8".into(),
        40 => "application/link-format".into(),
        50 => "application/json".into(),
        60 => "application/cbor".into(),
        n => n.to_string(),
    }
}

fn ward_messages(events: &[Value]) -> BTreeMap<(i64, String), Vec<String>> {
    let mut msgs = BTreeMap::new();
    for r in records(events, "coap") {
        let end = if s(r, "direction") == "to_client" {
            "server"
        } else {
            "client"
        };
        let ip = r["flow"][end]["ip"].as_str().expect("flow").to_string();
        let num = |k: &str| r[k].as_u64().map(|n| n.to_string()).unwrap_or_default();
        let list = |k: &str| {
            r[k].as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .unwrap_or_default()
        };
        let vals = vec![
            num("version"),
            num("msg_type"),
            num("code"),
            num("message_id"),
            num("token_length"),
            s(r, "uri_host").to_string(),
            list("uri_path"),
            r["content_format"]
                .as_u64()
                .map(content_format)
                .unwrap_or_default(),
            list("links"),
        ];
        msgs.insert((r["ts"].as_i64().expect("ts"), ip), vals);
    }
    msgs
}

#[test]
fn coap_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("coap-oracle");
    let (inv, events) = analyze(&file, &dir);
    let oracle = tshark_messages(&file);
    let ours = ward_messages(&events);
    assert!(oracle.len() >= 12, "{oracle:#?}");
    let pct = field_agreement("coap", "message", FIELDS, &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
    assert!(
        ours.values().any(|v| v[8].contains("/ward7/bed3/spo2")),
        "the discovery answer's links"
    );
    let gw = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == "127.0.0.30"))
        })
        .expect("the CoAP server");
    let apps: Vec<&str> = gw["applications"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    println!("coap server: roles {} applications {apps:?}", gw["roles"]);
    assert!(apps.contains(&"coap resource=/ward7/bed3/spo2"), "{gw:#}");
    assert!(apps.contains(&"coap link=/ward7/bed3/hr"), "{gw:#}");
}
