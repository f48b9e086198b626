//! TCP conversations out of a capture file, as the ordered `(direction,
//! bytes)` chunks that `analyzer_api::testing::run` takes. Frames are read
//! and decoded by [`crate::pcap`] (so every link type the sensor reads
//! works here). Reassembly is simple — retransmissions trimmed, out-of-order
//! segments held until the hole fills, no limits — good enough for small
//! test traces, not for production (that is `flow::StreamState`).

use crate::pcap;
use model::Direction;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

/// One reassembled TCP connection.
#[derive(Debug, Default)]
pub struct Conn {
    /// Client (SYN sender, else first sender) address and port.
    pub client: Option<(IpAddr, u16)>,
    /// Server address and port.
    pub server: Option<(IpAddr, u16)>,
    /// In-order payload chunks in capture order, one per segment.
    pub chunks: Vec<(Direction, Vec<u8>)>,
    next: [Option<u32>; 2],
    ooo: [BTreeMap<u32, Vec<u8>>; 2],
}

impl Conn {
    /// Chunks borrowed, for `analyzer_api::testing::run`.
    pub fn borrowed(&self) -> Vec<(Direction, &[u8])> {
        borrowed(&self.chunks)
    }

    /// True if the client is `addr` and `port` (as Zeek's `id.orig_h`/`id.orig_p`).
    pub fn is_from(&self, addr: &str, port: u16) -> bool {
        self.client
            .is_some_and(|(a, p)| p == port && a.to_string() == addr)
    }

    /// Server port (0 if unknown).
    pub fn port(&self) -> u16 {
        self.server.map_or(0, |s| s.1)
    }

    fn push(&mut self, dir: Direction, seq: u32, syn: bool, payload: &[u8]) {
        let i = usize::from(dir == Direction::ToClient);
        let seq = if syn { seq.wrapping_add(1) } else { seq };
        let next = *self.next[i].get_or_insert(seq);
        if payload.is_empty() {
            return;
        }
        let off = seq.wrapping_sub(next) as i32;
        if off > 0 {
            self.ooo[i].insert(seq, payload.to_vec());
            return;
        }
        let skip = off.unsigned_abs() as usize;
        if skip >= payload.len() {
            return;
        }
        self.deliver(i, dir, &payload[skip..]);
        // Drain held segments that now fit.
        while let Some(n) = self.next[i] {
            let Some(&s) = self.ooo[i]
                .keys()
                .find(|&&s| (s.wrapping_sub(n) as i32) <= 0)
            else {
                break;
            };
            let p = self.ooo[i].remove(&s).unwrap_or_default();
            let skip = n.wrapping_sub(s) as usize;
            if skip < p.len() {
                self.deliver(i, dir, &p[skip..]);
            }
        }
    }

    fn deliver(&mut self, i: usize, dir: Direction, data: &[u8]) {
        self.next[i] = self.next[i].map(|n| n.wrapping_add(data.len() as u32));
        self.chunks.push((dir, data.to_vec()));
    }
}

/// Owned chunks borrowed, for `analyzer_api::testing::run`.
pub fn borrowed(chunks: &[(Direction, Vec<u8>)]) -> Vec<(Direction, &[u8])> {
    chunks.iter().map(|(d, b)| (*d, b.as_slice())).collect()
}

/// Every TCP connection of a capture file, in order of first packet.
pub fn conns(path: &Path) -> Vec<Conn> {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    type Endpoint = (IpAddr, u16);
    let mut conns: Vec<Conn> = Vec::new();
    let mut index: BTreeMap<(Endpoint, Endpoint), usize> = BTreeMap::new();
    for frame in pcap::read(path) {
        let Some(p) = pcap::decode_link(frame.link, &frame.data).filter(|p| p.proto == 6) else {
            continue;
        };
        let (syn, ack) = (p.flags & SYN != 0, p.flags & ACK != 0);
        let a = (p.src, p.sport);
        let b = (p.dst, p.dport);
        let key = if a <= b { (a, b) } else { (b, a) };
        // A new SYN on a known, finished tuple starts a new connection.
        let ci = match index.get(&key) {
            Some(&ci)
                if !syn || ack || conns[ci].client != Some(a) || conns[ci].chunks.is_empty() =>
            {
                ci
            }
            _ => {
                let (client, server) = if syn && ack { (b, a) } else { (a, b) };
                conns.push(Conn {
                    client: Some(client),
                    server: Some(server),
                    ..Conn::default()
                });
                index.insert(key, conns.len() - 1);
                conns.len() - 1
            }
        };
        let c = &mut conns[ci];
        let dir = if c.client == Some(a) {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        c.push(dir, p.seq, syn, p.payload);
    }
    conns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pcap::{tcp_frame, Writer};
    use model::{LinkType, Timestamp};

    #[test]
    fn reorders_trims_and_splits_connections() {
        let dir = std::env::temp_dir().join(format!("testkit-tcp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        let (c, s) = (([10, 0, 0, 1], 40000), ([10, 0, 0, 2], 80));
        let frames = [
            tcp_frame(c, s, 100, 0x02, b""),
            tcp_frame(s, c, 500, 0x12, b""),
            tcp_frame(c, s, 104, 0x18, b"DEF"), // early: held
            tcp_frame(c, s, 101, 0x18, b"ABC"),
            tcp_frame(c, s, 101, 0x18, b"ABCD"), // retransmission: trimmed away
            tcp_frame(s, c, 501, 0x18, b"ok"),
            tcp_frame(c, s, 900, 0x02, b""), // same tuple, new SYN: a new connection
            tcp_frame(c, s, 901, 0x18, b"again"),
        ];
        let mut w = Writer::new(std::fs::File::create(&path).unwrap(), LinkType::Ethernet).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write(Timestamp(i as i64), f).unwrap();
        }
        w.finish().unwrap();
        let got = conns(&path);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_from("10.0.0.1", 40000));
        assert_eq!(got[0].port(), 80);
        let b = got[0].borrowed();
        assert_eq!(
            b,
            vec![
                (Direction::ToServer, &b"ABC"[..]),
                (Direction::ToServer, &b"DEF"[..]),
                (Direction::ToClient, &b"ok"[..]),
            ]
        );
        assert_eq!(
            got[1].borrowed(),
            vec![(Direction::ToServer, &b"again"[..])]
        );
    }
}
