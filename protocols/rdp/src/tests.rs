//! Unit tests on the negotiation as FreeRDP and xrdp exchange it
//! (scripts/rdp-capture) and hand-made variants: probe, cookie presence
//! only, routing token, NEG_RSP, NEG_FAILURE, standard RDP security, the
//! hand-over to TLS, and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::Record;
use model::Direction::{ToClient, ToServer};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// FreeRDP's Connection Request: cookie mstshash=ward-biomed, NEG_REQ TLS.
const CR_TLS: &str = "030000312ce00000000000436f6f6b69653a206d737473686173683d776172642d62696f6d65640d0a0100080001000000";
/// xrdp's Confirm: NEG_RSP selecting TLS.
const CC_TLS: &str = "030000130ed000001234000201080001000000";

/// A TPKT with an X.224 TPDU of `code` and variable part `var`.
fn tpdu(code: u8, var: &[u8]) -> Vec<u8> {
    let len = 4 + 7 + var.len();
    let mut v = vec![3, 0];
    v.extend((len as u16).to_be_bytes());
    v.extend([6 + var.len() as u8, code, 0, 0, 0x12, 0x34, 0]);
    v.extend_from_slice(var);
    v
}

/// A TLS 1.2 ClientHello with SNI `rdp.example` (minimal but well-formed).
fn client_hello() -> Vec<u8> {
    let sni = b"rdp.example";
    let mut ext = vec![0, 0];
    let list_len = 3 + sni.len();
    ext.extend(((list_len + 2) as u16).to_be_bytes());
    ext.extend((list_len as u16).to_be_bytes());
    ext.push(0);
    ext.extend((sni.len() as u16).to_be_bytes());
    ext.extend_from_slice(sni);
    let mut body = vec![3, 3];
    body.extend([0x11; 32]);
    body.push(0); // session id
    body.extend([0, 2, 0xc0, 0x2f]); // one cipher suite
    body.extend([1, 0]); // compression
    body.extend((ext.len() as u16).to_be_bytes());
    body.extend(ext);
    let mut hs = vec![1];
    hs.extend(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend(body);
    let mut rec = vec![0x16, 3, 1];
    rec.extend((hs.len() as u16).to_be_bytes());
    rec.extend(hs);
    rec
}

fn rdp(recs: &[Record]) -> RdpRecord {
    let mut it = recs.iter().filter_map(|r| match r {
        Record::Rdp(x) => Some(x.clone()),
        _ => None,
    });
    let r = it.next().expect("an rdp record");
    assert!(it.next().is_none());
    r
}

#[test]
fn probe_checks_tpkt_and_x224() {
    let cr = hex(CR_TLS);
    assert_eq!(Rdp.probe(ToServer, &cr, true), Probe::Match);
    assert_eq!(Rdp.probe(ToServer, &cr, false), Probe::Match);
    assert_eq!(Rdp.probe(ToServer, &cr[..6], true), Probe::NeedMore);
    assert_eq!(Rdp.probe(ToClient, &cr, true), Probe::NoMatch);
    // S7comm's COTP Connection Request (TSAP parameters) on port 102.
    let s7 = hex("0300001611e00000000100c0010ac1020100c2020102");
    assert_eq!(Rdp.probe(ToServer, &s7, false), Probe::NoMatch);
    assert_eq!(
        Rdp.probe(ToServer, b"\x16\x03\x01\x00", true),
        Probe::NoMatch
    );
    // Length indicator inconsistent with the TPKT length.
    let mut bad = cr.clone();
    bad[4] = 3;
    assert_eq!(Rdp.probe(ToServer, &bad, true), Probe::NoMatch);
}

#[test]
fn tls_selected_hands_over_to_tls() {
    let ch = client_hello();
    let recs = run(
        &Rdp,
        Transport::Tcp,
        3389,
        &[
            (ToServer, &hex(CR_TLS)),
            (ToClient, &hex(CC_TLS)),
            (ToServer, &ch[..20]),
            (ToServer, &ch[20..]),
        ],
    );
    let r = rdp(&recs);
    assert!(r.cookie && !r.routing_token);
    assert_eq!(r.requested_protocols, Some(1));
    assert_eq!(r.selected_protocol, Some(1));
    assert!(r.confirmed && !r.standard_security);
    let tls = recs
        .iter()
        .find_map(|r| match r {
            Record::Tls(t) => Some(t),
            _ => None,
        })
        .expect("the TLS analyzer took over");
    assert_eq!(tls.server_name.as_deref(), Some("rdp.example"));
    // The cookie's value (a user name) is never kept.
    let json = serde_json::to_string(&recs).unwrap();
    assert!(!json.contains("ward-biomed"), "{json}");
}

#[test]
fn standard_security_and_failure() {
    // A cookie only (no NEG_REQ) and a bare Confirm: standard RDP security.
    let cr = tpdu(0xe0, b"Cookie: mstshash=nurse1\r\n");
    let recs = run(
        &Rdp,
        Transport::Tcp,
        3389,
        &[
            (ToServer, &cr),
            (ToClient, &tpdu(0xd0, &[])),
            (ToServer, &[3, 0, 0, 9, 1, 2, 3, 4, 5]),
        ],
    );
    let r = rdp(&recs);
    assert!(r.standard_security);
    assert_eq!((r.requested_protocols, r.selected_protocol), (None, None));
    // NEG_REQ for CredSSP refused by a server wanting TLS only.
    let recs = run(
        &Rdp,
        Transport::Tcp,
        3389,
        &[
            (ToServer, &tpdu(0xe0, &[1, 0, 8, 0, 2, 0, 0, 0])),
            (ToClient, &tpdu(0xd0, &[3, 0, 8, 0, 2, 0, 0, 0])),
        ],
    );
    let r = rdp(&recs);
    assert_eq!(r.requested_protocols, Some(2));
    assert_eq!(r.failure_code, Some(2));
    assert!(!r.standard_security);
}

#[test]
fn routing_token_presence_only() {
    let cr = tpdu(
        0xe0,
        b"Cookie: msts=3640205228.15629.0000\r\n\x01\x00\x08\x00\x0b\x00\x00\x00",
    );
    let recs = run(&Rdp, Transport::Tcp, 3389, &[(ToServer, &cr)]);
    let r = rdp(&recs);
    assert!(r.routing_token && !r.cookie);
    assert_eq!(r.requested_protocols, Some(11));
    assert!(!r.confirmed);
    assert!(!serde_json::to_string(&r).unwrap().contains("3640205228"));
}

#[test]
fn garbage_is_weird_and_never_panics() {
    let out = run_forced(
        &Rdp,
        Transport::Tcp,
        3389,
        &[(ToServer, b"GET / HTTP/1.1\r\n")],
    );
    assert!(out.iter().any(|r| matches!(r, Record::Weird(_))));
    let conv = [hex(CR_TLS), hex(CC_TLS), client_hello()].concat();
    assert!(never_panics(&Rdp, Transport::Tcp, 3389, &conv) > 0);
    for cut in 0..conv.len() {
        run_forced(
            &Rdp,
            Transport::Tcp,
            3389,
            &[(ToServer, &hex(CR_TLS)), (ToClient, &conv[..cut])],
        );
    }
}
