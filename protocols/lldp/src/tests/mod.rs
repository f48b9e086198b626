//! Tests for the LLDP and CDP parsers: hand-built frames (LLDP-MED inventory,
//! MUD URL, CDP addresses), malformed TLVs, and tcpdump's LLDP/CDP regression
//! captures compared with tcpdump's expected `.out` text.

use testkit::pcap;

use super::*;
use model::records::{NeighborProtocol, NeighborRecord};
use model::{MacAddr, Record, Timestamp};

const SRC: MacAddr = MacAddr([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);

/// Runs `proto` on a frame with `payload`; returns (records, weird names).
fn run(
    proto: &dyn LinkProtocol,
    ethertype: Option<u16>,
    snap: Option<([u8; 3], u16)>,
    payload: &[u8],
) -> (Vec<NeighborRecord>, Vec<String>) {
    let frame = LinkFrame {
        dst: MacAddr([1, 0x80, 0xc2, 0, 0, 0xe]),
        src: SRC,
        ethertype,
        snap,
        raw_link: None,
        payload,
    };
    run_frame(proto, &frame)
}

fn run_frame(
    proto: &dyn LinkProtocol,
    frame: &LinkFrame<'_>,
) -> (Vec<NeighborRecord>, Vec<String>) {
    let mut events = Vec::new();
    let mut out = Out::new(Timestamp(0), None, proto.name(), &mut events);
    proto.handle(frame, &mut out);
    let mut recs = Vec::new();
    let mut weirds = Vec::new();
    for e in events {
        match e.record {
            Record::Neighbor(n) => recs.push(n),
            Record::Weird(w) => weirds.push(w.name),
            other => panic!("unexpected {other:?}"),
        }
    }
    (recs, weirds)
}

/// One LLDP TLV: 7-bit type, 9-bit length, value.
fn tlv(t: u8, v: &[u8]) -> Vec<u8> {
    let h = (u16::from(t) << 9) | v.len() as u16;
    let mut o = h.to_be_bytes().to_vec();
    o.extend_from_slice(v);
    o
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// An LLDP-MED phone-like device announcing inventory and a MUD URL.
fn med_frame() -> Vec<u8> {
    cat(&[
        &tlv(1, &[4, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55]), // chassis: MAC
        &tlv(2, b"\x05eth0"),                              // port: interface name
        &tlv(3, &[0, 120]),                                // TTL
        &tlv(4, b"Port 1"),                                // port description
        &tlv(5, b"pump-17"),                               // system name
        &tlv(6, b"InfuseOS 4.2\nbuild 77"),                // system description (2 lines)
        &tlv(7, &[0x00, 0xa4, 0x00, 0x24]), // caps: bridge|telephone|station; enabled bridge|telephone
        &tlv(8, &[5, 1, 10, 1, 2, 3, 2, 0, 0, 0, 1, 0]), // mgmt: IPv4 10.1.2.3, ifIndex 1, no OID
        &tlv(
            8,
            &[7, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 1, 0, 0, 0, 0, 0],
        ), // mgmt: 802 MAC
        &tlv(127, b"\x00\x12\xbb\x05HW-3"), // MED hardware revision
        &tlv(127, b"\x00\x12\xbb\x06FW 1.0.7"), // MED firmware revision
        &tlv(127, b"\x00\x12\xbb\x07SW 9"), // MED software revision
        &tlv(127, b"\x00\x12\xbb\x08SN123456"), // MED serial
        &tlv(127, b"\x00\x12\xbb\x09Acme Medical"), // MED manufacturer
        &tlv(127, b"\x00\x12\xbb\x0aAcmePump 3000"), // MED model name
        &tlv(127, b"\x00\x00\x5e\x01https://acme.example/mud/pump"), // MUD URL
        &tlv(0, &[]),                       // End
        &[0; 8],                            // Ethernet padding
    ])
}

#[test]
fn lldp_med_inventory_and_mud() {
    let (r, w) = run(&Lldp, Some(0x88cc), None, &med_frame());
    assert!(w.is_empty(), "{w:?}");
    let r = &r[0];
    assert_eq!(r.protocol, NeighborProtocol::Lldp);
    assert_eq!(r.src_mac, SRC);
    assert_eq!(r.chassis_id.as_deref(), Some("00:11:22:33:44:55"));
    assert_eq!(r.port_id.as_deref(), Some("eth0"));
    assert_eq!(r.port_description.as_deref(), Some("Port 1"));
    assert_eq!(r.system_name.as_deref(), Some("pump-17"));
    assert_eq!(
        r.system_description.as_deref(),
        Some("InfuseOS 4.2 build 77")
    );
    assert_eq!(r.capabilities, ["bridge", "telephone"]);
    assert_eq!(r.mgmt_addrs, ["10.1.2.3", "00:11:22:33:44:55"]);
    assert_eq!(r.hardware.as_deref(), Some("HW-3"));
    assert_eq!(r.firmware.as_deref(), Some("FW 1.0.7"));
    assert_eq!(r.software.as_deref(), Some("SW 9"));
    assert_eq!(r.serial.as_deref(), Some("SN123456"));
    assert_eq!(r.manufacturer.as_deref(), Some("Acme Medical"));
    assert_eq!(r.platform.as_deref(), Some("AcmePump 3000"));
    assert_eq!(r.mud_url.as_deref(), Some("https://acme.example/mud/pump"));
}

#[test]
fn lldp_accepts_by_ethertype_only() {
    let f = |et, snap| LinkFrame {
        dst: SRC,
        src: SRC,
        ethertype: et,
        snap,
        raw_link: None,
        payload: &[],
    };
    assert!(Lldp.accepts(&f(Some(0x88cc), None)));
    assert!(!Lldp.accepts(&f(Some(0x0800), None)));
    assert!(Cdp.accepts(&f(None, Some(CDP_SNAP))));
    assert!(!Cdp.accepts(&f(None, Some(([0, 0, 0x0c], 0x2004)))));
    assert!(!Cdp.accepts(&f(Some(0x88cc), None)));
}

#[test]
fn lldp_malformed_tlvs() {
    // Truncated value.
    let mut p = tlv(1, &[4, 1, 2, 3, 4, 5, 6]);
    p.extend_from_slice(&[0x0a, 0xff, b'x']); // system name claiming 255 bytes
    let (r, w) = run(&Lldp, Some(0x88cc), None, &p);
    assert_eq!(r[0].chassis_id.as_deref(), Some("01:02:03:04:05:06"));
    assert_eq!(w, ["lldp_tlv_truncated"]);
    // Bad management address length, and a first TLV that is not the chassis.
    let p = cat(&[&tlv(5, b"n"), &tlv(8, &[200, 1, 2]), &tlv(0, &[])]);
    let (r, w) = run(&Lldp, Some(0x88cc), None, &p);
    assert_eq!(r[0].system_name.as_deref(), Some("n"));
    assert_eq!(w, ["lldp_missing_chassis_id", "lldp_bad_tlv_value"]);
    // Empty and one-byte payloads.
    assert_eq!(run(&Lldp, Some(0x88cc), None, &[]).0.len(), 0);
    assert_eq!(
        run(&Lldp, Some(0x88cc), None, &[2]).1,
        ["lldp_tlv_truncated"]
    );
    // Many zero-length unknown TLVs: bounded.
    let p: Vec<u8> = std::iter::repeat_n([0x20u8, 0x00], 2000)
        .flatten()
        .collect();
    assert_eq!(
        run(&Lldp, Some(0x88cc), None, &p).1,
        ["lldp_too_many_tlvs", "lldp_missing_chassis_id"]
    );
}

/// One CDP TLV: 16-bit type, 16-bit length including the header.
fn ctlv(t: u16, v: &[u8]) -> Vec<u8> {
    let mut o = t.to_be_bytes().to_vec();
    o.extend_from_slice(&((v.len() + 4) as u16).to_be_bytes());
    o.extend_from_slice(v);
    o
}

fn cdp_frame() -> Vec<u8> {
    cat(&[
        &[2, 180, 0x12, 0x34],             // version 2, TTL 180, checksum
        &ctlv(0x0001, b"SEP001122334455"), // device id
        &ctlv(
            0x0002,
            &[
                0, 0, 0, 2, // two addresses
                1, 1, 0xcc, 0, 4, 10, 0, 0, 5, // NLPID IPv4 10.0.0.5
                2, 8, 0xaa, 0xaa, 3, 0, 0, 0, 0x86, 0xdd, 0, 16, // 802.2 IPv6
                0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
            ],
        ),
        &ctlv(0x0003, b"Port 1"),              // port id
        &ctlv(0x0004, &[0, 0, 0x01, 0x90]),    // caps: host, telephone, remote managed
        &ctlv(0x0005, b"SIP75.8-5-3S\n"),      // software version
        &ctlv(0x0006, b"Cisco IP Phone 7975"), // platform
        &ctlv(0x0016, &[0, 0, 0, 1, 1, 1, 0xcc, 0, 4, 10, 0, 0, 5]), // mgmt: same IPv4 (deduplicated)
    ])
}

#[test]
fn cdp_phone() {
    let (r, w) = run(&Cdp, None, Some(CDP_SNAP), &cdp_frame());
    assert!(w.is_empty(), "{w:?}");
    let r = &r[0];
    assert_eq!(r.protocol, NeighborProtocol::Cdp);
    assert_eq!(r.chassis_id.as_deref(), Some("SEP001122334455"));
    assert_eq!(r.port_id.as_deref(), Some("Port 1"));
    assert_eq!(r.mgmt_addrs, ["10.0.0.5", "fe80::1"]);
    assert_eq!(r.capabilities, ["host", "telephone", "remote_managed"]);
    assert_eq!(r.system_description.as_deref(), Some("SIP75.8-5-3S"));
    assert_eq!(r.platform.as_deref(), Some("Cisco IP Phone 7975"));
}

#[test]
fn cdp_malformed() {
    assert_eq!(
        run(&Cdp, None, Some(CDP_SNAP), &[2, 180]).1,
        ["cdp_truncated_header"]
    );
    assert_eq!(
        run(&Cdp, None, Some(CDP_SNAP), &[9, 180, 0, 0]).1,
        ["cdp_bad_version"]
    );
    let p = cat(&[&[2, 180, 0, 0], &ctlv(1, b"sw"), &[0, 3, 0, 2]]); // length 2 < 4
    let (r, w) = run(&Cdp, None, Some(CDP_SNAP), &p);
    assert_eq!(r[0].chassis_id.as_deref(), Some("sw"));
    assert_eq!(w, ["cdp_tlv_bad_length"]);
    let p = cat(&[
        &[2, 180, 0, 0],
        &ctlv(1, b"sw"),
        &ctlv(2, &[0xff, 0xff, 0xff, 0xff, 1, 1]),
    ]);
    assert_eq!(run(&Cdp, None, Some(CDP_SNAP), &p).1, ["cdp_bad_tlv_value"]);
}

#[test]
fn truncations_never_panic() {
    for (proto, et, snap, data) in [
        (&Lldp as &dyn LinkProtocol, Some(0x88cc), None, med_frame()),
        (&Cdp as &dyn LinkProtocol, None, Some(CDP_SNAP), cdp_frame()),
    ] {
        for cut in 0..=data.len() {
            run(proto, et, snap, &data[..cut]);
            run(proto, et, snap, &data[cut..]);
        }
        // Both parsers on each other's input.
        run(&Lldp, et, snap, &data);
        run(&Cdp, et, snap, &data);
    }
}

// ---- tcpdump regression captures ----

/// What tcpdump printed for one packet, reduced to the fields Ward keeps.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    chassis_id: Option<String>,
    system_name: Option<String>,
    platform: Option<String>,
    mud_url: Option<String>,
    mgmt_addrs: Vec<String>,
}

/// Parses tcpdump `-v` output of LLDP/CDP packets (one entry per packet).
fn parse_out(text: &str) -> Vec<Expected> {
    let mut v: Vec<Expected> = Vec::new();
    let mut in_chassis = false;
    let quoted = |l: &str| {
        l.rsplit_once(": '")
            .map(|(_, s)| s.trim_end_matches('\'').to_string())
    };
    for line in text.lines() {
        let t = line.trim();
        let is_pkt = line.starts_with(' ')
            && t.split_whitespace()
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok())
            && t.contains(':');
        if is_pkt {
            v.push(Expected::default());
            continue;
        }
        let Some(e) = v.last_mut() else { continue };
        if t.starts_with("Chassis ID TLV") {
            in_chassis = true;
            continue;
        }
        if in_chassis && t.starts_with("Subtype") {
            e.chassis_id = t.rsplit_once("): ").map(|(_, s)| s.to_string());
            in_chassis = false;
            continue;
        }
        in_chassis = false;
        if let Some(s) = t.strip_prefix("System Name TLV (5), length ") {
            e.system_name = s.split_once(": ").map(|(_, n)| n.to_string());
        } else if t.starts_with("Device-ID (0x0001)") {
            e.chassis_id = quoted(t);
        } else if t.starts_with("Platform (0x0006)") {
            e.platform = quoted(t);
        } else if let Some(u) = t.strip_prefix("MUD-URL=") {
            e.mud_url = Some(u.to_string());
        } else if t.starts_with("Management Address length") {
            if let Some((_, a)) = t.rsplit_once(": ") {
                e.mgmt_addrs.push(a.to_string());
            }
        } else if t.starts_with("Management Addresses (0x0016)")
            || t.starts_with("Address (0x0002)")
        {
            if let Some((_, a)) = t.rsplit_once(" (1) ") {
                if !e.mgmt_addrs.iter().any(|x| x == a) {
                    e.mgmt_addrs.push(a.to_string());
                }
            }
        }
    }
    v
}

fn got(frame: &[u8]) -> (Option<NeighborRecord>, Vec<String>) {
    let Some(lf) = pcap::link_frame(frame) else {
        return (None, Vec::new());
    };
    let proto: &dyn LinkProtocol = if Lldp.accepts(&lf) {
        &Lldp
    } else if Cdp.accepts(&lf) {
        &Cdp
    } else {
        return (None, Vec::new());
    };
    let (mut r, w) = run_frame(proto, &lf);
    (r.pop(), w)
}

/// Each capture's records agree with tcpdump's decoding of the same packets.
#[test]
fn tcpdump_captures_match_expected_output() {
    let cases = [
        ("lldp_mudurl.pcap", "lldp_mudurl-v.out"),
        ("3560_CDP.pcap", "cdp-v.out"),
        ("LLDP_and_CDP.pcap", "lldp_cdp-ev.out"),
        ("lldp-app-priority.pcap", "lldp-app-priority.out"),
        ("lldp-infinite-loop-1.pcap", "lldp-infinite-loop-1.out"),
        ("lldp-infinite-loop-2.pcap", "lldp-infinite-loop-2.out"),
    ];
    let Some(dir) = testkit::testdata("lldp_dhcp") else {
        return;
    };
    let mut compared = 0;
    for (pcap_name, out_name) in cases {
        let frames = pcap::frames(&dir.join(pcap_name));
        let want = parse_out(&std::fs::read_to_string(dir.join(out_name)).unwrap());
        assert_eq!(frames.len(), want.len(), "{pcap_name}: packet count");
        for (i, (f, w)) in frames.iter().zip(&want).enumerate() {
            let (rec, weirds) = got(f);
            let rec =
                rec.unwrap_or_else(|| panic!("{pcap_name} #{}: no record ({weirds:?})", i + 1));
            let have = Expected {
                chassis_id: rec.chassis_id.clone(),
                system_name: rec.system_name.clone(),
                platform: rec.platform.clone(),
                mud_url: rec.mud_url.clone(),
                mgmt_addrs: rec.mgmt_addrs.clone(),
            };
            assert_eq!(&have, w, "{pcap_name} packet {}", i + 1);
            compared += 1;
        }
    }
    assert!(compared >= 20, "{compared}");
}

#[test]
fn tcpdump_cdp_details() {
    let Some(dir) = testkit::testdata("lldp_dhcp") else {
        return;
    };
    let frames = pcap::frames(&dir.join("3560_CDP.pcap"));
    let (rec, w) = got(&frames[0]);
    assert!(w.is_empty(), "{w:?}");
    let r = rec.unwrap();
    assert_eq!(r.port_id.as_deref(), Some("GigabitEthernet0/5"));
    assert_eq!(r.capabilities, ["switch", "igmp"]); // 0x28: L2 Switch, IGMP snooping
    assert_eq!(
        r.system_description.as_deref(),
        Some("Cisco IOS Software, C3560 Software (C3560-ADVIPSERVICESK9-M), Version 12.2(25)SEB4, RELEASE SOFTWARE (fc1) Copyright (c) 1986-2005 by Cisco Systems, Inc. Compiled Tue 30-Aug-05 17:56 by yenanh")
    );
    assert_eq!(r.src_mac, pcap::link_frame(&frames[0]).unwrap().src);

    let frames = pcap::frames(&dir.join("lldp_mudurl.pcap"));
    let r = got(&frames[0]).0.unwrap();
    assert_eq!(r.port_id.as_deref(), Some("00:23:54:c2:57:02"));
    assert_eq!(r.port_description.as_deref(), Some("eth0"));
    assert_eq!(r.capabilities, ["wlan_ap"]);
    assert_eq!(r.system_description.as_deref(), Some("Ubuntu 14.04.5 LTS Linux 3.13.0-106-generic #153-Ubuntu SMP Tue Dec 6 15:45:13 UTC 2016 i686"));
    assert_eq!(r.src_mac, MacAddr::parse("00:23:54:c2:57:02").unwrap());
}

/// The malformed captures tcpdump once crashed or looped on must not panic.
#[test]
fn malformed_captures_never_panic() {
    let Some(dir) = testkit::testdata("lldp_dhcp") else {
        return;
    };
    for name in [
        "lldp_asan.pcap",
        "lldp_mgmt_addr_tlv_asan.pcap",
        "lldp_8023_mtu-oobr.pcap",
        "lldp-infinite-loop-1.pcap",
        "lldp-infinite-loop-2.pcap",
        "lldp_8021_linkagg.pcap",
    ] {
        for f in pcap::frames(&dir.join(name)) {
            let _ = got(&f);
            // Also as raw payloads for both parsers, whatever the frame says.
            for p in [&Lldp as &dyn LinkProtocol, &Cdp] {
                run(p, Some(0x88cc), Some(CDP_SNAP), f.get(14..).unwrap_or(&[]));
                run(p, Some(0x88cc), Some(CDP_SNAP), &f);
            }
        }
    }
}
