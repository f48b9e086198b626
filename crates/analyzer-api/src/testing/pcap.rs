//! Test-only classic pcap reader (libpcap format: 24-byte global header,
//! 16-byte record headers; pcapng is not supported) with just enough
//! decoding to feed real captures to an analyzer in its tests without
//! depending on the capture crate: Ethernet/IPv4/IPv6 to UDP/TCP payloads
//! ([`decode`]), and Ethernet II / 802.3 LLC-SNAP to [`LinkFrame`]s
//! ([`link_frame`]).

use crate::LinkFrame;
use model::MacAddr;
use std::path::PathBuf;

/// Where the shared test data lives, if it is present.
pub fn testdata(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(rel);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/testdata not found ({rel})");
        None
    }
}

/// Reads every record of a classic pcap file (Ethernet link type assumed).
pub fn frames(path: &std::path::Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).expect("read pcap");
    let magic = u32::from_le_bytes(data[0..4].try_into().unwrap());
    let le = match magic {
        0xa1b2_c3d4 | 0xa1b2_3c4d => true,
        0xd4c3_b2a1 | 0x4d3c_b2a1 => false,
        _ => panic!("not a classic pcap: {}", path.display()),
    };
    let rd = |b: &[u8]| {
        let a: [u8; 4] = b.try_into().unwrap();
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut out = Vec::new();
    let mut pos = 24;
    while pos + 16 <= data.len() {
        let incl = rd(&data[pos + 8..pos + 12]) as usize;
        pos += 16;
        let end = (pos + incl).min(data.len());
        out.push(data[pos..end].to_vec());
        pos = end;
    }
    out
}

/// A decoded transport-layer packet.
#[derive(Debug)]
pub struct Pkt<'a> {
    /// 6 TCP, 17 UDP.
    pub proto: u8,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Transport payload.
    pub payload: &'a [u8],
}

/// Decodes Ethernet (optionally VLAN-tagged) / IPv4 or IPv6 / UDP or TCP.
pub fn decode(frame: &[u8]) -> Option<Pkt<'_>> {
    let mut et = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let mut off = 14;
    while et == 0x8100 || et == 0x88a8 {
        et = u16::from_be_bytes([*frame.get(off + 2)?, *frame.get(off + 3)?]);
        off += 4;
    }
    let ip = frame.get(off..)?;
    let (proto, l4) = match et {
        0x0800 => {
            let ihl = ((*ip.first()? & 0x0f) as usize) * 4;
            let total = u16::from_be_bytes([*ip.get(2)?, *ip.get(3)?]) as usize;
            (*ip.get(9)?, ip.get(ihl..total.min(ip.len()))?)
        }
        0x86dd => {
            let plen = u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]) as usize;
            (*ip.get(6)?, ip.get(40..(40 + plen).min(ip.len()))?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*l4.first()?, *l4.get(1)?]);
    let dport = u16::from_be_bytes([*l4.get(2)?, *l4.get(3)?]);
    let payload = match proto {
        17 => l4.get(8..)?,
        6 => l4.get(((*l4.get(12)? >> 4) as usize) * 4..)?,
        _ => return None,
    };
    Some(Pkt {
        proto,
        sport,
        dport,
        payload,
    })
}

/// Decodes an Ethernet frame (optionally VLAN-tagged) into a `LinkFrame`:
/// EtherType for Ethernet II, (OUI, PID) for 802.3 + LLC/SNAP.
pub fn link_frame(f: &[u8]) -> Option<LinkFrame<'_>> {
    let dst = MacAddr::from_slice(f.get(0..6)?)?;
    let src = MacAddr::from_slice(f.get(6..12)?)?;
    let mut off = 12;
    let mut tl = u16::from_be_bytes([*f.get(off)?, *f.get(off + 1)?]);
    while tl == 0x8100 || tl == 0x88a8 {
        off += 4;
        tl = u16::from_be_bytes([*f.get(off)?, *f.get(off + 1)?]);
    }
    off += 2;
    if tl >= 0x0600 {
        return Some(LinkFrame {
            dst,
            src,
            ethertype: Some(tl),
            snap: None,
            raw_link: None,
            payload: f.get(off..)?,
        });
    }
    // 802.3 length field: trim padding, then LLC/SNAP.
    let body = f.get(off..(off + tl as usize).min(f.len()))?;
    if body.get(..3)? != [0xaa, 0xaa, 0x03] {
        return None;
    }
    let oui = [*body.get(3)?, *body.get(4)?, *body.get(5)?];
    let pid = u16::from_be_bytes([*body.get(6)?, *body.get(7)?]);
    Some(LinkFrame {
        dst,
        src,
        ethertype: None,
        snap: Some((oui, pid)),
        raw_link: None,
        payload: body.get(8..)?,
    })
}
