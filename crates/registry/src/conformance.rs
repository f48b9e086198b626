//! Conformance checks run on every registered protocol: no panic on random
//! bytes, on random splits of random bytes, or on probing empty input.

use super::*;
use analyzer_api::{testing, LinkFrame};
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
