//! Fuzz target: `wire::decode` on arbitrary frames of every supported link
//! type (first byte picks the link type), then IP fragments through a
//! small `Defragmenter` and the reassembled bytes through `decode_l4`.
#![no_main]

use capture::LinkType;
use wire::{Defragmenter, Net};

const LINKS: [LinkType; 12] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::Null,
    LinkType::Loop,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Ipv4,
    LinkType::Ipv6,
    LinkType::Other(9),
    LinkType::Other(50),
    LinkType::Other(104),
    LinkType::Other(147),
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let link = LINKS[ctl as usize % LINKS.len()];
    let mut defrag = Defragmenter::new(4, 1 << 16);
    // The rest may hold several frames separated by 2-byte lengths, so that
    // fragments of one datagram can meet in the reassembler.
    let mut r = rest;
    let mut ts = 0;
    while !r.is_empty() {
        let (frame, next) = if ctl & 0x80 != 0 && r.len() >= 2 {
            let n = (usize::from(r[0]) << 8 | usize::from(r[1])).min(r.len() - 2);
            (&r[2..2 + n], &r[2 + n..])
        } else {
            (r, &[][..])
        };
        r = next;
        ts += 1_000_000;
        if let Ok(p) = wire::decode(link, frame) {
            if let Net::Ip(ip) = p.net {
                if let Some((proto, whole)) = defrag.push_with_proto(model::Timestamp(ts), &ip) {
                    let _ = wire::decode_l4(proto, whole);
                }
                defrag.expire(model::Timestamp(ts));
            }
        }
    }
});
