//! RDP (issue 21) against tshark's RDP and TLS dissectors, on a capture of
//! FreeRDP's client and xrdp on loopback (made by `scripts/rdp-capture`): per
//! connection (paired on the client port) the cookie's presence, the
//! requested and selected protocols, and — for TLS sessions, which tshark
//! reads with `-d tcp.port==3389,tls` — the ClientHello's server name, the
//! negotiated version and the server certificate's subject. Then standard RDP
//! security is a risk finding and the cookie's user name is in no output.
//! Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/rdp/rdp-loopback.pcap")
}

/// Field name -> value, per client port.
type Fields = BTreeMap<u64, BTreeMap<String, String>>;

fn tshark(file: &Path, args: &[&str]) -> Vec<Vec<String>> {
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
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn hex_u32(s: &str) -> String {
    u32::from_str_radix(s.trim_start_matches("0x"), 16)
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// tshark's view.
fn tshark_fields(file: &Path) -> Fields {
    let mut conns = Fields::new();
    let rows = tshark(
        file,
        &[
            "-Y",
            "rdp",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "rdp.rt_cookie",
            "-e",
            "rdp.negReq.requestedProtocols",
            "-e",
            "rdp.negReq.selectedProtocol",
            "-e",
            "rdp.negFailure.failureCode",
        ],
    );
    for f in rows {
        let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
        let (src, dst): (u64, u64) = (get(0).parse().unwrap(), get(1).parse().unwrap());
        let c = conns
            .entry(if dst == 3389 { src } else { dst })
            .or_default();
        if get(2).starts_with("Cookie: mstshash=") {
            c.insert("cookie".into(), "true".into());
        }
        for (i, k) in [
            (3, "requested_protocols"),
            (4, "selected_protocol"),
            (5, "failure_code"),
        ] {
            if !get(i).is_empty() {
                c.insert(k.into(), hex_u32(get(i)));
            }
        }
    }
    let rows = tshark(
        file,
        &[
            "-d",
            "tcp.port==3389,tls",
            "-Y",
            "tls.handshake.type",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "tls.handshake.type",
            "-e",
            "tls.handshake.extensions_server_name",
            "-e",
            "tls.handshake.version",
            "-e",
            "x509sat.uTF8String",
        ],
    );
    for f in rows {
        let get = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
        let (src, dst): (u64, u64) = (get(0).parse().unwrap(), get(1).parse().unwrap());
        let Some(c) = conns.get_mut(&if dst == 3389 { src } else { dst }) else {
            continue;
        };
        let types: Vec<&str> = get(2).split(',').collect();
        if types.contains(&"1") && !get(3).is_empty() {
            c.insert("tls server_name".into(), get(3).into());
        }
        if types.contains(&"2") {
            let v = match get(4).split(',').next().unwrap_or("") {
                "0x0303" => "TLSv12",
                "0x0302" => "TLSv11",
                "0x0301" => "TLSv10",
                _ => "",
            };
            c.insert("tls version".into(), v.into());
        }
        if types.contains(&"11") {
            // The subject's CN (the first string of the first certificate).
            if let Some(cn) = get(5).split(',').next().filter(|s| !s.is_empty()) {
                c.insert("tls cert cn".into(), cn.into());
            }
        }
    }
    conns
}

/// Ward's view.
fn ward_fields(events: &[Value]) -> Fields {
    let mut conns = Fields::new();
    for r in records(events, "rdp") {
        let port = r["flow"]["client"]["port"].as_u64().expect("flow");
        let c = conns.entry(port).or_default();
        if r["cookie"] == true {
            c.insert("cookie".into(), "true".into());
        }
        for k in ["requested_protocols", "selected_protocol", "failure_code"] {
            if let Some(v) = r[k].as_u64() {
                c.insert(k.into(), v.to_string());
            }
        }
    }
    for t in records(events, "tls") {
        let port = t["flow"]["client"]["port"].as_u64().expect("flow");
        let Some(c) = conns.get_mut(&port) else {
            continue;
        };
        if let Some(v) = t["server_name"].as_str() {
            c.insert("tls server_name".into(), v.into());
        }
        if let Some(v) = t["version"].as_str() {
            c.insert("tls version".into(), v.into());
        }
        if let Some(subj) = t["cert_subject"].as_str() {
            let cn = subj
                .split([',', '/'])
                .find_map(|p| p.trim().strip_prefix("CN="))
                .unwrap_or(subj);
            c.insert("tls cert cn".into(), cn.into());
        }
    }
    conns
}

#[test]
fn rdp_fields_agree_with_tshark_and_weak_transport_is_a_finding() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("rdp-oracle");
    let (_inv, events) = analyze(&file, &dir);
    let oracle = tshark_fields(&file);
    let ours = ward_fields(&events);
    assert!(oracle.len() >= 3, "{oracle:#?}");
    let pct = named_field_agreement("rdp", "connection", &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
    assert!(
        records(&events, "tls")
            .iter()
            .any(|t| t["cert_subject"].as_str().is_some()),
        "the server certificate is logged"
    );
    let weak: Vec<&Value> = records(&events, "rdp")
        .into_iter()
        .filter(|r| r["standard_security"] == true)
        .collect();
    assert_eq!(weak.len(), 1, "one standard-security session");

    let db = dir.join("ward.db");
    let out = ward(&["risk", "--json", "--db", db.to_str().unwrap()]);
    let risk = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(risk.contains("standard RDP security"), "{risk}");
    // The cookie is a user name: in no output (the capture has it).
    let raw = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).to_string();
    assert!(raw.contains("ward-biomed"));
    let db_text = String::from_utf8_lossy(&std::fs::read(&db).unwrap()).to_string();
    let events_text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    for h in [db_text, events_text, risk] {
        assert!(
            !h.contains("ward-biomed"),
            "the RDP cookie's user name was kept"
        );
    }
}
