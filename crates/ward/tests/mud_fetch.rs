//! `ward mud fetch` end to end, against an HTTPS server started here (a
//! test CA made with rcgen, passed with `--ca-file`; rustls on loopback,
//! allowed with `--allow-loopback`). Never the internet.
//!
//! Devices in a generated capture announce MUD URLs in DHCP option 161: a
//! good file (two devices, with a `mud-signature`), an oversize one, invalid
//! JSON, a redirect loop, a slow server, the wrong content type, a file
//! claiming another URL, and hostile URLs (http, file, link-local, private
//! addresses). The good file is stored linked to both devices and drives MUD
//! violation alerts in `ward monitor`; every bad URL is one counted error
//! and never stops the others; a later failure keeps what was stored.

use samplegen::packet::{eth_ipv4_udp, BROADCAST_MAC};
use samplegen::payload::dhcp;
use samplegen::{Endpoint, PcapWriter, TcpConversation, LINKTYPE_ETHERNET};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const T0: u64 = 1_767_600_000_000_000;

struct Tls {
    ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn tls() -> Tls {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Ward test MUD CA");
    let ca = rcgen::CertifiedIssuer::self_signed(ca, ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
        )
        .unwrap();
    Tls {
        ca_pem: ca.pem(),
        config: Arc::new(config),
    }
}

/// The vendor's MUD file for the pumps: out to 10.9.0.50:443 (TCP) only.
fn good_mud(url: &str, sig: &str) -> String {
    serde_json::json!({
        "ietf-mud:mud": {
            "mud-version": 1, "mud-url": url, "mud-signature": sig,
            "last-update": "2026-01-01T00:00:00Z", "cache-validity": 48, "is-supported": true,
            "systeminfo": "Test infusion pump", "mfg-name": "Test", "model-name": "Pump 1",
            "from-device-policy": {"access-lists": {"access-list": [{"name": "fr"}]}},
            "to-device-policy": {"access-lists": {"access-list": [{"name": "to"}]}}
        },
        "ietf-access-control-list:acls": {"acl": [
            {"name": "fr", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "fr0",
                "matches": {"ipv4": {"protocol": 6, "destination-ipv4-network": "10.9.0.50/32"},
                            "tcp": {"ietf-mud:direction-initiated": "from-device", "destination-port": {"operator": "eq", "port": 443}}},
                "actions": {"forwarding": "accept"}}]}},
            {"name": "to", "type": "ipv4-acl-type", "aces": {"ace": [{"name": "to0",
                "matches": {"ipv4": {"protocol": 6, "source-ipv4-network": "10.9.0.50/32"},
                            "tcp": {"ietf-mud:direction-initiated": "from-device", "source-port": {"operator": "eq", "port": 443}}},
                "actions": {"forwarding": "accept"}}]}}
        ]}
    })
    .to_string()
}

struct Server {
    base: String,
    /// When set, /good.json answers 500.
    broken: Arc<AtomicBool>,
}

fn respond(s: &mut impl Write, status: &str, ctype: &str, extra: &str, body: &[u8]) {
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n", body.len());
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let _ = s.flush();
}

fn handle(tcp: TcpStream, cfg: Arc<rustls::ServerConfig>, base: &str, broken: &AtomicBool) {
    let Ok(conn) = rustls::ServerConnection::new(cfg) else {
        return;
    };
    let mut s = rustls::StreamOwned::new(conn, tcp);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let url = format!("{base}{path}");
    match path.as_str() {
        "/good.json" if broken.load(Ordering::SeqCst) => respond(
            &mut s,
            "500 Internal Server Error",
            "text/plain",
            "",
            b"down",
        ),
        "/good.json" => respond(
            &mut s,
            "200 OK",
            "application/mud+json",
            "",
            good_mud(&url, &format!("{base}/good.p7s")).as_bytes(),
        ),
        "/good.p7s" => respond(
            &mut s,
            "200 OK",
            "application/pkcs7-signature",
            "",
            &[0x30, 0x82, 0x01, 0x00, 0x06, 0x09],
        ),
        "/big.json" => respond(
            &mut s,
            "200 OK",
            "application/mud+json",
            "",
            &vec![b' '; 2 << 20],
        ),
        "/bad.json" => respond(
            &mut s,
            "200 OK",
            "application/mud+json",
            "",
            b"{\"ietf-mud:mud\": {\"mud-version\": 1,",
        ),
        "/html.json" => respond(
            &mut s,
            "200 OK",
            "text/html",
            "",
            good_mud(&url, "").as_bytes(),
        ),
        "/other.json" => respond(
            &mut s,
            "200 OK",
            "application/json",
            "",
            good_mud(&format!("{base}/good.json"), "").as_bytes(),
        ),
        "/loop.json" => respond(
            &mut s,
            "302 Found",
            "text/plain",
            "Location: /loop.json\r\n",
            b"",
        ),
        "/slow.json" => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/mud+json\r\nContent-Length: 1000\r\n\r\n{");
            let _ = s.flush();
            std::thread::sleep(Duration::from_secs(6));
        }
        _ => respond(&mut s, "404 Not Found", "text/plain", "", b"no"),
    }
}

impl Server {
    fn start(cfg: Arc<rustls::ServerConfig>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!(
            "https://127.0.0.1:{}",
            listener.local_addr().unwrap().port()
        );
        let broken = Arc::new(AtomicBool::new(false));
        let (b, br) = (base.clone(), broken.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { continue };
                let (cfg, b, br) = (cfg.clone(), b.clone(), br.clone());
                std::thread::spawn(move || handle(s, cfg, &b, &br));
            }
        });
        Server { base, broken }
    }
}

fn mac(i: u8) -> [u8; 6] {
    [0x00, 0x40, 0x17, 0x00, 0x00, i]
}

fn pump(i: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 9, 0, 10 + i)
}

/// A capture: each (device, MUD URL) announces itself in a DHCP REQUEST, then the given TCP sessions.
fn capture(path: &Path, announce: &[(u8, String)], sessions: &[(u8, [u8; 4], u16)]) {
    let mut w = PcapWriter::new(std::fs::File::create(path).unwrap(), LINKTYPE_ETHERNET).unwrap();
    let mut ts = T0;
    for (i, url) in announce {
        let m = mac(*i);
        let mut client_id = vec![1u8];
        client_id.extend_from_slice(&m);
        let req = pump(*i).octets();
        let request = dhcp::Dhcp {
            op: dhcp::BOOTREQUEST,
            xid: 0x1000 + u32::from(*i),
            secs: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: m,
            options: vec![
                (53, &[dhcp::msg::REQUEST]),
                (61, &client_id),
                (50, &req),
                (161, url.as_bytes()),
            ],
        }
        .encode();
        let from = Endpoint::new(m, Ipv4Addr::UNSPECIFIED, 68);
        let to = Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 67);
        w.write_frame(ts, &eth_ipv4_udp(&from, &to, u16::from(*i), &request))
            .unwrap();
        ts += 1000;
    }
    for (n, (i, server, port)) in sessions.iter().enumerate() {
        let c = Endpoint::new(mac(*i), pump(*i), 40_000 + n as u16);
        let s = Endpoint::new(
            [0x00, 0x50, 0x56, 0x00, 0x00, server[3]],
            Ipv4Addr::from(*server),
            *port,
        );
        let mut conv = TcpConversation::new(c, s, ts);
        conv.handshake()
            .client_send(b"hello")
            .server_send(b"world")
            .close();
        w.write_frames(conv.frames()).unwrap();
        ts += 1_000_000;
    }
    w.flush().unwrap();
}

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward")
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn mud_violations(o: &Output) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("alerts JSON");
    let mut out: Vec<(String, String)> = v
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "policy_violation")
        .map(|a| {
            (
                a["device"].as_str().unwrap().to_string(),
                a["key"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fetch_announced_mud_urls_with_limits_and_alert_on_violations() {
    let dir: PathBuf = std::env::temp_dir().join(format!("ward-mud-fetch-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let t = tls();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &t.ca_pem).unwrap();
    let srv = Server::start(t.config.clone());
    let b = &srv.base;
    let good = format!("{b}/good.json");
    let announce: Vec<(u8, String)> = vec![
        (1, good.clone()),
        (2, good.clone()),
        (3, format!("{b}/big.json")),
        (4, format!("{b}/bad.json")),
        (5, format!("{b}/loop.json")),
        (6, format!("{b}/slow.json")),
        (7, format!("{b}/html.json")),
        (8, format!("{b}/other.json")),
        (9, format!("http{}/plain.json", &b[5..])),
        (10, "file:///etc/passwd".to_string()),
        (
            11,
            "https://169.254.169.254/latest/meta-data/mud.json".to_string(),
        ),
        (12, "https://10.0.0.1/mud.json".to_string()),
    ];
    let (cap1, cap2) = (dir.join("learn.pcap"), dir.join("watch.pcap"));
    capture(
        &cap1,
        &announce,
        &[(1, [10, 9, 0, 50], 443), (2, [10, 9, 0, 50], 443)],
    );
    capture(
        &cap2,
        &[],
        &[
            (1, [10, 9, 0, 50], 443),
            (1, [10, 9, 0, 50], 8080),
            (2, [10, 9, 0, 99], 22),
            (3, [10, 9, 0, 99], 22),
        ],
    );
    let db = dir.join("ward.db");
    let (db, c1, c2, ca) = (
        db.to_str().unwrap(),
        cap1.to_str().unwrap(),
        cap2.to_str().unwrap(),
        ca.to_str().unwrap(),
    );
    ok(
        ward(&["baseline", "learn", c1, "--db", db]),
        "baseline learn",
    );

    // Without --allow-loopback, the test server itself is refused (SSRF guard), before TLS.
    let o = ward(&[
        "mud",
        "fetch",
        "--db",
        db,
        "--ca-file",
        ca,
        "--timeout-secs",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("{good}: "))
            && err.contains("resolves to 127.0.0.1, a loopback address"),
        "{err}"
    );
    assert!(store::Store::open(Path::new(db))
        .unwrap()
        .mud_files()
        .unwrap()
        .is_empty());

    let fetch = |extra: &[&str]| {
        ward(
            &[
                &[
                    "mud",
                    "fetch",
                    "--db",
                    db,
                    "--ca-file",
                    ca,
                    "--allow-loopback",
                    "--timeout-secs",
                    "2",
                ][..],
                extra,
            ]
            .concat(),
        )
    };
    let started = std::time::Instant::now();
    let o = fetch(&[]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the slow server is cut by the timeout"
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    );
    eprintln!("{out}{err}");
    assert_eq!(o.status.code(), Some(2), "failures make the exit status 2");
    assert!(
        out.contains(
            "11 MUD URLs announced: 1 fetched, 0 up to date, 0 imported by hand, 10 failed"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!("{good}: fetched"))
            && out.contains("signature present (6 bytes from")
            && out.contains("not verified"),
        "{out}"
    );
    assert!(
        out.contains("mac:00:40:17:00:00:01 (dhcp), mac:00:40:17:00:00:02 (dhcp)"),
        "both announcing devices: {out}"
    );
    for (path, want) in [
        ("/big.json", "larger than the limit of 1 MiB"),
        ("/bad.json", "EOF while parsing"),
        ("/loop.json", "too many redirects"),
        ("/slow.json", "timeout"),
        ("/html.json", "content type \"text/html\""),
        ("/other.json", "not the URL fetched"),
        ("/plain.json", "RFC 8520 requires https"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(path))
            .unwrap_or_else(|| panic!("no error for {path}: {err}"));
        assert!(
            line.starts_with("ward: mud fetch: ") && line.contains(want),
            "{path}: {line}"
        );
    }
    for (url, want) in [
        ("file:///etc/passwd", "only https"),
        (
            "https://169.254.169.254/latest/meta-data/mud.json",
            "a link-local address",
        ),
        ("https://10.0.0.1/mud.json", "a private address"),
    ] {
        let line = err
            .lines()
            .find(|l| l.contains(url))
            .unwrap_or_else(|| panic!("no error for {url}: {err}"));
        assert!(line.contains(want), "{url}: {line}");
    }
    assert_eq!(
        err.lines().count(),
        11,
        "one line per failed URL and the summary: {err}"
    );
    let s = store::Store::open(Path::new(db)).unwrap();
    let files = s.mud_files().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].0.as_str(), files[0].1.as_deref()),
        (good.as_str(), Some("Pump 1"))
    );
    let links: Vec<String> = s
        .mud_links()
        .unwrap()
        .into_iter()
        .map(|l| l.device)
        .collect();
    assert_eq!(links, ["mac:00:40:17:00:00:01", "mac:00:40:17:00:00:02"]);
    let fetches = s.mud_fetches().unwrap();
    assert_eq!(fetches.len(), 11);
    // Two attempts each (without and with --allow-loopback), no success.
    assert!(
        fetches
            .iter()
            .filter(|f| f.url != good)
            .all(|f| f.fetched.is_none() && f.failures == 2 && f.status != "ok"),
        "{fetches:#?}"
    );
    drop(s);

    // The fetched file drives violation alerts: pump 1 on port 8080, pump 2 to another host; pump 3's file failed, so it is not governed.
    let o = ward(&["monitor", c2, "--db", db, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        mud_violations(&o),
        vec![
            (
                "mac:00:40:17:00:00:01".to_string(),
                "mud tcp 10.9.0.50:8080".to_string()
            ),
            (
                "mac:00:40:17:00:00:02".to_string(),
                "mud tcp 10.9.0.99:22".to_string()
            ),
        ]
    );

    // Again: the good file is up to date; with --force and a broken server, the stored file survives.
    let out = String::from_utf8_lossy(&fetch(&[]).stdout).to_string();
    assert!(
        out.contains(&format!("{good}: up to date")) && out.contains("1 up to date"),
        "{out}"
    );
    srv.broken.store(true, Ordering::SeqCst);
    let o = fetch(&["--force"]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&format!("ward: mud fetch: {good}: HTTP 500"))
    );
    let s = store::Store::open(Path::new(db)).unwrap();
    assert_eq!(
        s.mud_files().unwrap(),
        files,
        "a failed refetch keeps the stored file"
    );
    let f = s
        .mud_fetches()
        .unwrap()
        .into_iter()
        .find(|f| f.url == good)
        .unwrap();
    assert!(
        f.fetched.is_some() && f.failures == 1 && f.status.contains("HTTP 500"),
        "{f:?}"
    );
    assert_eq!(s.mud_links().unwrap().len(), 2);
    drop(s);
    let o = ward(&["monitor", c2, "--db", db, "--json"]);
    assert_eq!(
        mud_violations(&o).len(),
        2,
        "alerts still use the stored file"
    );

    // A missing database is a one-line error, and nothing is created.
    let missing = dir.join("none.db");
    let o = ward(&["mud", "fetch", "--db", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);
    assert!(!missing.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
