//! Fuzz target: LLDP and CDP parsers on arbitrary link-layer payloads.
#![no_main]
use analyzer_api::{LinkFrame, LinkProtocol, Out};
use model::{MacAddr, Timestamp};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let frame = LinkFrame {
        dst: MacAddr([0x01, 0x80, 0xc2, 0, 0, 0x0e]),
        src: MacAddr([0x02, 0, 0, 0, 0, 1]),
        ethertype: Some(proto_lldp::LLDP_ETHERTYPE),
        snap: Some(proto_lldp::CDP_SNAP),
        raw_link: None,
        payload: data,
    };
    for p in [&proto_lldp::Lldp as &dyn LinkProtocol, &proto_lldp::Cdp] {
        let mut events = Vec::new();
        let mut out = Out::new(Timestamp(0), None, p.name(), &mut events);
        p.handle(&frame, &mut out);
    }
});
