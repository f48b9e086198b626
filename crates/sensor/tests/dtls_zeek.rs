//! DTLS through the whole engine agrees with Zeek's `ssl.log` baselines on
//! Zeek's public DTLS traces — among them WebRTC media where STUN binding
//! requests share the UDP flow with the DTLS handshake and the ClientHello
//! comes from the flow's responder (`webrtc-stun.pcap`), DTLS 1.0, 1.2 and
//! 1.3 (wolfSSL, connection ids), and handshakes that fail. Each trace runs
//! through the registry's probes, as `ward analyze` would: no analyzer is
//! forced on the flow.

use model::{Event, Record};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// TLS records of the given captures, keyed by the flow's two ports (low, high).
fn tls_by_ports(paths: &[PathBuf]) -> BTreeMap<(u16, u16), model::records::TlsRecord> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(64);
    let collector = std::thread::spawn(move || rx.into_iter().flatten().collect::<Vec<_>>());
    sensor::analyze_files(
        paths,
        &sensor::Config::default(),
        &sensor::Progress::default(),
        Some(tx),
    )
    .expect("analyzes");
    let mut out = BTreeMap::new();
    for e in collector.join().unwrap() {
        if let (Record::Tls(t), Some(f)) = (e.record, e.flow) {
            let (a, b) = (f.client.port, f.server.port);
            out.insert((a.min(b), a.max(b)), t);
        }
    }
    out
}

#[test]
fn dtls_of_public_traces_agrees_with_zeek() {
    // (traces, Zeek baseline log) as Zeek's own btests pair them.
    let cases: &[(&[&str], &str)] = &[
        (&["webrtc-stun.pcap"], "dtls-stun-dpd/ssl.log"),
        (&["dtls1_0.pcap"], "dtls/ssl.log"),
        (&["dtls1_2.pcap"], "dtls/ssl1_2.log"),
        (
            &["dtls13-cid.pcap", "dtls13-wolfssl.pcap"],
            "dtls-13/ssl-all.log",
        ),
    ];
    let (mut compared, mut agreed, mut rows) = (0usize, 0usize, 0usize);
    let mut diffs = Vec::new();
    for (traces, log) in cases {
        let paths: Option<Vec<PathBuf>> = traces
            .iter()
            .map(|t| testkit::testdata(&format!("zeek/Traces/tls/{t}")))
            .collect();
        let (Some(paths), Some(log_path)) = (
            paths,
            testkit::testdata(&format!("zeek/Baseline/scripts.base.protocols.ssl.{log}")),
        ) else {
            return;
        };
        let ours = tls_by_ports(&paths);
        let (fields, zrows) = testkit::zeek::log(&log_path);
        for row in &zrows {
            rows += 1;
            let col = |n: &str| testkit::zeek::col(&fields, row, n).map(str::to_string);
            let port = |n: &str| col(n).and_then(|p| p.parse::<u16>().ok()).unwrap_or(0);
            let (a, b) = (port("id.orig_p"), port("id.resp_p"));
            let key = (a.min(b), a.max(b));
            let t = ours.get(&key);
            let yes_no = |v: bool| Some(if v { "T" } else { "F" }.to_string());
            let checks = [
                ("version", t.and_then(|t| t.version.clone())),
                ("cipher", t.and_then(|t| t.cipher.clone())),
                ("curve", t.and_then(|t| t.curve.clone())),
                ("server_name", t.and_then(|t| t.server_name.clone())),
                ("resumed", t.and_then(|t| yes_no(t.resumed))),
                ("established", t.and_then(|t| yes_no(t.established))),
                ("last_alert", t.and_then(|t| t.last_alert.clone())),
                ("ssl_history", t.map(|t| t.history.clone())),
                ("subject", t.and_then(|t| t.cert_subject.clone())),
                ("issuer", t.and_then(|t| t.cert_issuer.clone())),
            ];
            for (name, got) in checks {
                let Some(want) = col(name) else { continue };
                let want = (want != "-").then_some(want);
                compared += 1;
                if got == want {
                    agreed += 1;
                } else {
                    diffs.push(format!("{log} {key:?} {name}: ward {got:?} zeek {want:?}"));
                }
            }
        }
    }
    println!(
        "DTLS vs Zeek: {agreed}/{compared} fields agree over {rows} connections\n{}",
        diffs.join("\n")
    );
    assert!(rows >= 9, "connections in the baselines: {rows}");
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
