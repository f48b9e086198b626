//! Unit tests: probe shapes, requests and responses over UDP and TCP, header
//! forms (compact, name-addr, addr-spec, IPv6), product strings, the user
//! parts and display names never kept, bounds and splits.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

const REGISTER: &[u8] = b"REGISTER sip:pbx.ward7.example.org SIP/2.0\r\n\
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
From: \"Nurse Jane Doe\" <sip:4711@pbx.ward7.example.org>;tag=1928301774\r\n\
To: \"Nurse Jane Doe\" <sip:4711@pbx.ward7.example.org>\r\n\
Call-ID: a84b4c76e66710@10.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: <sip:4711@10.0.0.1:5060;transport=udp>;expires=3600\r\n\
User-Agent: Yealink SIP-T46S 66.86.0.15\r\n\
Content-Length: 0\r\n\r\n";

const OK: &[u8] = b"SIP/2.0 200 OK\r\n\
Via: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKnashds8, SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds\r\n\
From: \"Nurse Jane Doe\" <sip:4711@pbx.ward7.example.org>;tag=1928301774\r\n\
To: \"Nurse Jane Doe\" <sip:4711@pbx.ward7.example.org>;tag=37GkEhwl6\r\n\
Call-ID: a84b4c76e66710@10.0.0.1\r\n\
CSeq: 1 REGISTER\r\n\
Server: kamailio (5.6.3 (x86_64/linux))\r\n\
Content-Length: 0\r\n\r\n";

fn sips(records: &[Record]) -> Vec<&SipRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Sip(s) => Some(s),
            _ => None,
        })
        .collect()
}

#[test]
fn probe_accepts_requests_and_status_lines_only() {
    let p = |d: &[u8]| Sip.probe(C, d, true);
    assert_eq!(p(REGISTER), Probe::Match);
    assert_eq!(p(OK), Probe::Match);
    assert_eq!(
        p(b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n"),
        Probe::Match
    );
    assert_eq!(p(b"OPTIONS sips:h SIP/2.0\n"), Probe::Match);
    assert_eq!(p(b""), Probe::NeedMore);
    assert_eq!(p(b"REG"), Probe::NeedMore);
    assert_eq!(p(b"SIP/2.0 2"), Probe::NeedMore);
    assert_eq!(p(b"INVITE sip:bob@biloxi"), Probe::NeedMore);
    // HTTP, SSDP and RTSP look alike but are not SIP.
    assert_eq!(
        p(b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"),
        Probe::NoMatch
    );
    assert_eq!(p(b"OPTIONS * HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(p(b"OPTIONS rtsp://cam/ RTSP/1.0\r\n"), Probe::NoMatch);
    assert_eq!(p(b"HTTP/1.1 200 OK\r\n"), Probe::NoMatch);
    assert_eq!(p(b"SIP/2.0 abc OK\r\n"), Probe::NoMatch);
    assert_eq!(p(b"\x00\x01\x02\x03"), Probe::NoMatch);
}

#[test]
fn register_and_its_answer_over_udp() {
    let recs = run(&Sip, Transport::Udp, 5060, &[(C, REGISTER), (S, OK)]);
    let s = sips(&recs);
    assert_eq!(s.len(), 2);
    let r = s[0];
    assert_eq!(r.direction, Some(C));
    assert_eq!(r.method.as_deref(), Some("REGISTER"));
    assert_eq!(r.request_uri_host.as_deref(), Some("pbx.ward7.example.org"));
    assert_eq!(r.status_code, None);
    assert_eq!(r.cseq_method.as_deref(), Some("REGISTER"));
    assert_eq!(r.from_domain.as_deref(), Some("pbx.ward7.example.org"));
    assert_eq!(r.to_domain.as_deref(), Some("pbx.ward7.example.org"));
    assert_eq!(r.contact_host.as_deref(), Some("10.0.0.1"));
    assert_eq!(r.user_agent.as_deref(), Some("Yealink SIP-T46S 66.86.0.15"));
    assert_eq!(r.product_vendor.as_deref(), Some("Yealink"));
    assert_eq!(r.product_model.as_deref(), Some("SIP-T46S"));
    assert_eq!(r.product_version.as_deref(), Some("66.86.0.15"));
    let a = s[1];
    assert_eq!(a.direction, Some(S));
    assert_eq!(a.status_code, Some(200));
    assert_eq!(a.method, None);
    assert_eq!(a.server.as_deref(), Some("kamailio (5.6.3 (x86_64/linux))"));
    assert_eq!(a.product_vendor, None, "a proxy names no device maker");
    assert_eq!(a.vias, 2);
    assert_eq!(r.vias, 1);
    // No user part, display name or Call-ID anywhere in the records.
    let json = serde_json::to_string(&recs).unwrap();
    for secret in ["4711", "Jane", "Doe", "a84b4c76e66710", "1928301774"] {
        assert!(!json.contains(secret), "{secret} kept: {json}");
    }
}

#[test]
fn tcp_messages_with_bodies_split_anywhere() {
    let invite = b"INVITE sip:bob@[2001:db8::9]:5060;transport=tcp SIP/2.0\r\n\
f: Alice <sips:alice@atlanta.example.com>;tag=9fxced76sl\r\n\
t: sip:bob@biloxi.example.com\r\n\
m: <sip:alice@192.0.2.4:5070>\r\n\
CSeq: 314159 INVITE\r\n\
l: 13\r\n\r\nv=0\r\no=alice\r\nOPTIONS sip:x.example SIP/2.0\r\nContent-Length: 0\r\n\r\n";
    let whole = run(&Sip, Transport::Tcp, 5060, &[(C, invite)]);
    let s = sips(&whole);
    assert_eq!(s.len(), 2, "{whole:?}");
    assert_eq!(s[0].method.as_deref(), Some("INVITE"));
    assert_eq!(s[0].request_uri_host.as_deref(), Some("2001:db8::9"));
    assert_eq!(s[0].from_domain.as_deref(), Some("atlanta.example.com"));
    assert_eq!(s[0].to_domain.as_deref(), Some("biloxi.example.com"));
    assert_eq!(s[0].contact_host.as_deref(), Some("192.0.2.4"));
    assert_eq!(s[0].cseq_method.as_deref(), Some("INVITE"));
    assert_eq!(s[0].vias, 0);
    assert_eq!(s[1].method.as_deref(), Some("OPTIONS"));
    assert_eq!(s[1].request_uri_host.as_deref(), Some("x.example"));
    for cut in 1..invite.len() {
        let (a, b) = invite.split_at(cut);
        // Forced on: the engine, unlike `run`, probes the accumulated bytes.
        let split = run_forced(&Sip, Transport::Tcp, 5060, &[(C, a), (C, b)]);
        assert_eq!(split, whole, "split at {cut}");
    }
}

#[test]
fn product_strings() {
    let p =
        |s: &str| product(s).map(|(v, m, ver)| (v, m.unwrap_or_default(), ver.unwrap_or_default()));
    let t = |v: &str, m: &str, ver: &str| Some((v.to_string(), m.to_string(), ver.to_string()));
    assert_eq!(
        p("Yealink SIP-T46S 66.86.0.15"),
        t("Yealink", "SIP-T46S", "66.86.0.15")
    );
    assert_eq!(p("Cisco-CP7841/11.0.1"), t("Cisco", "CP7841", "11.0.1"));
    assert_eq!(p("snom760/10.1.39.11"), t("snom", "760", "10.1.39.11"));
    assert_eq!(
        p("PolycomVVX-VVX_410-UA/5.9.0.9373"),
        t("Polycom", "VVX-VVX_410-UA", "5.9.0.9373")
    );
    assert_eq!(
        p("Grandstream GXP2160 1.0.11.23"),
        t("Grandstream", "GXP2160", "1.0.11.23")
    );
    assert_eq!(p("Ascom i63 4.3.12"), t("Ascom", "i63", "4.3.12"));
    assert_eq!(p("Vocera Badge v5.2.1"), t("Vocera", "Badge", "5.2.1"));
    assert_eq!(p("kamailio (5.6.3 (x86_64/linux))"), None);
    assert_eq!(p("Asterisk PBX 18.10.0"), None);
    assert_eq!(p("SomeUnknownPhone 1.0"), None);
    assert_eq!(p(""), None);
}

#[test]
fn bounds_and_garbage() {
    let mut big = b"OPTIONS sip:h.example SIP/2.0\r\nUser-Agent: ".to_vec();
    big.extend(std::iter::repeat_n(b'A', 5000));
    big.extend_from_slice(b"\r\n\r\n");
    let recs = run(&Sip, Transport::Udp, 5060, &[(C, &big)]);
    let s = sips(&recs);
    assert!(s[0].user_agent.as_ref().unwrap().len() <= MAX_TOKEN);
    // Header block that never ends over TCP: a weird, then done.
    let mut endless = b"OPTIONS sip:h.example SIP/2.0\r\n".to_vec();
    endless.extend(std::iter::repeat_n(b'x', MAX_HEADER + 10));
    let recs = run(&Sip, Transport::Tcp, 5060, &[(C, &endless)]);
    assert!(recs
        .iter()
        .any(|r| matches!(r, Record::Weird(w) if w.name == "sip_header_too_long")));
    // Many datagrams: bounded records.
    let many: Vec<(Direction, &[u8])> = (0..MAX_MESSAGES + 20).map(|_| (C, REGISTER)).collect();
    let recs = run(&Sip, Transport::Udp, 5060, &many);
    assert_eq!(sips(&recs).len(), MAX_MESSAGES as usize);
    let garbage: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    run_forced(&Sip, Transport::Udp, 5060, &[(C, &garbage)]);
    run_forced(&Sip, Transport::Tcp, 5060, &[(C, &garbage)]);
    assert!(never_panics(&Sip, Transport::Tcp, 5060, REGISTER) > 0);
    assert!(never_panics(&Sip, Transport::Udp, 5060, OK) > 0);
    for cut in 0..REGISTER.len() {
        run_forced(&Sip, Transport::Udp, 5060, &[(C, &REGISTER[..cut])]);
    }
}
