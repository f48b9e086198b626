//! Zero-copy packet decoding: link layer, IPv4/IPv6, TCP and UDP headers, plus
//! bounded IP fragment reassembly ([`Defragmenter`]).
//!
//! [`decode`] turns one captured frame into a [`Packet`] that borrows the frame:
//! MAC addresses and the outermost VLAN id, then either an IP packet (addresses,
//! protocol, fragment info and the decoded TCP/UDP header with its payload) or,
//! for non-IP frames that carry MAC addresses (LLDP, CDP over LLC/SNAP, ARP,
//! STP, ...), an [`model::LinkFrame`] for link-layer analyzers.
//!
//! Link types: Bluetooth LE frames (LINKTYPE 251, 256, 272) are passed whole
//! to the link protocols as a [`LinkFrame`] with `raw_link` set. Ethernet II, IEEE 802.3 length frames with 802.2 LLC and SNAP,
//! 802.1Q/802.1ad VLAN tags (0x8100, 0x88a8, 0x9100, 0x9200; at most 3),
//! PPPoE session (0x8864), MPLS (0x8847/0x8848), Linux cooked v1/v2, BSD
//! Null/Loop, raw IP, PPP (9, 50) and Cisco HDLC (104). Tunnels are removed
//! (at most 3 layers): IP in IP (IPv4 or IPv6 carrying IPv4, protocol 4, or
//! IPv6, protocol 41: 6in4, 4in6, 6in6, 4in4), GRE carrying IP or Ethernet,
//! ERSPAN I/II/III (mirrored traffic), VXLAN on UDP port 4789; the packet
//! returned is the inner one.
//!
//! **Invariants**
//! - Never panics on any input; never allocates; no copies (all results borrow
//!   the input).
//! - A frame shorter than its headers is an error ([`Malformed`]) except for
//!   payloads: IP total length and UDP length trim padding, and a capture cut
//!   short by the snap length still decodes with a shorter payload.
//! - IP fragments: `frag` is set; the first fragment's L4 header is decoded
//!   from what is there (ports are available), later fragments carry the raw
//!   bytes in `L4::Other`. Feed every fragment to a [`Defragmenter`] and decode
//!   the reassembled bytes with [`decode_l4`].
//!
//! References: IEEE 802.3 / 802.2 / 802.1Q, RFC 791 (IPv4), RFC 8200 (IPv6
//! and its extension headers), RFC 4302 (AH), RFC 9293 (TCP), RFC 768 (UDP),
//! RFC 2516 (PPPoE), RFC 3032 (MPLS), RFC 1662 (PPP in HDLC-like framing),
//! RFC 2003 and RFC 4213 (IP in IP, 6in4), RFC 2473 (IPv6 tunnels),
//! RFC 2784/2890 (GRE), RFC 7348 (VXLAN), draft-foschiano-erspan (ERSPAN),
//! <https://www.tcpdump.org/linktypes.html> (SLL, SLL2, Null, Loop).

mod defrag;
#[cfg(test)]
mod tests;

pub use defrag::{DefragStats, Defragmenter};

use model::{LinkFrame, LinkType, MacAddr};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A decoded frame.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// Source MAC (Ethernet, or the sender address of Linux cooked captures).
    pub src_mac: Option<MacAddr>,
    /// Destination MAC (Ethernet only).
    pub dst_mac: Option<MacAddr>,
    /// Outermost 802.1Q VLAN id.
    pub vlan: Option<u16>,
    /// What the frame carries.
    pub net: Net<'a>,
}

/// Network-layer content of a frame.
#[derive(Debug, Clone, Copy)]
pub enum Net<'a> {
    /// IPv4 or IPv6.
    Ip(IpPacket<'a>),
    /// A non-IP frame with MAC addresses (LLDP 0x88cc, LLC/SNAP such as CDP, ARP, ...).
    Link(LinkFrame<'a>),
    /// Neither: a non-IP frame without MAC addresses, or nothing we understand.
    None,
}

/// An IPv4 or IPv6 packet.
#[derive(Debug, Clone, Copy)]
pub struct IpPacket<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (IPv6: after the extension headers; for IPv6
    /// non-first fragments, the next-header value of the fragment header).
    pub proto: u8,
    /// TTL / hop limit.
    pub ttl: u8,
    /// Set for fragments (not for IPv6 atomic fragments, which are whole datagrams).
    pub frag: Option<Fragment>,
    /// The decoded transport layer.
    pub l4: L4<'a>,
    /// Bytes starting at the L4 header (after all IP headers), trimmed to the
    /// IP length and to what was captured.
    pub payload: &'a [u8],
    /// For fragments, the fragment data (what follows the IPv4 header or the
    /// IPv6 fragment header; `offset` is relative to its start); it ends where
    /// `payload` ends. Empty for unfragmented packets. Used by [`Defragmenter`].
    pub frag_data: &'a [u8],
}

/// Fragment information from the IPv4 header or the IPv6 fragment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fragment {
    /// Identification (16 bits for IPv4, 32 for IPv6).
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    /// More fragments follow.
    pub more: bool,
}

/// Transport layer.
#[derive(Debug, Clone, Copy)]
pub enum L4<'a> {
    /// TCP segment.
    Tcp(TcpSegment<'a>),
    /// UDP datagram.
    Udp(UdpDatagram<'a>),
    /// Anything else (ICMP, ESP, non-first fragments, ...): the raw payload.
    Other(&'a [u8]),
}

/// A TCP segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Flags: FIN=1 SYN=2 RST=4 PSH=8 ACK=16 URG=32 ECE=64 CWR=128.
    pub flags: u8,
    /// Receive window (unscaled).
    pub window: u16,
    /// Bytes after the header and options.
    pub payload: &'a [u8],
}

/// TCP flag bits.
pub mod tcp_flags {
    /// No more data from sender.
    pub const FIN: u8 = 1;
    /// Synchronise sequence numbers.
    pub const SYN: u8 = 2;
    /// Reset the connection.
    pub const RST: u8 = 4;
    /// Push.
    pub const PSH: u8 = 8;
    /// Acknowledgement field is significant.
    pub const ACK: u8 = 16;
    /// Urgent pointer is significant.
    pub const URG: u8 = 32;
}

/// A UDP datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Bytes after the 8-byte header, trimmed to the UDP length.
    pub payload: &'a [u8],
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Malformed {
    /// Shorter than the link-layer header (or a VLAN/PPPoE/MPLS header).
    TooShort,
    /// IP version is neither 4 nor 6 where IP was expected.
    BadIpVersion,
    /// Captured bytes end inside the IPv4/IPv6 header.
    TruncatedIpHeader,
    /// IPv4 header length or total length is impossible.
    BadIpHeader,
    /// An IPv6 extension header runs past the packet.
    BadIpv6ExtHeader,
    /// More than 8 IPv6 extension headers.
    TooManyExtHeaders,
    /// Captured bytes end inside the TCP header.
    TruncatedTcpHeader,
    /// TCP data offset below 20 bytes.
    BadTcpHeader,
    /// Captured bytes end inside the UDP header.
    TruncatedUdpHeader,
    /// UDP length field between 1 and 7.
    BadUdpHeader,
    /// More than 3 VLAN tags.
    TooManyVlanTags,
    /// More than 8 MPLS labels.
    TooManyMplsLabels,
    /// PPPoE header with a wrong version/type.
    BadPppoe,
    /// Link type we do not decode.
    UnsupportedLink,
}

impl Malformed {
    /// Stable snake_case name for counting.
    pub fn name(&self) -> &'static str {
        match self {
            Malformed::TooShort => "too_short",
            Malformed::BadIpVersion => "bad_ip_version",
            Malformed::TruncatedIpHeader => "truncated_ip_header",
            Malformed::BadIpHeader => "bad_ip_header",
            Malformed::BadIpv6ExtHeader => "bad_ipv6_ext_header",
            Malformed::TooManyExtHeaders => "too_many_ext_headers",
            Malformed::TruncatedTcpHeader => "truncated_tcp_header",
            Malformed::BadTcpHeader => "bad_tcp_header",
            Malformed::TruncatedUdpHeader => "truncated_udp_header",
            Malformed::BadUdpHeader => "bad_udp_header",
            Malformed::TooManyVlanTags => "too_many_vlan_tags",
            Malformed::TooManyMplsLabels => "too_many_mpls_labels",
            Malformed::BadPppoe => "bad_pppoe",
            Malformed::UnsupportedLink => "unsupported_link",
        }
    }
}

impl std::fmt::Display for Malformed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for Malformed {}

/// EtherTypes we look at.
pub mod ethertype {
    /// IPv4.
    pub const IPV4: u16 = 0x0800;
    /// ARP.
    pub const ARP: u16 = 0x0806;
    /// IPv6.
    pub const IPV6: u16 = 0x86DD;
    /// 802.1Q VLAN tag.
    pub const VLAN: u16 = 0x8100;
    /// 802.1ad service tag (QinQ).
    pub const QINQ: u16 = 0x88A8;
    /// Pre-standard QinQ tags.
    pub const QINQ_OLD: u16 = 0x9100;
    /// Pre-standard QinQ tags (second variant).
    pub const QINQ_OLD2: u16 = 0x9200;
    /// PPPoE session stage.
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// MPLS unicast.
    pub const MPLS: u16 = 0x8847;
    /// MPLS multicast.
    pub const MPLS_MULTICAST: u16 = 0x8848;
    /// LLDP.
    pub const LLDP: u16 = 0x88CC;
}

const MAX_VLAN_TAGS: usize = 3;
const MAX_MPLS_LABELS: usize = 8;
const MAX_EXT_HEADERS: usize = 8;

#[inline]
fn be16(d: &[u8], off: usize) -> u16 {
    match d.get(off..off + 2) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

#[inline]
fn be32(d: &[u8], off: usize) -> u32 {
    match d.get(off..off + 4) {
        Some(&[a, b, c, e]) => u32::from_be_bytes([a, b, c, e]),
        _ => 0,
    }
}

#[inline]
fn mac(d: &[u8], off: usize) -> MacAddr {
    d.get(off..)
        .and_then(MacAddr::from_slice)
        .unwrap_or_default()
}

#[inline]
fn tail(d: &[u8], off: usize) -> &[u8] {
    d.get(off..).unwrap_or(&[])
}

/// MAC addresses known for the frame, for building a [`LinkFrame`].
#[derive(Clone, Copy)]
struct Macs {
    src: MacAddr,
    dst: MacAddr,
}

/// Decodes one frame of link type `link`. Tunnels (GRE, ERSPAN, VXLAN on UDP
/// port 4789) are decapsulated: the result describes the innermost packet
/// (if that decodes; otherwise the outer packet is returned as is).
///
/// Inlined, with the Ethernet/IP/TCP/UDP path, into the caller: the result
/// is then built in place instead of being copied out through several
/// frames (a `Packet` is 144 bytes).
///
/// The most common frame (Ethernet, unfragmented IPv4, TCP or UDP) is
/// decoded first into plain fields and the result written once: going
/// through the nested enums of the general path copies the half-built packet
/// between them, with loads wider than the stores that built it (a
/// store-forwarding stall per frame).
#[inline(always)]
pub fn decode(link: LinkType, data: &[u8]) -> Result<Packet<'_>, Malformed> {
    if link == LinkType::Ethernet {
        if let Some(c) = common(data) {
            let (src_mac, dst_mac, vlan) = (Some(c.src_mac), Some(c.dst_mac), c.vlan);
            let (src, dst, proto, ttl, payload) = (
                IpAddr::V4(c.src),
                IpAddr::V4(c.dst),
                c.proto,
                c.ttl,
                c.ip_payload,
            );
            let (src_port, dst_port, l4_payload) = (c.src_port, c.dst_port, c.l4_payload);
            return Ok(if c.proto == 6 {
                let l4 = L4::Tcp(TcpSegment {
                    src_port,
                    dst_port,
                    seq: c.seq,
                    ack: c.ack,
                    flags: c.flags,
                    window: c.window,
                    payload: l4_payload,
                });
                Packet {
                    src_mac,
                    dst_mac,
                    vlan,
                    net: Net::Ip(IpPacket {
                        src,
                        dst,
                        proto,
                        ttl,
                        frag: None,
                        l4,
                        payload,
                        frag_data: &[],
                    }),
                }
            } else {
                let l4 = L4::Udp(UdpDatagram {
                    src_port,
                    dst_port,
                    payload: l4_payload,
                });
                Packet {
                    src_mac,
                    dst_mac,
                    vlan,
                    net: Net::Ip(IpPacket {
                        src,
                        dst,
                        proto,
                        ttl,
                        frag: None,
                        l4,
                        payload,
                        frag_data: &[],
                    }),
                }
            });
        }
    }
    decode_general(link, data)
}

/// [`decode`] without the fast path for the common frame.
#[inline(always)]
fn decode_general(link: LinkType, data: &[u8]) -> Result<Packet<'_>, Malformed> {
    let mut r = match link {
        LinkType::Ethernet => ethernet(data),
        _ => decode_outer(link, data),
    };
    if let Ok(p) = &mut r {
        if let Net::Ip(ip) = &p.net {
            if ip.frag.is_none()
                && (matches!(ip.proto, IP_IN_IP | IPV6_IN_IP | 47)
                    || matches!(ip.l4, L4::Udp(u) if u.dst_port == VXLAN_PORT))
            {
                *p = decap(*p, 0);
            }
        }
    }
    r
}

/// The fields of the common frame, see [`common`].
#[derive(Clone, Copy)]
struct Common<'a> {
    src_mac: MacAddr,
    dst_mac: MacAddr,
    vlan: Option<u16>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    /// 6 (TCP) or 17 (UDP).
    proto: u8,
    ttl: u8,
    ip_payload: &'a [u8],
    src_port: u16,
    dst_port: u16,
    /// TCP only (0 for UDP).
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    l4_payload: &'a [u8],
}

/// Ethernet (up to [`MAX_VLAN_TAGS`] tags) carrying an unfragmented IPv4
/// TCP or UDP packet that is no VXLAN tunnel, read exactly as the general
/// path reads it. `None` for anything else, including every error: the
/// general path then decodes the frame (and reports the error).
#[inline(always)]
fn common(d: &[u8]) -> Option<Common<'_>> {
    let eth = d.first_chunk::<14>()?;
    let mut et = u16::from_be_bytes([eth[12], eth[13]]);
    let mut p = tail(d, 14);
    let mut vlan = None;
    let mut tags = 0;
    while matches!(
        et,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD | ethertype::QINQ_OLD2
    ) {
        tags += 1;
        let tag = p.first_chunk::<4>()?;
        if tags > MAX_VLAN_TAGS {
            return None;
        }
        if vlan.is_none() {
            vlan = Some(u16::from_be_bytes([tag[0], tag[1]]) & 0x0fff);
        }
        et = u16::from_be_bytes([tag[2], tag[3]]);
        p = tail(p, 4);
    }
    if et != ethertype::IPV4 {
        return None;
    }
    let h = p.first_chunk::<20>()?;
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if h[0] >> 4 != 4 || ihl < 20 || p.len() < ihl {
        return None;
    }
    let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
    let end = if total == 0 {
        p.len()
    } else if total < ihl {
        return None;
    } else {
        total.min(p.len())
    };
    // Fragments (more fragments set, or an offset) take the general path.
    if u16::from_be_bytes([h[6], h[7]]) & 0x3fff != 0 {
        return None;
    }
    let proto = h[9];
    let ip_payload = p.get(ihl..end).unwrap_or(&[]);
    let (src_port, dst_port, seq, ack, flags, window, l4_payload) = match proto {
        6 => {
            let t = tcp(ip_payload).ok()?;
            (
                t.src_port, t.dst_port, t.seq, t.ack, t.flags, t.window, t.payload,
            )
        }
        17 => {
            let u = udp(ip_payload).ok()?;
            if u.dst_port == VXLAN_PORT {
                return None;
            }
            (u.src_port, u.dst_port, 0, 0, 0, 0, u.payload)
        }
        _ => return None,
    };
    Some(Common {
        src_mac: mac(d, 6),
        dst_mac: mac(d, 0),
        vlan,
        src: Ipv4Addr::new(h[12], h[13], h[14], h[15]),
        dst: Ipv4Addr::new(h[16], h[17], h[18], h[19]),
        proto,
        ttl: h[8],
        ip_payload,
        src_port,
        dst_port,
        seq,
        ack,
        flags,
        window,
        l4_payload,
    })
}

/// Most tunnel layers removed from one frame.
const MAX_TUNNEL_DEPTH: u8 = 3;
/// IANA port for VXLAN.
const VXLAN_PORT: u16 = 4789;
/// IP protocol number of IPv4 encapsulated in IP (RFC 2003; 4in6 too).
const IP_IN_IP: u8 = 4;
/// IP protocol number of IPv6 encapsulated in IP (RFC 4213 6in4; 6in6).
const IPV6_IN_IP: u8 = 41;

/// Replaces an IP-in-IP/GRE/ERSPAN/VXLAN packet by what it carries, if that decodes.
#[cold]
#[inline(never)]
fn decap(outer: Packet<'_>, depth: u8) -> Packet<'_> {
    let Net::Ip(ip) = outer.net else { return outer };
    if depth >= MAX_TUNNEL_DEPTH || ip.frag.is_some() {
        return outer;
    }
    let inner = match ip.l4 {
        L4::Other(g) if ip.proto == 47 => gre(g),
        L4::Other(inner) if ip.proto == IP_IN_IP => Some(ipv4(inner).map(|i| bare(Net::Ip(i)))),
        L4::Other(inner) if ip.proto == IPV6_IN_IP => Some(ipv6(inner).map(|i| bare(Net::Ip(i)))),
        L4::Udp(u) if u.dst_port == VXLAN_PORT => vxlan(u.payload),
        _ => None,
    };
    match inner {
        Some(Ok(p)) => decap(p, depth + 1),
        _ => outer,
    }
}

/// GRE version 0 (RFC 2784/2890): flags/version(2) protocol(2) [checksum(2)
/// reserved(2)] [key(4)] [sequence(4)], carrying IP, Ethernet (0x6558) or
/// ERSPAN type I/II (0x88BE) and III (0x22EB).
fn gre(g: &[u8]) -> Option<Result<Packet<'_>, Malformed>> {
    let flags = be16(g, 0);
    // Version 1 is PPTP's enhanced GRE; the routing bit is obsolete.
    if g.len() < 4 || flags & 0x0007 != 0 || flags & 0x4000 != 0 {
        return None;
    }
    let seq = flags & 0x1000 != 0;
    let off = 4 + 4
        * (usize::from(flags & 0x8000 != 0) + usize::from(flags & 0x2000 != 0) + usize::from(seq));
    let rest = g.get(off..)?;
    match be16(g, 2) {
        ethertype::IPV4 | ethertype::IPV6 => Some(raw_ip(rest).map(bare)),
        0x6558 => Some(ethernet(rest)),
        // ERSPAN type II has an 8-byte header (and a sequence number); type I has neither.
        0x88BE => Some(ethernet(if seq { rest.get(8..)? } else { rest })),
        // ERSPAN type III: 12-byte header, plus an 8-byte platform subheader if the O bit is set.
        0x22EB => {
            let o = rest.get(11)? & 1 == 1;
            Some(ethernet(rest.get(if o { 20 } else { 12 }..)?))
        }
        _ => None,
    }
}

/// VXLAN (RFC 7348): flags(1, I bit 0x08) reserved(3) VNI(3) reserved(1), then Ethernet.
fn vxlan(u: &[u8]) -> Option<Result<Packet<'_>, Malformed>> {
    match u {
        [flags, _, _, _, _, _, _, 0, rest @ ..] if flags & 0x08 != 0 => Some(ethernet(rest)),
        _ => None,
    }
}

/// The link types other than Ethernet (whose fast path [`decode`] inlines).
#[inline(never)]
fn decode_outer(link: LinkType, data: &[u8]) -> Result<Packet<'_>, Malformed> {
    match link {
        LinkType::Ethernet => ethernet(data),
        LinkType::Raw => Ok(bare(raw_ip(data)?)),
        LinkType::Ipv4 => Ok(bare(Net::Ip(ipv4(data)?))),
        LinkType::Ipv6 => Ok(bare(Net::Ip(ipv6(data)?))),
        LinkType::Null => null(data, false),
        LinkType::Loop => null(data, true),
        LinkType::LinuxSll => sll(data),
        LinkType::LinuxSll2 => sll2(data),
        // PPP (9) and PPP in HDLC-like framing (50).
        LinkType::Other(9 | 50) => Ok(bare(ppp(data)?)),
        // Cisco HDLC: address(1) control(1) EtherType(2).
        LinkType::Other(104) => {
            if data.len() < 4 {
                return Err(Malformed::TooShort);
            }
            let mut vlan = None;
            let net = by_ethertype(be16(data, 2), tail(data, 4), None, &mut vlan)?;
            Ok(Packet {
                src_mac: None,
                dst_mac: None,
                vlan,
                net,
            })
        }
        // Bluetooth LE link layer (251), with PHY header (256), Nordic
        // nRF sniffer (272): handed whole to the link protocols.
        LinkType::BluetoothLeLl | LinkType::BluetoothLeLlWithPhdr | LinkType::NordicBle => {
            Ok(bare(Net::Link(LinkFrame {
                dst: MacAddr::default(),
                src: MacAddr::default(),
                ethertype: None,
                snap: None,
                raw_link: Some(link.to_linktype()),
                payload: data,
            })))
        }
        LinkType::Other(_) => Err(Malformed::UnsupportedLink),
    }
}

fn bare(net: Net<'_>) -> Packet<'_> {
    Packet {
        src_mac: None,
        dst_mac: None,
        vlan: None,
        net,
    }
}

#[inline(always)]
fn ethernet(d: &[u8]) -> Result<Packet<'_>, Malformed> {
    // dst(6) src(6) EtherType/length(2)
    if d.len() < 14 {
        return Err(Malformed::TooShort);
    }
    let macs = Macs {
        dst: mac(d, 0),
        src: mac(d, 6),
    };
    let mut vlan = None;
    let net = by_ethertype(be16(d, 12), tail(d, 14), Some(macs), &mut vlan)?;
    Ok(Packet {
        src_mac: Some(macs.src),
        dst_mac: Some(macs.dst),
        vlan,
        net,
    })
}

/// Dispatches on an EtherType (or 802.3 length), following VLAN tags.
#[inline(always)]
fn by_ethertype<'a>(
    mut et: u16,
    mut p: &'a [u8],
    macs: Option<Macs>,
    vlan: &mut Option<u16>,
) -> Result<Net<'a>, Malformed> {
    let mut tags = 0;
    while matches!(
        et,
        ethertype::VLAN | ethertype::QINQ | ethertype::QINQ_OLD | ethertype::QINQ_OLD2
    ) {
        // TCI(2: PCP 3, DEI 1, VID 12) EtherType(2)
        tags += 1;
        if tags > MAX_VLAN_TAGS {
            return Err(Malformed::TooManyVlanTags);
        }
        if p.len() < 4 {
            return Err(Malformed::TooShort);
        }
        if vlan.is_none() {
            *vlan = Some(be16(p, 0) & 0x0fff);
        }
        et = be16(p, 2);
        p = tail(p, 4);
    }
    match et {
        ethertype::IPV4 => Ok(Net::Ip(ipv4(p)?)),
        ethertype::IPV6 => Ok(Net::Ip(ipv6(p)?)),
        _ => by_ethertype_rare(et, p, macs, vlan),
    }
}

/// The uncommon EtherTypes, kept out of line so the IP fast path stays small.
#[inline(never)]
fn by_ethertype_rare<'a>(
    et: u16,
    p: &'a [u8],
    macs: Option<Macs>,
    vlan: &mut Option<u16>,
) -> Result<Net<'a>, Malformed> {
    match et {
        ethertype::PPPOE_SESSION => pppoe(p, macs),
        ethertype::MPLS | ethertype::MPLS_MULTICAST => mpls(p, macs),
        0..=1500 => {
            // IEEE 802.3 length field: the payload is an 802.2 LLC frame.
            let len = usize::from(et).min(p.len());
            llc(p.get(..len).unwrap_or(p), macs, vlan)
        }
        _ => Ok(link_frame(macs, Some(et), None, p)),
    }
}

fn link_frame<'a>(
    macs: Option<Macs>,
    ethertype: Option<u16>,
    snap: Option<([u8; 3], u16)>,
    payload: &'a [u8],
) -> Net<'a> {
    match macs {
        Some(m) => Net::Link(LinkFrame {
            dst: m.dst,
            src: m.src,
            ethertype,
            snap,
            raw_link: None,
            payload,
        }),
        None => Net::None,
    }
}

/// IEEE 802.2 LLC, with SNAP (DSAP 0xAA, SSAP 0xAA, UI 0x03, OUI(3), PID(2)).
fn llc<'a>(p: &'a [u8], macs: Option<Macs>, vlan: &mut Option<u16>) -> Result<Net<'a>, Malformed> {
    if let Some(&[0xAA, 0xAA, 0x03, o1, o2, o3, _, _]) = p.get(..8) {
        let oui = [o1, o2, o3];
        let pid = be16(p, 6);
        let rest = tail(p, 8);
        // RFC 1042: OUI 00-00-00 carries an EtherType.
        if oui == [0, 0, 0] && matches!(pid, ethertype::IPV4 | ethertype::IPV6 | ethertype::VLAN) {
            return by_ethertype(pid, rest, macs, vlan);
        }
        return Ok(link_frame(macs, None, Some((oui, pid)), rest));
    }
    Ok(link_frame(macs, None, None, p))
}

/// PPPoE session: ver/type(1)=0x11 code(1)=0 session(2) length(2), then PPP protocol.
fn pppoe(p: &[u8], macs: Option<Macs>) -> Result<Net<'_>, Malformed> {
    if p.len() < 8 {
        return Err(Malformed::TooShort);
    }
    if p.first() != Some(&0x11) {
        return Err(Malformed::BadPppoe);
    }
    let len = usize::from(be16(p, 4)).min(p.len() - 6);
    let body = p.get(6..6 + len).unwrap_or(&[]);
    match ppp_protocol(body) {
        Some((0x0021, ip)) => Ok(Net::Ip(ipv4(ip)?)),
        Some((0x0057, ip)) => Ok(Net::Ip(ipv6(ip)?)),
        _ => Ok(link_frame(macs, Some(ethertype::PPPOE_SESSION), None, p)),
    }
}

/// Reads a PPP protocol field (1 byte if compressed: low bit set) and the rest.
fn ppp_protocol(p: &[u8]) -> Option<(u16, &[u8])> {
    let first = *p.first()?;
    if first & 1 == 1 {
        Some((u16::from(first), tail(p, 1)))
    } else {
        (p.len() >= 2).then(|| (be16(p, 0), tail(p, 2)))
    }
}

/// PPP, optionally with HDLC-like address/control bytes 0xFF 0x03.
fn ppp(d: &[u8]) -> Result<Net<'_>, Malformed> {
    let p = match d {
        [0xFF, 0x03, rest @ ..] => rest,
        _ => d,
    };
    match ppp_protocol(p) {
        Some((0x0021, ip)) => Ok(Net::Ip(ipv4(ip)?)),
        Some((0x0057, ip)) => Ok(Net::Ip(ipv6(ip)?)),
        Some(_) => Ok(Net::None),
        None => Err(Malformed::TooShort),
    }
}

/// MPLS label stack (label 20, TC 3, bottom-of-stack 1, TTL 8); IP guessed by version nibble.
fn mpls(mut p: &[u8], macs: Option<Macs>) -> Result<Net<'_>, Malformed> {
    for _ in 0..MAX_MPLS_LABELS {
        if p.len() < 4 {
            return Err(Malformed::TooShort);
        }
        let bottom = p.get(2).is_some_and(|b| b & 1 == 1);
        p = tail(p, 4);
        if bottom {
            return match p.first().map(|b| b >> 4) {
                Some(4 | 6) => raw_ip(p),
                _ => Ok(link_frame(macs, Some(ethertype::MPLS), None, p)),
            };
        }
    }
    Err(Malformed::TooManyMplsLabels)
}

/// Raw IP: version from the first nibble.
#[inline]
fn raw_ip(d: &[u8]) -> Result<Net<'_>, Malformed> {
    match d.first().map(|b| b >> 4) {
        Some(4) => Ok(Net::Ip(ipv4(d)?)),
        Some(6) => Ok(Net::Ip(ipv6(d)?)),
        Some(_) => Err(Malformed::BadIpVersion),
        None => Err(Malformed::TooShort),
    }
}

/// BSD Null (host byte order family) and OpenBSD Loop (network order).
fn null(d: &[u8], network_order: bool) -> Result<Packet<'_>, Malformed> {
    let Some(&[a, b, c, e]) = d.get(..4) else {
        return Err(Malformed::TooShort);
    };
    // The capturing host's byte order is unknown: families are small numbers,
    // so two leading zero bytes mean big-endian.
    let family = if network_order || (a == 0 && b == 0) {
        u32::from_be_bytes([a, b, c, e])
    } else {
        u32::from_le_bytes([a, b, c, e])
    };
    let p = tail(d, 4);
    let net = match family {
        2 => Net::Ip(ipv4(p)?),
        // AF_INET6: 24 NetBSD/OpenBSD/BSD/OS, 28 FreeBSD, 30 Darwin, 10 Linux.
        10 | 24 | 28 | 30 => Net::Ip(ipv6(p)?),
        _ => Net::None,
    };
    Ok(bare(net))
}

/// Linux cooked v1: pkttype(2) hatype(2) halen(2) addr(8) protocol(2).
fn sll(d: &[u8]) -> Result<Packet<'_>, Malformed> {
    if d.len() < 16 {
        return Err(Malformed::TooShort);
    }
    let hatype = be16(d, 2);
    let halen = be16(d, 4);
    cooked(be16(d, 14), hatype, halen, mac(d, 6), tail(d, 16))
}

/// Linux cooked v2: protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1) addr(8).
fn sll2(d: &[u8]) -> Result<Packet<'_>, Malformed> {
    if d.len() < 20 {
        return Err(Malformed::TooShort);
    }
    let hatype = be16(d, 8);
    let halen = d.get(11).copied().map(u16::from).unwrap_or(0);
    cooked(be16(d, 0), hatype, halen, mac(d, 12), tail(d, 20))
}

fn cooked(
    proto: u16,
    hatype: u16,
    halen: u16,
    addr: MacAddr,
    p: &[u8],
) -> Result<Packet<'_>, Malformed> {
    // ARPHRD_NETLINK (824) frames carry netlink messages, not network traffic.
    if hatype == 824 {
        return Ok(bare(Net::None));
    }
    // The destination is not recorded; link frames get an all-zero destination.
    let src = (halen == 6).then_some(addr);
    let macs = src.map(|src| Macs {
        src,
        dst: MacAddr::default(),
    });
    let mut vlan = None;
    let net = match proto {
        // ETH_P_802_2: the payload is an 802.2 LLC frame.
        0x0004 => llc(p, macs, &mut vlan)?,
        // ETH_P_802_3 (Novell raw 802.3) and other non-EtherType protocol values.
        0..=0x05FF => link_frame(macs, None, None, p),
        et => by_ethertype(et, p, macs, &mut vlan)?,
    };
    Ok(Packet {
        src_mac: src,
        dst_mac: None,
        vlan,
        net,
    })
}

/// IPv4 (RFC 791).
#[inline(always)]
fn ipv4(d: &[u8]) -> Result<IpPacket<'_>, Malformed> {
    // ver/ihl(1) tos(1) total(2) id(2) flags/frag(2) ttl(1) proto(1) csum(2) src(4) dst(4) options
    let Some(h) = d.get(..20) else {
        return Err(Malformed::TruncatedIpHeader);
    };
    if h[0] >> 4 != 4 {
        return Err(Malformed::BadIpVersion);
    }
    let ihl = usize::from(h[0] & 0x0f) * 4;
    if ihl < 20 {
        return Err(Malformed::BadIpHeader);
    }
    if d.len() < ihl {
        return Err(Malformed::TruncatedIpHeader);
    }
    let total = usize::from(be16(h, 2));
    // Total length 0 happens with TCP segmentation offload: use what was captured.
    let end = if total == 0 {
        d.len()
    } else if total < ihl {
        return Err(Malformed::BadIpHeader);
    } else {
        total.min(d.len())
    };
    let ff = be16(h, 6);
    let more = ff & 0x2000 != 0;
    let offset = u32::from(ff & 0x1fff) * 8;
    let proto = h[9];
    let payload = d.get(ihl..end).unwrap_or(&[]);
    let src = IpAddr::V4(Ipv4Addr::new(h[12], h[13], h[14], h[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(h[16], h[17], h[18], h[19]));
    let (frag, frag_data, l4) = if more || offset != 0 {
        let l4 = if offset == 0 {
            decode_l4(proto, payload).unwrap_or(L4::Other(payload))
        } else {
            L4::Other(payload)
        };
        (
            Some(Fragment {
                id: u32::from(be16(h, 4)),
                offset,
                more,
            }),
            payload,
            l4,
        )
    } else {
        (None, &[][..], decode_l4(proto, payload)?)
    };
    Ok(IpPacket {
        src,
        dst,
        proto,
        ttl: h[8],
        frag,
        l4,
        payload,
        frag_data,
    })
}

fn ipv6_addr(d: &[u8], off: usize) -> IpAddr {
    let a: [u8; 16] = d
        .get(off..off + 16)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; 16]);
    IpAddr::V6(Ipv6Addr::from(a))
}

/// IPv6 (RFC 8200) with extension headers.
#[inline(never)]
fn ipv6(d: &[u8]) -> Result<IpPacket<'_>, Malformed> {
    // ver/tc/flow(4) payload length(2) next header(1) hop limit(1) src(16) dst(16)
    let Some(h) = d.get(..40) else {
        return Err(Malformed::TruncatedIpHeader);
    };
    if h[0] >> 4 != 6 {
        return Err(Malformed::BadIpVersion);
    }
    let plen = usize::from(be16(h, 4));
    // Payload length 0: jumbogram or segmentation offload; use what was captured.
    let end = if plen == 0 {
        d.len()
    } else {
        (40 + plen).min(d.len())
    };
    let body = d.get(40..end).unwrap_or(&[]);
    let mut nh = h[6];
    let mut off = 0usize;
    let mut frag: Option<Fragment> = None;
    let mut frag_start = 0usize;
    let mut count = 0;
    loop {
        let len = match nh {
            // Hop-by-hop, routing, destination options, mobility, HIP, shim6: (len + 1) * 8.
            0 | 43 | 60 | 135 | 139 | 140 => body.get(off + 1).map(|&l| (usize::from(l) + 1) * 8),
            // Authentication header: (len + 2) * 4.
            51 => body.get(off + 1).map(|&l| (usize::from(l) + 2) * 4),
            // Fragment header: next(1) reserved(1) offset/flags(2) id(4).
            44 => {
                if frag.is_some() {
                    // A second fragment header: leave the rest as payload.
                    break;
                }
                Some(8)
            }
            _ => break,
        };
        count += 1;
        if count > MAX_EXT_HEADERS {
            return Err(Malformed::TooManyExtHeaders);
        }
        let Some(len) = len else {
            return Err(Malformed::BadIpv6ExtHeader);
        };
        let Some(ext) = body.get(off..off + len) else {
            return Err(Malformed::BadIpv6ExtHeader);
        };
        let next = ext[0];
        off += len;
        if nh == 44 {
            let of = be16(ext, 2);
            let offset = u32::from(of & 0xfff8);
            let more = of & 1 == 1;
            // Atomic fragments (offset 0, no more) are whole datagrams (RFC 6946).
            if offset != 0 || more {
                frag = Some(Fragment {
                    id: be32(ext, 4),
                    offset,
                    more,
                });
                frag_start = off;
                if offset != 0 {
                    nh = next;
                    break;
                }
            }
        }
        nh = next;
    }
    let payload = tail(body, off);
    let (frag_data, l4) = match frag {
        Some(f) if f.offset != 0 => (tail(body, frag_start), L4::Other(payload)),
        Some(_) => (
            tail(body, frag_start),
            decode_l4(nh, payload).unwrap_or(L4::Other(payload)),
        ),
        None => (&[][..], decode_l4(nh, payload)?),
    };
    Ok(IpPacket {
        src: ipv6_addr(h, 8),
        dst: ipv6_addr(h, 24),
        proto: nh,
        ttl: h[7],
        frag,
        l4,
        payload,
        frag_data,
    })
}

/// Decodes a transport header: TCP (6), UDP (17); anything else is `Other`.
#[inline(always)]
pub fn decode_l4(proto: u8, payload: &[u8]) -> Result<L4<'_>, Malformed> {
    match proto {
        6 => tcp(payload).map(L4::Tcp),
        17 => udp(payload).map(L4::Udp),
        _ => Ok(L4::Other(payload)),
    }
}

#[inline(always)]
fn tcp(p: &[u8]) -> Result<TcpSegment<'_>, Malformed> {
    // sport(2) dport(2) seq(4) ack(4) offset/reserved(1) flags(1) window(2) csum(2) urg(2) options
    let Some(h) = p.get(..20) else {
        return Err(Malformed::TruncatedTcpHeader);
    };
    let doff = usize::from(h[12] >> 4) * 4;
    if doff < 20 {
        return Err(Malformed::BadTcpHeader);
    }
    let Some(payload) = p.get(doff..) else {
        return Err(Malformed::TruncatedTcpHeader);
    };
    Ok(TcpSegment {
        src_port: be16(h, 0),
        dst_port: be16(h, 2),
        seq: be32(h, 4),
        ack: be32(h, 8),
        flags: h[13],
        window: be16(h, 14),
        payload,
    })
}

#[inline(always)]
fn udp(p: &[u8]) -> Result<UdpDatagram<'_>, Malformed> {
    // sport(2) dport(2) length(2) csum(2)
    if p.len() < 8 {
        return Err(Malformed::TruncatedUdpHeader);
    }
    let len = usize::from(be16(p, 4));
    let payload = match len {
        // Length 0: jumbogram (RFC 2675) or offload; use what is there.
        0 => tail(p, 8),
        1..=7 => return Err(Malformed::BadUdpHeader),
        _ => p.get(8..len.min(p.len())).unwrap_or(&[]),
    };
    Ok(UdpDatagram {
        src_port: be16(p, 0),
        dst_port: be16(p, 2),
        payload,
    })
}
