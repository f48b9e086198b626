//! Fuzz target: the ARP parser on arbitrary link-layer payloads.
#![no_main]
use analyzer_api::{LinkFrame, LinkProtocol, Out};
use model::{MacAddr, Timestamp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let frame = LinkFrame {
        dst: MacAddr([0xff; 6]),
        src: MacAddr([0x02, 0, 0, 0, 0, 1]),
        ethertype: Some(proto_arp::ARP_ETHERTYPE),
        snap: None,
        raw_link: None,
        payload: data,
    };
    let mut events = Vec::new();
    let mut out = Out::new(Timestamp(0), None, "arp", &mut events);
    proto_arp::Arp.handle(&frame, &mut out);
});
