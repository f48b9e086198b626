//! Unit tests: TeamViewer's TCP and UDP signatures (packet openings as
//! nDPI's test captures carry them), confirmation on and off port 5938,
//! AnyDesk's certificate and host names, probes and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run};
use model::Direction::{ToClient, ToServer};

/// Openings of TeamViewer TCP packets (client to master, port 5938).
const TV1: &[u8] = &[0x17, 0x24, 0x0a, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x48];
const TV2: &[u8] = &[0x17, 0x24, 0x28, 0x18, 0, 0, 0x80, 0, 0, 0x7f];
const TV3: &[u8] = &[0x17, 0x24, 0x3c, 0x29, 0x07, 0x8c, 0, 0, 0x80];
/// A TeamViewer UDP datagram: counter 0, magic at 11.
const TVU: &[u8] = &[
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x17, 0x24, 0x47, 0x50, 0, 0x05,
];

fn remote(recs: Vec<Record>) -> Vec<RemoteSupportRecord> {
    recs.into_iter()
        .filter_map(|r| match r {
            Record::RemoteSupport(r) => Some(r),
            _ => None,
        })
        .collect()
}

#[test]
fn teamviewer_probe_wants_its_magic() {
    let p = |d: &[u8]| TeamViewer.probe(ToServer, d, false);
    assert_eq!(p(TV1), Probe::Match);
    assert_eq!(p(TVU), Probe::Match);
    assert_eq!(p(&[0x17]), Probe::NeedMore);
    assert_eq!(
        p(&[0x11, 0x30, 0x01]),
        Probe::NoMatch,
        "a follow-up opens nothing"
    );
    assert_eq!(p(&[0x17, 0x03, 0x03, 0, 0x20]), Probe::NoMatch, "TLS data");
    assert_eq!(p(b"GET / HTTP/1.1"), Probe::NoMatch);
    let mut udp = TVU.to_vec();
    udp[0] = 1;
    assert_eq!(p(&udp), Probe::NoMatch, "UDP counter must start at 0");
}

#[test]
fn teamviewer_on_its_port_is_reported_at_once() {
    let r = remote(run(&TeamViewer, Transport::Tcp, 5938, &[(ToServer, TV1)]));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].product, RemoteSupportProduct::TeamViewer);
    assert!(r[0].known_port);
    assert_eq!(r[0].evidence, "tcp magic 0x1724 x1");
}

#[test]
fn teamviewer_elsewhere_needs_four_signature_packets() {
    let three = [(ToServer, TV1), (ToClient, TV2), (ToServer, TV3)];
    assert!(remote(run(&TeamViewer, Transport::Tcp, 32177, &three)).is_empty());
    let four = [
        (ToServer, TV1),
        (ToClient, TV2),
        (ToServer, b"\x84\x23 encrypted".as_slice()),
        (ToServer, TV3),
        (ToClient, &[0x11, 0x30, 0x05, 0x06]),
    ];
    let r = remote(run(&TeamViewer, Transport::Tcp, 32177, &four));
    assert_eq!(r.len(), 1);
    assert!(!r[0].known_port);
    assert_eq!(r[0].signature_packets, 4);
    let udp: Vec<(Direction, &[u8])> = (0..4).map(|_| (ToServer, TVU)).collect();
    let r = remote(run(&TeamViewer, Transport::Udp, 36037, &udp));
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].evidence, "udp magic 0x1724 x4");
}

#[test]
fn anydesk_probe_wants_tls_on_its_ports() {
    let hello = [0x16, 0x03, 0x01, 0x01, 0x02, 0x01];
    assert_eq!(AnyDesk.probe(ToServer, &hello, true), Probe::Match);
    assert_eq!(AnyDesk.probe(ToServer, &hello, false), Probe::NoMatch);
    assert_eq!(AnyDesk.probe(ToServer, &[0x16], true), Probe::NeedMore);
    assert_eq!(AnyDesk.probe(ToServer, b"SSH-2.0-x", true), Probe::NoMatch);
}

#[test]
fn anydesk_is_named_by_certificate_or_host() {
    let mut t = TlsRecord {
        cert_subject: Some("CN=AnyDesk Client".into()),
        ..Default::default()
    };
    assert_eq!(
        anydesk_evidence(&t).as_deref(),
        Some("tls certificate CN=AnyDesk Client")
    );
    t.cert_subject = Some("CN=www.example.org,O=Example".into());
    assert_eq!(anydesk_evidence(&t), None);
    t.server_name = Some("relay-3185a847.net.anydesk.com".into());
    assert_eq!(
        anydesk_evidence(&t).as_deref(),
        Some("tls name relay-3185a847.net.anydesk.com")
    );
    t.server_name = Some("notanydesk.com.evil".into());
    assert_eq!(anydesk_evidence(&t), None);
}

#[test]
fn garbage_never_panics() {
    for p in [&TeamViewer as &dyn Protocol, &AnyDesk] {
        for &t in p.transports() {
            for data in [
                TV1,
                TVU,
                b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00".as_slice(),
            ] {
                assert!(never_panics(p, t, 7070, data) > 0);
            }
        }
    }
}

#[test]
fn anydesk_client_certificate_is_found_in_the_handshake() {
    // A certificate's subject as DER holds it: ... SET { SEQ { OID cn, UTF8 "AnyDesk Client" } }.
    let mut cert = vec![0x16, 0x03, 0x03, 0x05, 0x00, 0x0b, 0, 0x04, 0xfc];
    cert.extend([
        0x31, 0x17, 0x30, 0x15, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0e,
    ]);
    cert.extend(b"AnyDesk Client");
    cert.extend([0x30, 0x1e, 0x17, 0x0d]);
    let hello = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00];
    for split in 0..cert.len() {
        let (a, b) = cert.split_at(split);
        let r = remote(run(
            &AnyDesk,
            Transport::Tcp,
            7070,
            &[(ToServer, &hello), (ToServer, a), (ToServer, b)],
        ));
        assert_eq!(r.len(), 1, "split {split}");
        assert_eq!(r[0].evidence, "tls client certificate CN=AnyDesk Client");
        assert!(r[0].known_port);
    }
    // Another name, or the name past the scanned handshake, is not AnyDesk.
    let mut other = cert.clone();
    other[25] = b'X';
    assert!(remote(run(
        &AnyDesk,
        Transport::Tcp,
        7070,
        &[(ToServer, &hello), (ToServer, &other)]
    ))
    .is_empty());
    let late = [vec![0u8; ANYDESK_SCAN], cert].concat();
    assert!(remote(run(
        &AnyDesk,
        Transport::Tcp,
        7070,
        &[(ToServer, &hello), (ToServer, &late)]
    ))
    .is_empty());
}
