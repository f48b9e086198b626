//! End to end: the time-of-day and volume detectors on generated captures.
//!
//! A radiology corner works 08:00-17:59 UTC: every 10 minutes a modality
//! (10.1.0.2) sends 20 kB to the PACS (10.1.0.1, port 104) and a monitor
//! (10.1.0.3) 1 kB to an HL7 engine (10.1.0.4, port 2575). The baseline is
//! three such days. Then, on day four:
//!
//! - the same traffic from 09:00 to 11:50 raises nothing;
//! - the same traffic at 03:00-03:50 raises exactly one `off_hours` alert per
//!   device (folded: six flows each), nothing else;
//! - the same traffic at 10:00-10:50 plus one 12 MB transfer from the PACS to
//!   the modality (a mass pull) raises exactly `volume_spike` for the PACS
//!   (bytes sent) and the modality (bytes received), nothing else;
//! - a baseline of only the first morning (too short to know hours or
//!   volumes) raises neither kind on the same captures.
//!
//! The captures are written with `samplegen`'s TCP conversations (real
//! handshakes, segments, acknowledgements and teardowns).

use samplegen::conv::{Frame, TcpConversation};
use samplegen::packet::Endpoint;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const DAY: u64 = 86_400_000_000;
const HOUR: u64 = 3_600_000_000;
const MINUTE: u64 = 60_000_000;
/// 2026-01-05 00:00:00 UTC.
const DAY0: u64 = 1_767_571_200_000_000;

fn host(last: u8) -> (Endpoint, Ipv4Addr) {
    let ip = Ipv4Addr::new(10, 1, 0, last);
    (
        Endpoint::new([0x00, 0x1b, 0x2c, 0x00, 0x00, last], ip, 0),
        ip,
    )
}

/// One TCP flow from (host, port) to (host, port): the client sends `up` bytes, the server `down` bytes.
fn flow(
    frames: &mut Vec<Frame>,
    (client, cport): (u8, u16),
    (server, sport): (u8, u16),
    t: u64,
    up: usize,
    down: usize,
) {
    let (mut c, _) = host(client);
    let (mut s, _) = host(server);
    c.port = cport;
    s.port = sport;
    let mut conv = TcpConversation::new(c, s, t).with_mss(1460);
    conv.handshake().client_send(&vec![0x5a; up]);
    if down > 0 {
        conv.server_send(&vec![0xa5; down]);
    }
    conv.close();
    frames.extend(conv.into_frames());
}

/// The usual traffic every 10 minutes from `from` for `slots` slots.
fn usual(frames: &mut Vec<Frame>, from: u64, slots: u64, port_base: u16) {
    for i in 0..slots {
        let t = from + i * 10 * MINUTE;
        let p = port_base + (i % 10_000) as u16;
        flow(
            frames,
            (2, p),
            (1, 104),
            t,
            20_000 + (i as usize % 7) * 1000,
            300,
        );
        flow(frames, (3, p), (4, 2575), t + 2_000_000, 1000, 50);
    }
}

fn write(path: &Path, mut frames: Vec<Frame>) {
    frames.sort_by_key(|f| f.ts_micros);
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = samplegen::pcap::PcapWriter::new(file, samplegen::pcap::LINKTYPE_ETHERNET).unwrap();
    w.write_frames(&frames).unwrap();
    w.flush().unwrap();
}

fn ward(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward");
    assert!(
        out.status.success(),
        "ward {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn alerts(out: &Output) -> Vec<serde_json::Value> {
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .expect("alerts JSON")
        .as_array()
        .unwrap()
        .clone()
}

fn kinds(v: &[serde_json::Value]) -> Vec<(String, IpAddr, String, u64)> {
    let mut k: Vec<_> = v
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["ip"].as_str().unwrap().parse().unwrap(),
                a["key"].as_str().unwrap().to_string(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect();
    k.sort();
    k
}

#[test]
fn off_hours_and_volume_spikes_alert_and_usual_traffic_does_not() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("ward-time-volume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();

    let mut base = Vec::new();
    for day in 0..3 {
        usual(
            &mut base,
            DAY0 + day * DAY + 8 * HOUR,
            60,
            20_000 + day as u16 * 100,
        );
    }
    write(&dir.join("baseline.pcap"), base);
    let day4 = DAY0 + 3 * DAY;
    let mut normal = Vec::new();
    usual(&mut normal, day4 + 9 * HOUR, 18, 30_000);
    write(&dir.join("normal.pcap"), normal);
    let mut night = Vec::new();
    usual(&mut night, day4 + 3 * HOUR, 6, 31_000);
    write(&dir.join("night.pcap"), night);
    let mut pull = Vec::new();
    usual(&mut pull, day4 + 10 * HOUR, 6, 32_000);
    flow(
        &mut pull,
        (2, 33_000),
        (1, 104),
        day4 + 10 * HOUR + 5 * MINUTE,
        500,
        12_000_000,
    );
    write(&dir.join("pull.pcap"), pull);

    let db = p("ward.db");
    let learn = ward(&[
        "baseline",
        "learn",
        &p("baseline.pcap"),
        "--db",
        &db,
        "--out",
        &p("baseline.json"),
    ]);
    let text = String::from_utf8_lossy(&learn.stdout);
    assert!(
        text.contains("360 flows learnt") && text.contains("4 devices"),
        "{text}"
    );
    let b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(p("baseline.json")).unwrap()).unwrap();
    assert_eq!(b["volume_window"], 600);
    let modality = &b["devices"]["10.1.0.2"];
    let hours: Vec<u64> = modality["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_u64().unwrap())
        .collect();
    assert_eq!(
        hours
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(h, _)| h)
            .collect::<Vec<_>>(),
        (8..=17).collect::<Vec<_>>()
    );
    assert_eq!(modality["volume"]["active_windows"], 180);
    assert_eq!(modality["volume"]["bytes_sent"]["max"], 26_000);

    // The usual traffic on another day: nothing.
    assert_eq!(
        alerts(&ward(&[
            "monitor",
            &p("normal.pcap"),
            "--db",
            &db,
            "--json"
        ])),
        Vec::<serde_json::Value>::new()
    );

    // At night: each device once, folded over its six flows; nothing else.
    let night = alerts(&ward(&["monitor", &p("night.pcap"), "--db", &db, "--json"]));
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let want: Vec<(String, IpAddr, String, u64)> = ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4"]
        .iter()
        .map(|a| ("off_hours".to_string(), ip(a), "03h UTC".to_string(), 6))
        .collect();
    assert_eq!(kinds(&night), want);
    let a = night.iter().find(|a| a["ip"] == "10.1.0.2").unwrap();
    assert_eq!(a["severity"], "medium");
    assert_eq!(a["evidence"]["counts"]["learnt_flows_in_hour"], 0);
    assert_eq!(a["evidence"]["counts"]["learnt_flows"], 180);
    assert_eq!(
        a["evidence"]["first_packet"].as_i64().unwrap() as u64,
        day4 + 3 * HOUR
    );
    assert!(
        a["device"].as_str().unwrap().starts_with("mac:"),
        "resolved to the inventory key: {a}"
    );
    assert!(
        a["summary"]
            .as_str()
            .unwrap()
            .contains("usual hours 08-17 UTC"),
        "{a}"
    );

    // The mass pull: the PACS sent, the modality received 12 MB in one window; nothing else.
    let spike = alerts(&ward(&["monitor", &p("pull.pcap"), "--db", &db, "--json"]));
    assert_eq!(
        kinds(&spike),
        [
            (
                "volume_spike".to_string(),
                ip("10.1.0.1"),
                "bytes_sent".to_string(),
                1
            ),
            (
                "volume_spike".to_string(),
                ip("10.1.0.2"),
                "bytes_received".to_string(),
                1
            )
        ]
    );
    for a in &spike {
        let c = &a["evidence"]["counts"];
        assert_eq!(a["severity"], "high");
        assert!(
            c["observed"].as_u64().unwrap() >= 12_000_000
                && c["observed"].as_u64().unwrap() > c["threshold"].as_u64().unwrap(),
            "{a}"
        );
        assert_eq!(
            c["threshold"],
            10 * 1024 * 1024,
            "the floor: the learnt p99 and max are small: {a}"
        );
        assert_eq!(
            c["window_start"].as_u64().unwrap(),
            (day4 + 10 * HOUR) / 1_000_000
        );
        assert_eq!(a["evidence"]["flow"]["server_port"], 104);
    }
    // Stored and folded with the night's alerts: 6 in total.
    let stored = ward(&["alerts", "--db", &db, "--format", "jsonl"]);
    assert_eq!(String::from_utf8_lossy(&stored.stdout).lines().count(), 6);
    let kinds_filter = ward(&[
        "alerts",
        "--db",
        &db,
        "--kind",
        "volume_spike",
        "--format",
        "jsonl",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&kinds_filter.stdout)
            .lines()
            .count(),
        2
    );

    // The thresholds are the site's to tune: a volume factor of 50,000 (× the
    // learnt 300 B: 15 MB) lets the 12 MB pull pass, eleven hours of slack make every hour usual; a bad
    // value is refused in one line and stores nothing.
    let tuned = alerts(&ward(&[
        "monitor",
        &p("pull.pcap"),
        "--db",
        &db,
        "--json",
        "--volume-factor",
        "50000",
    ]));
    assert!(
        tuned.iter().all(|a| a["kind"] != "volume_spike"),
        "{tuned:?}"
    );
    let tuned = alerts(&ward(&[
        "monitor",
        &p("night.pcap"),
        "--db",
        &db,
        "--json",
        "--off-hours-slack",
        "11",
    ]));
    assert_eq!(tuned, Vec::<serde_json::Value>::new());
    let bad = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "monitor",
            &p("pull.pcap"),
            "--db",
            &db,
            "--volume-factor",
            "0.5",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.lines().next().unwrap_or("").contains("--volume-factor") && err.contains("above 1"),
        "{err}"
    );
    let stored = ward(&["alerts", "--db", &db, "--format", "jsonl"]);
    assert_eq!(String::from_utf8_lossy(&stored.stdout).lines().count(), 6);

    // The same three days as three captures (each 08:00-17:50): 30 h watched,
    // never at night, so the night's traffic says nothing about hours; the
    // mass pull still stands out among the 180 watched windows.
    let mut days = Vec::new();
    for day in 0..3u64 {
        let mut frames = Vec::new();
        usual(
            &mut frames,
            DAY0 + day * DAY + 8 * HOUR,
            60,
            20_000 + day as u16 * 100,
        );
        let name = format!("day{day}.pcap");
        write(&dir.join(&name), frames);
        days.push(p(&name));
    }
    let db3 = p("days.db");
    let mut learn = vec!["baseline", "learn"];
    learn.extend(days.iter().map(String::as_str));
    learn.extend(["--db", &db3, "--out"]);
    let days_json = p("days.json");
    learn.push(&days_json);
    let text = String::from_utf8_lossy(&ward(&learn).stdout).to_string();
    assert!(
        text.contains("360 flows learnt")
            && text.contains("judged in the 10 hours of the day the captures covered"),
        "{text}"
    );
    let b: serde_json::Value = serde_json::from_slice(&std::fs::read(&days_json).unwrap()).unwrap();
    assert_eq!(b["coverage"].as_array().unwrap().len(), 3);
    assert_eq!(b["devices"]["10.1.0.2"]["volume"]["windows"], 180);
    let night3 = alerts(&ward(&[
        "monitor",
        &p("night.pcap"),
        "--db",
        &db3,
        "--json",
    ]));
    assert!(
        night3.iter().all(|a| a["kind"] != "off_hours"),
        "{night3:?}"
    );
    let spike3 = alerts(&ward(&["monitor", &p("pull.pcap"), "--db", &db3, "--json"]));
    assert_eq!(
        kinds(&spike3)
            .into_iter()
            .filter(|k| k.0 == "volume_spike")
            .count(),
        2,
        "{spike3:?}"
    );

    // A baseline of one morning (3 h 20 min) knows neither hours nor volumes.
    let mut short = Vec::new();
    usual(&mut short, DAY0 + 8 * HOUR, 20, 20_000);
    write(&dir.join("short.pcap"), short);
    let db2 = p("short.db");
    ward(&["baseline", "learn", &p("short.pcap"), "--db", &db2]);
    for cap in ["night.pcap", "pull.pcap"] {
        let got = alerts(&ward(&["monitor", &p(cap), "--db", &db2, "--json"]));
        assert!(
            got.iter()
                .all(|a| a["kind"] != "off_hours" && a["kind"] != "volume_spike"),
            "{cap}: {got:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
