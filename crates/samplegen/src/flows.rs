//! The `flows` scenario: N distinct flows streamed straight to a pcap, for
//! memory-cap tests. Even-numbered flows are one UDP datagram (DNS-like, to
//! port 53), odd-numbered flows are a TCP SYN to port 443 followed by a
//! SYN/ACK. Nothing is held in memory beyond the current frame.

use std::io::{self, Write};
use std::net::Ipv4Addr;

use crate::hospital::START_MICROS;
use crate::packet::{eth_ipv4_tcp, eth_ipv4_udp, tcp_flags, Endpoint, TcpSegment};
use crate::pcap::{PcapWriter, LINKTYPE_ETHERNET};

/// MAC of the router every flow crosses (OUI 00:01:42 = Cisco Systems, Inc).
const ROUTER_MAC: [u8; 6] = [0x00, 0x01, 0x42, 0x3a, 0x10, 0x01];

/// Client endpoint of flow `i`: a unique source address in 10.0.0.0/8 (for
/// i < 2^24; beyond that the source port differs) and a locally
/// administered MAC derived from it.
fn client(i: u64) -> Endpoint {
    let host = (i % 0x00ff_ffff) as u32 + 1;
    let ip = Ipv4Addr::from(0x0a00_0000 | host);
    let o = ip.octets();
    let port = 1024 + ((i / 0x00ff_ffff) % 64_000) as u16;
    Endpoint::new([0x02, 0x00, o[0], o[1], o[2], o[3]], ip, port)
}

/// Server endpoint of flow `i`: one of 2^20 addresses in 172.16.0.0/12.
fn server(i: u64, port: u16) -> Endpoint {
    let ip = Ipv4Addr::from(0xac10_0000 | (i as u32 & 0x000f_ffff));
    Endpoint::new(ROUTER_MAC, ip, port)
}

/// Writes `n` distinct flows to `out`, 10 µs apart, and returns the writer.
pub fn write<W: Write>(out: W, n: u64) -> io::Result<W> {
    let mut w = PcapWriter::new(out, LINKTYPE_ETHERNET)?;
    for i in 0..n {
        let ts = START_MICROS + i * 10;
        let c = client(i);
        let id = i as u16;
        if i % 2 == 0 {
            let s = server(i, 53);
            let mut payload = [0u8; 12];
            payload[0..2].copy_from_slice(&id.to_be_bytes());
            payload[2] = 0x01; // RD
            w.write_frame(ts, &eth_ipv4_udp(&c, &s, id, &payload))?;
        } else {
            let s = server(i, 443);
            let isn = (i as u32).wrapping_mul(2_654_435_761);
            let syn = TcpSegment {
                sport: c.port,
                dport: 443,
                seq: isn,
                ack: 0,
                flags: tcp_flags::SYN,
                window: 64240,
                options: &[],
                payload: &[],
            };
            w.write_frame(ts, &eth_ipv4_tcp(&c, &s, id, &syn))?;
            let back = Endpoint {
                mac: ROUTER_MAC,
                ..s
            };
            let to = Endpoint { mac: c.mac, ..c };
            let synack = TcpSegment {
                sport: 443,
                dport: c.port,
                seq: !isn,
                ack: isn.wrapping_add(1),
                flags: tcp_flags::SYN | tcp_flags::ACK,
                window: 65535,
                options: &[],
                payload: &[],
            };
            w.write_frame(ts + 5, &eth_ipv4_tcp(&back, &to, id, &synack))?;
        }
    }
    w.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert((client(i).ip, client(i).port)));
        }
        assert_ne!(
            (client(0).ip, client(0).port),
            (client(0x00ff_ffff).ip, client(0x00ff_ffff).port)
        );
    }

    #[test]
    fn frame_count() {
        let out = write(Vec::new(), 10).unwrap();
        // 24-byte header, 5 UDP + 10 TCP frames of 60 bytes, 16-byte record headers.
        assert_eq!(out.len(), 24 + 15 * (16 + 60));
    }
}
