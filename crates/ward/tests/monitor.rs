//! Acceptance tests of monitoring and policies, on traffic of real tools.
//!
//! `tests/netns/scenario.sh` runs DCMTK (storescp as PACS, echoscu/storescu
//! as clients), an HL7 sink, inetutils telnetd and nmap in network
//! namespaces of its own on loopback addresses (127.0.10.0/24) and captures
//! the traffic with tcpdump. Capture 1 is a normal phase then an attack
//! phase (the same normal traffic plus an unknown DICOM AE title, an nmap
//! connect scan and a telnet login); capture 2 is normal traffic only.
//!
//! - A baseline learnt from capture 1's normal phase raises exactly the
//!   expected alerts on capture 1 and none on capture 2.
//! - Alerts export as JSON lines, CEF and RFC 5424 syslog (UDP and TCP
//!   listeners of the test) and to a webhook (an HTTP server of the test).
//! - The generated nftables rules pass `nft --check` (text and JSON), and the
//!   policy blocks nothing of capture 2 but the intruder's flows of capture 1.
//! - The canary patient names and ids in the HL7 PID and DICOM dataset reach
//!   no alert, export, output or database file.
//!
//! Needs root and the Debian packages iproute2 tcpdump dcmtk busybox nmap
//! inetutils-telnetd (nftables for the nft checks); skips with a message otherwise.

use std::io::{BufRead, Read, Write};
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PACS: &str = "127.0.10.1";
const INTRUDER: &str = "127.0.10.66";
const CANARIES: &[&str] = &["CANARYSURNAME", "CANARYGIVEN", "CANARYID4711"];

#[path = "support/realtools.rs"]
mod realtools;
use realtools::{have, missing, ward};

fn scenario(out: &Path, phases: &[&str]) -> Vec<(String, f64)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netns/scenario.sh");
    let st = Command::new("bash")
        .arg(script)
        .arg(out)
        .args(phases)
        .status()
        .expect("scenario");
    assert!(st.success(), "scenario {phases:?} failed");
    let marks = std::fs::read_to_string(out.with_extension("pcap.marks")).unwrap();
    marks
        .lines()
        .map(|l| {
            l.split_once(' ')
                .map(|(a, b)| (a.to_string(), b.parse().unwrap()))
                .unwrap()
        })
        .collect()
}

fn alerts_of(out: &Output) -> Vec<(String, IpAddr, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("alerts JSON");
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["ip"].as_str().unwrap().parse().unwrap(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn assert_no_canary(dir: &Path, outputs: &[&[u8]]) {
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_file() && p.extension().is_none_or(|x| x != "pcap") {
            blobs.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    blobs.extend(
        outputs
            .iter()
            .enumerate()
            .map(|(i, o)| (format!("output #{i}"), o.to_vec())),
    );
    for (name, b) in &blobs {
        let hay = String::from_utf8_lossy(b);
        for c in CANARIES {
            assert!(
                !hay.contains(c),
                "a patient identifier ({} chars) leaked into {name}",
                c.len()
            );
        }
    }
}

/// A one-shot HTTP server: returns the bodies of the POSTs it received.
fn webhook_server() -> (String, std::thread::JoinHandle<Vec<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        l.set_nonblocking(false).unwrap();
        // One POST per 100 alerts: we expect one.
        let (s, _) = l.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut r = std::io::BufReader::new(s);
        let mut len = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        bodies.push(String::from_utf8(body).unwrap());
        let mut s = r.into_inner();
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .unwrap();
        bodies
    });
    (url, h)
}

#[test]
fn real_tools_yield_exactly_the_expected_alerts_and_policies_hold() {
    if let Some(why) = missing("network namespaces") {
        eprintln!("skipping: {why}");
        return;
    }
    let dir: PathBuf = std::env::temp_dir().join(format!("ward-monitor-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let cap1 = dir.join("phases.pcap");
    let cap2 = dir.join("normal.pcap");
    let marks = scenario(&cap1, &["normal", "attack"]);
    scenario(&cap2, &["normal"]);
    let raw = std::fs::read(&cap1).unwrap();
    assert!(
        CANARIES
            .iter()
            .all(|c| raw.windows(c.len()).any(|w| w == c.as_bytes())),
        "the capture carries the canaries"
    );
    let (c1, c2) = (cap1.to_str().unwrap(), cap2.to_str().unwrap());
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();

    // Baseline: the normal phase of capture 1 only.
    let until = format!("{:.6}", marks.iter().find(|m| m.0 == "attack").unwrap().1);
    let learn = ward(&[
        "baseline",
        "learn",
        c1,
        "--db",
        db,
        "--until",
        &until,
        "--out",
        dir.join("baseline.json").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&learn.stdout);
    assert!(text.contains("2 devices"), "{text}");

    // Normal traffic, another day: no alert.
    let quiet = ward(&["monitor", c2, "--db", db, "--json"]);
    assert_eq!(alerts_of(&quiet), vec![], "normal traffic raised alerts");

    // The capture with the attack phase: exactly one (folded) alert per deviation.
    let loud = ward(&["monitor", c1, "--db", db, "--json"]);
    let mut got: Vec<(String, IpAddr)> = alerts_of(&loud)
        .into_iter()
        .map(|(k, ip, _)| (k, ip))
        .collect();
    got.sort();
    let (pacs, intruder): (IpAddr, IpAddr) = (PACS.parse().unwrap(), INTRUDER.parse().unwrap());
    let mut want = vec![
        ("cleartext_credential".to_string(), pacs), // the telnet login
        ("dicom_unknown_ae".to_string(), pacs),     // echoscu -aet ROGUE
        ("new_device".to_string(), intruder),       // the intruder joined
        ("port_scan".to_string(), intruder),        // nmap -sT
        ("unauthorized_management_access".to_string(), pacs), // telnet session from a peer that never used it
    ];
    want.sort();
    assert_eq!(got, want, "{}", String::from_utf8_lossy(&loud.stdout));

    // Exports.
    let jsonl = ward(&["alerts", "--db", db, "--format", "jsonl"]);
    assert_eq!(String::from_utf8_lossy(&jsonl.stdout).lines().count(), 5);
    let cef = ward(&["alerts", "--db", db, "--format", "cef"]);
    let cef_text = String::from_utf8_lossy(&cef.stdout).to_string();
    assert!(
        cef_text.lines().all(|l| l.starts_with("CEF:0|Ward|Ward|"))
            && cef_text.contains("|port_scan|"),
        "{cef_text}"
    );
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
    let (hook, hook_thread) = webhook_server();
    let udp_url = format!("udp://{}", udp.local_addr().unwrap());
    let tcp_url = format!("tcp://{}", tcp.local_addr().unwrap());
    let tcp_thread = std::thread::spawn(move || {
        let (mut s, _) = tcp.accept().unwrap();
        let mut all = String::new();
        s.read_to_string(&mut all).unwrap();
        all
    });
    let sent = ward(&[
        "alerts",
        "--db",
        db,
        "--format",
        "syslog",
        "--syslog",
        &udp_url,
        "--webhook",
        &hook,
    ]);
    let sent2 = ward(&[
        "alerts",
        "--db",
        db,
        "--min-severity",
        "high",
        "--format",
        "jsonl",
        "--syslog",
        &tcp_url,
    ]);
    let mut datagrams = Vec::new();
    for _ in 0..5 {
        let mut buf = [0u8; 8192];
        let n = udp.recv(&mut buf).expect("syslog datagram");
        datagrams.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    assert!(
        datagrams.iter().all(|d| d.starts_with('<')
            && d.contains(">1 ")
            && d.contains(" ward ")
            && d.contains("CEF:0|Ward|")),
        "{datagrams:?}"
    );
    let framed = tcp_thread.join().unwrap();
    // RFC 6587 octet counting: "LEN SP MSG" repeated; high and critical only: 3 alerts.
    let mut rest = framed.as_str();
    let mut frames = 0;
    while !rest.is_empty() {
        let (len, tail) = rest.split_once(' ').unwrap();
        let len: usize = len.parse().unwrap();
        assert!(tail[..len].starts_with('<'), "{tail}");
        rest = &tail[len..];
        frames += 1;
    }
    assert_eq!(frames, 3, "{framed}");
    let bodies = hook_thread.join().unwrap();
    let posted: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(posted["alerts"].as_array().unwrap().len(), 5);

    // Policies: nftables loads, the normal capture is not blocked, the intruder is.
    let pol = dir.join("policy");
    ward(&[
        "policy",
        "generate",
        "--db",
        db,
        "--out",
        pol.to_str().unwrap(),
    ]);
    if have("nft") && have("unshare") {
        for (args, file) in [
            (&["--check", "-f"][..], "ward.nft"),
            (&["-j", "--check", "-f"][..], "ward.nft.json"),
        ] {
            let out = Command::new("unshare")
                .arg("-n")
                .arg("nft")
                .args(args)
                .arg(pol.join(file))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "nft rejects {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    } else {
        eprintln!("skipping the nft checks: nft (nftables) or unshare not installed");
    }
    let policy_file = pol.join("policy.json");
    let sim = |cap: &str| -> serde_json::Value {
        serde_json::from_slice(
            &ward(&[
                "policy",
                "simulate",
                "--policy",
                policy_file.to_str().unwrap(),
                cap,
                "--json",
            ])
            .stdout,
        )
        .unwrap()
    };
    let normal = sim(c2);
    assert!(normal["flows"].as_u64().unwrap() >= 6, "{normal}");
    assert_eq!(normal["blocked"].as_array().unwrap().len(), 0, "{normal}");
    let attack = sim(c1);
    let blocked = attack["blocked"].as_array().unwrap();
    assert!(
        blocked.len() >= 200,
        "the scan's probes and the telnet session: {}",
        blocked.len()
    );
    assert!(
        blocked.iter().all(|b| b["client"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{INTRUDER}:"))),
        "{attack}"
    );
    assert!(blocked.iter().any(|b| b["server"] == format!("{PACS}:23")));
    // The per-group summary comes with the flows and adds up to them.
    let groups = attack["groups"].as_array().unwrap();
    assert!(!groups.is_empty(), "{attack}");
    let total: u64 = groups.iter().map(|g| g["flows"].as_u64().unwrap()).sum();
    assert_eq!(total, blocked.len() as u64, "{attack}");
    assert!(
        groups.iter().all(|g| g["peers"].as_u64().unwrap() >= 1),
        "{attack}"
    );

    // No patient data anywhere.
    let exports: Vec<&[u8]> = vec![
        &learn.stdout,
        &quiet.stdout,
        &loud.stdout,
        &jsonl.stdout,
        &cef.stdout,
        &sent.stdout,
        &sent2.stdout,
        framed.as_bytes(),
        bodies[0].as_bytes(),
    ];
    let dg: Vec<&[u8]> = datagrams.iter().map(|d| d.as_bytes()).collect();
    assert_no_canary(&dir, &[exports, dg].concat());
    for f in std::fs::read_dir(pol.join("mud")).unwrap().flatten() {
        assert_no_canary(&pol, &[&std::fs::read(f.path()).unwrap()]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
