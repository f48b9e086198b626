//! Unit tests for frame decoding and reassembly: field-commented frames for
//! every link type, edge cases, truncation at every offset, random bytes.

use super::*;
use model::Timestamp;

// ---- builders (for the less interesting cases) ----

fn ip4h(proto: u8, payload: &[u8], id: u16, flags_frag: u16) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut v = vec![0x45, 0x00]; // version 4, IHL 5; TOS
    v.extend_from_slice(&total.to_be_bytes()); // total length
    v.extend_from_slice(&id.to_be_bytes()); // identification
    v.extend_from_slice(&flags_frag.to_be_bytes()); // flags, fragment offset / 8
    v.extend_from_slice(&[64, proto, 0, 0]); // TTL, protocol, checksum
    v.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]); // src, dst
    v.extend_from_slice(payload);
    v
}

fn ip6h(nh: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x60, 0, 0, 0]; // version 6, traffic class, flow label
    v.extend_from_slice(&(payload.len() as u16).to_be_bytes()); // payload length
    v.extend_from_slice(&[nh, 255]); // next header, hop limit
    v.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]); // src fe80::1
    v.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]); // dst fe80::2
    v.extend_from_slice(payload);
    v
}

fn udph(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&sport.to_be_bytes());
    v.extend_from_slice(&dport.to_be_bytes());
    v.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes()); // length
    v.extend_from_slice(&[0, 0]); // checksum
    v.extend_from_slice(payload);
    v
}

fn tcph(payload: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x9c, 0x40, // src port 40000
        0x00, 0x50, // dst port 80
        0, 0, 0, 1, // seq
        0, 0, 0, 0, // ack
        0x50, 0x02, // data offset 5, SYN
        0xff, 0xff, // window
        0, 0, 0, 0, // checksum, urgent
    ];
    v.extend_from_slice(payload);
    v
}

fn eth(et: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
    ];
    v.extend_from_slice(&et.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn ip<'a>(p: &Packet<'a>) -> IpPacket<'a> {
    match p.net {
        Net::Ip(ip) => ip,
        other => panic!("not IP: {other:?}"),
    }
}

fn l4<'a>(p: &Packet<'a>) -> L4<'a> {
    match p.net {
        Net::Ip(ip) => ip.l4,
        other => panic!("not IP: {other:?}"),
    }
}

fn link<'a>(p: &Packet<'a>) -> LinkFrame<'a> {
    match p.net {
        Net::Link(l) => l,
        other => panic!("not a link frame: {other:?}"),
    }
}

// ---- Ethernet, VLAN, LLC ----

/// Ethernet II + IPv4 + TCP with options and 4 payload bytes.
const ETH_IP4_TCP: &[u8] = &[
    0x00, 0x1b, 0x21, 0x3c, 0x9d, 0xf8, // dst MAC
    0x00, 0x0c, 0x29, 0x6a, 0x1d, 0x01, // src MAC
    0x08, 0x00, // EtherType IPv4
    0x45, 0x00, // version 4, IHL 5, TOS
    0x00, 0x30, // total length 48
    0x12, 0x34, // identification
    0x40, 0x00, // flags DF, offset 0
    0x40, 0x06, // TTL 64, protocol TCP
    0x00, 0x00, // checksum
    0xc0, 0xa8, 0x01, 0x0a, // src 192.168.1.10
    0xc0, 0xa8, 0x01, 0x14, // dst 192.168.1.20
    0xc3, 0x50, // src port 50000
    0x0a, 0x0f, // dst port 2575 (MLLP)
    0x00, 0x00, 0x03, 0xe8, // seq 1000
    0x00, 0x00, 0x07, 0xd0, // ack 2000
    0x60, 0x18, // data offset 6 (24 bytes), flags PSH|ACK
    0x20, 0x00, // window 8192
    0x00, 0x00, 0x00, 0x00, // checksum, urgent pointer
    0x01, 0x01, 0x01, 0x00, // options: NOP NOP NOP EOL
    0x0b, b'M', b'S', b'H', // payload: MLLP start + "MSH"
];

#[test]
fn ethernet_ipv4_tcp() {
    let p = decode(LinkType::Ethernet, ETH_IP4_TCP).unwrap();
    assert_eq!(p.dst_mac, MacAddr::parse("00:1b:21:3c:9d:f8"));
    assert_eq!(p.src_mac, MacAddr::parse("00:0c:29:6a:1d:01"));
    assert_eq!(p.vlan, None);
    let i = ip(&p);
    assert_eq!(i.src, "192.168.1.10".parse::<IpAddr>().unwrap());
    assert_eq!(i.dst, "192.168.1.20".parse::<IpAddr>().unwrap());
    assert_eq!((i.proto, i.ttl, i.frag), (6, 64, None));
    let L4::Tcp(t) = l4(&p) else { panic!() };
    assert_eq!(
        t,
        TcpSegment {
            src_port: 50000,
            dst_port: 2575,
            seq: 1000,
            ack: 2000,
            flags: tcp_flags::PSH | tcp_flags::ACK,
            window: 8192,
            payload: b"\x0bMSH"
        }
    );
    let Net::Ip(full) = p.net else { panic!() };
    assert_eq!(full.payload.len(), 28);
    assert!(full.frag_data.is_empty());
}

#[test]
fn ethernet_padding_is_trimmed_and_snaplen_truncation_decodes() {
    // Minimum-size frame: IPv4/UDP with 2 payload bytes, padded to 60 bytes.
    let mut f = eth(0x0800, &ip4h(17, &udph(53, 1000, b"hi"), 1, 0));
    f.resize(60, 0);
    let L4::Udp(u) = l4(&decode(LinkType::Ethernet, &f).unwrap()) else {
        panic!()
    };
    assert_eq!((u.src_port, u.dst_port, u.payload), (53, 1000, &b"hi"[..]));

    // Captured shorter than the IP total length: payload is what was captured.
    let f = eth(0x0800, &ip4h(6, &tcph(&[7u8; 100]), 1, 0));
    let cut = &f[..14 + 20 + 20 + 10];
    let L4::Tcp(t) = l4(&decode(LinkType::Ethernet, cut).unwrap()) else {
        panic!()
    };
    assert_eq!(t.payload, &[7u8; 10]);
}

#[test]
fn vlan_tags() {
    let inner = ip6h(17, &udph(5353, 5353, b"mdns"));
    // 802.1Q: TCI 0x2064 = PCP 1, VID 100.
    let mut f = eth(0x8100, &[0x20, 0x64, 0x86, 0xdd]);
    f.extend_from_slice(&inner);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!(p.vlan, Some(100));
    assert!(matches!(
        l4(&p),
        L4::Udp(UdpDatagram {
            src_port: 5353,
            payload: b"mdns",
            ..
        })
    ));

    // QinQ: S-tag 0x88a8 VID 7, then C-tag 0x8100 VID 100, then 0x9100 VID 5.
    let mut f = eth(
        0x88a8,
        &[
            0x00, 0x07, 0x81, 0x00, 0x00, 0x64, 0x91, 0x00, 0x00, 0x05, 0x86, 0xdd,
        ],
    );
    f.extend_from_slice(&inner);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!(p.vlan, Some(7), "outermost tag");
    assert!(matches!(p.net, Net::Ip(_)));

    // Four tags: refused.
    let f = eth(
        0x8100,
        &[
            0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x81, 0, 0, 4, 0x08, 0x00,
        ],
    );
    assert_eq!(
        decode(LinkType::Ethernet, &f).unwrap_err(),
        Malformed::TooManyVlanTags
    );
    // Tag cut short.
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8100, &[0, 1])).unwrap_err(),
        Malformed::TooShort
    );
}

/// IEEE 802.3 + LLC/SNAP carrying CDP.
const CDP_FRAME: &[u8] = &[
    0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc, // dst: CDP multicast
    0x00, 0x1e, 0x4a, 0x01, 0x02, 0x03, // src
    0x00, 0x0e, // 802.3 length 14
    0xaa, 0xaa, 0x03, // LLC: DSAP SNAP, SSAP SNAP, UI
    0x00, 0x00, 0x0c, // SNAP OUI Cisco
    0x20, 0x00, // SNAP protocol id CDP
    0x02, 0xb4, 0x12, 0x34, 0x00, 0x01, // CDP: version 2, TTL 180, checksum, TLV type 1...
    0xde, 0xad, 0xbe, 0xef, // padding beyond the 802.3 length
];

#[test]
fn llc_snap_cdp() {
    let p = decode(LinkType::Ethernet, CDP_FRAME).unwrap();
    let l = link(&p);
    assert_eq!(l.ethertype, None);
    assert_eq!(l.snap, Some(([0x00, 0x00, 0x0c], 0x2000)));
    assert_eq!(
        l.payload,
        &[0x02, 0xb4, 0x12, 0x34, 0x00, 0x01],
        "trimmed to the 802.3 length"
    );
    assert_eq!(l.src, MacAddr::parse("00:1e:4a:01:02:03").unwrap());
    assert_eq!(l.dst, MacAddr::parse("01:00:0c:cc:cc:cc").unwrap());
}

#[test]
fn plain_llc_and_rfc1042_snap() {
    // STP: 802.3 length 7, LLC DSAP 0x42 SSAP 0x42 UI, BPDU bytes.
    let f = eth(7, &[0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00]);
    let l = link(&decode(LinkType::Ethernet, &f).unwrap());
    assert_eq!((l.ethertype, l.snap, l.payload.len()), (None, None, 7));
    // RFC 1042: SNAP OUI 00-00-00 with EtherType IPv4 is plain IP.
    let inner = ip4h(17, &udph(1, 2, b"x"), 9, 0);
    let mut llc = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    llc.extend_from_slice(&inner);
    let f = eth(llc.len() as u16, &llc);
    assert!(matches!(
        l4(&decode(LinkType::Ethernet, &f).unwrap()),
        L4::Udp(_)
    ));
}

#[test]
fn lldp_and_arp_are_link_frames() {
    // LLDP: chassis id TLV (type 1, len 7, subtype MAC) then end TLV.
    let f = eth(0x88cc, &[0x02, 0x07, 0x04, 0, 1, 2, 3, 4, 5, 0, 0]);
    let l = link(&decode(LinkType::Ethernet, &f).unwrap());
    assert_eq!(l.ethertype, Some(0x88cc));
    assert_eq!(l.payload.len(), 11);
    // ARP request (28 bytes), padded.
    let mut f = eth(0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]);
    f.resize(60, 0);
    assert_eq!(
        link(&decode(LinkType::Ethernet, &f).unwrap()).ethertype,
        Some(0x0806)
    );
    // LLDP behind a VLAN tag.
    let f = eth(0x8100, &[0, 10, 0x88, 0xcc, 0x00, 0x00]);
    let p = decode(LinkType::Ethernet, &f).unwrap();
    assert_eq!((p.vlan, link(&p).ethertype), (Some(10), Some(0x88cc)));
}

#[test]
fn pppoe_and_mpls() {
    let inner = ip4h(6, &tcph(b"z"), 1, 0);
    // PPPoE: ver/type 0x11, code 0 (session), session id 0x0001, length, PPP protocol 0x0021.
    let mut s = vec![0x11, 0x00, 0x00, 0x01];
    s.extend_from_slice(&((inner.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(&[0x00, 0x21]);
    s.extend_from_slice(&inner);
    assert!(matches!(
        l4(&decode(LinkType::Ethernet, &eth(0x8864, &s)).unwrap()),
        L4::Tcp(_)
    ));
    let mut bad = s.clone();
    bad[0] = 0x22;
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8864, &bad)).unwrap_err(),
        Malformed::BadPppoe
    );
    // PPPoE carrying LCP: a link frame.
    let lcp = [0x11, 0x00, 0x00, 0x01, 0x00, 0x04, 0xc0, 0x21, 0x01, 0x01];
    assert_eq!(
        link(&decode(LinkType::Ethernet, &eth(0x8864, &lcp)).unwrap()).ethertype,
        Some(0x8864)
    );
    // MPLS: label 16 (not bottom), label 17 (bottom of stack), then IPv4.
    let mut m = vec![0x00, 0x01, 0x00, 0x40, 0x00, 0x01, 0x11, 0x40];
    m.extend_from_slice(&inner);
    assert!(matches!(
        l4(&decode(LinkType::Ethernet, &eth(0x8847, &m)).unwrap()),
        L4::Tcp(_)
    ));
    let deep = [0u8; 40];
    assert_eq!(
        decode(LinkType::Ethernet, &eth(0x8847, &deep)).unwrap_err(),
        Malformed::TooManyMplsLabels
    );
}

// ---- other link types ----

/// Linux cooked capture v1 + IPv4 + UDP.
const SLL_IP4_UDP: &[u8] = &[
    0x00, 0x00, // packet type: to us
    0x00, 0x01, // ARPHRD_ETHER
    0x00, 0x06, // address length 6
    0x00, 0x0c, 0x29, 0x6a, 0x1d, 0x01, 0x00, 0x00, // sender address (8 bytes, padded)
    0x08, 0x00, // protocol IPv4
    0x45, 0x00, 0x00, 0x1d, // IPv4, total length 29
    0x00, 0x01, 0x00, 0x00, // id 1, no fragmentation
    0x80, 0x11, 0x00, 0x00, // TTL 128, UDP, checksum
    0x0a, 0x00, 0x00, 0x05, // src 10.0.0.5
    0x0a, 0x00, 0x00, 0xff, // dst 10.0.0.255
    0x00, 0x89, 0x00, 0x89, // ports 137 -> 137
    0x00, 0x09, 0x00, 0x00, // UDP length 9, checksum
    0x2a, // payload
];

#[test]
fn linux_sll() {
    let p = decode(LinkType::LinuxSll, SLL_IP4_UDP).unwrap();
    assert_eq!(p.src_mac, MacAddr::parse("00:0c:29:6a:1d:01"));
    assert_eq!(p.dst_mac, None);
    assert_eq!(ip(&p).ttl, 128);
    assert!(matches!(
        l4(&p),
        L4::Udp(UdpDatagram {
            src_port: 137,
            dst_port: 137,
            payload: &[0x2a]
        })
    ));
    // LLDP over SLL: a link frame with an unknown (zero) destination.
    let mut f = SLL_IP4_UDP[..14].to_vec();
    f.extend_from_slice(&[0x88, 0xcc, 0x02, 0x07]);
    let l = link(&decode(LinkType::LinuxSll, &f).unwrap());
    assert!(l.dst.is_zero());
    // Netlink: nothing.
    let mut nl = SLL_IP4_UDP.to_vec();
    nl[2..4].copy_from_slice(&824u16.to_be_bytes());
    assert!(matches!(
        decode(LinkType::LinuxSll, &nl).unwrap().net,
        Net::None
    ));
    // 802.2 LLC over SLL (protocol 0x0004).
    let mut llc = SLL_IP4_UDP[..14].to_vec();
    llc.extend_from_slice(&[
        0x00, 0x04, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, 0x02,
    ]);
    assert_eq!(
        link(&decode(LinkType::LinuxSll, &llc).unwrap()).snap,
        Some(([0, 0, 0x0c], 0x2000))
    );
}

#[test]
fn linux_sll2() {
    let inner = ip6h(6, &tcph(b"ssh"));
    let mut f = vec![
        0x86, 0xdd, // protocol IPv6
        0x00, 0x00, // reserved
        0x00, 0x00, 0x00, 0x02, // interface index
        0x00, 0x01, // ARPHRD_ETHER
        0x04, // packet type: outgoing
        0x06, // address length
        0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0x00, 0x00, // address
    ];
    f.extend_from_slice(&inner);
    let p = decode(LinkType::LinuxSll2, &f).unwrap();
    assert_eq!(p.src_mac, MacAddr::parse("02:42:ac:11:00:02"));
    assert_eq!(ip(&p).src, "fe80::1".parse::<IpAddr>().unwrap());
    assert!(matches!(
        l4(&p),
        L4::Tcp(TcpSegment {
            payload: b"ssh",
            ..
        })
    ));
    assert_eq!(
        decode(LinkType::LinuxSll2, &f[..19]).unwrap_err(),
        Malformed::TooShort
    );
}

#[test]
fn null_and_loop() {
    let v4 = ip4h(17, &udph(1, 2, b""), 1, 0);
    let v6 = ip6h(17, &udph(1, 2, b""));
    for (link, fam, body, is_v6) in [
        (LinkType::Null, [2, 0, 0, 0], &v4, false), // AF_INET, little-endian host
        (LinkType::Null, [0, 0, 0, 2], &v4, false), // AF_INET, big-endian host
        (LinkType::Null, [30, 0, 0, 0], &v6, true), // AF_INET6 Darwin
        (LinkType::Null, [28, 0, 0, 0], &v6, true), // AF_INET6 FreeBSD
        (LinkType::Null, [0, 0, 0, 24], &v6, true), // AF_INET6 NetBSD, big-endian
        (LinkType::Loop, [0, 0, 0, 2], &v4, false), // OpenBSD loop: network order
        (LinkType::Loop, [0, 0, 0, 24], &v6, true), // AF_INET6 OpenBSD
    ] {
        let mut f = fam.to_vec();
        f.extend_from_slice(body);
        let p = decode(link, &f).unwrap();
        assert_eq!(ip(&p).src.is_ipv6(), is_v6, "{link:?} {fam:?}");
    }
    // Unknown family: nothing, not an error.
    assert!(matches!(
        decode(LinkType::Null, &[7, 0, 0, 0, 1]).unwrap().net,
        Net::None
    ));
    // Loop with host order 2: family 0x02000000, unknown.
    let mut f = vec![2, 0, 0, 0];
    f.extend_from_slice(&v4);
    assert!(matches!(decode(LinkType::Loop, &f).unwrap().net, Net::None));
    assert_eq!(
        decode(LinkType::Null, &[2, 0]).unwrap_err(),
        Malformed::TooShort
    );
}

#[test]
fn raw_ipv4_ipv6_ppp_chdlc() {
    let v4 = ip4h(1, &[8, 0, 0, 0], 1, 0); // ICMP echo
    let v6 = ip6h(58, &[128, 0, 0, 0]); // ICMPv6 echo
    assert!(matches!(
        l4(&decode(LinkType::Raw, &v4).unwrap()),
        L4::Other(&[8, 0, 0, 0])
    ));
    assert!(ip(&decode(LinkType::Raw, &v6).unwrap()).src.is_ipv6());
    assert!(decode(LinkType::Ipv4, &v4).is_ok());
    assert_eq!(
        decode(LinkType::Ipv4, &v6).unwrap_err(),
        Malformed::BadIpVersion
    );
    assert!(decode(LinkType::Ipv6, &v6).is_ok());
    assert_eq!(
        decode(LinkType::Raw, &[0x50, 0, 0]).unwrap_err(),
        Malformed::BadIpVersion
    );
    assert_eq!(decode(LinkType::Raw, &[]).unwrap_err(), Malformed::TooShort);
    // PPP with address/control, protocol 0x0021.
    let mut f = vec![0xff, 0x03, 0x00, 0x21];
    f.extend_from_slice(&v4);
    assert!(decode(LinkType::Other(9), &f).is_ok());
    assert!(decode(LinkType::Other(50), &f).is_ok());
    // PPP with a compressed protocol field 0x57 (IPv6).
    let mut f = vec![0x57];
    f.extend_from_slice(&v6);
    assert!(ip(&decode(LinkType::Other(9), &f).unwrap()).src.is_ipv6());
    // Cisco HDLC: unicast address, control, EtherType IPv4.
    let mut f = vec![0x0f, 0x00, 0x08, 0x00];
    f.extend_from_slice(&v4);
    assert!(decode(LinkType::Other(104), &f).is_ok());
    assert_eq!(
        decode(LinkType::Other(105), &f).unwrap_err(),
        Malformed::UnsupportedLink
    );
}

#[test]
fn bluetooth_le_frames_are_handed_over_whole() {
    for n in [251, 256, 272] {
        let f = [1u8, 2, 3];
        let p = decode(LinkType::from_dlt(n), &f).unwrap();
        match p.net {
            Net::Link(lf) => {
                assert_eq!(lf.raw_link, Some(n));
                assert_eq!(lf.payload, &f);
                assert_eq!((lf.ethertype, lf.snap), (None, None));
            }
            other => panic!("{n}: {other:?}"),
        }
    }
    // An empty frame too: the link protocol decides what is malformed.
    assert!(matches!(
        decode(LinkType::NordicBle, &[]).unwrap().net,
        Net::Link(_)
    ));
}

// ---- IPv4 ----

#[test]
fn ipv4_options_and_header_checks() {
    // IHL 6: one 4-byte option (NOP NOP NOP EOL).
    let udp = udph(67, 68, b"dhcp");
    let mut v = vec![0x46, 0x00];
    v.extend_from_slice(&((24 + udp.len()) as u16).to_be_bytes());
    v.extend_from_slice(&[0, 0, 0, 0, 1, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255]);
    v.extend_from_slice(&[1, 1, 1, 0]); // options
    v.extend_from_slice(&udp);
    let p = decode(LinkType::Raw, &v).unwrap();
    assert!(matches!(
        l4(&p),
        L4::Udp(UdpDatagram {
            src_port: 67,
            payload: b"dhcp",
            ..
        })
    ));
    assert_eq!(ip(&p).dst, "255.255.255.255".parse::<IpAddr>().unwrap());

    let mut bad = v.clone();
    bad[0] = 0x44; // IHL 4
    assert_eq!(
        decode(LinkType::Raw, &bad).unwrap_err(),
        Malformed::BadIpHeader
    );
    let mut bad = v.clone();
    bad[2..4].copy_from_slice(&10u16.to_be_bytes()); // total length < header
    assert_eq!(
        decode(LinkType::Raw, &bad).unwrap_err(),
        Malformed::BadIpHeader
    );
    let mut bad = v.clone();
    bad[0] = 0x4f; // IHL 15 = 60 bytes > captured
    bad.truncate(40);
    assert_eq!(
        decode(LinkType::Raw, &bad).unwrap_err(),
        Malformed::TruncatedIpHeader
    );
    // Total length 0 (segmentation offload): use the captured length.
    let mut tso = v.clone();
    tso[2..4].copy_from_slice(&[0, 0]);
    assert!(matches!(
        l4(&decode(LinkType::Raw, &tso).unwrap()),
        L4::Udp(UdpDatagram {
            payload: b"dhcp",
            ..
        })
    ));
}

#[test]
fn tcp_and_udp_header_checks() {
    let mut t = tcph(b"data");
    t[12] = 0x40; // data offset 4
    assert_eq!(decode_l4(6, &t).unwrap_err(), Malformed::BadTcpHeader);
    t[12] = 0xf0; // data offset 60 > captured
    assert_eq!(decode_l4(6, &t).unwrap_err(), Malformed::TruncatedTcpHeader);
    assert_eq!(
        decode_l4(6, &t[..19]).unwrap_err(),
        Malformed::TruncatedTcpHeader
    );
    let mut u = udph(1, 2, b"abc");
    assert_eq!(
        decode_l4(17, &u[..7]).unwrap_err(),
        Malformed::TruncatedUdpHeader
    );
    u[5] = 3; // length 3
    assert_eq!(decode_l4(17, &u).unwrap_err(), Malformed::BadUdpHeader);
    u[5] = 0; // length 0: rest of the packet
    assert!(matches!(
        decode_l4(17, &u),
        Ok(L4::Udp(UdpDatagram {
            payload: b"abc",
            ..
        }))
    ));
    u[5] = 200; // longer than captured: what is there
    assert!(matches!(
        decode_l4(17, &u),
        Ok(L4::Udp(UdpDatagram {
            payload: b"abc",
            ..
        }))
    ));
    assert!(matches!(decode_l4(132, b"sctp"), Ok(L4::Other(b"sctp"))));
    // A bad TCP header makes the whole (unfragmented) packet malformed.
    let mut bad = tcph(b"");
    bad[12] = 0x10;
    assert_eq!(
        decode(LinkType::Raw, &ip4h(6, &bad, 1, 0)).unwrap_err(),
        Malformed::BadTcpHeader
    );
}

#[test]
fn ipv4_fragments_and_reassembly() {
    let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let dgram = udph(5000, 6000, &payload); // 3008 bytes of L4
                                            // Three fragments: 0..1480 (MF), 1480..2960 (MF), 2960..3008.
    let pieces = [
        (0usize, 1480usize, true),
        (1480, 2960, true),
        (2960, 3008, false),
    ];
    let frames: Vec<Vec<u8>> = pieces
        .iter()
        .map(|&(s, e, more)| {
            ip4h(
                17,
                &dgram[s..e],
                0xbeef,
                (if more { 0x2000 } else { 0 }) | (s / 8) as u16,
            )
        })
        .collect();

    let first = decode(LinkType::Raw, &frames[0]).unwrap();
    let Net::Ip(f0) = first.net else { panic!() };
    assert_eq!(
        f0.frag,
        Some(Fragment {
            id: 0xbeef,
            offset: 0,
            more: true
        })
    );
    assert!(
        matches!(
            f0.l4,
            L4::Udp(UdpDatagram {
                src_port: 5000,
                dst_port: 6000,
                ..
            })
        ),
        "ports from the first fragment"
    );
    let Net::Ip(f2) = decode(LinkType::Raw, &frames[2]).unwrap().net else {
        panic!()
    };
    assert_eq!(
        f2.frag,
        Some(Fragment {
            id: 0xbeef,
            offset: 2960,
            more: false
        })
    );
    assert!(matches!(f2.l4, L4::Other(d) if d.len() == 48));

    // Every arrival order reassembles to the same datagram.
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let mut d = Defragmenter::new(16, 1 << 20);
        let mut done = None;
        for (n, &i) in order.iter().enumerate() {
            let Net::Ip(p) = decode(LinkType::Raw, &frames[i]).unwrap().net else {
                panic!()
            };
            let r = d.push(Timestamp(n as i64), &p).map(<[u8]>::to_vec);
            assert_eq!(
                r.is_some(),
                n == 2,
                "complete only at the last piece ({order:?})"
            );
            if r.is_some() {
                done = r;
                assert_eq!(d.completed_proto(), 17);
            }
        }
        let bytes = done.unwrap();
        assert_eq!(bytes, dgram);
        let L4::Udp(u) = decode_l4(17, &bytes).unwrap() else {
            panic!()
        };
        assert_eq!(u.payload, &payload[..]);
        let s = d.stats();
        assert_eq!(
            (s.completed, s.pending, s.pending_bytes, s.overlaps),
            (1, 0, 0, 0)
        );
    }
}

#[test]
fn defrag_overlaps_duplicates_and_conflicts() {
    let data: Vec<u8> = (0..64u8).collect();
    let frag = |s: usize, e: usize, more: bool, fill: Option<u8>| {
        let body: Vec<u8> = match fill {
            Some(b) => vec![b; e - s],
            None => data[s..e].to_vec(),
        };
        ip4h(
            99,
            &body,
            7,
            (if more { 0x2000 } else { 0 }) | (s / 8) as u16,
        )
    };
    let push = |d: &mut Defragmenter, f: &[u8]| {
        let Net::Ip(p) = decode(LinkType::Raw, f).unwrap().net else {
            panic!()
        };
        d.push(Timestamp(0), &p).map(<[u8]>::to_vec)
    };
    // Overlap: first arrival wins.
    let mut d = Defragmenter::new(4, 1 << 16);
    assert_eq!(push(&mut d, &frag(0, 32, true, None)), None);
    assert_eq!(push(&mut d, &frag(16, 48, true, Some(0xee))), None);
    assert_eq!(
        push(&mut d, &frag(48, 64, false, None)).map(|v| v[..16].to_vec()),
        Some(data[..16].to_vec())
    );
    assert_eq!(d.stats().overlaps, 1);
    // Two different "last" fragments: invalid.
    let mut d = Defragmenter::new(4, 1 << 16);
    assert_eq!(push(&mut d, &frag(32, 40, false, None)), None);
    assert_eq!(push(&mut d, &frag(40, 48, false, None)), None);
    assert_eq!(d.stats().invalid, 1);
    assert_eq!(d.stats().pending, 0);
    // Data beyond the end announced by the last fragment: invalid.
    let mut d2 = Defragmenter::new(4, 1 << 16);
    assert_eq!(push(&mut d2, &frag(8, 16, false, None)), None);
    assert_eq!(push(&mut d2, &frag(16, 24, true, None)), None);
    assert_eq!(d2.stats().invalid, 1);
    // Beyond 65535 bytes: invalid.
    let mut d = Defragmenter::new(4, 1 << 20);
    let big = ip4h(17, &[0u8; 16], 1, 0x1fff); // offset 65528 + 16 > 65535
    assert_eq!(push(&mut d, &big), None);
    assert_eq!(d.stats().invalid, 1);
}

#[test]
fn defrag_limits_and_timeout() {
    let frag = |id: u16| ip4h(17, &[1u8; 64], id, 0x2000);
    let push = |d: &mut Defragmenter, f: &[u8], ts: i64| {
        let Net::Ip(p) = decode(LinkType::Raw, f).unwrap().net else {
            panic!()
        };
        d.push(Timestamp(ts), &p).is_some()
    };
    // Datagram count limit: the oldest goes.
    let mut d = Defragmenter::new(3, 1 << 20);
    for id in 0..10 {
        push(&mut d, &frag(id), 0);
    }
    let s = d.stats();
    assert_eq!((s.pending, s.dropped_limit, s.pending_bytes), (3, 7, 192));
    // Byte limit.
    let mut d = Defragmenter::new(100, 200);
    for id in 0..10 {
        push(&mut d, &frag(id), 0);
    }
    let s = d.stats();
    assert_eq!((s.pending, s.dropped_limit), (3, 7));
    assert!(s.pending_bytes <= 200);
    // A single datagram larger than the budget is dropped.
    let mut d = Defragmenter::new(100, 32);
    push(&mut d, &frag(1), 0);
    assert_eq!((d.stats().pending, d.stats().dropped_limit), (0, 1));
    // Timeout: 30 s of packet time, either direction.
    let mut d = Defragmenter::new(100, 1 << 20);
    push(&mut d, &frag(1), 0);
    push(&mut d, &frag(2), 20_000_000);
    d.expire(Timestamp(25_000_000));
    assert_eq!(d.stats().pending, 2);
    d.expire(Timestamp(31_000_000));
    assert_eq!((d.stats().pending, d.stats().dropped_timeout), (1, 1));
    d.expire(Timestamp(-20_000_000)); // clock jumped back 51 s
    assert_eq!(
        (
            d.stats().pending,
            d.stats().dropped_timeout,
            d.stats().pending_bytes
        ),
        (0, 2, 0)
    );
    // Many evictions keep the order queue bounded.
    let mut d = Defragmenter::new(2, 1 << 20);
    for id in 0..5000u16 {
        push(&mut d, &frag(id), 0);
    }
    assert!(d.order_len() <= 2 * 2 + 65);
}

#[test]
fn defrag_many_tiny_pieces_is_bounded() {
    let mut d = Defragmenter::new(4, 1 << 20);
    // Every other 8-byte block: disjoint pieces, never complete.
    for i in 0..200u16 {
        let f = ip4h(17, &[0u8; 8], 3, 0x2000 | (i * 2));
        let Net::Ip(p) = decode(LinkType::Raw, &f).unwrap().net else {
            panic!()
        };
        d.push(Timestamp(0), &p);
    }
    assert!(d.stats().invalid >= 1);
}

// ---- IPv6 ----

#[test]
fn ipv6_extension_headers() {
    let tcp = tcph(b"GET");
    // Hop-by-hop (8 bytes: next=60, len 0, PadN), destination options (next=51), AH (next=6, len 1 → 12 bytes).
    let mut ext = vec![60, 0, 1, 4, 0, 0, 0, 0]; // HBH: next 60, len 0, PadN(4)
    ext.extend_from_slice(&[51, 0, 1, 4, 0, 0, 0, 0]); // dest opts: next 51 (AH)
    ext.extend_from_slice(&[6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]); // AH: next TCP, len 1, reserved, SPI, seq
    ext.extend_from_slice(&tcp);
    let f = ip6h(0, &ext);
    let p = decode(LinkType::Ipv6, &f).unwrap();
    let i = ip(&p);
    assert_eq!((i.proto, i.ttl), (6, 255));
    assert!(matches!(
        l4(&p),
        L4::Tcp(TcpSegment {
            payload: b"GET",
            dst_port: 80,
            ..
        })
    ));

    // Extension header running past the packet.
    assert_eq!(
        decode(LinkType::Ipv6, &ip6h(0, &[6, 5, 0, 0])).unwrap_err(),
        Malformed::BadIpv6ExtHeader
    );
    // Nine destination options headers: too many.
    let mut chain = Vec::new();
    for _ in 0..9 {
        chain.extend_from_slice(&[60, 0, 1, 4, 0, 0, 0, 0]);
    }
    assert_eq!(
        decode(LinkType::Ipv6, &ip6h(60, &chain)).unwrap_err(),
        Malformed::TooManyExtHeaders
    );
    // Eight are fine (the last one's next header is 59: no next header).
    let mut chain = Vec::new();
    for i in 0..8 {
        chain.extend_from_slice(&[if i == 7 { 59 } else { 60 }, 0, 1, 4, 0, 0, 0, 0]);
    }
    let f = ip6h(60, &chain);
    let p = decode(LinkType::Ipv6, &f).unwrap();
    assert!(matches!(l4(&p), L4::Other(&[])));
    // Payload length 0 (jumbo / offload): captured length.
    let mut j = ip6h(17, &udph(1, 2, b"j"));
    j[4..6].copy_from_slice(&[0, 0]);
    assert!(matches!(
        l4(&decode(LinkType::Ipv6, &j).unwrap()),
        L4::Udp(UdpDatagram { payload: b"j", .. })
    ));
    assert_eq!(
        decode(LinkType::Ipv6, &j[..39]).unwrap_err(),
        Malformed::TruncatedIpHeader
    );
}

fn frag6(next: u8, offset: u16, more: bool, id: u32, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![next, 0]; // fragment header: next header, reserved
    v.extend_from_slice(&(offset | more as u16).to_be_bytes()); // offset (8-byte units << 3) | M
    v.extend_from_slice(&id.to_be_bytes()); // identification
    v.extend_from_slice(rest);
    ip6h(44, &v)
}

#[test]
fn ipv6_fragments_and_reassembly() {
    let payload: Vec<u8> = (0..100u8).collect();
    let dgram = udph(546, 547, &payload); // 108 bytes
    let f0 = frag6(17, 0, true, 0xdead_beef, &dgram[..64]);
    let f1 = frag6(17, 64, false, 0xdead_beef, &dgram[64..]);
    let Net::Ip(p0) = decode(LinkType::Ipv6, &f0).unwrap().net else {
        panic!()
    };
    assert_eq!(
        p0.frag,
        Some(Fragment {
            id: 0xdead_beef,
            offset: 0,
            more: true
        })
    );
    assert!(matches!(p0.l4, L4::Udp(UdpDatagram { src_port: 546, .. })));
    let Net::Ip(p1) = decode(LinkType::Ipv6, &f1).unwrap().net else {
        panic!()
    };
    assert_eq!(
        p1.frag,
        Some(Fragment {
            id: 0xdead_beef,
            offset: 64,
            more: false
        })
    );
    assert_eq!(p1.proto, 17);
    let mut d = Defragmenter::new(8, 1 << 16);
    assert!(d.push(Timestamp(0), &p1).is_none());
    let out = d.push(Timestamp(0), &p0).unwrap();
    assert_eq!(out, &dgram[..]);

    // Atomic fragment (offset 0, M=0): a whole datagram, no frag info.
    let a = frag6(17, 0, false, 1, &dgram);
    let Net::Ip(pa) = decode(LinkType::Ipv6, &a).unwrap().net else {
        panic!()
    };
    assert_eq!(pa.frag, None);
    assert!(matches!(pa.l4, L4::Udp(_)));

    // Destination options after the fragment header: skipped in the reassembled bytes.
    let mut first = vec![17, 0, 1, 4, 0, 0, 0, 0]; // dest opts: next UDP
    first.extend_from_slice(&dgram[..56]); // 64 bytes of fragment data in all
    let g0 = frag6(60, 0, true, 9, &first);
    let g1 = frag6(60, 64, false, 9, &dgram[56..]);
    let Net::Ip(q0) = decode(LinkType::Ipv6, &g0).unwrap().net else {
        panic!()
    };
    assert_eq!(q0.proto, 17);
    assert!(matches!(q0.l4, L4::Udp(_)));
    let Net::Ip(q1) = decode(LinkType::Ipv6, &g1).unwrap().net else {
        panic!()
    };
    assert_eq!(
        q1.proto, 60,
        "non-first fragments only know the fragment header's next header"
    );
    let mut d = Defragmenter::new(8, 1 << 16);
    assert!(d.push(Timestamp(0), &q0).is_none());
    let (proto, out) = d.push_with_proto(Timestamp(0), &q1).unwrap();
    assert_eq!((proto, out), (17, &dgram[..]));
    assert_eq!(d.completed_proto(), 17);
}

// ---- tunnels ----

#[test]
fn gre_erspan_vxlan_are_decapsulated() {
    let inner_ip = ip4h(6, &tcph(b"inner"), 1, 0);
    let inner_eth = {
        let mut e = vec![0x02, 0, 0, 0, 0, 0xaa, 0x02, 0, 0, 0, 0, 0xbb, 0x08, 0x00]; // inner MACs, IPv4
        e.extend_from_slice(&inner_ip);
        e
    };
    let outer = |proto: u8, payload: &[u8]| {
        let mut v = ip4h(proto, payload, 2, 0);
        v[12..20].copy_from_slice(&[192, 0, 2, 1, 192, 0, 2, 2]); // outer addresses
        eth(0x0800, &v)
    };
    let inner_tcp = |f: &[u8]| match decode(LinkType::Ethernet, f).unwrap().net {
        Net::Ip(IpPacket {
            src,
            l4: L4::Tcp(t),
            ..
        }) => (src, t.payload.to_vec()),
        other => panic!("not decapsulated: {other:?}"),
    };
    let inner_src: IpAddr = "10.0.0.1".parse().unwrap();

    // GRE: no flags, protocol IPv4.
    let gre: Vec<u8> = [&[0x00, 0x00, 0x08, 0x00][..], &inner_ip].concat();
    assert_eq!(inner_tcp(&outer(47, &gre)), (inner_src, b"inner".to_vec()));
    assert_eq!(
        decode(LinkType::Ethernet, &outer(47, &gre))
            .unwrap()
            .src_mac,
        None,
        "no MACs inside IP-in-GRE"
    );
    // GRE with checksum and key (C and K bits), Transparent Ethernet Bridging.
    let gre: Vec<u8> = [
        &[0xa0, 0x00, 0x65, 0x58, 0, 0, 0, 0, 0, 0, 0, 7][..],
        &inner_eth,
    ]
    .concat();
    assert_eq!(
        decode(LinkType::Ethernet, &outer(47, &gre))
            .unwrap()
            .src_mac,
        MacAddr::parse("02:00:00:00:00:bb")
    );
    assert_eq!(inner_tcp(&outer(47, &gre)).0, inner_src);
    // ERSPAN type II: GRE with sequence number, 8-byte ERSPAN header.
    let gre: Vec<u8> = [
        &[0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1][..],
        &[0x10, 0x01, 0, 5, 0, 0, 0, 0],
        &inner_eth,
    ]
    .concat();
    assert_eq!(inner_tcp(&outer(47, &gre)).0, inner_src);
    // ERSPAN type III with the platform subheader (O bit).
    let hdr3 = [
        0x20, 0x01, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let gre: Vec<u8> = [&[0x10, 0x00, 0x22, 0xeb, 0, 0, 0, 1][..], &hdr3, &inner_eth].concat();
    assert_eq!(inner_tcp(&outer(47, &gre)).0, inner_src);
    // VXLAN: flags I, VNI 42.
    let vx: Vec<u8> = [&[0x08, 0, 0, 0, 0, 0, 42, 0][..], &inner_eth].concat();
    assert_eq!(inner_tcp(&outer(17, &udph(50000, 4789, &vx))).0, inner_src);
    // GRE version 1 (PPTP) and undecodable payloads stay as they are.
    let pptp: Vec<u8> = [
        &[0x30, 0x01, 0x88, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0][..],
        b"ppp",
    ]
    .concat();
    let f = outer(47, &pptp);
    assert!(matches!(
        decode(LinkType::Ethernet, &f).unwrap().net,
        Net::Ip(IpPacket { proto: 47, .. })
    ));
    let junk: Vec<u8> = [&[0x00, 0x00, 0x08, 0x00][..], &[0x45, 0, 0]].concat();
    let f = outer(47, &junk);
    assert!(matches!(
        decode(LinkType::Ethernet, &f).unwrap().net,
        Net::Ip(IpPacket { proto: 47, .. })
    ));
    let not_vx: Vec<u8> = [&[0x00, 0, 0, 0, 0, 0, 42, 0][..], &inner_eth].concat();
    let f = outer(17, &udph(1, 4789, &not_vx));
    assert!(matches!(
        l4(&decode(LinkType::Ethernet, &f).unwrap()),
        L4::Udp(_)
    ));
}

#[test]
fn ip_in_ip_is_decapsulated() {
    let inner4 = ip4h(6, &tcph(b"inner"), 1, 0);
    let inner6 = ip6h(17, &udph(5353, 5353, b"six"));
    let src4: IpAddr = "10.0.0.1".parse().unwrap();
    let inner = |f: &[u8], link: LinkType| match decode(link, f).unwrap().net {
        Net::Ip(ip) => (ip.src, ip.proto),
        other => panic!("not IP: {other:?}"),
    };
    // 4in4 and 6in4 (RFC 2003, RFC 4213), outer IPv4 over Ethernet and raw.
    let f = eth(0x0800, &ip4h(4, &inner4, 2, 0));
    assert_eq!(inner(&f, LinkType::Ethernet), (src4, 6));
    let f = ip4h(41, &inner6, 2, 0);
    let (src, proto) = inner(&f, LinkType::Raw);
    assert!(src.is_ipv6() && proto == 17, "6in4: {src} {proto}");
    // 4in6 and 6in6 (RFC 2473).
    let f = eth(0x86dd, &ip6h(4, &inner4));
    assert_eq!(inner(&f, LinkType::Ethernet), (src4, 6));
    let f = ip6h(41, &inner6);
    assert_eq!(inner(&f, LinkType::Raw).1, 17);
    // An inner packet that does not decode leaves the outer one.
    let f = ip4h(41, b"\x60junk", 2, 0);
    assert!(matches!(
        decode(LinkType::Raw, &f).unwrap().net,
        Net::Ip(IpPacket { proto: 41, .. })
    ));
    // IP in IP counts toward the depth cap.
    let mut pkt = inner4.clone();
    for _ in 0..6 {
        pkt = ip4h(4, &pkt, 1, 0);
    }
    assert!(matches!(
        decode(LinkType::Raw, &pkt).unwrap().net,
        Net::Ip(IpPacket { proto: 4, .. })
    ));
}

/// Every IP-in-IP packet (6in4, 4in6, 4in4) in the benchmark corpus (public
/// test captures of Zeek, suricata-verify, nDPI and tcpdump, concatenated)
/// decodes to the innermost addresses tshark shows. Before tunnels of
/// protocol 4 and 41 were removed, all of them stayed the outer packet.
#[test]
fn ip_in_ip_of_public_captures_agrees_with_tshark() {
    let file = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/benchmark/corpus_ethernet_real.pcap"
    ));
    if !file.exists() {
        println!("skipping: ../shared/testdata not found (benchmark/corpus_ethernet_real.pcap)");
        return;
    }
    let Ok(out) = std::process::Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args(["-Y", "(ip.proto == 4 or ip.proto == 41 or ipv6.nxt == 4 or ipv6.nxt == 41) and not icmp and not icmpv6.type < 128"])
        .args(["-T", "fields", "-e", "frame.number", "-e", "_ws.col.Source", "-e", "_ws.col.Destination"])
        .output()
    else {
        println!("skipping: tshark not installed");
        return;
    };
    let expected: std::collections::BTreeMap<usize, (IpAddr, IpAddr)> =
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                Some((
                    f.first()?.parse().ok()?,
                    (f.get(1)?.parse().ok()?, f.get(2)?.parse().ok()?),
                ))
            })
            .collect();
    assert!(
        expected.len() > 100,
        "tshark listed {} tunnelled packets",
        expected.len()
    );
    use capture::Source;
    let mut reader = capture::FileReader::open(file).unwrap();
    let (mut n, mut agreed) = (0usize, 0usize);
    let mut diffs = Vec::new();
    while let Some(frame) = reader.next_frame().unwrap() {
        n += 1;
        let Some(want) = expected.get(&n) else {
            continue;
        };
        let got = match decode(frame.link, frame.data) {
            Ok(Packet {
                net: Net::Ip(ip), ..
            }) => Some((ip.src, ip.dst)),
            _ => None,
        };
        if got == Some(*want) {
            agreed += 1;
        } else if diffs.len() < 10 {
            diffs.push(format!("frame {n}: ours {got:?}, tshark {want:?}"));
        }
    }
    println!(
        "ip-in-ip: {agreed}/{} packets agree with tshark",
        expected.len()
    );
    assert_eq!(agreed, expected.len(), "{diffs:#?}");
}

#[test]
fn tunnel_depth_is_capped() {
    // GRE in GRE in ... 6 levels: at most 3 are removed.
    let mut pkt = ip4h(6, &tcph(b"x"), 1, 0);
    for _ in 0..6 {
        let gre: Vec<u8> = [&[0x00, 0x00, 0x08, 0x00][..], &pkt].concat();
        pkt = ip4h(47, &gre, 1, 0);
    }
    let p = decode(LinkType::Raw, &pkt).unwrap();
    assert!(matches!(p.net, Net::Ip(IpPacket { proto: 47, .. })));
}

// ---- robustness ----

fn samples() -> Vec<(LinkType, Vec<u8>)> {
    let mut v = vec![
        (LinkType::Ethernet, ETH_IP4_TCP.to_vec()),
        (LinkType::Ethernet, CDP_FRAME.to_vec()),
        (LinkType::LinuxSll, SLL_IP4_UDP.to_vec()),
        (LinkType::Raw, frag6(17, 0, true, 1, &udph(1, 2, b"x"))),
        (LinkType::Ipv4, ip4h(17, &udph(1, 2, b"abc"), 1, 0x2000)),
        (
            LinkType::Other(9),
            [&[0xff, 0x03, 0x00, 0x21][..], &ip4h(6, &tcph(b"p"), 1, 0)].concat(),
        ),
    ];
    let mut q = eth(0x88a8, &[0x00, 0x07, 0x81, 0x00, 0x00, 0x64, 0x86, 0xdd]);
    q.extend_from_slice(&ip6h(
        0,
        &[&[6, 0, 1, 4, 0, 0, 0, 0][..], &tcph(b"hello")].concat(),
    ));
    v.push((LinkType::Ethernet, q));
    let mut s2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0,
    ];
    s2.extend_from_slice(&ip4h(17, &udph(1, 2, b"z"), 1, 0));
    v.push((LinkType::LinuxSll2, s2));
    v.push((
        LinkType::Null,
        [&[2, 0, 0, 0][..], &ip4h(17, &udph(1, 2, b""), 1, 0)].concat(),
    ));
    let inner = eth(0x0800, &ip4h(6, &tcph(b"in"), 1, 0));
    let erspan: Vec<u8> = [
        &[
            0x10, 0x00, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0x01, 0, 5, 0, 0, 0, 0,
        ][..],
        &inner,
    ]
    .concat();
    v.push((LinkType::Raw, ip4h(47, &erspan, 1, 0)));
    let vx: Vec<u8> = [&[0x08, 0, 0, 0, 0, 0, 42, 0][..], &inner].concat();
    v.push((LinkType::Raw, ip4h(17, &udph(1, 4789, &vx), 1, 0)));
    v
}

/// Ethernet frames around the fast path's edges: TCP, UDP, VLAN tags,
/// IP options, fragments, total length 0, VXLAN, GRE, IPv6, and the samples.
fn eth_samples() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = samples().into_iter().map(|(_, f)| f).collect();
    v.push(eth(0x0800, &ip4h(6, &tcph(b"GET / HTTP/1.1"), 1, 0)));
    v.push(eth(0x0800, &ip4h(17, &udph(53, 4000, b"answer"), 1, 0)));
    v.push(eth(0x0800, &ip4h(17, &udph(1, 2, b"more"), 7, 0x2000)));
    v.push(eth(0x0800, &ip4h(17, &udph(1, 2, b"later"), 7, 0x0003)));
    v.push(eth(0x0800, &ip4h(1, b"icmp....", 1, 0)));
    let vx: Vec<u8> = [
        &[0x08, 0, 0, 0, 0, 0, 42, 0][..],
        &eth(0x0800, &ip4h(6, &tcph(b"in"), 1, 0)),
    ]
    .concat();
    v.push(eth(0x0800, &ip4h(17, &udph(1, 4789, &vx), 1, 0)));
    let mut tagged = vec![0x20, 0x0a, 0x08, 0x00];
    tagged.extend_from_slice(&ip4h(6, &tcph(b"tagged"), 1, 0));
    v.push(eth(0x8100, &tagged));
    let mut opts = ip4h(17, &udph(9, 10, b"opt"), 1, 0);
    opts[0] = 0x46;
    opts.splice(20..20, [1, 1, 1, 0]);
    let total = opts.len() as u16;
    opts[2..4].copy_from_slice(&total.to_be_bytes());
    v.push(eth(0x0800, &opts));
    let mut zero = ip4h(6, &tcph(b"tso"), 1, 0);
    zero[2] = 0;
    zero[3] = 0;
    v.push(eth(0x0800, &zero));
    v
}

#[test]
fn every_truncation_is_err_or_valid() {
    for (link, frame) in samples() {
        assert!(decode(link, &frame).is_ok(), "{link:?} sample decodes");
        for cut in 0..=frame.len() {
            if let Ok(p) = decode(link, &frame[..cut]) {
                if let Net::Ip(ip) = p.net {
                    assert!(ip.payload.len() <= cut);
                    match ip.l4 {
                        L4::Tcp(t) => assert!(t.payload.len() <= cut),
                        L4::Udp(u) => assert!(u.payload.len() <= cut),
                        L4::Other(o) => assert!(o.len() <= cut),
                    }
                }
            }
        }
    }
}

#[test]
fn malformed_names_are_snake_case() {
    let all = [
        Malformed::TooShort,
        Malformed::BadIpVersion,
        Malformed::TruncatedIpHeader,
        Malformed::BadIpHeader,
        Malformed::BadIpv6ExtHeader,
        Malformed::TooManyExtHeaders,
        Malformed::TruncatedTcpHeader,
        Malformed::BadTcpHeader,
        Malformed::TruncatedUdpHeader,
        Malformed::BadUdpHeader,
        Malformed::TooManyVlanTags,
        Malformed::TooManyMplsLabels,
        Malformed::BadPppoe,
        Malformed::UnsupportedLink,
    ];
    let mut names: Vec<_> = all.iter().map(Malformed::name).collect();
    assert!(names.iter().all(|n| n
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())));
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len());
}

mod prop {
    use super::*;
    use proptest::prelude::*;

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

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(li in 0usize..LINKS.len(), data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(LINKS[li], &data);
        }

        #[test]
        fn fast_path_decodes_as_the_general_path(si in any::<proptest::sample::Index>(), flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 0..4), cut in any::<proptest::sample::Index>()) {
            let s = eth_samples();
            let mut frame = s[si.index(s.len())].clone();
            for (i, b) in flips {
                let n = i.index(frame.len());
                frame[n] = b;
            }
            // Truncated as well, sometimes: snap lengths cut frames anywhere.
            if frame.len() > 20 && cut.index(4) == 0 {
                frame.truncate(cut.index(frame.len()));
            }
            let fast = format!("{:?}", decode(LinkType::Ethernet, &frame));
            prop_assert_eq!(fast, format!("{:?}", decode_general(LinkType::Ethernet, &frame)));
        }

        #[test]
        fn mutated_samples_never_panic(si in any::<proptest::sample::Index>(), flips in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6)) {
            let s = samples();
            let (link, mut frame) = s[si.index(s.len())].clone();
            for (i, b) in flips {
                let n = i.index(frame.len());
                frame[n] = b;
            }
            if let Ok(Packet { net: Net::Ip(ip), .. }) = decode(link, &frame) {
                let mut d = Defragmenter::new(4, 1 << 16);
                if let Some(out) = d.push(Timestamp(0), &ip) {
                    let _ = decode_l4(ip.proto, out);
                }
            }
        }

        #[test]
        fn random_fragment_streams_stay_bounded(frags in proptest::collection::vec((0u16..4, 0u16..8200, any::<bool>(), 0usize..600), 1..200)) {
            let mut d = Defragmenter::new(3, 4096);
            for (n, (id, off, more, len)) in frags.into_iter().enumerate() {
                let f = ip4h(17, &vec![0xab; len], id, (if more { 0x2000 } else { 0 }) | (off & 0x1fff));
                let Ok(Packet { net: Net::Ip(ip), .. }) = decode(LinkType::Raw, &f) else { continue };
                if let Some(out) = d.push(Timestamp(n as i64 * 1000), &ip) {
                    prop_assert!(out.len() <= 65_535);
                }
                let s = d.stats();
                prop_assert!(s.pending <= 3);
                prop_assert!(s.pending_bytes <= 4096);
                d.expire(Timestamp(n as i64 * 1000));
            }
        }
    }
}
