//! Tests for the DNS analyzer: hand-built messages (queries, compressed
//! answers, TXT, mDNS DNS-SD, TCP framing), hostile input (pointer loops,
//! truncation), and Zeek's DNS traces compared with their `dns.log` baselines.

use testkit::pcap;

use super::*;
use analyzer_api::testing;
use model::Record;

/// Splits records into DNS records and weird names.
fn split(recs: Vec<Record>) -> (Vec<DnsRecord>, Vec<String>) {
    let mut d = Vec::new();
    let mut w = Vec::new();
    for r in recs {
        match r {
            Record::Dns(x) => d.push(x),
            Record::Weird(x) => w.push(x.name),
            other => panic!("unexpected record {other:?}"),
        }
    }
    (d, w)
}

fn udp(port: u16, msg: &[u8]) -> (Vec<DnsRecord>, Vec<String>) {
    split(testing::run(
        &Dns,
        Transport::Udp,
        port,
        &[(Direction::ToServer, msg)],
    ))
}

/// A query for www.Example.COM A (mixed case, as some resolvers randomise it).
const QUERY: &[u8] = &[
    0xab, 0xcd, // id
    0x01, 0x00, // flags: RD
    0, 1, 0, 0, 0, 0, 0, 0, // qd=1 an=0 ns=0 ar=0
    3, b'w', b'w', b'w', 7, b'E', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'C', b'O', b'M',
    0, // name
    0, 1, // qtype A
    0, 1, // qclass IN
];

/// The response: a CNAME (compressed owner), an A, a TXT with two strings, an MX.
const RESPONSE: &[u8] = &[
    0xab, 0xcd, // id
    0x81, 0x80, // flags: QR RD RA
    0, 1, 0, 4, 0, 0, 0, 0, // qd=1 an=4
    3, b'w', b'w', b'w', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
    0, // 12: name
    0, 1, 0, 1, // A IN
    0xc0, 12, // owner: ptr to www.example.com
    0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, // CNAME IN ttl 3600 rdlen 6
    3, b'W', b'e', b'b', 0xc0, 16, // web + ptr(example.com)
    0xc0, 45, // owner: web.example.com (offset 45)
    0, 1, 0, 1, 0, 0, 0, 60, 0, 4, // A IN ttl 60 rdlen 4
    192, 0, 2, 1, //
    0xc0, 16, // owner example.com
    0, 16, 0, 1, 0, 0, 0, 5, 0, 9, // TXT IN ttl 5 rdlen 9
    3, b'a', b'=', b'1', 4, b'b', b' ', b'c', b'd', //
    0xc0, 16, // owner example.com
    0, 15, 0, 1, 0, 0, 0, 5, 0, 4, // MX IN ttl 5 rdlen 4
    0, 10, 0xc0, 45, // pref 10, web.example.com
];

#[test]
fn query_and_response() {
    assert_eq!(Dns.probe(Direction::ToServer, QUERY, true), Probe::Match);
    assert_eq!(Dns.probe(Direction::ToServer, QUERY, false), Probe::Match);
    let (d, w) = udp(53, QUERY);
    assert!(w.is_empty(), "{w:?}");
    let q = &d[0];
    assert_eq!(q.flavor, "dns");
    assert_eq!(q.trans_id, 0xabcd);
    assert!(!q.is_response && q.rd && !q.ra);
    assert_eq!(q.query.as_deref(), Some("www.example.com"));
    assert_eq!(q.qtype_name.as_deref(), Some("A"));
    assert_eq!(q.qclass_name.as_deref(), Some("C_INTERNET"));
    assert_eq!(q.opcode_name, "query");

    assert_eq!(
        Dns.probe(Direction::ToClient, RESPONSE, false),
        Probe::Match
    );
    let (d, w) = udp(53, RESPONSE);
    assert!(w.is_empty(), "{w:?}");
    let r = &d[0];
    assert!(r.is_response && r.ra);
    assert_eq!(r.rcode_name, "NOERROR");
    let got: Vec<(&str, &str, &str, u32)> = r
        .answers
        .iter()
        .map(|a| (a.name.as_str(), a.rtype.as_str(), a.data.as_str(), a.ttl))
        .collect();
    assert_eq!(
        got,
        [
            ("www.example.com", "CNAME", "web.example.com", 3600),
            ("web.example.com", "A", "192.0.2.1", 60),
            ("example.com", "TXT", "TXT 3 a=1 TXT 4 b cd", 5),
            ("example.com", "MX", "web.example.com", 5),
        ]
    );
    assert!(r.additional.is_empty());
}

#[test]
fn flavors_by_port() {
    assert_eq!(udp(5353, QUERY).0[0].flavor, "mdns");
    assert_eq!(udp(5355, QUERY).0[0].flavor, "llmnr");
    assert_eq!(flavor_for_ports(40000, 5353), "mdns");
}

#[test]
fn tcp_framing_with_split_messages() {
    let mut stream = Vec::new();
    for m in [QUERY, QUERY] {
        stream.extend_from_slice(&(m.len() as u16).to_be_bytes());
        stream.extend_from_slice(m);
    }
    assert_eq!(Dns.probe(Direction::ToServer, &stream, false), Probe::Match);
    assert_eq!(
        Dns.probe(Direction::ToServer, &stream[..20], true),
        Probe::NeedMore
    );
    assert_eq!(
        Dns.probe(Direction::ToServer, &stream[..40], true),
        Probe::Match
    );
    assert_eq!(
        Dns.probe(Direction::ToServer, &stream[..20], false),
        Probe::NeedMore
    );
    for split_at in 0..stream.len() {
        let (a, b) = stream.split_at(split_at);
        let (d, w) = split(testing::run_forced(
            &Dns,
            Transport::Tcp,
            53,
            &[(Direction::ToServer, a), (Direction::ToServer, b)],
        ));
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(d.len(), 2, "split at {split_at}");
        assert_eq!(d[1].query.as_deref(), Some("www.example.com"));
    }
    // Responses come the other way.
    let mut resp = (RESPONSE.len() as u16).to_be_bytes().to_vec();
    resp.extend_from_slice(RESPONSE);
    let (d, _) = split(testing::run(
        &Dns,
        Transport::Tcp,
        53,
        &[(Direction::ToServer, &stream), (Direction::ToClient, &resp)],
    ));
    assert_eq!(d.len(), 3);
    assert_eq!(d[2].answers.len(), 4);
}

/// An mDNS DNS-SD announcement: PTR answer, SRV + TXT + A in additional.
#[test]
fn mdns_additional_section() {
    let mut m = vec![
        0, 0, // id 0
        0x84, 0x00, // QR AA
        0, 0, 0, 1, 0, 0, 0, 3, // qd=0 an=1 ns=0 ar=3
        4, b'_', b'i', b'p', b'p', 4, b'_', b't', b'c', b'p', 5, b'l', b'o', b'c', b'a', b'l',
        0, // 12: _ipp._tcp.local
        0, 12, 0, 1, 0, 0, 0x11, 0x94, 0, 10, // PTR IN ttl 4500 rdlen 10
        7, b'P', b'r', b'i', b'n', b't', b'e', b'r', 0xc0, 12, // 39: Printer._ipp._tcp.local
        0xc0, 39, // owner Printer._ipp._tcp.local
        0, 33, 0x80, 1, 0, 0, 0, 120, 0, 11, // SRV IN|flush ttl 120 rdlen 11
        0, 0, 0, 0, 2, 0x77, // prio, weight, port 631
        2, b'p', b'r', 0xc0, 22, // 67: pr + ptr(local)
    ];
    let srv_target = 67;
    m.extend_from_slice(&[
        0xc0,
        39, // owner
        0,
        16,
        0x80,
        1,
        0,
        0,
        0x11,
        0x94,
        0,
        16, // TXT
        6,
        b't',
        b'y',
        b'=',
        b'X',
        b'9',
        b'0', // ty=X90
        8,
        b'f',
        b'w',
        b'=',
        b'1',
        b'.',
        b'2',
        b'.',
        b'3', // fw=1.2.3
        0xc0,
        srv_target as u8, // owner pr.local
        0,
        1,
        0x80,
        1,
        0,
        0,
        0,
        120,
        0,
        4,
        10,
        0,
        0,
        7, // A 10.0.0.7
    ]);
    let (d, w) = udp(5353, &m);
    assert!(w.is_empty(), "{w:?}");
    let r = &d[0];
    assert_eq!(r.flavor, "mdns");
    assert_eq!(
        r.query.as_deref(),
        Some("_ipp._tcp.local"),
        "named after the first answer"
    );
    assert_eq!(r.answers[0].data, "printer._ipp._tcp.local");
    let add: Vec<(&str, &str)> = r
        .additional
        .iter()
        .map(|a| (a.rtype.as_str(), a.data.as_str()))
        .collect();
    assert_eq!(
        add,
        [
            ("SRV", "pr.local"),
            ("TXT", "TXT 6 ty=X90 TXT 8 fw=1.2.3"),
            ("A", "10.0.0.7")
        ]
    );
    // Plain DNS does not keep the additional section.
    assert!(udp(53, &m).0[0].additional.is_empty());
}

#[test]
fn compression_loop_is_weird_not_hang() {
    let m = [
        0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // header qd=1 an=1
        1, b'a', 0, 0, 1, 0, 1, // question a A IN
        0xc0, 19, // owner: pointer to itself (offset 19)
        0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4,
    ];
    let (d, w) = udp(53, &m);
    assert_eq!(d[0].query.as_deref(), Some("a"));
    assert!(d[0].answers.is_empty());
    assert_eq!(w, ["dns_label_forward_compress_offset"]);
    assert_eq!(Dns.probe(Direction::ToServer, &m, false), Probe::NoMatch);
}

#[test]
fn probe_rejects_garbage() {
    assert_eq!(Dns.probe(Direction::ToServer, &[], true), Probe::NeedMore);
    assert_eq!(
        Dns.probe(
            Direction::ToServer,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
            true
        ),
        Probe::NoMatch
    );
    assert_eq!(
        Dns.probe(Direction::ToServer, &[0u8; 64], true),
        Probe::NoMatch
    );
    assert_eq!(
        Dns.probe(Direction::ToServer, &[0xffu8; 64], false),
        Probe::NoMatch
    );
    // A query with trailing bytes is fine on port 53 but not elsewhere.
    let mut q = QUERY.to_vec();
    q.extend_from_slice(b"junk");
    assert_eq!(Dns.probe(Direction::ToServer, &q, true), Probe::Match);
    assert_eq!(Dns.probe(Direction::ToServer, &q, false), Probe::NoMatch);
}

#[test]
fn truncations_never_panic() {
    assert!(testing::never_panics(&Dns, Transport::Udp, 53, RESPONSE) > 0);
    assert!(testing::never_panics(&Dns, Transport::Tcp, 53, RESPONSE) > 0);
    for cut in 0..RESPONSE.len() {
        testing::run_forced(
            &Dns,
            Transport::Udp,
            5353,
            &[(Direction::ToServer, &RESPONSE[..cut])],
        );
    }
}

// ---- Zeek traces and baselines ----

/// Runs the analyzer over every DNS packet of a trace (UDP: one message per
/// datagram; TCP: per-connection, per-direction streams).
fn analyze(path: &std::path::Path) -> (Vec<DnsRecord>, Vec<String>) {
    let is_dns = |p: u16| matches!(p, 53 | 5353 | 5355);
    let mut recs = Vec::new();
    let mut weirds = Vec::new();
    // (client port, server port) -> chunks
    type Chunks = Vec<(Direction, Vec<u8>)>;
    let mut tcp: Vec<((u16, u16), Chunks)> = Vec::new();
    for f in pcap::frames(path) {
        let Some(p) = pcap::decode(&f) else { continue };
        let (server, dir) = if is_dns(p.dport) {
            (p.dport, Direction::ToServer)
        } else if is_dns(p.sport) {
            (p.sport, Direction::ToClient)
        } else {
            continue;
        };
        if p.proto == 17 {
            let (d, w) = split(testing::run(
                &Dns,
                Transport::Udp,
                server,
                &[(dir, p.payload)],
            ));
            recs.extend(d);
            weirds.extend(w);
        } else if !p.payload.is_empty() {
            let key = if dir == Direction::ToServer {
                (p.sport, p.dport)
            } else {
                (p.dport, p.sport)
            };
            match tcp.iter_mut().find(|(k, _)| *k == key) {
                Some((_, c)) => c.push((dir, p.payload.to_vec())),
                None => tcp.push((key, vec![(dir, p.payload.to_vec())])),
            }
        }
    }
    for ((_, server), chunks) in tcp {
        let chunks: Vec<(Direction, &[u8])> =
            chunks.iter().map(|(d, c)| (*d, c.as_slice())).collect();
        let (d, w) = split(testing::run(&Dns, Transport::Tcp, server, &chunks));
        recs.extend(d);
        weirds.extend(w);
    }
    (recs, weirds)
}

/// One row of a Zeek dns.log: (trans_id, query, answers, TTLs).
fn zeek_rows(log: &std::path::Path) -> Vec<(u16, String, String, String)> {
    let text = std::fs::read_to_string(log).unwrap();
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || fields.is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let get = |name: &str| {
            fields
                .iter()
                .position(|f| f == name)
                .and_then(|i| cols.get(i))
                .copied()
                .unwrap_or("-")
                .to_string()
        };
        rows.push((
            get("trans_id").parse().unwrap_or(0),
            get("query"),
            get("answers"),
            get("TTLs"),
        ));
    }
    rows
}

fn zeek_answers(r: &DnsRecord) -> (String, String) {
    if r.answers.is_empty() {
        return ("-".into(), "-".into());
    }
    let a: Vec<&str> = r.answers.iter().map(|a| a.data.as_str()).collect();
    let t: Vec<String> = r
        .answers
        .iter()
        .map(|a| format!("{}.000000", a.ttl))
        .collect();
    (a.join(","), t.join(","))
}

/// For every Zeek DNS test with a dns.log baseline, each logged response's
/// `answers` and `TTLs` must equal what Ward renders for the response with the
/// same transaction id. Known differences are listed in `SKIP`.
#[test]
fn zeek_dns_baselines() {
    let Some(zeek) = testkit::testdata("zeek") else {
        return;
    };
    let map: String = std::fs::read_to_string(zeek.join("zeek_test_map.json")).unwrap();
    // Hand-parse the few fields needed to avoid a JSON dependency: test path
    // and trace list of each DNS test.
    // Zeek renders dynamic-update prerequisites/updates in its own notation.
    const SKIP: &[&str] = &["dynamic-update"];
    let mut checked = 0;
    for (test, traces) in dns_tests(&map) {
        let id = test
            .trim_start_matches("testing/btest/")
            .trim_end_matches(".zeek")
            .trim_end_matches(".test")
            .replace('/', ".");
        let log = zeek.join("Baseline").join(&id).join("dns.log");
        if !log.exists() || SKIP.iter().any(|s| id.ends_with(s)) {
            continue;
        }
        let mut recs = Vec::new();
        for t in &traces {
            let p = zeek.join("Traces").join(t);
            if p.extension().is_some_and(|e| e == "pcap") {
                recs.extend(analyze(&p).0);
            }
        }
        for (tid, query, answers, ttls) in zeek_rows(&log) {
            if answers == "-" {
                continue;
            }
            let found = recs
                .iter()
                .filter(|r| r.is_response && r.trans_id == tid)
                .map(zeek_answers)
                .any(|(a, t)| a == answers && t == ttls);
            assert!(
                found,
                "{id}: trans_id {tid} query {query}: want answers {answers} TTLs {ttls}, have {:?}",
                recs.iter()
                    .filter(|r| r.is_response && r.trans_id == tid)
                    .map(zeek_answers)
                    .collect::<Vec<_>>()
            );
            checked += 1;
        }
    }
    eprintln!("checked {checked} Zeek dns.log rows");
    assert!(checked >= 10, "only {checked} rows checked");
}

/// (test path, traces) for DNS tests in zeek_test_map.json.
fn dns_tests(json: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for obj in json.split("\"test\"").skip(1) {
        let Some(test) = obj.split('"').nth(1) else {
            continue;
        };
        if !test.contains("/protocols/dns/") {
            continue;
        }
        let traces = obj
            .split("\"traces\"")
            .nth(1)
            .and_then(|s| s.split('[').nth(1))
            .and_then(|s| s.split(']').next())
            .map(|s| {
                s.split(',')
                    .map(|t| t.trim().trim_matches('"').to_string())
                    .filter(|t| !t.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        out.push((test.to_string(), traces));
    }
    out
}

/// Every DNS trace (including the compression-depth and malformed ones) runs
/// without panicking.
#[test]
fn all_traces_never_panic() {
    let Some(zeek) = testkit::testdata("zeek/Traces") else {
        return;
    };
    let mut files = Vec::new();
    for dir in [zeek.clone(), zeek.join("dns"), zeek.join("dnssec")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".pcap")
                && (name.starts_with("dns") || p.parent() != Some(zeek.as_path()))
            {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 20);
    for f in files {
        let _ = analyze(&f);
    }
}

/// Zeek's mdns-no-assoc: queries and unrelated replies on 5353.
#[test]
fn zeek_mdns_no_assoc() {
    let Some(p) = testkit::testdata("zeek/Traces/dns/mdns-no-assoc.pcap") else {
        return;
    };
    let (d, w) = analyze(&p);
    assert!(w.is_empty(), "{w:?}");
    assert!(d.iter().all(|r| r.flavor == "mdns"));
    let q = d
        .iter()
        .find(|r| r.query.as_deref() == Some("initial-query-aaaa.local"))
        .unwrap();
    assert_eq!(q.qtype_name.as_deref(), Some("AAAA"));
    let r = d
        .iter()
        .find(|r| r.query.as_deref() == Some("unrelated-reply-aaaa.local"))
        .unwrap();
    assert_eq!(r.answers[0].data, "fe80::200:deff:fead:beef");
    assert_eq!(r.answers[0].ttl, 120);
}

/// Debug aid: weird counts per trace (run with --ignored --nocapture).
#[test]
#[ignore]
fn dump_trace_weirds() {
    let Some(zeek) = testkit::testdata("zeek/Traces") else {
        return;
    };
    for dir in [zeek.clone(), zeek.join("dns"), zeek.join("dnssec")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|e| e == "pcap") {
                let (d, w) = analyze(&p);
                if !d.is_empty() {
                    eprintln!("{}: {} records, weirds {:?}", p.display(), d.len(), w);
                }
            }
        }
    }
}

/// Debug aid: print the records of one trace (WARD_TRACE=path).
#[test]
#[ignore]
fn dump_trace() {
    let Ok(p) = std::env::var("WARD_TRACE") else {
        return;
    };
    for r in analyze(std::path::Path::new(&p)).0 {
        eprintln!("{}", serde_json::to_string(&r).unwrap());
    }
}

/// NAPTR (RFC 3403) renders like Zeek's naptr baseline: the empty regexp is
/// left out, the replacement follows the service.
#[test]
fn naptr_rendering() {
    let msg: &[u8] = &[
        0x12, 0x34, // id
        0x81, 0x80, // flags: QR RD RA
        0, 1, 0, 1, 0, 0, 0, 0, // qd=1 an=1
        1, b'a', 3, b'c', b'o', b'm', 0, // 12: a.com
        0, 35, 0, 1, // NAPTR IN
        0xc0, 12, // owner: a.com
        0, 35, 0, 1, 0, 0, 0, 60, 0, 29, // NAPTR IN ttl 60 rdlen 29
        0, 100, // order
        0, 10, // preference
        1, b's', // flags
        8, b'S', b'I', b'P', b'S', b'+', b'D', b'2', b'T', // service
        0,    // regexp (empty)
        5, b'_', b's', b'i', b'p', b's', 4, b'_', b't', b'c', b'p', 0xc0, 12, // replacement
    ];
    let (d, w) = udp(53, msg);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(
        d[0].answers[0].data,
        "NAPTR 100 10 s SIPS+D2T _sips._tcp.a.com"
    );
    assert_eq!(d[0].answers[0].ttl, 60);
}

#[test]
fn ipv4_text_matches_std() {
    for b in [
        [0, 0, 0, 0],
        [255, 255, 255, 255],
        [10, 9, 100, 99],
        [1, 20, 200, 5],
    ] {
        assert_eq!(ipv4(b), std::net::Ipv4Addr::from(b).to_string());
    }
    for o in 0..=255u8 {
        let b = [o, 255 - o, o / 3, o.wrapping_mul(7)];
        assert_eq!(ipv4(b), std::net::Ipv4Addr::from(b).to_string());
    }
}

#[test]
fn names_are_lowercased() {
    let mut n = wire::NameBuf::default();
    let msg = [3, b'W', b'w', b'W', 2, b'E', b'x', 0];
    wire::read_name(&msg, 0, Some(&mut n)).unwrap();
    assert_eq!(name_string(&n), "www.ex");
}

/// Messages with an unassigned opcode (7-15) on a DNS port are read and
/// recorded with their opcode number, not dropped: every such message that
/// tshark dissects without error in the benchmark corpus (public test
/// captures of suricata-verify, Zeek, nDPI, concatenated) gives a record
/// with tshark's id, opcode and query name. Before, the probe refused them
/// (0 of 4).
#[test]
fn unassigned_opcodes_of_public_captures_are_recorded() {
    let Some(file) = testkit::testdata("benchmark/corpus_ethernet_real.pcap") else {
        return;
    };
    let Some(out) = testkit::tshark::run(&[
        "-r",
        file.to_str().unwrap(),
        "-Y",
        "dns.flags.opcode > 6 and udp.port == 53 and not _ws.malformed",
        "-T",
        "fields",
        "-e",
        "frame.number",
        "-e",
        "dns.id",
        "-e",
        "dns.flags.opcode",
        "-e",
        "dns.qry.name",
    ]) else {
        println!("skipping: tshark not installed");
        return;
    };
    let want: std::collections::BTreeMap<usize, (u16, u8, String)> = out
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let id = u16::from_str_radix(f.get(1)?.trim_start_matches("0x"), 16).ok()?;
            Some((
                f[0].parse().ok()?,
                (id, f.get(2)?.parse().ok()?, f.get(3)?.to_string()),
            ))
        })
        .collect();
    assert!(
        !want.is_empty(),
        "no DNS message with opcode > 6 in the corpus"
    );
    let mut agreed = 0;
    for (n, frame) in pcap::read(&file).iter().enumerate() {
        let Some(expected) = want.get(&(n + 1)) else {
            continue;
        };
        let p = pcap::decode_link(frame.link, &frame.data).expect("decodes");
        let dir = if p.dport == 53 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let (recs, _) = split(testing::run(&Dns, Transport::Udp, 53, &[(dir, p.payload)]));
        let got = recs
            .first()
            .map(|r| (r.trans_id, r.opcode, r.query.clone().unwrap_or_default()));
        assert_eq!(got.as_ref(), Some(expected), "frame {}", n + 1);
        agreed += 1;
    }
    println!(
        "unassigned opcodes: {agreed}/{} messages recorded as tshark reads them",
        want.len()
    );
    assert_eq!(agreed, want.len());
}
