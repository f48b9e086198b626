//! Frame builders: Ethernet II, ARP (RFC 826), IPv4 (RFC 791) with a correct
//! header checksum, and TCP (RFC 9293) / UDP (RFC 768) with correct
//! pseudo-header checksums (Internet checksum, RFC 1071).

use std::net::Ipv4Addr;

/// A 48-bit MAC address.
pub type Mac = [u8; 6];

/// The Ethernet broadcast address.
pub const BROADCAST_MAC: Mac = [0xff; 6];
/// EtherType IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType LLDP (IEEE 802.1AB).
pub const ETHERTYPE_LLDP: u16 = 0x88cc;
/// IP protocol number of TCP.
pub const IPPROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const IPPROTO_UDP: u8 = 17;
/// Minimum Ethernet frame length without FCS; shorter frames are zero-padded.
pub const ETH_MIN_FRAME: usize = 60;

/// TCP flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
}

/// One side of a conversation: link address, IP address, port, and the
/// initial TTL its IP stack uses (64 for embedded/Linux, 128 for Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// Ethernet address.
    pub mac: Mac,
    /// IPv4 address.
    pub ip: Ipv4Addr,
    /// TCP/UDP port.
    pub port: u16,
    /// TTL put in IPv4 headers sent from this endpoint.
    pub ttl: u8,
}

impl Endpoint {
    /// An endpoint with TTL 64.
    pub const fn new(mac: Mac, ip: Ipv4Addr, port: u16) -> Self {
        Self {
            mac,
            ip,
            port,
            ttl: 64,
        }
    }

    /// The same host on another port.
    pub const fn with_port(self, port: u16) -> Self {
        Self { port, ..self }
    }

    /// The same endpoint with another TTL.
    pub const fn with_ttl(self, ttl: u8) -> Self {
        Self { ttl, ..self }
    }
}

/// Adds `data` as big-endian 16-bit words to a running one's-complement sum.
pub fn sum_words(data: &[u8], mut sum: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds a running sum into the final 16-bit Internet checksum.
pub fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// RFC 1071 Internet checksum of `data`.
pub fn internet_checksum(data: &[u8]) -> u16 {
    fold(sum_words(data, 0))
}

/// An Ethernet II frame, zero-padded to 60 bytes.
pub fn ethernet(dst: Mac, src: Mac, ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity((14 + payload.len()).max(ETH_MIN_FRAME));
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    if f.len() < ETH_MIN_FRAME {
        f.resize(ETH_MIN_FRAME, 0);
    }
    f
}

/// An IPv4 packet (20-byte header, DF set, no options) with a correct header
/// checksum.
///
/// # Panics
/// If the packet would exceed 65535 bytes (a generator bug, not input).
pub fn ipv4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    ident: u16,
    ttl: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("IPv4 packet larger than 65535 bytes");
    let mut p = Vec::with_capacity(usize::from(total));
    p.push(0x45); // version 4, IHL 5
    p.push(0x00); // DSCP/ECN
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&0x4000u16.to_be_bytes()); // DF, offset 0
    p.push(ttl);
    p.push(protocol);
    p.extend_from_slice(&[0, 0]); // checksum placeholder
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ck = internet_checksum(&p);
    p[10..12].copy_from_slice(&ck.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn pseudo_header_sum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: usize) -> u64 {
    let mut sum = sum_words(&src.octets(), 0);
    sum = sum_words(&dst.octets(), sum);
    sum + u64::from(protocol) + len as u64
}

/// A UDP datagram with a correct checksum.
pub fn udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&sport.to_be_bytes());
    d.extend_from_slice(&dport.to_be_bytes());
    d.extend_from_slice(
        &u16::try_from(len)
            .expect("UDP datagram too large")
            .to_be_bytes(),
    );
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    let mut ck = fold(sum_words(&d, pseudo_header_sum(src, dst, IPPROTO_UDP, len)));
    if ck == 0 {
        ck = 0xffff; // RFC 768: a computed zero is sent as all ones
    }
    d[6..8].copy_from_slice(&ck.to_be_bytes());
    d
}

/// Header fields of one TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgment number (meaningful when ACK is set).
    pub ack: u32,
    /// Flag bits, see [`tcp_flags`].
    pub flags: u8,
    /// Receive window.
    pub window: u16,
    /// Options, already padded to a multiple of 4 bytes.
    pub options: &'a [u8],
    /// Segment payload.
    pub payload: &'a [u8],
}

/// A TCP segment with a correct checksum.
pub fn tcp(src: Ipv4Addr, dst: Ipv4Addr, seg: &TcpSegment<'_>) -> Vec<u8> {
    assert!(
        seg.options.len() & 3 == 0 && seg.options.len() <= 40,
        "bad TCP options length"
    );
    let hlen = 20 + seg.options.len();
    let len = hlen + seg.payload.len();
    let mut s = Vec::with_capacity(len);
    s.extend_from_slice(&seg.sport.to_be_bytes());
    s.extend_from_slice(&seg.dport.to_be_bytes());
    s.extend_from_slice(&seg.seq.to_be_bytes());
    s.extend_from_slice(&seg.ack.to_be_bytes());
    s.push(((hlen / 4) as u8) << 4);
    s.push(seg.flags);
    s.extend_from_slice(&seg.window.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    s.extend_from_slice(seg.options);
    s.extend_from_slice(seg.payload);
    let ck = fold(sum_words(&s, pseudo_header_sum(src, dst, IPPROTO_TCP, len)));
    s[16..18].copy_from_slice(&ck.to_be_bytes());
    s
}

/// Ethernet + IPv4 + UDP from `src` to `dst`.
pub fn eth_ipv4_udp(src: &Endpoint, dst: &Endpoint, ident: u16, payload: &[u8]) -> Vec<u8> {
    let d = udp(src.ip, dst.ip, src.port, dst.port, payload);
    let p = ipv4(src.ip, dst.ip, IPPROTO_UDP, ident, src.ttl, &d);
    ethernet(dst.mac, src.mac, ETHERTYPE_IPV4, &p)
}

/// Ethernet + IPv4 + TCP from `src` to `dst`; the ports in `seg` are used.
pub fn eth_ipv4_tcp(src: &Endpoint, dst: &Endpoint, ident: u16, seg: &TcpSegment<'_>) -> Vec<u8> {
    let s = tcp(src.ip, dst.ip, seg);
    let p = ipv4(src.ip, dst.ip, IPPROTO_TCP, ident, src.ttl, &s);
    ethernet(dst.mac, src.mac, ETHERTYPE_IPV4, &p)
}

/// An ARP packet (Ethernet/IPv4), opcode 1 = request, 2 = reply, wrapped in
/// an Ethernet frame to `eth_dst`.
pub fn arp(eth_dst: Mac, op: u16, sha: Mac, spa: Ipv4Addr, tha: Mac, tpa: Ipv4Addr) -> Vec<u8> {
    let mut a = Vec::with_capacity(28);
    a.extend_from_slice(&1u16.to_be_bytes()); // hardware type Ethernet
    a.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    a.push(6);
    a.push(4);
    a.extend_from_slice(&op.to_be_bytes());
    a.extend_from_slice(&sha);
    a.extend_from_slice(&spa.octets());
    a.extend_from_slice(&tha);
    a.extend_from_slice(&tpa.octets());
    ethernet(eth_dst, sha, ETHERTYPE_ARP, &a)
}

/// A gratuitous ARP announcement (request for the sender's own address).
pub fn gratuitous_arp(mac: Mac, ip: Ipv4Addr) -> Vec<u8> {
    arp(BROADCAST_MAC, 1, mac, ip, [0; 6], ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ipv4(
            Ipv4Addr::new(10, 20, 0, 1),
            Ipv4Addr::new(10, 20, 0, 2),
            IPPROTO_UDP,
            7,
            64,
            &[1, 2, 3],
        );
        assert_eq!(internet_checksum(&p[..20]), 0);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3 example words: 0001 f203 f4f5 f6f7 -> sum ddf2, checksum 220d.
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }

    #[test]
    fn tcp_and_udp_checksums_verify() {
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        let u = udp(a, b, 1000, 53, b"odd");
        assert_eq!(
            fold(sum_words(&u, pseudo_header_sum(a, b, IPPROTO_UDP, u.len()))),
            0
        );
        let seg = TcpSegment {
            sport: 1,
            dport: 2,
            seq: 3,
            ack: 4,
            flags: tcp_flags::ACK,
            window: 5,
            options: &[],
            payload: b"hello",
        };
        let t = tcp(a, b, &seg);
        assert_eq!(
            fold(sum_words(&t, pseudo_header_sum(a, b, IPPROTO_TCP, t.len()))),
            0
        );
    }

    #[test]
    fn short_frames_are_padded() {
        assert_eq!(
            gratuitous_arp([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 0, 0, 1)).len(),
            ETH_MIN_FRAME
        );
    }
}
