//! MQTT (issue 21) against tshark's MQTT dissector, on a capture of the
//! Mosquitto clients talking to a Mosquitto broker on loopback (made by
//! `scripts/mqtt-capture`): per connection (paired on the client port) the
//! client id and user name of the CONNECT, and every topic name published
//! and topic filter subscribed. Skips when tshark is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

fn fixture() -> PathBuf {
    repo().join("crates/ward/tests/fixtures/mqtt/mqtt-loopback.pcap")
}

/// What one connection showed: client id, user name, topics.
#[derive(Debug, Default, PartialEq)]
struct Conn {
    client_id: String,
    username: String,
    topics: BTreeSet<String>,
}

/// tshark's view, per client port.
fn tshark_conns(file: &std::path::Path) -> BTreeMap<u64, Conn> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "mqtt", "-T", "fields", "-E", "separator=/t"])
        .args([
            "-e",
            "tcp.srcport",
            "-e",
            "tcp.dstport",
            "-e",
            "mqtt.msgtype",
        ])
        .args([
            "-e",
            "mqtt.clientid",
            "-e",
            "mqtt.username",
            "-e",
            "mqtt.topic",
        ])
        .output()
        .expect("tshark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut conns: BTreeMap<u64, Conn> = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let (src, dst): (u64, u64) = (f[0].parse().unwrap(), f[1].parse().unwrap());
        let client = if dst == 1883 { src } else { dst };
        let c = conns.entry(client).or_default();
        let get = |i: usize| f.get(i).copied().unwrap_or("");
        if get(2) == "1" {
            c.client_id = get(3).to_string();
            c.username = get(4).to_string();
        }
        for t in get(5).split(',').filter(|t| !t.is_empty()) {
            c.topics.insert(t.to_string());
        }
    }
    conns
}

/// Ward's view, per client port.
fn ward_conns(events: &[Value]) -> BTreeMap<u64, Conn> {
    let mut conns = BTreeMap::new();
    for r in records(events, "mqtt") {
        let port = r["flow"]["client"]["port"].as_u64().expect("flow");
        let topics = ["topics", "subscriptions"]
            .iter()
            .flat_map(|k| r[*k].as_array().cloned().unwrap_or_default())
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect();
        conns.insert(
            port,
            Conn {
                client_id: s(r, "client_id").to_string(),
                username: s(r, "username").to_string(),
                topics,
            },
        );
    }
    conns
}

#[test]
fn mqtt_fields_agree_with_tshark() {
    if !have("tshark") {
        return;
    }
    let file = fixture();
    let dir = scratch("mqtt-oracle");
    let (inv, events) = analyze(&file, &dir);
    let oracle = tshark_conns(&file);
    let ours = ward_conns(&events);
    assert!(oracle.len() >= 5, "{oracle:#?}");
    let (mut fields, mut agree) = (0usize, 0usize);
    for (port, want) in &oracle {
        let got = ours.get(port);
        let empty = Conn::default();
        let got = got.unwrap_or(&empty);
        for (a, b) in [
            (&want.client_id, &got.client_id),
            (&want.username, &got.username),
        ] {
            fields += 1;
            agree += usize::from(a == b);
            if a != b {
                eprintln!("port {port}: tshark {a:?} ward {b:?}");
            }
        }
        for t in &want.topics {
            fields += 1;
            if got.topics.contains(t) {
                agree += 1;
            } else {
                eprintln!("port {port}: topic {t:?} missed");
            }
        }
        for t in got.topics.difference(&want.topics) {
            fields += 1;
            eprintln!("port {port}: topic {t:?} not in tshark");
        }
    }
    let pct = 100.0 * agree as f64 / fields as f64;
    println!(
        "mqtt vs tshark: {agree}/{fields} fields agree ({pct:.1}%) over {} connections",
        oracle.len()
    );
    assert!(pct >= 95.0, "agreement {pct:.1}%");

    // Credentials in cleartext: the fact and the login, never the password.
    let logins = records(&events, "login");
    assert_eq!(logins.len(), 3, "{logins:#?}");
    let raw = std::fs::read(&file).unwrap();
    let raw = String::from_utf8_lossy(&raw);
    for secret in ["Sup3r-Secret!", "changeme"] {
        assert!(raw.contains(secret), "the capture carries the password");
    }
    let db = std::fs::read(dir.join("ward.db")).unwrap();
    let hay = [
        String::from_utf8_lossy(&db).to_string(),
        inv.to_string(),
        std::fs::read_to_string(dir.join("events.jsonl")).unwrap(),
    ];
    for h in &hay {
        assert!(!h.contains("Sup3r-Secret!"), "a password was kept");
    }
    let pump = inv["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == "127.0.0.12"))
        })
        .expect("the pump's device");
    let creds: Vec<&str> = pump["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "cleartext_credential")
        .filter_map(|f| f["value"].as_str())
        .collect();
    println!("pump credentials facts: {creds:?}");
    assert!(
        creds.contains(&"mqtt user=biomed password=default accepted"),
        "{pump:#}"
    );
}
