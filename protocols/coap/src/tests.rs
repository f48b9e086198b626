//! Unit tests: requests and responses, option encodings (extended deltas
//! and lengths), link-format answers, the probe, bounds and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn coap(records: &[Record]) -> Vec<&CoapRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Coap(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// CON GET coap://sensor.local/.well-known/core, token 2 bytes.
const GET: &[u8] = b"\x42\x01\x12\x34\xaa\xbb\
\x3csensor.local\
\x8b.well-known\x04core";

/// ACK 2.05 Content, Content-Format 40, link-format payload.
const CONTENT: &[u8] = b"\x62\x45\x12\x34\xaa\xbb\
\xc1\x28\xff</spo2>;rt=\"oxygen,sat\";if=\"sensor\",</hr>;ct=0,</.well-known/core>";

#[test]
fn discovery_request_and_answer() {
    assert_eq!(Coap.probe(C, GET, true), Probe::Match);
    assert_eq!(Coap.probe(C, GET, false), Probe::NoMatch);
    let recs = run(&Coap, Transport::Udp, 5683, &[(C, GET), (S, CONTENT)]);
    let c = coap(&recs);
    assert_eq!(c.len(), 2);
    assert_eq!(
        (
            c[0].version,
            c[0].msg_type,
            c[0].code,
            c[0].code_name.as_str()
        ),
        (1, 0, 1, "GET")
    );
    assert_eq!(c[0].message_id, 0x1234);
    assert_eq!(c[0].token_length, 2);
    assert_eq!(c[0].uri_host.as_deref(), Some("sensor.local"));
    assert_eq!(c[0].uri_path, [".well-known", "core"]);
    assert_eq!(c[1].msg_type, 2);
    assert_eq!(c[1].code_name, "2.05");
    assert_eq!(c[1].content_format, Some(40));
    assert_eq!(c[1].links, ["/spo2", "/hr", "/.well-known/core"]);
}

#[test]
fn extended_options_and_bad_headers() {
    // Option delta 13 (+1 byte) reaching Uri-Path (11) from 0 is 11, so use
    // Uri-Query (15) via 13+2, then a 300-byte Uri-Path would need delta
    // back: instead a long Uri-Host with a 14 length (269 + n).
    let mut m = b"\x40\x02\x00\x01\x3e\x00\x00".to_vec();
    m.extend(std::iter::repeat_n(b'h', 269));
    m.extend_from_slice(b"\xd0\x02"); // delta 13+2 = 15 (Uri-Query), empty
    let recs = run(&Coap, Transport::Udp, 5683, &[(C, &m)]);
    let c = coap(&recs);
    assert_eq!(c[0].code_name, "POST");
    assert_eq!(c[0].uri_host.as_ref().unwrap().len(), MAX_SEGMENT);
    for bad in [
        &b"\x80\x01\x00\x01"[..], // version 2
        b"\x49\x01\x00\x01",      // token length 9
        b"\x40\x20\x00\x01",      // class 1
        b"\x40\x01\x00\x01\xff",  // marker without payload
        b"\x40\x01\x00\x01\xf0",  // delta 15
        b"\x41\x00\x00\x01\x00",  // empty with a token
        b"\x40\x01\x00",          // short
    ] {
        assert_eq!(Coap.probe(C, bad, true), Probe::NoMatch, "{bad:?}");
    }
}

#[test]
fn bounds_and_garbage() {
    let mut m = b"\x40\x01\x00\x01".to_vec();
    for i in 0..40 {
        m.push(if i == 0 { 0xb3 } else { 0x03 });
        m.extend_from_slice(b"seg");
    }
    let recs = run(&Coap, Transport::Udp, 5683, &[(C, &m)]);
    assert_eq!(coap(&recs)[0].uri_path.len(), MAX_SEGMENTS);
    let mut links = b"\x60\x45\x00\x01\xc1\x28\xff".to_vec();
    for _ in 0..100 {
        links.extend_from_slice(b"</a>;rt=\"x,<y>\",");
    }
    let recs = run(&Coap, Transport::Udp, 5683, &[(S, &links)]);
    let c = coap(&recs);
    assert_eq!(c[0].links.len(), MAX_LINKS);
    assert!(c[0].links.iter().all(|l| l == "/a"));
    let many: Vec<(Direction, &[u8])> = (0..MAX_MESSAGES + 4).map(|_| (C, GET)).collect();
    assert_eq!(
        coap(&run(&Coap, Transport::Udp, 5683, &many)).len(),
        MAX_MESSAGES as usize
    );
    let garbage: Vec<u8> = (0..=255u8).cycle().take(700).collect();
    run_forced(&Coap, Transport::Udp, 5683, &[(C, &garbage)]);
    assert!(never_panics(&Coap, Transport::Udp, 5683, CONTENT) > 0);
    for cut in 0..CONTENT.len() {
        run_forced(&Coap, Transport::Udp, 5683, &[(S, &CONTENT[..cut])]);
    }
}
