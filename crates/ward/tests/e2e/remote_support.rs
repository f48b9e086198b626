//! TeamViewer and AnyDesk presence (issue 21) judged by an independent
//! classifier: nDPI's `ndpiReader` (Debian libndpi-bin) labels every flow of
//! the benchmark corpus (which holds nDPI's own test captures); Ward must
//! flag every flow nDPI calls TeamViewer, and every AnyDesk flow nDPI names
//! from the TLS handshake on AnyDesk's ports. AnyDesk flows nDPI names only
//! from DNS look-ups or relay addresses are counted and printed, not
//! required. Skips when the corpus or ndpiReader is absent.

use crate::common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// (transport, lower endpoint, higher endpoint): a flow either way round.
type Key = (u8, (String, u16), (String, u16));

fn key(proto: u8, a: (String, u16), b: (String, u16)) -> Key {
    if a <= b {
        (proto, a, b)
    } else {
        (proto, b, a)
    }
}

fn endpoint(v: &Value) -> (String, u16) {
    (
        v["ip"].as_str().unwrap_or("").to_string(),
        v["port"].as_u64().unwrap_or(0) as u16,
    )
}

#[test]
fn remote_support_flows_agree_with_ndpi() {
    let Some(data) = testdata() else { return };
    let corpus = data.join("benchmark/corpus_ethernet_real.pcap");
    if !corpus.is_file() || !have("ndpiReader") {
        eprintln!("skipping: corpus or ndpiReader (libndpi-bin) absent");
        return;
    }
    let dir = scratch("remote-support-ndpi");
    let csv = dir.join("ndpi.csv");
    let o = Command::new("ndpiReader")
        .args([
            "-q",
            "-i",
            corpus.to_str().unwrap(),
            "-C",
            csv.to_str().unwrap(),
        ])
        .output()
        .expect("ndpiReader runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // nDPI's flows per product; AnyDesk split by what named it.
    let mut want: BTreeSet<(Key, &str)> = BTreeSet::new();
    let mut optional: Vec<(Key, String)> = Vec::new();
    let text = String::from_utf8_lossy(&std::fs::read(&csv).unwrap()).into_owned();
    for line in text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c.len() < 11 {
            continue;
        }
        let labels: Vec<&str> = c[10].split('.').collect();
        let product = if labels.contains(&"TeamViewer") {
            "TeamViewer"
        } else if labels.contains(&"AnyDesk") {
            "AnyDesk"
        } else {
            continue;
        };
        let (Ok(proto), Ok(sp), Ok(dp)) = (c[1].parse(), c[6].parse(), c[8].parse()) else {
            continue;
        };
        let k = key(proto, (c[5].to_string(), sp), (c[7].to_string(), dp));
        let tls_on_port = labels[0] == "TLS" && [7070, 6568].contains(&dp);
        if product == "TeamViewer" || tls_on_port {
            want.insert((k, product));
        } else {
            optional.push((k, c[10].to_string()));
        }
    }
    let (_, events) = analyze(&corpus, &dir);
    let mut got: BTreeSet<(Key, &str)> = BTreeSet::new();
    for r in records(&events, "remote_support") {
        let f = &r["flow"];
        let proto = if f["transport"] == "udp" { 17 } else { 6 };
        let k = key(proto, endpoint(&f["client"]), endpoint(&f["server"]));
        let product = if r["product"] == "TeamViewer" {
            "TeamViewer"
        } else {
            "AnyDesk"
        };
        got.insert((k, product));
    }
    let missed: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    let optional_hit = optional
        .iter()
        .filter(|(k, _)| got.iter().any(|(g, _)| g == k))
        .count();
    println!(
        "remote support vs nDPI: nDPI {} required flows (TeamViewer {}, AnyDesk TLS {}), Ward flagged {} of them; \
         nDPI {} more AnyDesk flows by DNS/address, Ward flagged {optional_hit}; Ward flagged {} flows nDPI did not",
        want.len(),
        want.iter().filter(|(_, p)| *p == "TeamViewer").count(),
        want.iter().filter(|(_, p)| *p == "AnyDesk").count(),
        want.len() - missed.len(),
        optional.len(),
        extra.len()
    );
    for (k, label) in &optional {
        println!("  not required: {label} {k:?}");
    }
    for e in &extra {
        println!("  only Ward: {e:?}");
    }
    assert!(
        !want.is_empty(),
        "the corpus holds TeamViewer/AnyDesk flows"
    );
    assert!(missed.is_empty(), "Ward missed {missed:?}");
}
