//! Conformance checks run on every registered protocol: no panic on random
//! bytes, on random splits of random bytes, or on probing empty input; and
//! no probe matches, off its ports, a payload starting outside its
//! `first_bytes` (the engine skips it there).

use super::*;
use analyzer_api::{testing, LinkFrame, Probe};
use model::{Direction, MacAddr, Transport};
use proptest::prelude::*;

#[test]
fn names_are_unique_lowercase() {
    let mut names: Vec<&str> = FLOW
        .iter()
        .map(|p| p.name())
        .chain(LINK.iter().map(|p| p.name()))
        .collect();
    for n in &names {
        assert!(
            n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{n}"
        );
    }
    names.sort();
    let len = names.len();
    names.dedup();
    assert_eq!(len, names.len(), "duplicate protocol names");
}

#[test]
fn probing_empty_input_never_matches() {
    for p in FLOW {
        for dir in [Direction::ToServer, Direction::ToClient] {
            assert_ne!(
                p.probe(dir, &[], true),
                analyzer_api::Probe::Match,
                "{}",
                p.name()
            );
        }
    }
}

/// First messages of the registered protocols (hand-made after their
/// specifications), each matched by some probe.
fn samples() -> Vec<(Direction, Vec<u8>)> {
    use Direction::{ToClient, ToServer};
    let mut dhcp = vec![1u8, 1, 6, 0, 0x12, 0x34, 0x56, 0x78];
    dhcp.resize(28, 0);
    dhcp.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
    dhcp.resize(236, 0);
    dhcp.extend_from_slice(&[99, 130, 83, 99, 53, 1, 1, 255]);
    let mut client_hello = vec![0x16, 3, 1, 0, 0x2f, 1, 0, 0, 0x2b, 3, 3];
    client_hello.extend_from_slice(&[7; 32]);
    client_hello.extend_from_slice(&[0, 0, 2, 0x13, 1, 1, 0]);
    let mut dtls_hello = vec![0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2e];
    dtls_hello.extend_from_slice(&[1, 0, 0, 0x22, 0, 0, 0, 0, 0, 0, 0, 0x22, 0xfe, 0xfd]);
    dtls_hello.extend_from_slice(&[9; 32]);
    let mut smb2 = vec![0, 0, 0, 0x44, 0xfe, b'S', b'M', b'B', 64, 0];
    smb2.resize(4 + 0x44, 0);
    let mut netbios = vec![0x11, 0x02, 0, 1, 10, 0, 0, 1, 0, 138, 0, 34, 0, 0, 0x20];
    netbios.extend_from_slice(&[b'A'; 32]);
    netbios.push(0);
    let snmp = [
        &[0x30, 0x26, 2, 1, 1, 4, 6][..],
        b"public",
        &[
            0xa0, 0x19, 2, 1, 1, 2, 1, 0, 2, 1, 0, 0x30, 0x0e, 0x30, 0x0c, 6, 8,
        ],
        &[0x2b, 6, 1, 2, 1, 1, 1, 0, 5, 0],
    ]
    .concat();
    let text: &[(Direction, &[u8])] = &[
        (ToServer, b"\x0bMSH|^~\\&|LAB|HOSP|EHR|HOSP|20240101120000||ORU^R01|1|P|2.5\r"),
        (ToServer, b"\x021H|\\^&|||Analyzer^1.0|||||||P|1\r\x0312\r\n"),
        (ToServer, b"<?xml version=\"1.0\"?><HEL.R01><HDR/></HEL.R01>"),
        (ToServer, b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01"),
        (ToClient, b"SSH-2.0-OpenSSH_9.2\r\n"),
        (ToServer, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        (ToClient, b"HTTP/1.1 200 OK\r\n\r\n"),
        (ToClient, b"220 ProFTPD FTP server ready\r\n"),
        (ToClient, b"\xff\xfd\x18\xff\xfd\x20"),
        (ToServer, b"\x10\x10\x00\x04MQTT\x04\x02\x00\x3c\x00\x04abcd"),
        (ToClient, b"220 mail.example.com ESMTP Postfix\r\n"),
        (ToClient, b"* OK [CAPABILITY IMAP4rev1] ready\r\n"),
        (ToClient, b"+OK POP3 server ready\r\n"),
        (ToServer, b"\x81\x0b\x00\x0c\x01\x20\xff\xff\x00\xff\x10\x08"),
        (ToClient, b"RFB 003.008\n"),
        (ToServer, b"\x03\x00\x00\x13\x0e\xe0\x00\x00\x00\x00\x00\x01\x00\x08\x00\x03\x00\x00\x00"),
        (ToServer, b"\x17\x24\x0a\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x48"),
        (ToServer, b"REGISTER sip:example.com SIP/2.0\r\nVia: SIP/2.0/UDP h\r\n\r\n"),
        (ToClient, b"SIP/2.0 200 OK\r\n\r\n"),
        (ToServer, b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n"),
        (ToServer, b"M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"),
        (ToServer, b"\x42\x01\x12\x34\xaa\xbb\x3csensor.local\x8b.well-known\x04core"),
        (ToServer, b"<?xml version=\"1.0\"?><s:Envelope xmlns:d=\"http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01\"><s:Body><d:Probe/></s:Body></s:Envelope>"),
    ];
    let mut all: Vec<(Direction, Vec<u8>)> = text.iter().map(|(d, s)| (*d, s.to_vec())).collect();
    all.extend([
        (ToServer, dhcp),
        (ToServer, client_hello),
        (ToServer, dtls_hello),
        (ToServer, smb2),
        (ToServer, netbios),
        (ToServer, snmp),
    ]);
    all
}

#[test]
fn probes_match_off_their_ports_only_on_their_first_bytes() {
    let samples = samples();
    for (dir, s) in &samples {
        assert!(
            FLOW.iter().any(|p| p.probe(*dir, s, false) == Probe::Match
                || p.probe(*dir, s, true) == Probe::Match),
            "no probe matches the sample {:?}",
            String::from_utf8_lossy(s)
        );
    }
    for p in FLOW {
        let first = p.first_bytes();
        for (dir, s) in &samples {
            if p.probe(*dir, s, false) == Probe::Match {
                assert!(
                    first.contains(s[0]),
                    "{} matches {:?}",
                    p.name(),
                    String::from_utf8_lossy(s)
                );
            }
        }
        let udp = p.transports().contains(&Transport::Udp);
        for b in (0..=255u8).filter(|&b| !first.contains(b)) {
            for (_, s) in &samples {
                let replaced = [&[b][..], &s[1..]].concat();
                let prefixed = [&[b][..], s].concat();
                for data in [&[b][..], &replaced, &prefixed] {
                    for dir in [Direction::ToServer, Direction::ToClient] {
                        let got = p.probe(dir, data, false);
                        // A datagram it would wait past must not be skipped either.
                        let bad = if udp {
                            got != Probe::NoMatch
                        } else {
                            got == Probe::Match
                        };
                        assert!(
                            !bad,
                            "{} says {got:?} to {:?}, which starts outside its first bytes",
                            p.name(),
                            String::from_utf8_lossy(data)
                        );
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_streams_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048), split in 0usize..2048) {
        for p in FLOW {
            for &t in p.transports() {
                let port = p.ports().first().copied().unwrap_or(1);
                let split = split.min(data.len());
                let (a, b) = data.split_at(split);
                testing::run(*p, t, port, &[(Direction::ToServer, a), (Direction::ToClient, b), (Direction::ToServer, b)]);
                // Force the analyzer on: garbage must not panic it either.
                testing::run_forced(*p, t, port, &[(Direction::ToServer, a), (Direction::ToClient, b)]);
            }
        }
    }

    #[test]
    fn random_payloads_outside_first_bytes_never_match(data in proptest::collection::vec(any::<u8>(), 1..512)) {
        for p in FLOW {
            if !p.first_bytes().contains(data[0]) {
                for dir in [Direction::ToServer, Direction::ToClient] {
                    prop_assert_ne!(p.probe(dir, &data, false), Probe::Match, "{}", p.name());
                }
            }
        }
    }

    #[test]
    fn random_frames_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1600)) {
        for p in LINK {
            // Ethernet-family frames, and whole frames of each raw link type.
            for raw_link in [None, Some(251), Some(256), Some(272)] {
                let frame = LinkFrame { dst: MacAddr([1, 0x80, 0xc2, 0, 0, 0xe]), src: MacAddr([2; 6]), ethertype: Some(0x88cc), snap: Some(([0, 0, 0x0c], 0x2000)), raw_link, payload: &data };
                let mut events = Vec::new();
                let mut out = analyzer_api::Out::new(model::Timestamp(0), None, p.name(), &mut events);
                p.handle(&frame, &mut out);
            }
        }
    }
}

#[test]
fn udp_and_tcp_transports_declared() {
    for p in FLOW {
        assert!(!p.transports().is_empty(), "{}", p.name());
        for t in p.transports() {
            assert!(matches!(t, Transport::Tcp | Transport::Udp));
        }
    }
}
