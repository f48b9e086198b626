//! Unit tests for the TLS analyzer: synthetic handshakes built here (the
//! certificate is a throwaway self-signed one generated for these tests),
//! and the Zeek TLS traces compared with Zeek's ssl.log / x509.log
//! baselines when `../shared/testdata` is present.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

/// DER of a self-signed P-256 certificate made with
/// `openssl req -x509 -newkey ec -subj "/C=US/O=Ward Test, Inc./CN=monitor-7.icu.example"
/// -addext "subjectAltName=DNS:monitor-7.icu.example,DNS:monitor-7" -set_serial 0x1234ABCD`.
const CERT_HEX: &[&str] = &[
    "30820201308201a7a00302010202041234abcd300a06082a8648ce3d0403023047310b30090603550406130255533118",
    "3016060355040a0c0f5761726420546573742c20496e632e311e301c06035504030c156d6f6e69746f722d372e696375",
    "2e6578616d706c65301e170d3236313132333137303833315a170d3336313132303137303833315a3047310b30090603",
    "5504061302555331183016060355040a0c0f5761726420546573742c20496e632e311e301c06035504030c156d6f6e69",
    "746f722d372e6963752e6578616d706c653059301306072a8648ce3d020106082a8648ce3d030107034200046f1450d9",
    "b036741038d587c789f01d03efb8f9c2f30550a27a907854b84abaa26cfceaea1a0de6d825ec252933fa1f9aa86fb42e",
    "2306dbf94877831fc3750d7aa38180307e301d0603551d0e04160414face807193b172fa0ec48b74b2a3f9ee46a0374c",
    "301f0603551d23041830168014face807193b172fa0ec48b74b2a3f9ee46a0374c300f0603551d130101ff0405300301",
    "01ff302b0603551d110424302282156d6f6e69746f722d372e6963752e6578616d706c6582096d6f6e69746f722d3730",
    "0a06082a8648ce3d040302034800304502200a9661bc8121b3966703b73ba7b55ae006d4c814fcffdb311892c779bb38",
    "2a6c022100961aa75a5bb9e64dedabc80cc8a5ed46fecdeb79623978b9a639cfee1d15bac0",
];

fn cert_der() -> Vec<u8> {
    let hex: String = CERT_HEX.concat();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// A record: content type, version 0x0303, length, body.
fn record(ct: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 3, 3];
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A handshake message: type, u24 length, body.
fn hs(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 0, (body.len() >> 8) as u8, body.len() as u8];
    v.extend_from_slice(body);
    v
}

fn ext(t: u16, d: &[u8]) -> Vec<u8> {
    let mut v = t.to_be_bytes().to_vec();
    v.extend_from_slice(&(d.len() as u16).to_be_bytes());
    v.extend_from_slice(d);
    v
}

fn sni(name: &[u8]) -> Vec<u8> {
    let mut v = ((name.len() + 3) as u16).to_be_bytes().to_vec();
    v.push(0);
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    ext(0, &v)
}

fn alpn(p: &[u8]) -> Vec<u8> {
    let mut v = ((p.len() + 1) as u16).to_be_bytes().to_vec();
    v.push(p.len() as u8);
    v.extend_from_slice(p);
    ext(16, &v)
}

fn client_hello_body(
    version: u16,
    session_id: &[u8],
    ciphers: &[u16],
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(&[0x42; 32]);
    b.push(session_id.len() as u8);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
    for c in ciphers {
        b.extend_from_slice(&c.to_be_bytes());
    }
    b.extend_from_slice(&[1, 0]);
    let e: Vec<u8> = exts.concat();
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

fn server_hello_body(
    version: u16,
    random: &[u8; 32],
    session_id: &[u8],
    cipher: u16,
    exts: &[Vec<u8>],
) -> Vec<u8> {
    let mut b = version.to_be_bytes().to_vec();
    b.extend_from_slice(random);
    b.push(session_id.len() as u8);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    let e: Vec<u8> = exts.concat();
    b.extend_from_slice(&(e.len() as u16).to_be_bytes());
    b.extend_from_slice(&e);
    b
}

fn certificate_body(der: &[u8]) -> Vec<u8> {
    let n = der.len();
    let mut v = vec![
        0,
        ((n + 3) >> 8) as u8,
        (n + 3) as u8,
        0,
        (n >> 8) as u8,
        n as u8,
    ];
    v.extend_from_slice(der);
    v
}

/// A full TLS 1.2 ECDHE handshake, one flight per chunk.
fn tls12() -> Vec<(Direction, Vec<u8>)> {
    let ch = client_hello_body(
        0x0303,
        &[],
        &[0xc02f, 0xc030, 0x009c],
        &[
            sni(b"monitor-7.icu.example"),
            ext(10, &[0, 4, 0, 23, 0, 24]),
            ext(11, &[1, 0]),
            alpn(b"http/1.1"),
        ],
    );
    let sh = server_hello_body(
        0x0303,
        &[9; 32],
        &[5; 32],
        0xc02f,
        &[ext(0xff01, &[0]), alpn(b"http/1.1")],
    );
    let ske = [3, 0, 23, 65, 4]
        .iter()
        .copied()
        .chain(std::iter::repeat_n(1u8, 64))
        .collect::<Vec<u8>>();
    let flight2 = [
        hs(2, &sh),
        hs(11, &certificate_body(&cert_der())),
        hs(12, &ske),
        hs(14, &[]),
    ]
    .concat();
    vec![
        (Direction::ToServer, record(22, &hs(1, &ch))),
        (Direction::ToClient, record(22, &flight2)),
        (
            Direction::ToServer,
            [
                record(22, &hs(16, &[0; 33])),
                record(20, &[1]),
                record(22, &[0xee; 40]),
            ]
            .concat(),
        ),
        (
            Direction::ToClient,
            [
                record(20, &[1]),
                record(22, &[0xdd; 40]),
                record(23, &[0xcc; 100]),
            ]
            .concat(),
        ),
        (Direction::ToServer, record(23, &[0xbb; 100])),
    ]
}

fn tls_records(records: &[Record]) -> Vec<&TlsRecord> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Tls(t) = r {
                Some(t)
            } else {
                None
            }
        })
        .collect()
}

fn weirds(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Weird(w) = r {
                Some(w.name.as_str())
            } else {
                None
            }
        })
        .collect()
}

fn borrowed(conv: &[(Direction, Vec<u8>)]) -> Vec<(Direction, &[u8])> {
    conv.iter().map(|(d, b)| (*d, b.as_slice())).collect()
}

fn run_conv(conv: &[(Direction, Vec<u8>)]) -> Vec<Record> {
    run(&Tls, Transport::Tcp, 443, &borrowed(conv))
}

#[test]
fn tls12_full_handshake() {
    let records = run_conv(&tls12());
    assert!(weirds(&records).is_empty(), "{records:?}");
    let t = tls_records(&records);
    assert_eq!(t.len(), 1);
    let t = t[0];
    assert_eq!(t.version.as_deref(), Some("TLSv12"));
    assert_eq!(t.client_version.as_deref(), Some("TLSv12"));
    assert_eq!(
        t.cipher.as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(t.curve.as_deref(), Some("secp256r1"));
    assert_eq!(t.server_name.as_deref(), Some("monitor-7.icu.example"));
    assert_eq!(t.alpn.as_deref(), Some("http/1.1"));
    assert!(t.established && !t.resumed);
    assert_eq!(t.history, "CsxknGIi");
    assert_eq!(
        t.cert_subject.as_deref(),
        Some(r"CN=monitor-7.icu.example,O=Ward Test\, Inc.,C=US")
    );
    assert_eq!(t.cert_issuer, t.cert_subject);
    assert_eq!(t.cert_self_signed, Some(true));
    assert_eq!(
        (t.cert_not_before, t.cert_not_after),
        (Some(1795453711), Some(2110813711))
    );
    assert_eq!(t.cert_key_bits, Some(256));
    assert_eq!(t.cert_key_type.as_deref(), Some("ecdsa"));
    assert_eq!(t.cert_sig_alg.as_deref(), Some("ecdsa-with-SHA256"));
    assert_eq!(t.cert_serial.as_deref(), Some("1234ABCD"));
    assert_eq!(
        t.cert_fingerprint.as_deref(),
        Some("01528b1474ededd4daafdeac0835d491a9f1811637ee0debe410a0ed108134fd")
    );
    assert_eq!(t.cert_san_dns, ["monitor-7.icu.example", "monitor-7"]);
    assert!(t.ja3.as_deref().is_some_and(|j| j.len() == 32));
    assert!(t.ja3s.as_deref().is_some_and(|j| j.len() == 32));
    assert!(
        t.ja4
            .as_deref()
            .is_some_and(|j| j.starts_with("t12d0304h1_")),
        "{:?}",
        t.ja4
    );
}

#[test]
fn every_split_point_gives_the_same_record() {
    let conv = tls12();
    let whole = run_conv(&conv);
    assert_eq!(
        run_forced(&Tls, Transport::Tcp, 443, &borrowed(&conv)),
        whole
    );
    for (n, (dir, bytes)) in conv.iter().enumerate() {
        for split in 0..=bytes.len() {
            let mut chunks = borrowed(&conv);
            let (a, b) = bytes.split_at(split);
            chunks.splice(n..=n, [(*dir, a), (*dir, b)]);
            assert_eq!(
                run_forced(&Tls, Transport::Tcp, 443, &chunks),
                whole,
                "chunk {n} split at {split}"
            );
        }
    }
}

#[test]
fn handshake_messages_spanning_records() {
    // The server's flight cut into records of 100 bytes.
    let conv = tls12();
    let body = &conv[1].1[5..];
    let resplit: Vec<u8> = body.chunks(100).flat_map(|c| record(22, c)).collect();
    let mut conv2 = conv.clone();
    conv2[1].1 = resplit;
    let a = run_conv(&conv);
    let b = run_conv(&conv2);
    assert_eq!(tls_records(&a), tls_records(&b));
}

#[test]
fn tls13_with_hello_retry_and_psk() {
    let ch1 = client_hello_body(
        0x0303,
        &[7; 32],
        &[0x1301, 0x1302],
        &[
            ext(43, &[4, 3, 4, 3, 3]),
            ext(51, &[0, 0]),
            ext(45, &[1, 1]),
        ],
    );
    let hrr = server_hello_body(
        0x0303,
        &hello::HRR_RANDOM,
        &[7; 32],
        0x1301,
        &[ext(43, &[3, 4]), ext(51, &[0, 23])],
    );
    let ch2 = client_hello_body(
        0x0303,
        &[7; 32],
        &[0x1301, 0x1302],
        &[
            ext(43, &[4, 3, 4, 3, 3]),
            ext(51, &[0, 23, 0, 0]),
            ext(41, &[0, 0]),
        ],
    );
    let sh = server_hello_body(
        0x0303,
        &[3; 32],
        &[7; 32],
        0x1301,
        &[ext(43, &[3, 4]), ext(51, &[0, 23, 0, 0]), ext(41, &[0, 0])],
    );
    let conv = vec![
        (Direction::ToServer, record(22, &hs(1, &ch1))),
        (
            Direction::ToClient,
            [record(22, &hs(2, &hrr)), record(20, &[1])].concat(),
        ),
        (
            Direction::ToServer,
            [record(20, &[1]), record(22, &hs(1, &ch2))].concat(),
        ),
        (
            Direction::ToClient,
            [record(22, &hs(2, &sh)), record(23, &[0xaa; 50])].concat(),
        ),
        (Direction::ToServer, record(23, &[0xbb; 50])),
    ];
    let records = run_conv(&conv);
    assert!(weirds(&records).is_empty(), "{records:?}");
    let t = tls_records(&records)[0];
    assert_eq!(t.version.as_deref(), Some("TLSv13"));
    assert_eq!(t.client_version.as_deref(), Some("TLSv13"));
    assert_eq!(t.cipher.as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(t.curve.as_deref(), Some("secp256r1"));
    assert_eq!(t.history, "CjiICs", "as Zeek's tls13 baseline for hrr.pcap");
    assert!(t.established);
    assert!(t.resumed, "pre_shared_key accepted");
    assert!(
        t.ja4.as_deref().is_some_and(|j| j.starts_with("t13i0203")),
        "{:?}",
        t.ja4
    );
    assert!(t.cert_subject.is_none());
}

#[test]
fn session_id_resumption() {
    let ch = client_hello_body(0x0303, &[5; 32], &[0x002f], &[]);
    let sh = server_hello_body(0x0303, &[9; 32], &[5; 32], 0x002f, &[]);
    let conv = vec![
        (Direction::ToServer, record(22, &hs(1, &ch))),
        (
            Direction::ToClient,
            [
                record(22, &hs(2, &sh)),
                record(20, &[1]),
                record(22, &[0xdd; 40]),
            ]
            .concat(),
        ),
        (
            Direction::ToServer,
            [record(20, &[1]), record(22, &[0xee; 40])].concat(),
        ),
    ];
    let t = run_conv(&conv);
    let t = tls_records(&t)[0];
    assert!(t.resumed && t.established);
    assert_eq!(t.history, "CsiI");
    assert_eq!(t.cipher.as_deref(), Some("TLS_RSA_WITH_AES_128_CBC_SHA"));
}

#[test]
fn alert_instead_of_server_hello() {
    let ch = client_hello_body(0x0301, &[], &[0x002f], &[sni(b"old.example")]);
    let records = run_conv(&[
        (Direction::ToServer, record(22, &hs(1, &ch))),
        (Direction::ToClient, [0x15, 3, 1, 0, 2, 2, 70].to_vec()),
    ]);
    let t = tls_records(&records)[0];
    assert_eq!(t.last_alert.as_deref(), Some("protocol_version"));
    assert_eq!(t.history, "Cl");
    assert_eq!(t.version, None);
    assert!(!t.established);
}

#[test]
fn sslv2_client_hello() {
    // SSL 2.0 CLIENT-HELLO offering TLS 1.0: length 0x2e, type 1, version 3.1,
    // cipher specs 21 bytes, session id 0, challenge 16.
    let mut v2 = vec![0x80, 0x2e, 1, 3, 1, 0, 21, 0, 0, 0, 16];
    v2.extend_from_slice(&[0; 21]);
    v2.extend_from_slice(&[0x33; 16]);
    assert_eq!(Tls.probe(Direction::ToServer, &v2, false), Probe::Match);
    let sh = server_hello_body(0x0301, &[9; 32], &[], 0x002f, &[]);
    let records = run_conv(&[
        (Direction::ToServer, v2),
        (Direction::ToClient, record(22, &hs(2, &sh))),
    ]);
    assert!(weirds(&records).is_empty(), "{records:?}");
    let t = tls_records(&records)[0];
    assert_eq!(
        (t.client_version.as_deref(), t.version.as_deref()),
        (Some("TLSv10"), Some("TLSv10"))
    );
    assert_eq!(t.history, "Cs");
    assert!(t.ja3.is_none());
}

#[test]
fn malformed_input() {
    let records = run_forced(
        &Tls,
        Transport::Tcp,
        443,
        &[(Direction::ToServer, b"GET / HTTP/1.1\r\n\r\n")],
    );
    assert_eq!(weirds(&records), ["tls_bad_record_header"]);
    // A handshake message announcing 16 MiB: only its first MAX_HANDSHAKE
    // bytes are ever kept, and they are not there yet.
    let records = run_forced(
        &Tls,
        Transport::Tcp,
        443,
        &[(
            Direction::ToServer,
            &record(22, &[1, 0xff, 0xff, 0xff, 3, 3, 0, 0, 0, 0, 0, 0]),
        )],
    );
    assert!(weirds(&records).is_empty(), "{records:?}");
    // ClientHello cut short.
    let ch = client_hello_body(0x0303, &[], &[0x002f], &[]);
    let records = run(
        &Tls,
        Transport::Tcp,
        443,
        &[(Direction::ToServer, &record(22, &hs(1, &ch[..30])))],
    );
    assert_eq!(weirds(&records), ["tls_bad_client_hello"]);
    // Broken certificate.
    let sh = server_hello_body(0x0303, &[9; 32], &[], 0x002f, &[]);
    let flight = [
        hs(2, &sh),
        hs(11, &certificate_body(&[0x30, 0x82, 1, 0, 2])),
    ]
    .concat();
    let records = run_forced(
        &Tls,
        Transport::Tcp,
        443,
        &[(Direction::ToClient, &record(22, &flight))],
    );
    assert_eq!(weirds(&records), ["tls_bad_certificate"]);
}

/// A Certificate message of ~200 KiB (a long chain) split over many
/// records, as in Zeek's tls-fragmented-handshake trace: the leaf comes from
/// the message's first MAX_HANDSHAKE bytes, the rest is skipped, and the
/// handshake goes on with the next message.
#[test]
fn oversized_fragmented_certificate_message() {
    let der = cert_der();
    let filler = vec![0x55u8; 200 * 1024];
    let u24 = |n: usize| [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let list_len = 3 + der.len() + 3 + filler.len();
    let mut body = u24(list_len).to_vec();
    body.extend_from_slice(&u24(der.len()));
    body.extend_from_slice(&der);
    body.extend_from_slice(&u24(filler.len()));
    body.extend_from_slice(&filler);
    let mut msg = vec![11];
    msg.extend_from_slice(&u24(body.len()));
    msg.extend_from_slice(&body);
    let sh = server_hello_body(0x0303, &[9; 32], &[], 0x002f, &[]);
    let mut flight = record(22, &hs(2, &sh));
    for part in msg.chunks(16384) {
        flight.extend_from_slice(&record(22, part));
    }
    flight.extend_from_slice(&record(22, &hs(14, &[])));
    let ch = client_hello_body(0x0303, &[], &[0x002f], &[]);
    for chunk in [16384, 1000, 7] {
        let mut conv = vec![(Direction::ToServer, record(22, &hs(1, &ch)))];
        conv.extend(
            flight
                .chunks(chunk)
                .map(|c| (Direction::ToClient, c.to_vec())),
        );
        let records = run_conv(&conv);
        assert_eq!(
            weirds(&records),
            ["tls_handshake_too_large"],
            "chunk {chunk}"
        );
        let t = tls_records(&records)[0];
        assert_eq!(t.history, "Csxn", "chunk {chunk}");
        assert_eq!(
            t.cert_subject.as_deref(),
            Some(r"CN=monitor-7.icu.example,O=Ward Test\, Inc.,C=US"),
            "chunk {chunk}"
        );
    }
}

#[test]
fn probe() {
    let conv = tls12();
    assert_eq!(
        Tls.probe(Direction::ToServer, &conv[0].1, false),
        Probe::Match
    );
    assert_eq!(
        Tls.probe(Direction::ToClient, &conv[1].1, false),
        Probe::Match
    );
    assert_eq!(
        Tls.probe(Direction::ToClient, &conv[0].1, false),
        Probe::NoMatch
    );
    assert_eq!(
        Tls.probe(Direction::ToServer, &conv[0].1[..4], false),
        Probe::NeedMore
    );
    assert_eq!(
        Tls.probe(
            Direction::ToServer,
            b"\x16\x03\x01\x00\x02\x01\x00\x00\x00\x00\x00",
            false
        ),
        Probe::NoMatch
    );
    assert_eq!(
        Tls.probe(Direction::ToServer, b"GET / HTTP/1.1\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(
        Tls.probe(Direction::ToServer, b"SSH-2.0-x\r\n", true),
        Probe::NoMatch
    );
    assert_eq!(
        Tls.probe(Direction::ToServer, &[0x80], true),
        Probe::NeedMore
    );
}

#[test]
fn garbage_never_panics() {
    let all: Vec<u8> = tls12().into_iter().flat_map(|(_, b)| b).collect();
    assert!(never_panics(&Tls, Transport::Tcp, 443, &all) > 0);
}

/// Runs each connection of a Zeek TLS trace and compares with ssl.log (and
/// x509.log for the leaf certificate); returns the differences.
fn compare_with_zeek(traces: &[&str], baseline_dir: &str) -> Option<Vec<String>> {
    let base = testkit::testdata(baseline_dir)?;
    let log = ["ssl.log", "ssl-out.log"]
        .iter()
        .map(|l| base.join(l))
        .find(|p| p.exists())?;
    let mut conns = Vec::new();
    for t in traces {
        conns.extend(testkit::tcp::conns(&testkit::testdata(t)?));
    }
    let (fields, rows) = testkit::zeek::log(&log);
    let x509 = base.join("x509.log");
    let certs = if x509.exists() {
        testkit::zeek::log(&x509)
    } else {
        Default::default()
    };
    let mut diffs = Vec::new();
    for row in &rows {
        let col = |n: &str| testkit::zeek::col(&fields, row, n);
        let (Some(h), Some(p)) = (col("id.orig_h"), col("id.orig_p")) else {
            continue;
        };
        let port: u16 = p.parse().unwrap();
        let Some(conn) = conns.iter().find(|c| c.is_from(h, port)) else {
            diffs.push(format!("{port}: connection not in trace (UDP?)"));
            continue;
        };
        let records = run(&Tls, Transport::Tcp, conn.port(), &conn.borrowed());
        let Some(t) = tls_records(&records).first().copied() else {
            diffs.push(format!("{port}: no record"));
            continue;
        };
        let b = |v: bool| Some(if v { "T" } else { "F" }.to_string());
        let checks = [
            ("version", t.version.clone(), col("version")),
            ("cipher", t.cipher.clone(), col("cipher")),
            ("curve", t.curve.clone(), col("curve")),
            ("server_name", t.server_name.clone(), col("server_name")),
            ("resumed", b(t.resumed), col("resumed")),
            ("established", b(t.established), col("established")),
            ("next_protocol", t.alpn.clone(), col("next_protocol")),
            ("last_alert", t.last_alert.clone(), col("last_alert")),
            ("ssl_history", Some(t.history.clone()), col("ssl_history")),
        ];
        for (name, ours, zeek) in checks {
            if fields.iter().any(|f| f == name) && ours.as_deref() != zeek {
                diffs.push(format!("{port} {name}: ours {ours:?} zeek {zeek:?}"));
            }
        }
        // The leaf certificate is the first of cert_chain_fps.
        let leaf_fp = col("cert_chain_fps")
            .and_then(|c| c.split(',').next())
            .filter(|f| *f != "(empty)");
        if fields.iter().any(|f| f == "cert_chain_fps") && leaf_fp != t.cert_fingerprint.as_deref()
        {
            diffs.push(format!(
                "{port} leaf fingerprint: ours {:?} zeek {leaf_fp:?}",
                t.cert_fingerprint
            ));
        }
        if let Some(fp) = leaf_fp {
            let (cf, crows) = &certs;
            if let Some(c) = crows
                .iter()
                .find(|r| testkit::zeek::col(cf, r, "fingerprint") == Some(fp))
            {
                let cc = |n: &str| testkit::zeek::col(cf, c, n);
                let secs = |v: Option<i64>| v.map(|s| format!("{s}.000000"));
                let cert_checks = [
                    ("subject", t.cert_subject.clone(), cc("certificate.subject")),
                    ("issuer", t.cert_issuer.clone(), cc("certificate.issuer")),
                    (
                        "not_before",
                        secs(t.cert_not_before),
                        cc("certificate.not_valid_before"),
                    ),
                    (
                        "not_after",
                        secs(t.cert_not_after),
                        cc("certificate.not_valid_after"),
                    ),
                    ("sig_alg", t.cert_sig_alg.clone(), cc("certificate.sig_alg")),
                    (
                        "key_type",
                        t.cert_key_type.clone(),
                        cc("certificate.key_type"),
                    ),
                    (
                        "key_length",
                        t.cert_key_bits.map(|b| b.to_string()),
                        cc("certificate.key_length"),
                    ),
                    ("serial", t.cert_serial.clone(), cc("certificate.serial")),
                ];
                for (name, ours, zeek) in cert_checks {
                    if ours.as_deref() != zeek {
                        diffs.push(format!("{port} cert {name}: ours {ours:?} zeek {zeek:?}"));
                    }
                }
            }
        }
    }
    Some(diffs)
}

/// Baselines where every compared field agrees with Zeek (all the TCP ones
/// whose traces are not compressed).
#[test]
fn zeek_ssl_baselines() {
    for (traces, test) in STRICT {
        let traces: Vec<String> = traces
            .iter()
            .map(|t| format!("zeek/Traces/tls/{t}"))
            .collect();
        let traces: Vec<&str> = traces.iter().map(String::as_str).collect();
        let Some(diffs) = compare_with_zeek(&traces, &format!("zeek/Baseline/scripts.{test}"))
        else {
            return;
        };
        assert!(diffs.is_empty(), "{traces:?}:\n{}", diffs.join("\n"));
    }
}

const STRICT: &[(&[&str], &str)] = &[
    (
        &["tls-conn-with-extensions.pcap"],
        "base.protocols.ssl.basic",
    ),
    (&["CVE-2015-3194.pcap"], "base.protocols.ssl.cve-2015-3194"),
    (&["dhe.pcap"], "base.protocols.ssl.dhe"),
    (&["ecdhe.pcap"], "base.protocols.ssl.ecdhe"),
    (&["ecdsa-cert.pcap"], "base.protocols.ssl.ecdsa"),
    (
        &["ml-dsa-44-cert.pcap"],
        "base.protocols.ssl.ml-dsa-44-cert",
    ),
    (
        &["tls-1.2-handshake-failure.pcap"],
        "base.protocols.ssl.tls-1.2-handshake-failure",
    ),
    (
        &["tls1.2-late-protocol-error.pcap"],
        "base.protocols.ssl.tls-1.2-late-protocol-error",
    ),
    (&["tls1.2.pcap"], "base.protocols.ssl.tls-1.2"),
    (
        &["tls13-ech.pcap"],
        "base.protocols.ssl.tls13-encrypted-client-hello",
    ),
    (
        &["chrome-63.0.3211.0-canary-tls_experiment.pcap"],
        "base.protocols.ssl.tls13-experiment",
    ),
    (
        &["tls13draft23-chrome67.0.3368.0-canary.pcap"],
        "base.protocols.ssl.tls13-version",
    ),
    (
        &[
            "chrome-1250-tls-x25519-kyber.pcap",
            "hrr.pcap",
            "tls13_psk_succesfull.pcap",
            "tls13draft16-chrome55.0.2879.0-canary-aborted.pcap",
            "tls13draft16-chrome55.0.2879.0-canary.pcap",
            "tls13draft16-ff52.a01-aborted.pcap",
            "tls13draft16-ff52.a01.pcap",
        ],
        "base.protocols.ssl.tls13",
    ),
    (
        &["tls13_wolfssl.pcap"],
        "base.protocols.ssl.tls13_encrypted_handshake_events",
    ),
    (&["tls1_1.pcap"], "base.protocols.ssl.tls1_1"),
    (
        &["certificate-request-failed.pcap"],
        "policy.protocols.ssl.certificate-request-info",
    ),
    (
        &["google-duplicate.pcap"],
        "policy.protocols.ssl.known-certs",
    ),
    (
        &["missing-intermediate.pcap"],
        "policy.protocols.ssl.validate-certs-no-cache",
    ),
    (
        &[
            "ocsp-stapling-digicert.pcap",
            "ocsp-stapling-twimg.pcap",
            "ocsp-stapling.pcap",
        ],
        "policy.protocols.ssl.validate-ocsp",
    ),
];

/// Prints the differences for every TLS baseline (informational; run with
/// `--ignored --nocapture`).
#[test]
#[ignore]
fn zeek_ssl_all_baselines_report() {
    let Some(map) = testkit::testdata("zeek/zeek_test_map.json") else {
        return;
    };
    let map: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(map).unwrap()).unwrap();
    for t in map {
        let test = t["test"].as_str().unwrap_or_default();
        if !test.contains("protocols/ssl/") {
            continue;
        }
        let base = t["baseline_dir"]
            .as_str()
            .unwrap_or_default()
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let traces: Vec<String> = t["traces"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .filter(|t| !t.ends_with(".gz"))
            .map(|t| format!("zeek/Traces/{t}"))
            .collect();
        let traces: Vec<&str> = traces.iter().map(String::as_str).collect();
        if let Some(diffs) = compare_with_zeek(&traces, &format!("zeek/Baseline/{base}")) {
            println!("== {traces:?} [{base}] ({} diffs)", diffs.len());
            for d in diffs.iter().take(10) {
                println!("   {d}");
            }
        }
    }
}

/// Every connection of every Zeek TLS trace runs without panicking, and
/// weirds stay rare.
#[test]
fn all_zeek_tls_traces() {
    let Some(traces) = testkit::testdata("zeek/Traces/tls") else {
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(traces)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let (mut conns, mut with_record, mut weird_names) =
        (0, 0, std::collections::BTreeMap::<String, usize>::new());
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
    {
        for c in testkit::tcp::conns(p) {
            if c.chunks.is_empty() {
                continue;
            }
            conns += 1;
            let records = run(&Tls, Transport::Tcp, c.port(), &c.borrowed());
            with_record += usize::from(!tls_records(&records).is_empty());
            if tls_records(&records).is_empty() {
                println!(
                    "no record: {} port {} first bytes {:02x?}",
                    p.display(),
                    c.port(),
                    &c.chunks[0].1[..c.chunks[0].1.len().min(8)]
                );
            }
            for w in weirds(&records) {
                *weird_names
                    .entry(format!("{} {w}", p.file_name().unwrap().to_string_lossy()))
                    .or_default() += 1;
            }
        }
    }
    println!("{conns} connections, {with_record} with a TLS record, weirds: {weird_names:#?}");
    assert!(with_record * 10 >= conns * 8, "{with_record}/{conns}");
}

/// SSL 2.0 on both sides (Zeek trace `ssl-v2.pcap`).
#[test]
fn zeek_sslv2_trace() {
    let Some(p) = testkit::testdata("zeek/Traces/tls/ssl-v2.pcap") else {
        return;
    };
    let conn = testkit::tcp::conns(&p)
        .into_iter()
        .find(|c| !c.chunks.is_empty())
        .unwrap();
    let records = run(&Tls, Transport::Tcp, conn.port(), &conn.borrowed());
    assert!(weirds(&records).is_empty(), "{records:?}");
    let t = tls_records(&records)[0];
    assert_eq!(t.client_version.as_deref(), Some("SSLv2"));
    assert_eq!(t.version.as_deref(), Some("SSLv2"));
    assert_eq!(
        t.cipher.as_deref(),
        Some("SSLv20_CK_DES_192_EDE3_CBC_WITH_MD5")
    );
    assert_eq!(t.history, "Cs");
    assert!(t.cert_subject.is_some(), "{t:?}");
}

/// Prints JA3/JA3S per connection of every Zeek TLS trace (run with
/// `--ignored --nocapture`; used to cross-check with tshark's
/// `tls.handshake.ja3` / `tls.handshake.ja3s`).
#[test]
#[ignore]
fn print_fingerprints() {
    let Some(traces) = testkit::testdata("zeek/Traces/tls") else {
        return;
    };
    let mut paths: Vec<_> = std::fs::read_dir(traces)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
    {
        for c in testkit::tcp::conns(p) {
            let records = run(&Tls, Transport::Tcp, c.port(), &c.borrowed());
            if let Some(t) = tls_records(&records).first() {
                let name = p.file_name().unwrap().to_string_lossy();
                let port = c.client.map_or(0, |c| c.1);
                println!(
                    "FP\t{name}\t{port}\t{}\t{}\t{}",
                    t.ja3.as_deref().unwrap_or(""),
                    t.ja3s.as_deref().unwrap_or(""),
                    t.ja4.as_deref().unwrap_or("")
                );
            }
        }
    }
}

/// JA3 / JA3S of real handshakes agree with Wireshark's `tls.handshake.ja3`
/// and `tls.handshake.ja3s` (tshark 4.0 on the same Zeek traces).
#[test]
fn ja3_matches_wireshark() {
    for (trace, port, ja3, ja3s) in [
        (
            "ecdhe.pcap",
            56981,
            "29d8afc9e0a4d38d138ec2643966815f",
            "a8d2a5625ef8f3aada2fb53dad3f2921",
        ),
        (
            "tls-conn-with-extensions.pcap",
            62045,
            "62351d5ea3cd4f21f697965b10a9bbbe",
            "e07f21892995126f4b539c02215c8456",
        ),
        (
            "tls1.2.pcap",
            56637,
            "bd9c99b3a0f752c3ab8b052a79e9de3e",
            "c253ec3ad88e42f8da4032682892f9a0",
        ),
        (
            "CVE-2015-3194.pcap",
            52122,
            "c369db2c355ad05c76f5660af3179b01",
            "f6e234011390444c303f74d09d87322d",
        ),
    ] {
        let Some(p) = testkit::testdata(&format!("zeek/Traces/tls/{trace}")) else {
            return;
        };
        let conn = testkit::tcp::conns(&p)
            .into_iter()
            .find(|c| c.client.is_some_and(|c| c.1 == port))
            .unwrap();
        let records = run(&Tls, Transport::Tcp, conn.port(), &conn.borrowed());
        let t = tls_records(&records)[0];
        assert_eq!(
            (t.ja3.as_deref(), t.ja3s.as_deref()),
            (Some(ja3), Some(ja3s)),
            "{trace}"
        );
    }
}

/// A DTLS record: content type, version DTLS 1.2, epoch, sequence, length.
fn drec(ct: u8, epoch: u16, seq: u64, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ct, 0xfe, 0xfd];
    v.extend_from_slice(&epoch.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes()[2..]);
    v.extend_from_slice(&(body.len() as u16).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// A DTLS handshake fragment of a message of `total` bytes.
fn dfrag(ty: u8, msg_seq: u16, total: usize, off: usize, frag: &[u8]) -> Vec<u8> {
    let u24 = |n: usize| [(n >> 16) as u8, (n >> 8) as u8, n as u8];
    let mut v = vec![ty];
    v.extend_from_slice(&u24(total));
    v.extend_from_slice(&msg_seq.to_be_bytes());
    v.extend_from_slice(&u24(off));
    v.extend_from_slice(&u24(frag.len()));
    v.extend_from_slice(frag);
    v
}

/// A whole DTLS handshake message in one fragment.
fn dmsg(ty: u8, msg_seq: u16, body: &[u8]) -> Vec<u8> {
    dfrag(ty, msg_seq, body.len(), 0, body)
}

/// WebRTC-style DTLS 1.2: STUN first, the ClientHello from the flow's
/// responder (roles flipped), a certificate fragmented over two datagrams
/// with a retransmitted fragment, then both sides switch to epoch 1.
#[test]
fn dtls_handshake_with_stun_fragments_and_flipped_roles() {
    let stun = [
        0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    assert_eq!(
        Dtls.probe(Direction::ToServer, &stun, false),
        Probe::NeedMore
    );
    // ClientHello with a cookie after the session id.
    let ch = client_hello_body(
        0xfefd,
        &[],
        &[0xc02b, 0xc00a],
        &[sni(b"media.example"), ext(10, &[0, 2, 0, 23])],
    );
    let ch = [&ch[..35], &[3, 7, 7, 7][..], &ch[35..]].concat();
    let hello = drec(22, 0, 0, &dmsg(1, 0, &ch));
    assert_eq!(Dtls.probe(Direction::ToClient, &hello, false), Probe::Match);
    let sh = server_hello_body(0xfefd, &[9; 32], &[], 0xc02b, &[]);
    let cert = certificate_body(&cert_der());
    let (c1, c2) = cert.split_at(cert.len() / 2);
    let ske = [3, 0, 23, 65, 4]
        .iter()
        .copied()
        .chain(std::iter::repeat_n(1u8, 64))
        .collect::<Vec<u8>>();
    let flight1 = [
        drec(22, 0, 0, &dmsg(2, 0, &sh)),
        drec(22, 0, 1, &dfrag(11, 1, cert.len(), 0, c1)),
    ]
    .concat();
    let flight2 = [
        // The first fragment again (retransmitted), then the second.
        drec(22, 0, 2, &dfrag(11, 1, cert.len(), 0, c1)),
        drec(22, 0, 3, &dfrag(11, 1, cert.len(), c1.len(), c2)),
        drec(22, 0, 4, &[dmsg(12, 2, &ske), dmsg(14, 3, &[])].concat()),
    ]
    .concat();
    let client_fin = [
        drec(22, 0, 1, &dmsg(16, 1, &[0; 66])),
        drec(20, 0, 2, &[1]),
        drec(22, 1, 0, &[0xee; 40]),
    ]
    .concat();
    let server_fin = [drec(20, 0, 5, &[1]), drec(22, 1, 0, &[0xdd; 40])].concat();
    let conv: Vec<(Direction, &[u8])> = vec![
        (Direction::ToServer, &stun),
        (Direction::ToClient, &hello),
        (Direction::ToServer, &stun),
        (Direction::ToServer, &flight1),
        (Direction::ToServer, &flight2),
        (Direction::ToClient, &client_fin),
        (Direction::ToServer, &server_fin),
    ];
    let records = run(&Dtls, Transport::Udp, 5684, &conv);
    assert!(weirds(&records).is_empty(), "{records:?}");
    let t = tls_records(&records)[0];
    assert_eq!(t.version.as_deref(), Some("DTLSv12"));
    assert_eq!(
        t.cipher.as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    );
    assert_eq!(t.curve.as_deref(), Some("secp256r1"));
    assert_eq!(t.server_name.as_deref(), Some("media.example"));
    assert_eq!(t.history, "^CsxknGIi");
    assert!(t.established);
    assert!(!t.resumed);
    assert_eq!(
        t.cert_subject.as_deref(),
        Some(r"CN=monitor-7.icu.example,O=Ward Test\, Inc.,C=US")
    );
}

#[test]
fn dtls_garbage_never_panics() {
    let hello = drec(22, 0, 0, &dfrag(1, 0, 100_000, 5, &[1, 2, 3]));
    let records = run_forced(
        &Dtls,
        Transport::Udp,
        5684,
        &[
            (Direction::ToServer, &hello),
            (Direction::ToServer, &hello[..20]),
        ],
    );
    assert!(tls_records(&records).is_empty());
    assert!(
        never_panics(
            &Dtls,
            Transport::Udp,
            5684,
            &drec(22, 0, 0, &dmsg(1, 0, &[0xfe, 0xfd, 1, 2]))
        ) > 0
    );
    assert_eq!(
        Dtls.probe(Direction::ToServer, b"\x17\xfe\xfd", false),
        Probe::NoMatch
    );
}

/// TLS 1.3 draft versions are named as drafts: every ServerHello of the
/// benchmark corpus (public test captures of suricata-verify, Zeek, nDPI,
/// concatenated) that selects an IETF draft (`0x7fNN`) or a Facebook draft
/// (`0xfbNN`, nine connections, named `unknown-64282` before) gives a
/// record whose version names that draft.
#[test]
fn draft_versions_of_public_captures_are_named_as_drafts() {
    let Some(file) = testkit::testdata("benchmark/corpus_ethernet_real.pcap") else {
        return;
    };
    let file = file.to_str().unwrap();
    // tshark's negotiated version per connection (client port), then those
    // connections written to a small capture of their own.
    let Some(out) = testkit::tshark::run(&[
        "-r",
        file,
        "-Y",
        "tls.handshake.type == 2",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
        "-e",
        "tcp.dstport",
        "-e",
        "tls.handshake.version",
        "-e",
        "tls.handshake.extensions.supported_version",
    ]) else {
        println!("skipping: tshark not installed");
        return;
    };
    let mut want = std::collections::BTreeMap::new();
    let mut streams = Vec::new();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let hex = |s: &str| u16::from_str_radix(s.trim_start_matches("0x"), 16).ok();
        let Some(v) = f
            .get(3)
            .and_then(|s| hex(s))
            .or_else(|| f.get(2).and_then(|s| hex(s)))
        else {
            continue;
        };
        let name = match v >> 8 {
            0x7f => format!("TLSv13-draft{}", v & 0xff),
            0xfb => format!("TLSv13-draft{}-fb", v & 0xff),
            _ => continue,
        };
        let port: u16 = f[1].parse().unwrap();
        want.insert(port, name);
        streams.push(f[0].to_string());
    }
    assert!(want.values().any(|n| n.ends_with("-fb")), "{want:?}");
    let conns =
        testkit::tshark::tcp_conns(file.as_ref(), &streams).expect("tshark writes the streams");
    let mut agreed = 0;
    let mut diffs = Vec::new();
    for c in &conns {
        let Some(expected) = c.client.and_then(|(_, p)| want.get(&p)) else {
            continue;
        };
        let recs = run(&Tls, Transport::Tcp, c.port(), &c.borrowed());
        let got = tls_records(&recs).first().and_then(|t| t.version.clone());
        if got.as_ref() == Some(expected) {
            agreed += 1;
        } else {
            diffs.push(format!("{:?}: ours {got:?}, tshark {expected}", c.client));
        }
    }
    println!(
        "tls drafts: {agreed}/{} connections named as tshark negotiates",
        want.len()
    );
    assert!(diffs.is_empty() && agreed == want.len(), "{diffs:#?}");
}
