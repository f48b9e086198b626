//! Unit tests on handshakes as TigerVNC and vncdotool exchange them
//! (scripts/vnc-capture) and hand-made 3.3/3.7 variants: versions, security
//! types, the None finding, VNC authentication (never kept), failures,
//! ServerInit, bounds and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::Record;
use model::Direction::{ToClient, ToServer};

const V8: &[u8] = b"RFB 003.008\n";

fn server_init(name: &[u8]) -> Vec<u8> {
    let mut v = vec![0, 64, 0, 48];
    v.extend([
        0x20, 0x18, 0, 1, 0, 0xff, 0, 0xff, 0, 0xff, 16, 8, 0, 0, 0, 0, 0, 0,
    ]);
    v.truncate(20);
    v.extend((name.len() as u32).to_be_bytes());
    v.extend_from_slice(name);
    v
}

fn record(chunks: &[(Direction, &[u8])]) -> VncRecord {
    let recs = run(&Vnc, Transport::Tcp, 5901, chunks);
    let mut it = recs.into_iter().filter_map(|r| match r {
        Record::Vnc(v) => Some(v),
        _ => None,
    });
    let r = it.next().expect("a vnc record");
    assert!(it.next().is_none());
    r
}

#[test]
fn probe_wants_an_rfb_version() {
    assert_eq!(Vnc.probe(ToClient, V8, true), Probe::Match);
    assert_eq!(Vnc.probe(ToClient, b"RFB 003.", false), Probe::NeedMore);
    assert_eq!(Vnc.probe(ToClient, b"RFB 0x3.008\n", true), Probe::NoMatch);
    assert_eq!(
        Vnc.probe(ToClient, b"SSH-2.0-OpenSSH", true),
        Probe::NoMatch
    );
    assert_eq!(Vnc.probe(ToClient, b"", true), Probe::NeedMore);
}

#[test]
fn security_none_is_flagged() {
    let init = server_init(b"OR3 Anesthesia\x1b[31m Workstation");
    let r = record(&[
        (ToClient, V8),
        (ToServer, V8),
        (ToClient, &[1, 1]),
        (ToServer, &[1]),
        (ToClient, &[0, 0, 0, 0]),
        (ToServer, &[1]),
        (ToClient, &init),
        (ToClient, &[0, 0, 0xff, 0xff, 9, 9, 9]),
    ]);
    assert_eq!(r.server_version.as_deref(), Some("003.008"));
    assert_eq!(r.client_version.as_deref(), Some("003.008"));
    assert_eq!(r.security_types, vec![1]);
    assert_eq!(r.security_type, Some(1));
    assert_eq!(r.auth_result, Some(0));
    assert_eq!(r.shared, Some(true));
    assert_eq!((r.width, r.height), (Some(64), Some(48)));
    let name = r.desktop_name.unwrap();
    assert!(
        name.starts_with("OR3 Anesthesia") && !name.contains('\x1b'),
        "{name:?}"
    );
    assert!(r.no_auth);
}

#[test]
fn vnc_authentication_is_never_kept() {
    let challenge = [0xfe; 16];
    let response = [0x10; 16];
    let r = record(&[
        (ToClient, V8),
        (ToServer, V8),
        (ToClient, &[2, 2, 19]),
        (ToServer, &[2]),
        (ToClient, &challenge),
        (ToServer, &response),
        (ToClient, &[0, 0, 0, 0]),
        (ToServer, &[0]),
        (ToClient, &server_init(b"Radiology Reading 2")),
    ]);
    assert_eq!(r.security_types, vec![2, 19]);
    assert_eq!(r.security_type, Some(2));
    assert_eq!(r.shared, Some(false));
    assert!(!r.no_auth);
    assert_eq!(r.desktop_name.as_deref(), Some("Radiology Reading 2"));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("254") && !json.contains("fefe"), "{json}");
}

#[test]
fn failed_authentication_and_refusal() {
    let mut fail = vec![0, 0, 0, 1, 0, 0, 0, 22];
    fail.extend_from_slice(b"Authentication failure");
    let r = record(&[
        (ToClient, V8),
        (ToServer, V8),
        (ToClient, &[1, 2]),
        (ToServer, &[2]),
        (ToClient, &[7; 16]),
        (ToServer, &[8; 16]),
        (ToClient, &fail),
    ]);
    assert_eq!(r.auth_result, Some(1));
    assert_eq!(r.failure_reason.as_deref(), Some("Authentication failure"));
    assert_eq!(r.width, None);
    let mut refuse = vec![0, 0, 0, 0, 8];
    refuse.extend_from_slice(b"too many");
    let r = record(&[(ToClient, V8), (ToServer, V8), (ToClient, &refuse)]);
    assert_eq!(r.failure_reason.as_deref(), Some("too many"));
}

#[test]
fn version_3_3_and_3_7() {
    // 3.3: the server decides None; no SecurityResult.
    let v3 = b"RFB 003.003\n";
    let r = record(&[
        (ToClient, v3),
        (ToServer, v3),
        (ToClient, &[0, 0, 0, 1]),
        (ToServer, &[1]),
        (ToClient, &server_init(b"legacy")),
    ]);
    assert_eq!(r.security_type, Some(1));
    assert!(r.no_auth);
    assert_eq!(r.desktop_name.as_deref(), Some("legacy"));
    // 3.7 client against a 3.8 server: None has no SecurityResult.
    let r = record(&[
        (ToClient, V8),
        (ToServer, b"RFB 003.007\n"),
        (ToClient, &[1, 1]),
        (ToServer, &[1]),
        (ToServer, &[1]),
        (ToClient, &server_init(b"x")),
    ]);
    assert!(r.no_auth);
    assert_eq!(r.auth_result, None);
    // VeNCrypt: the analysis stops after the choice.
    let r = record(&[
        (ToClient, V8),
        (ToServer, V8),
        (ToClient, &[2, 19, 2]),
        (ToServer, &[19]),
        (ToClient, &[0, 2]),
    ]);
    assert_eq!(r.security_type, Some(19));
    assert!(!r.no_auth);
}

#[test]
fn lists_and_strings_are_bounded() {
    let mut offer = vec![200];
    offer.extend(0..200u8);
    let mut init = server_init(b"");
    init.truncate(20);
    init.extend(100_000u32.to_be_bytes());
    init.extend(std::iter::repeat_n(b'a', MAX_READ));
    let r = record(&[
        (ToClient, V8),
        (ToServer, V8),
        (ToClient, &offer),
        (ToServer, &[1]),
        (ToClient, &[0, 0, 0, 0]),
        (ToServer, &[1]),
        (ToClient, &init),
    ]);
    assert_eq!(r.security_types.len(), MAX_TYPES);
    assert_eq!(r.desktop_name.map(|n| n.len()), Some(MAX_NAME));
}

#[test]
fn garbage_is_weird_and_never_panics() {
    let out = run_forced(
        &Vnc,
        Transport::Tcp,
        5901,
        &[(ToClient, b"HTTP/1.1 200 OK\r\n")],
    );
    assert!(out.iter().any(|r| matches!(r, Record::Weird(_))));
    let conv: Vec<u8> = [V8, &[1, 2], &[9; 16], &[0, 0, 0, 0], &server_init(b"desk")].concat();
    assert!(never_panics(&Vnc, Transport::Tcp, 5901, &conv) > 0);
    for cut in 0..conv.len() {
        run_forced(
            &Vnc,
            Transport::Tcp,
            5901,
            &[(ToClient, &conv[..cut]), (ToServer, &conv[..cut])],
        );
    }
}
