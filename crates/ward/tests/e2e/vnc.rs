//! VNC/RFB (issue 21) against tshark's VNC dissector, on a capture of the
//! PyPI vncdotool client and TigerVNC's Xvnc on loopback (made by
//! `scripts/vnc-capture`): per connection (paired on the client port) both
//! protocol versions, the security types offered and chosen, the security
//! result and failure reason, the desktop name and framebuffer size. Then the
//! risk view: the server accepting security type None is a finding, and the
//! VNC password is in no output. Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/vnc/vnc-loopback.pcap")
}

/// Field name -> value, per client port.
type Fields = BTreeMap<u64, BTreeMap<String, String>>;

const PORTS: [u64; 2] = [5901, 5902];

/// tshark's view.
fn tshark_fields(file: &std::path::Path) -> Fields {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "vnc", "-T", "fields", "-E", "separator=/t"])
        .args(["-e", "tcp.srcport", "-e", "tcp.dstport"])
        .args(["-e", "vnc.server_proto_ver", "-e", "vnc.client_proto_ver"])
        .args(["-e", "vnc.security_type", "-e", "vnc.client_security_type"])
        .args(["-e", "vnc.auth_result", "-e", "vnc.auth_error"])
        .args([
            "-e",
            "vnc.desktop_name",
            "-e",
            "vnc.width",
            "-e",
            "vnc.height",
        ])
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
        let client = if PORTS.contains(&dst) { src } else { dst };
        let c = conns.entry(client).or_default();
        for (i, k) in [
            (2, "server_version"),
            (3, "client_version"),
            (4, "security_types"),
            (5, "security_type"),
            (6, "auth_result"),
            (7, "failure_reason"),
            (8, "desktop_name"),
            (9, "width"),
            (10, "height"),
        ] {
            if !get(i).is_empty() {
                c.insert(k.to_string(), get(i).to_string());
            }
        }
    }
    conns
}

/// Ward's view.
fn ward_fields(events: &[Value]) -> Fields {
    let mut conns = Fields::new();
    for r in records(events, "vnc") {
        let port = r["flow"]["client"]["port"].as_u64().expect("flow");
        let c = conns.entry(port).or_default();
        for k in [
            "server_version",
            "client_version",
            "security_type",
            "auth_result",
            "failure_reason",
            "desktop_name",
            "width",
            "height",
        ] {
            let v = &r[k];
            if !v.is_null() {
                c.insert(k.into(), v.as_str().map_or(v.to_string(), str::to_string));
            }
        }
        let types: Vec<String> = r["security_types"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t.to_string())
            .collect();
        if !types.is_empty() {
            c.insert("security_types".into(), types.join(","));
        }
    }
    conns
}

#[test]
fn vnc_fields_agree_with_tshark_and_none_is_a_finding() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("vnc-oracle");
    let (_inv, events) = analyze(&file, &dir);
    let oracle = tshark_fields(&file);
    let ours = ward_fields(&events);
    assert!(oracle.len() >= 3, "{oracle:#?}");
    let pct = named_field_agreement("vnc", "connection", &oracle, &ours);
    assert!(pct >= 95.0, "agreement {pct:.1}%");
    let open: Vec<&Value> = records(&events, "vnc")
        .into_iter()
        .filter(|r| r["no_auth"] == true)
        .collect();
    assert_eq!(open.len(), 1, "one session without authentication");
    assert_eq!(open[0]["flow"]["server"]["port"], 5901);

    // The risk view: unauthenticated remote control is a critical finding.
    let db = dir.join("ward.db");
    let out = ward(&["risk", "--json", "--db", db.to_str().unwrap()]);
    let risk = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        risk.contains("Offers VNC remote control without authentication"),
        "{risk}"
    );
    // The password (and so its DES response) never reaches any output.
    let raw = std::fs::read(dir.join("ward.db")).unwrap();
    let events_text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    for h in [String::from_utf8_lossy(&raw).to_string(), events_text, risk] {
        assert!(!h.contains("Vnc-S3cret"));
    }
}
