//! Captures in tests: read any pcap or pcapng file with the `capture` crate
//! (the same reader the sensor uses, so tests see what production sees),
//! decode frames with `wire` down to transport payloads ([`decode`]) or
//! link-layer frames ([`link_frame`]), and write classic pcap files
//! ([`Writer`]) for generated fixtures.

use capture::Source;
use model::{LinkFrame, LinkType, Timestamp};
use std::io::{self, Write};
use std::path::Path;

/// One captured frame, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time.
    pub ts: Timestamp,
    /// Link-layer header type of `data`.
    pub link: LinkType,
    /// Captured bytes, starting at the link-layer header.
    pub data: Vec<u8>,
}

/// Every frame of a capture file (pcap or pcapng). Panics with the reader's
/// one-line error on a file it cannot read: tests read known files.
pub fn read(path: &Path) -> Vec<Frame> {
    let mut reader =
        capture::FileReader::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut out = Vec::new();
    while let Some(f) = reader
        .next_frame()
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    {
        out.push(Frame {
            ts: f.ts,
            link: f.link,
            data: f.data.to_vec(),
        });
    }
    out
}

/// The bytes of every frame of a capture file (see [`read`]).
pub fn frames(path: &Path) -> Vec<Vec<u8>> {
    read(path).into_iter().map(|f| f.data).collect()
}

/// A decoded transport-layer packet.
#[derive(Debug, Clone, Copy)]
pub struct Pkt<'a> {
    /// Source address.
    pub src: std::net::IpAddr,
    /// Destination address.
    pub dst: std::net::IpAddr,
    /// 6 TCP, 17 UDP.
    pub proto: u8,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// TCP sequence number (0 for UDP).
    pub seq: u32,
    /// TCP flags (0 for UDP): FIN=1 SYN=2 RST=4 PSH=8 ACK=16.
    pub flags: u8,
    /// Transport payload.
    pub payload: &'a [u8],
}

/// Decodes an Ethernet frame (see [`decode_link`]).
pub fn decode(frame: &[u8]) -> Option<Pkt<'_>> {
    decode_link(LinkType::Ethernet, frame)
}

/// Decodes a frame of link type `link` to its TCP or UDP payload with
/// `wire::decode`; `None` for anything else (non-IP, fragments, other
/// transports, malformed).
pub fn decode_link(link: LinkType, frame: &[u8]) -> Option<Pkt<'_>> {
    let wire::Net::Ip(ip) = wire::decode(link, frame).ok()?.net else {
        return None;
    };
    let (sport, dport, seq, flags, payload) = match ip.l4 {
        wire::L4::Tcp(t) => (t.src_port, t.dst_port, t.seq, t.flags, t.payload),
        wire::L4::Udp(u) => (u.src_port, u.dst_port, 0, 0, u.payload),
        wire::L4::Other(_) => return None,
    };
    Some(Pkt {
        src: ip.src,
        dst: ip.dst,
        proto: ip.proto,
        sport,
        dport,
        seq,
        flags,
        payload,
    })
}

/// Decodes an Ethernet frame (optionally VLAN-tagged) into the `LinkFrame`
/// link-layer analyzers get (EtherType for Ethernet II, OUI and protocol id
/// for 802.3 LLC/SNAP); `None` for IP and undecodable frames.
pub fn link_frame(frame: &[u8]) -> Option<LinkFrame<'_>> {
    match wire::decode(LinkType::Ethernet, frame).ok()?.net {
        wire::Net::Link(l) => Some(l),
        _ => None,
    }
}

/// Writes a classic pcap file (microsecond timestamps, little-endian magic
/// `0xa1b2c3d4`, draft-ietf-opsawg-pcap).
pub struct Writer<W: Write> {
    out: W,
}

impl<W: Write> Writer<W> {
    /// Largest frame written (the snapshot length in the file header).
    pub const SNAPLEN: u32 = 262_144;

    /// Writes the 24-byte file header for frames of link type `link`.
    pub fn new(mut out: W, link: LinkType) -> io::Result<Self> {
        let mut hdr = [0u8; 24];
        hdr[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        hdr[4..6].copy_from_slice(&2u16.to_le_bytes());
        hdr[6..8].copy_from_slice(&4u16.to_le_bytes());
        hdr[16..20].copy_from_slice(&Self::SNAPLEN.to_le_bytes());
        hdr[20..24].copy_from_slice(&link.to_linktype().to_le_bytes());
        out.write_all(&hdr)?;
        Ok(Self { out })
    }

    /// Appends one frame captured at `ts`.
    pub fn write(&mut self, ts: Timestamp, data: &[u8]) -> io::Result<()> {
        let invalid = |m: &str| io::Error::new(io::ErrorKind::InvalidInput, m.to_string());
        let us = u64::try_from(ts.0).map_err(|_| invalid("timestamp before 1970"))?;
        let secs = u32::try_from(us / 1_000_000).map_err(|_| invalid("timestamp past 2106"))?;
        let len = u32::try_from(data.len())
            .ok()
            .filter(|&l| l <= Self::SNAPLEN)
            .ok_or_else(|| invalid("frame larger than the snapshot length"))?;
        let mut rec = [0u8; 16];
        rec[0..4].copy_from_slice(&secs.to_le_bytes());
        rec[4..8].copy_from_slice(&((us % 1_000_000) as u32).to_le_bytes());
        rec[8..12].copy_from_slice(&len.to_le_bytes());
        rec[12..16].copy_from_slice(&len.to_le_bytes());
        self.out.write_all(&rec)?;
        self.out.write_all(data)
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// An Ethernet II / IPv4 / UDP frame (checksums zero), for fixtures.
pub fn udp_frame(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    ipv4_frame(17, src.0, dst.0, &{
        let mut l4 = Vec::with_capacity(8 + payload.len());
        l4.extend_from_slice(&src.1.to_be_bytes());
        l4.extend_from_slice(&dst.1.to_be_bytes());
        l4.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        l4.extend_from_slice(&[0, 0]);
        l4.extend_from_slice(payload);
        l4
    })
}

/// An Ethernet II / IPv4 / TCP frame with sequence number `seq` and `flags`
/// (checksums zero), for fixtures.
pub fn tcp_frame(
    src: ([u8; 4], u16),
    dst: ([u8; 4], u16),
    seq: u32,
    flags: u8,
    payload: &[u8],
) -> Vec<u8> {
    let mut l4 = Vec::with_capacity(20 + payload.len());
    l4.extend_from_slice(&src.1.to_be_bytes());
    l4.extend_from_slice(&dst.1.to_be_bytes());
    l4.extend_from_slice(&seq.to_be_bytes());
    l4.extend_from_slice(&[0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    l4.extend_from_slice(payload);
    ipv4_frame(6, src.0, dst.0, &l4)
}

fn ipv4_frame(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(l4);
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_frames_read_back_and_decode() {
        let dir = std::env::temp_dir().join(format!("testkit-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let udp = udp_frame(([10, 0, 0, 1], 5353), ([224, 0, 0, 251], 5353), b"hello");
        let tcp = tcp_frame(([10, 0, 0, 1], 40000), ([10, 0, 0, 2], 80), 7, 0x18, b"GET");
        let mut w = Writer::new(std::fs::File::create(&path).unwrap(), LinkType::Ethernet).unwrap();
        w.write(Timestamp(1_700_000_000_123_456), &udp).unwrap();
        w.write(Timestamp(1_700_000_001_000_000), &tcp).unwrap();
        w.finish().unwrap();

        let got = read(&path);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].ts, Timestamp(1_700_000_000_123_456));
        assert_eq!(got[0].link, LinkType::Ethernet);
        assert_eq!(got[1].data, tcp);
        let p = decode(&got[0].data).unwrap();
        assert_eq!(
            (p.proto, p.sport, p.dport, p.payload),
            (17, 5353, 5353, &b"hello"[..])
        );
        let p = decode(&got[1].data).unwrap();
        assert_eq!(
            (p.proto, p.seq, p.flags, p.payload),
            (6, 7, 0x18, &b"GET"[..])
        );
        assert!(link_frame(&got[0].data).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn link_frames_of_lldp() {
        let mut f = vec![
            0x01, 0x80, 0xc2, 0, 0, 0x0e, 0x02, 0, 0, 0, 0, 1, 0x88, 0xcc,
        ];
        f.extend_from_slice(&[0, 0]);
        let l = link_frame(&f).unwrap();
        assert_eq!(l.ethertype, Some(0x88cc));
        assert_eq!(l.payload, &[0, 0]);
        assert!(decode(&f).is_none());
    }

    #[test]
    fn oversized_frames_are_refused() {
        let mut w = Writer::new(Vec::new(), LinkType::Ethernet).unwrap();
        let big = vec![0u8; Writer::<Vec<u8>>::SNAPLEN as usize + 1];
        assert!(w.write(Timestamp(0), &big).is_err());
        assert_eq!(w.finish().unwrap().len(), 24);
    }
}
