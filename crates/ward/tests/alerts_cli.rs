//! `ward alerts` end to end: the lifecycle (ack, close, reopen; status
//! filter; audit; a newer occurrence reopens a closed alert; bad input
//! changes nothing) and the SIEM webhooks (Splunk HEC, Elastic bulk) against
//! a local HTTP receiver that parses what those services would, with the
//! token taken from the environment or a file and never printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use export::testing::receiver;

const TOKEN: &str = "hec-7f3a9c1e-token";
const HOSTILE: &str = "<script>alert(1)</script>|a=b\\c";

fn ward(args: &[&str], db: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .arg("--db")
        .arg(db)
        .env_remove("WARD_WEBHOOK_TOKEN")
        .output()
        .unwrap()
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-alerts-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn alert(i: u8, kind: monitor::AlertKind, t: i64) -> monitor::Alert {
    monitor::Alert {
        kind,
        severity: kind.severity(),
        device: format!("ip:10.0.0.{i}"),
        ip: std::net::IpAddr::from([10, 0, 0, i]),
        key: format!("k{i}"),
        summary: format!("{HOSTILE} {i}"),
        evidence: Default::default(),
        count: 1,
        first_seen: model::Timestamp(t),
        last_seen: model::Timestamp(t),
    }
}

fn seed(db: &Path) {
    let t = 1_767_600_000_000_000;
    let mut s = store::Store::open(db).unwrap();
    s.store_alerts(&[
        alert(1, monitor::AlertKind::PortScan, t),
        alert(2, monitor::AlertKind::NewPeer, t + 1_000_000),
        alert(3, monitor::AlertKind::CleartextCredential, t + 2_000_000),
    ])
    .unwrap();
}

fn ids(jsonl: &str) -> Vec<(i64, String)> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["id"].as_i64().unwrap(),
                v["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn ack_close_reopen_from_the_command_line() {
    let dir = tempdir("lifecycle");
    let db = dir.join("ward.db");
    seed(&db);
    let table = ok(ward(&["alerts"], &db));
    assert!(table.starts_with("    ID STATUS"), "{table}");
    assert_eq!(table.lines().count(), 4);
    let out = ok(ward(
        &[
            "alerts",
            "ack",
            "1",
            "2",
            "--comment",
            "triage <b>x</b>",
            "--by",
            "ana",
        ],
        &db,
    ));
    assert_eq!(out, "alert #1 acknowledged (port_scan ip:10.0.0.1)\nalert #2 acknowledged (new_peer ip:10.0.0.2)\n");
    ok(ward(
        &[
            "alerts",
            "close",
            "1",
            "--comment",
            "scanner of the IT department",
        ],
        &db,
    ));
    // Default listing: not closed.
    assert_eq!(
        ids(&ok(ward(&["alerts", "--format", "jsonl"], &db))),
        [(2, "acknowledged".into()), (3, "open".into())]
    );
    assert_eq!(
        ids(&ok(ward(
            &["alerts", "--format", "jsonl", "--status", "closed"],
            &db
        ))),
        [(1, "closed".into())]
    );
    let all = ok(ward(
        &["alerts", "--format", "jsonl", "--status", "all"],
        &db,
    ));
    let v: serde_json::Value = serde_json::from_str(all.lines().next().unwrap()).unwrap();
    assert_eq!(
        (v["comment"].as_str(), v["kind"].as_str()),
        (Some("scanner of the IT department"), Some("port_scan"))
    );
    assert!(v["status_by"].as_str().unwrap().starts_with("cli"), "{v}");
    let table = ok(ward(&["alerts", "--status", "acknowledged"], &db));
    assert!(
        table.contains("[acknowledged by ana: triage <b>x</b>]"),
        "{table}"
    );

    // Bad input: one line, non-zero exit, nothing changed.
    for (args, why) in [
        (vec!["alerts", "ack", "3", "99"], "no alert #99"),
        (vec!["alerts", "ack", "1"], "alert #1 is closed"),
        (
            vec!["alerts", "close", "3", "--comment", &"x".repeat(501)],
            "at most 500 characters",
        ),
        (
            vec!["alerts", "close", "3", "--comment", "a\u{1b}[31m"],
            "no control characters",
        ),
        (vec!["alerts", "--status", "done"], "unknown status"),
        (vec!["alerts", "close", "abc"], "invalid value"),
    ] {
        let out = ward(&args, &db);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && err.contains(why),
            "{args:?}: {err}"
        );
        if !why.starts_with("invalid") {
            assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        }
    }
    assert_eq!(
        ids(&ok(ward(
            &["alerts", "--format", "jsonl", "--status", "all"],
            &db
        ))),
        [
            (1, "closed".into()),
            (2, "acknowledged".into()),
            (3, "open".into())
        ]
    );

    // A newer occurrence reopens the closed alert; the acknowledged one keeps folding.
    let mut s = store::Store::open(&db).unwrap();
    let later = 1_767_700_000_000_000;
    s.store_alerts(&[
        alert(1, monitor::AlertKind::PortScan, later),
        alert(2, monitor::AlertKind::NewPeer, later),
    ])
    .unwrap();
    let now: Vec<serde_json::Value> = ok(ward(&["alerts", "--format", "jsonl"], &db))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(now.len(), 3);
    assert_eq!(
        (
            now[0]["id"].as_i64(),
            now[0]["status"].as_str(),
            now[0]["reopened"].as_u64(),
            now[0]["count"].as_u64()
        ),
        (Some(1), Some("open"), Some(1), Some(2))
    );
    assert_eq!(
        (now[1]["status"].as_str(), now[1]["count"].as_u64()),
        (Some("acknowledged"), Some(2))
    );
    ok(ward(&["alerts", "reopen", "2"], &db));
    let audit: Vec<(String, String)> = s
        .audit_log(100)
        .unwrap()
        .into_iter()
        .rev()
        .map(|e| (e.actor, e.action))
        .collect();
    let want: Vec<(String, String)> = [
        ("ana", "alert_acknowledged"),
        ("ana", "alert_acknowledged"),
        ("", "alert_closed"),
        ("ward", "alert_reopened"),
        ("", "alert_reopened"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(audit.len(), want.len(), "{audit:?}");
    for (got, want) in audit.iter().zip(&want) {
        assert_eq!(got.1, want.1);
        if !want.0.is_empty() {
            assert_eq!(got.0, want.0);
        } else {
            assert!(got.0.starts_with("cli"), "{got:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn splunk_and_elastic_receive_what_they_parse() {
    let dir = tempdir("siem");
    let db = dir.join("ward.db");
    seed(&db);

    // Splunk HEC, token from the environment, two requests of two and one events.
    let (base, h) = receiver(vec![(200, r#"{"text":"Success","code":0}"#.into()); 2]);
    let url = format!("{base}/services/collector/event");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "alerts",
            "--format",
            "cef",
            "--webhook",
            &url,
            "--webhook-format",
            "splunk-hec",
            "--webhook-batch",
            "2",
            "--db",
        ])
        .arg(&db)
        .env("WARD_WEBHOOK_TOKEN", TOKEN)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("posted 3 alerts to") && stderr.contains("in 2 requests"),
        "{stderr}"
    );
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token leaked"
    );
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("CEF:0|Ward|Ward|"))
            .count(),
        3
    );
    let got = h.join().unwrap();
    let mut events = Vec::new();
    for r in &got {
        assert_eq!(r.line, "POST /services/collector/event HTTP/1.1");
        assert_eq!(
            r.header("authorization"),
            Some(format!("Splunk {TOKEN}").as_str())
        );
        events.extend(
            serde_json::Deserializer::from_slice(&r.body)
                .into_iter::<serde_json::Value>()
                .map(Result::unwrap),
        );
    }
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e["sourcetype"] == "ward:alert"
        && e["time"].as_f64().unwrap() > 1.7e9
        && e["event"]["summary"].as_str().unwrap().starts_with(HOSTILE)));

    // Without a token Splunk would refuse: nothing is sent, one line says why.
    let out = ward(
        &[
            "alerts",
            "--webhook",
            &url,
            "--webhook-format",
            "splunk-hec",
        ],
        &db,
    );
    assert!(
        !out.status.success()
            && String::from_utf8_lossy(&out.stderr).contains("needs the HEC token")
    );

    // Elastic bulk, API key from a file.
    let key = dir.join("es.key");
    std::fs::write(&key, format!("{TOKEN}\n")).unwrap();
    let (base, h) = receiver(vec![(
        200,
        r#"{"took":1,"errors":false,"items":[]}"#.into(),
    )]);
    let out = ward(
        &[
            "alerts",
            "--status",
            "all",
            "--webhook",
            &format!("{base}/_bulk"),
            "--webhook-format",
            "elastic-bulk",
            "--webhook-index",
            "soc-ward",
            "--webhook-token-file",
            key.to_str().unwrap(),
        ],
        &db,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success() && !stderr.contains(TOKEN), "{stderr}");
    let r = &h.join().unwrap()[0];
    assert_eq!(
        (
            r.line.as_str(),
            r.header("authorization"),
            r.header("content-type")
        ),
        (
            "POST /_bulk HTTP/1.1",
            Some(format!("ApiKey {TOKEN}").as_str()),
            Some("application/x-ndjson")
        )
    );
    let text = String::from_utf8(r.body.clone()).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    for pair in lines.chunks(2) {
        assert_eq!(pair[0]["index"]["_index"], "soc-ward");
        assert_eq!(
            pair[0]["index"]["_id"],
            format!("ward-{}", pair[1]["ward"]["id"])
        );
        assert_eq!(
            (
                pair[1]["event"]["kind"].as_str(),
                pair[1]["observer"]["product"].as_str()
            ),
            (Some("alert"), Some("Ward"))
        );
        assert!(pair[1]["@timestamp"]
            .as_str()
            .unwrap()
            .starts_with("2026-01-05T08:00:0"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
