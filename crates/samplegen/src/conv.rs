//! Conversation helpers: a [`TcpConversation`] that emits a 3-way handshake,
//! data in both directions with consistent sequence/acknowledgment numbers
//! (payloads split into MSS-sized segments, each burst acknowledged by the
//! peer), and a FIN/ACK teardown (RFC 9293 section 3.5/3.6); and
//! [`udp_exchange`] for one request/response datagram pair.

use crate::packet::{eth_ipv4_tcp, eth_ipv4_udp, tcp_flags, Endpoint, TcpSegment};

/// One captured frame and its timestamp (microseconds since the Unix epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time in microseconds since 1970-01-01 00:00:00 UTC.
    pub ts_micros: u64,
    /// Link-layer bytes (Ethernet).
    pub data: Vec<u8>,
}

/// Maximum segment size used when splitting payloads.
pub const DEFAULT_MSS: usize = 1400;

/// Default time between consecutive frames of a conversation.
pub const DEFAULT_GAP_MICROS: u64 = 400;

/// Which side sends a segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Client,
    Server,
}

/// Per-direction TCP state.
#[derive(Clone, Copy)]
struct Half {
    ep: Endpoint,
    /// Next sequence number this side will send.
    next_seq: u32,
    /// Next IPv4 identification value.
    ip_id: u16,
    /// Advertised receive window.
    window: u16,
}

/// A deterministic TCP connection between a client and a server endpoint.
pub struct TcpConversation {
    client: Half,
    server: Half,
    mss: usize,
    ts: u64,
    gap: u64,
    frames: Vec<Frame>,
}

/// A deterministic, endpoint-derived 32-bit value (used for ISNs and IP ids).
fn mix(ep: &Endpoint, salt: u32) -> u32 {
    let mut x = u32::from(ep.ip) ^ (u32::from(ep.port) << 16) ^ salt;
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^ (x >> 16)
}

impl TcpConversation {
    /// A connection whose first frame (the SYN) is stamped `start_micros`.
    /// Initial sequence numbers and IP ids are derived from the endpoints, so
    /// the output is deterministic.
    pub fn new(client: Endpoint, server: Endpoint, start_micros: u64) -> Self {
        Self {
            client: Half {
                ep: client,
                next_seq: mix(&client, 0x5eed),
                ip_id: mix(&client, 1) as u16,
                window: 64240,
            },
            server: Half {
                ep: server,
                next_seq: mix(&server, 0xfeed),
                ip_id: mix(&server, 2) as u16,
                window: 65535,
            },
            mss: DEFAULT_MSS,
            ts: start_micros,
            gap: DEFAULT_GAP_MICROS,
            frames: Vec::new(),
        }
    }

    /// Overrides the initial sequence numbers.
    pub fn with_isn(mut self, client_isn: u32, server_isn: u32) -> Self {
        self.client.next_seq = client_isn;
        self.server.next_seq = server_isn;
        self
    }

    /// Overrides the time between consecutive frames.
    pub fn with_gap(mut self, micros: u64) -> Self {
        self.gap = micros;
        self
    }

    /// Overrides the maximum segment size (minimum 1).
    pub fn with_mss(mut self, mss: usize) -> Self {
        self.mss = mss.max(1);
        self
    }

    /// Timestamp the next frame will get.
    pub fn now(&self) -> u64 {
        self.ts
    }

    /// Lets `micros` pass before the next frame.
    pub fn wait(&mut self, micros: u64) -> &mut Self {
        self.ts += micros;
        self
    }

    fn emit(&mut self, from: Side, flags: u8, options: &[u8], payload: &[u8]) {
        let (me, peer) = match from {
            Side::Client => (&mut self.client, &self.server),
            Side::Server => (&mut self.server, &self.client),
        };
        let seg = TcpSegment {
            sport: me.ep.port,
            dport: peer.ep.port,
            seq: me.next_seq,
            ack: if flags & tcp_flags::ACK != 0 {
                peer.next_seq
            } else {
                0
            },
            flags,
            window: me.window,
            options,
            payload,
        };
        let data = eth_ipv4_tcp(&me.ep, &peer.ep, me.ip_id, &seg);
        me.ip_id = me.ip_id.wrapping_add(1);
        let consumed = payload.len() as u32
            + u32::from(flags & tcp_flags::SYN != 0)
            + u32::from(flags & tcp_flags::FIN != 0);
        me.next_seq = me.next_seq.wrapping_add(consumed);
        self.frames.push(Frame {
            ts_micros: self.ts,
            data,
        });
        self.ts += self.gap;
    }

    fn syn_options(&self) -> [u8; 8] {
        let mss = u16::try_from(self.mss).unwrap_or(u16::MAX).to_be_bytes();
        // MSS, NOP, NOP, SACK permitted.
        [2, 4, mss[0], mss[1], 1, 1, 4, 2]
    }

    /// SYN, SYN/ACK, ACK.
    pub fn handshake(&mut self) -> &mut Self {
        let opts = self.syn_options();
        self.emit(Side::Client, tcp_flags::SYN, &opts, &[]);
        self.emit(Side::Server, tcp_flags::SYN | tcp_flags::ACK, &opts, &[]);
        self.emit(Side::Client, tcp_flags::ACK, &[], &[]);
        self
    }

    fn send(&mut self, from: Side, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let chunks: Vec<&[u8]> = data.chunks(self.mss).collect();
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.into_iter().enumerate() {
            let psh = if i == last { tcp_flags::PSH } else { 0 };
            self.emit(from, tcp_flags::ACK | psh, &[], chunk);
        }
        let peer = if from == Side::Client {
            Side::Server
        } else {
            Side::Client
        };
        self.emit(peer, tcp_flags::ACK, &[], &[]);
    }

    /// Client sends `data` (split into MSS-sized segments); the server ACKs.
    pub fn client_send(&mut self, data: &[u8]) -> &mut Self {
        self.send(Side::Client, data);
        self
    }

    /// Server sends `data` (split into MSS-sized segments); the client ACKs.
    pub fn server_send(&mut self, data: &[u8]) -> &mut Self {
        self.send(Side::Server, data);
        self
    }

    /// Client-initiated teardown: FIN/ACK, FIN/ACK, ACK.
    pub fn close(&mut self) -> &mut Self {
        self.emit(Side::Client, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        self.emit(Side::Server, tcp_flags::FIN | tcp_flags::ACK, &[], &[]);
        self.emit(Side::Client, tcp_flags::ACK, &[], &[]);
        self
    }

    /// Frames emitted so far.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Consumes the conversation, returning its frames.
    pub fn into_frames(self) -> Vec<Frame> {
        self.frames
    }
}

/// One UDP request from `client` to `server` at `ts_micros` and, if given,
/// the response 800 µs later. IP ids are derived from the timestamp.
pub fn udp_exchange(
    client: &Endpoint,
    server: &Endpoint,
    ts_micros: u64,
    request: &[u8],
    response: Option<&[u8]>,
) -> Vec<Frame> {
    let id = (ts_micros / 100) as u16;
    let mut out = vec![Frame {
        ts_micros,
        data: eth_ipv4_udp(client, server, id, request),
    }];
    if let Some(resp) = response {
        out.push(Frame {
            ts_micros: ts_micros + 800,
            data: eth_ipv4_udp(server, client, id.wrapping_add(0x1111), resp),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn be32(b: &[u8]) -> u32 {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    #[test]
    fn seq_ack_numbers_line_up() {
        let c = Endpoint::new([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 0, 0, 1), 40000);
        let s = Endpoint::new([2, 0, 0, 0, 0, 2], Ipv4Addr::new(10, 0, 0, 2), 80);
        let mut t = TcpConversation::new(c, s, 0).with_isn(1000, 5000);
        t.handshake()
            .client_send(&[b'x'; 3000])
            .server_send(b"ok")
            .close();
        let f = t.into_frames();
        // 3 handshake + 3 segments + ack + 1 segment + ack + 3 teardown
        assert_eq!(f.len(), 3 + 3 + 1 + 1 + 1 + 3);
        let tcp = |i: usize| &f[i].data[34..];
        assert_eq!(be32(&tcp(0)[4..]), 1000);
        assert_eq!(be32(&tcp(1)[8..]), 1001);
        assert_eq!(be32(&tcp(3)[4..]), 1001);
        assert_eq!(be32(&tcp(4)[4..]), 2401);
        assert_eq!(be32(&tcp(5)[4..]), 3801);
        assert_eq!(be32(&tcp(6)[8..]), 4001); // server ACK after 3000 bytes
        assert_eq!(be32(&tcp(7)[4..]), 5001); // server data
        assert_eq!(be32(&tcp(8)[8..]), 5003);
        assert_eq!(be32(&tcp(10)[8..]), 4002); // server FIN acks client FIN
        assert_eq!(be32(&tcp(11)[8..]), 5004);
    }
}
