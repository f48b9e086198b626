//! ARP (RFC 826) for Ethernet and IPv4: each request or reply says which MAC
//! holds which IPv4 address. Devices that speak nothing but ARP (a ventilator
//! announcing itself with gratuitous ARP) are seen only through it.
//!
//! Only hardware type 1 (Ethernet), protocol 0x0800 (IPv4), lengths 6/4 are
//! read; anything else is a weird. The sender binding must agree with the
//! frame's source MAC to be believed (proxy ARP and spoofing put other MACs
//! there), otherwise it is reported as `arp_sender_mismatch`.

use analyzer_api::{LinkFrame, LinkProtocol, Out};
use model::records::ArpRecord;
use model::MacAddr;
use std::net::Ipv4Addr;

/// ARP's EtherType.
pub const ARP_ETHERTYPE: u16 = 0x0806;

/// ARP over Ethernet ("arp").
pub struct Arp;

impl LinkProtocol for Arp {
    fn name(&self) -> &'static str {
        "arp"
    }

    fn accepts(&self, frame: &LinkFrame<'_>) -> bool {
        frame.ethertype == Some(ARP_ETHERTYPE)
    }

    fn handle(&self, frame: &LinkFrame<'_>, out: &mut Out<'_>) {
        match parse(frame.payload) {
            Ok(r) if r.sender_mac != frame.src => out.weird("arp_sender_mismatch"),
            Ok(r) => out.emit(model::Record::Arp(r)),
            Err(w) => out.weird(w),
        }
    }
}

/// Parses an ARP packet (trailing padding ignored).
pub fn parse(p: &[u8]) -> Result<ArpRecord, &'static str> {
    if p.len() < 28 {
        return Err("arp_truncated");
    }
    let be16 = |i: usize| u16::from_be_bytes([p[i], p[i + 1]]);
    if be16(0) != 1 || be16(2) != 0x0800 || p[4] != 6 || p[5] != 4 {
        return Err("arp_unsupported_addresses");
    }
    let op = be16(6);
    if op != 1 && op != 2 {
        return Err("arp_unknown_opcode");
    }
    let mac = |i: usize| MacAddr([p[i], p[i + 1], p[i + 2], p[i + 3], p[i + 4], p[i + 5]]);
    let ip = |i: usize| Ipv4Addr::new(p[i], p[i + 1], p[i + 2], p[i + 3]);
    let (sender_ip, target_ip) = (ip(14), ip(24));
    Ok(ArpRecord {
        op,
        sender_mac: mac(8),
        sender_ip,
        target_mac: mac(18),
        target_ip,
        gratuitous: sender_ip == target_ip && !sender_ip.is_unspecified(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Record, Timestamp};

    fn packet(op: u16, smac: [u8; 6], sip: [u8; 4], tip: [u8; 4]) -> Vec<u8> {
        let mut p = vec![0, 1, 8, 0, 6, 4];
        p.extend_from_slice(&op.to_be_bytes());
        p.extend_from_slice(&smac);
        p.extend_from_slice(&sip);
        p.extend_from_slice(&[0; 6]);
        p.extend_from_slice(&tip);
        p.resize(46, 0); // Ethernet padding
        p
    }

    fn run(src: [u8; 6], payload: &[u8]) -> Vec<Record> {
        let frame = LinkFrame {
            dst: MacAddr([0xff; 6]),
            src: MacAddr(src),
            ethertype: Some(ARP_ETHERTYPE),
            snap: None,
            raw_link: None,
            payload,
        };
        let mut events = Vec::new();
        let mut out = Out::new(Timestamp(1), None, "arp", &mut events);
        assert!(Arp.accepts(&frame));
        Arp.handle(&frame, &mut out);
        events.into_iter().map(|e| e.record).collect()
    }

    #[test]
    fn gratuitous_announcement_binds_the_sender() {
        let mac = [0xf0, 0xe5, 0xc3, 0x34, 0, 0x22];
        let r = run(mac, &packet(1, mac, [10, 20, 0, 34], [10, 20, 0, 34]));
        let [Record::Arp(a)] = r.as_slice() else {
            panic!("{r:?}")
        };
        assert_eq!(a.sender_ip, Ipv4Addr::new(10, 20, 0, 34));
        assert_eq!(a.sender_mac, MacAddr(mac));
        assert!(a.gratuitous);
        let r = run(mac, &packet(2, mac, [10, 20, 0, 34], [10, 20, 0, 1]));
        assert!(matches!(&r[..], [Record::Arp(a)] if a.op == 2 && !a.gratuitous));
    }

    #[test]
    fn malformed_and_mismatched_packets_are_weirds() {
        let mac = [0, 1, 2, 3, 4, 5];
        let weird = |r: Vec<Record>| match r.as_slice() {
            [Record::Weird(w)] => w.name.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(weird(run(mac, &[0, 1, 8])), "arp_truncated");
        let mut p = packet(1, mac, [10, 0, 0, 1], [10, 0, 0, 2]);
        p[7] = 9;
        assert_eq!(weird(run(mac, &p)), "arp_unknown_opcode");
        p[1] = 6;
        assert_eq!(weird(run(mac, &p)), "arp_unsupported_addresses");
        let other = [9, 9, 9, 9, 9, 9];
        assert_eq!(
            weird(run(other, &packet(2, mac, [10, 0, 0, 1], [10, 0, 0, 2]))),
            "arp_sender_mismatch"
        );
    }
}
