//! Unit tests: frames from the nRF sniffer captures (header versions 2 and
//! 3) and built ones for every PDU type and the other two link types.

use super::*;
use analyzer_api::LinkFrame;
use model::{MacAddr, Record, Timestamp};

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn run(link: u32, data: &[u8]) -> Vec<Record> {
    let frame = LinkFrame {
        dst: MacAddr::default(),
        src: MacAddr::default(),
        ethertype: None,
        snap: None,
        raw_link: Some(link),
        payload: data,
    };
    assert!(Ble.accepts(&frame));
    let mut events = Vec::new();
    let mut out = Out::new(Timestamp(0), None, "ble", &mut events);
    Ble.handle(&frame, &mut out);
    events.into_iter().map(|e| e.record).collect()
}

fn one(link: u32, data: &[u8]) -> BleRecord {
    match run(link, data).as_slice() {
        [Record::Ble(b)] => b.clone(),
        other => panic!("{other:?}"),
    }
}

fn weird(link: u32, data: &[u8]) -> String {
    match run(link, data).as_slice() {
        [Record::Weird(w)] => w.name.clone(),
        other => panic!("{other:?}"),
    }
}

fn mac(s: &str) -> MacAddr {
    MacAddr::parse(s).unwrap()
}

/// Nordic header v2, board 0: a SCAN_REQ from a public scanner to a random advertiser.
const V2_SCAN_REQ: &str = "00 1f 00 02 84 c2 06 0a 01 27 4f 00 00 00 00 00 00 \
    d6 be 89 8e 83 0c 1f ea 7d 03 4c 20 c3 b8 40 e3 e3 e6 68 20 7f";
/// Nordic header v2: the SCAN_RSP with manufacturer data of company 0x0000.
const V2_SCAN_RSP: &str = "00 23 00 02 85 c2 06 0a 01 27 39 00 00 96 00 00 00 \
    d6 be 89 8e 44 10 c3 b8 40 e3 e3 e6 09 ff 00 00 c3 b8 40 e3 e3 e6 30 bb 6d";
/// Nordic header v3, board 7: a data-channel LL_VERSION_IND.
const V3_DATA: &str = "07 19 00 03 2d b9 06 0a 03 12 22 00 00 75 df 23 6f \
    df 43 65 50 03 06 0c 09 0f 00 08 42 95 00 7a";

#[test]
fn nordic_v2_scan_request_and_response() {
    let r = one(LINKTYPE_NORDIC_BLE, &hex(V2_SCAN_REQ));
    assert_eq!(r.pdu, BlePdu::ScanReq);
    assert_eq!((r.channel, r.rssi), (Some(39), Some(-79)));
    let peer = r.peer.unwrap();
    assert_eq!(peer.addr, mac("20:4c:03:7d:ea:1f"));
    assert_eq!(peer.kind, BleAddrKind::Public);
    let adv = r.advertiser.unwrap();
    assert_eq!(adv.addr, mac("e6:e3:e3:40:b8:c3"));
    assert_eq!(adv.kind, BleAddrKind::RandomStatic);

    let r = one(LINKTYPE_NORDIC_BLE, &hex(V2_SCAN_RSP));
    assert_eq!(r.pdu, BlePdu::ScanRsp);
    assert_eq!(r.advertiser.unwrap().addr, mac("e6:e3:e3:40:b8:c3"));
    assert_eq!(r.companies, vec![0x0000]);
    assert_eq!(r.rssi, Some(-57));
}

#[test]
fn nordic_v3_data_pdu_is_counted_without_contents() {
    let r = one(LINKTYPE_NORDIC_BLE, &hex(V3_DATA));
    assert_eq!(r.pdu, BlePdu::Data);
    assert_eq!((r.channel, r.rssi), (Some(18), Some(-34)));
    assert!(r.advertiser.is_none() && r.companies.is_empty());
}

#[test]
fn bad_crc_is_a_weird_and_nothing_else() {
    let mut f = hex(V2_SCAN_RSP);
    f[8] = 0x00; // flags: CRC bad
    assert_eq!(weird(LINKTYPE_NORDIC_BLE, &f), "crc_error");
}

/// An advertising packet (access address, header, payload, dummy CRC).
fn ll_adv(h0: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0xd6, 0xbe, 0x89, 0x8e, h0, payload.len() as u8];
    p.extend_from_slice(payload);
    p.extend_from_slice(&[0, 0, 0]);
    p
}

/// A Nordic v3 frame around `packet` on `channel`.
fn nordic_v3(packet: &[u8], channel: u8, flags: u8) -> Vec<u8> {
    let mut f = vec![
        7, 0, 0, 3, 1, 0, 2, 10, flags, channel, 60, 0, 0, 0, 0, 0, 0,
    ];
    let plen = (f.len() - 7 + packet.len()) as u16;
    f[1..3].copy_from_slice(&plen.to_le_bytes());
    f.extend_from_slice(packet);
    f
}

const ADVA: [u8; 6] = [0x06, 0x05, 0x04, 0x03, 0x02, 0xc1]; // c1:02:03:04:05:06, on air LE

fn adv_data() -> Vec<u8> {
    let mut d = ADVA.to_vec();
    d.extend_from_slice(&[0x02, 0x01, 0x06]); // flags
    d.extend_from_slice(&[0x05, 0x03, 0x10, 0x18, 0x0a, 0x18]); // 0x1810, 0x180a
    d.extend_from_slice(&[0x03, 0x19, 0x81, 0x03]); // appearance 0x0381
    d.extend_from_slice(&[0x02, 0x0a, 0xf8]); // TX power -8
    d.extend_from_slice(&[0x05, 0xff, 0x5d, 0x00, 0xaa, 0xbb]); // company 0x005d, data dropped
    d.extend_from_slice(&[0x05, 0x16, 0x0d, 0x18, 0x01, 0x02]); // service data 0x180d
    d.extend_from_slice(&[0x04, 0x08, b'B', b'P', b'M']); // shortened name
    d.extend_from_slice(&[0x00]); // end padding
    d
}

#[test]
fn adv_ind_with_every_kept_ad_type() {
    let r = one(
        LINKTYPE_NORDIC_BLE,
        &nordic_v3(&ll_adv(0x40, &adv_data()), 37, 1),
    );
    assert_eq!(r.pdu, BlePdu::AdvInd);
    let a = r.advertiser.unwrap();
    assert_eq!(a.addr, mac("c1:02:03:04:05:06"));
    assert_eq!(a.kind, BleAddrKind::RandomStatic);
    assert_eq!(r.flags, Some(0x06));
    assert_eq!(r.services, vec![BleUuid::U16(0x1810), BleUuid::U16(0x180a)]);
    assert_eq!(r.appearance, Some(0x0381));
    assert_eq!(r.tx_power, Some(-8));
    assert_eq!(r.companies, vec![0x005d]);
    assert_eq!(r.service_data, vec![BleUuid::U16(0x180d)]);
    assert_eq!(r.name.as_deref(), Some("BPM"));
    assert!(!r.name_complete);
    assert_eq!((r.channel, r.rssi), (Some(37), Some(-60)));
}

#[test]
fn complete_name_wins_and_names_are_cleaned() {
    let mut d = ADVA.to_vec();
    d.extend_from_slice(&[0x04, 0x09, b'A', 0x1b, b'B', 0x03, 0x08, b'x', b'y']);
    let r = one(LINKTYPE_BLE_LL, &ll_adv(0x02, &d));
    assert_eq!(r.pdu, BlePdu::AdvNonconnInd);
    assert_eq!(r.name.as_deref(), Some("AB"));
    assert!(r.name_complete);
    assert_eq!(r.advertiser.unwrap().kind, BleAddrKind::Public);
}

#[test]
fn uuid_lists_of_every_width() {
    let mut d = ADVA.to_vec();
    d.extend_from_slice(&[0x05, 0x05, 0x78, 0x56, 0x34, 0x12]);
    // 128-bit in the base UUID (0x1822) and a vendor one.
    let mut base = [
        0xfb, 0x34, 0x9b, 0x5f, 0x80, 0x00, 0x00, 0x80, 0x00, 0x10, 0x00, 0x00, 0x22, 0x18, 0x00,
        0x00,
    ]
    .to_vec();
    let vendor: Vec<u8> = (1..=16).collect();
    d.push(33);
    d.push(0x07);
    d.append(&mut base);
    d.extend_from_slice(&vendor);
    let r = one(LINKTYPE_BLE_LL, &ll_adv(0x06, &d));
    assert_eq!(r.pdu, BlePdu::AdvScanInd);
    assert_eq!(r.services.len(), 3);
    assert_eq!(r.services[0], BleUuid::U32(0x1234_5678));
    assert_eq!(r.services[1], BleUuid::U16(0x1822));
    assert_eq!(
        r.services[2].to_string(),
        "100f0e0d-0c0b-0a09-0807-060504030201"
    );
}

#[test]
fn directed_and_connect_pdus_name_both_parties() {
    let mut d = ADVA.to_vec();
    d.extend_from_slice(&[0x11, 0x12, 0x13, 0x14, 0x15, 0x16]);
    // ADV_DIRECT_IND: AdvA (TxAdd random) then TargetA (RxAdd public).
    let r = one(LINKTYPE_BLE_LL, &ll_adv(0x41, &d));
    assert_eq!(r.pdu, BlePdu::AdvDirectInd);
    assert_eq!(r.advertiser.unwrap().addr, mac("c1:02:03:04:05:06"));
    assert_eq!(r.peer.unwrap().addr, mac("16:15:14:13:12:11"));
    assert_eq!(r.peer.unwrap().kind, BleAddrKind::Public);
    // CONNECT_IND: InitA then AdvA (RxAdd random) and 22 bytes of LLData.
    let mut c = vec![0x11, 0x12, 0x13, 0x14, 0x15, 0x16];
    c.extend_from_slice(&ADVA);
    c.extend_from_slice(&[0; 22]);
    let r = one(LINKTYPE_BLE_LL, &ll_adv(0x85, &c));
    assert_eq!(r.pdu, BlePdu::ConnectInd);
    assert_eq!(r.advertiser.unwrap().addr, mac("c1:02:03:04:05:06"));
    assert_eq!(r.advertiser.unwrap().kind, BleAddrKind::RandomStatic);
    assert_eq!(r.peer.unwrap().addr, mac("16:15:14:13:12:11"));
}

#[test]
fn extended_advertising_header_and_data() {
    // Extended header: flags AdvA|TxPower, AdvA, TX power; then AdvData with a name.
    let mut p = vec![0x00];
    let mut hdr = vec![0x41];
    hdr.extend_from_slice(&ADVA);
    hdr.push(0xfc);
    p[0] = hdr.len() as u8;
    p.extend_from_slice(&hdr);
    p.extend_from_slice(&[0x06, 0x09, b'S', b'c', b'a', b'l', b'e']);
    let r = one(LINKTYPE_NORDIC_BLE, &nordic_v3(&ll_adv(0x47, &p), 12, 1));
    assert_eq!(r.pdu, BlePdu::AuxAdvInd);
    assert_eq!(r.advertiser.unwrap().addr, mac("c1:02:03:04:05:06"));
    assert_eq!(r.name.as_deref(), Some("Scale"));
    let r = one(LINKTYPE_NORDIC_BLE, &nordic_v3(&ll_adv(0x47, &p), 38, 1));
    assert_eq!(r.pdu, BlePdu::AdvExtInd);
    // A header length past the payload is truncated.
    let mut bad = p.clone();
    bad[0] = 0x3f;
    assert_eq!(
        weird(LINKTYPE_NORDIC_BLE, &nordic_v3(&ll_adv(0x47, &bad), 12, 1)),
        "truncated"
    );
}

#[test]
fn pseudo_header_link_type() {
    let pkt = ll_adv(0x40, &adv_data());
    let mut f = vec![12, 0xc4, 0xa0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&(0x0002u16 | 0x0400 | 0x0800).to_le_bytes());
    f.extend_from_slice(&pkt);
    let r = one(LINKTYPE_BLE_LL_WITH_PHDR, &f);
    assert_eq!((r.channel, r.rssi), (Some(38), Some(-60)));
    assert_eq!(r.pdu, BlePdu::AdvInd);
    // CRC checked and bad.
    f[8..10].copy_from_slice(&0x0400u16.to_le_bytes());
    assert_eq!(weird(LINKTYPE_BLE_LL_WITH_PHDR, &f), "crc_error");
}

#[test]
fn channel_indices_of_rf_channels() {
    assert_eq!(channel_index(0), Some(37));
    assert_eq!(channel_index(1), Some(0));
    assert_eq!(channel_index(11), Some(10));
    assert_eq!(channel_index(13), Some(11));
    assert_eq!(channel_index(38), Some(36));
    assert_eq!(channel_index(39), Some(39));
    assert_eq!(channel_index(40), None);
}

#[test]
fn malformed_frames_are_weirds() {
    assert_eq!(weird(LINKTYPE_NORDIC_BLE, &[]), "truncated");
    assert_eq!(
        weird(LINKTYPE_NORDIC_BLE, &[0xbe, 0xef, 0, 0, 0, 0, 0, 0]),
        "unknown_header"
    );
    // Version 9.
    let mut f = hex(V2_SCAN_REQ);
    f[3] = 9;
    assert_eq!(weird(LINKTYPE_NORDIC_BLE, &f), "unknown_header");
    // Reserved PDU type 0xf.
    assert_eq!(
        weird(LINKTYPE_BLE_LL, &ll_adv(0x0f, &ADVA)),
        "reserved_pdu_type"
    );
    // Payload length past the frame: what was captured is read.
    let mut p = ll_adv(0x00, &ADVA);
    p[5] = 40;
    assert_eq!(
        one(LINKTYPE_BLE_LL, &p).advertiser.unwrap().addr,
        mac("c1:02:03:04:05:06")
    );
    // ADV_IND shorter than its address.
    assert_eq!(
        weird(LINKTYPE_BLE_LL, &ll_adv(0x00, &[1, 2, 3])),
        "truncated"
    );
    // Coded PHY.
    assert_eq!(
        weird(
            LINKTYPE_NORDIC_BLE,
            &nordic_v3(&ll_adv(0x40, &adv_data()), 37, 0x21)
        ),
        "coded_phy"
    );
}

#[test]
fn truncated_ad_keeps_what_came_before() {
    let mut d = ADVA.to_vec();
    d.extend_from_slice(&[0x03, 0xff, 0x4c, 0x00, 0x09, 0x09, b'x']);
    let r = one(LINKTYPE_BLE_LL, &ll_adv(0x00, &d));
    assert_eq!(r.companies, vec![0x004c]);
    assert_eq!(r.name.as_deref(), Some("x"));
}

#[test]
fn ethernet_frames_are_not_accepted() {
    let f = LinkFrame {
        dst: MacAddr::default(),
        src: MacAddr::default(),
        ethertype: Some(0x88cc),
        snap: None,
        raw_link: None,
        payload: &[],
    };
    assert!(!Ble.accepts(&f));
    let mut events = Vec::new();
    let mut out = Out::new(Timestamp(0), None, "ble", &mut events);
    Ble.handle(&f, &mut out);
    assert!(events.is_empty());
}

#[test]
fn lists_are_capped() {
    let mut d = ADVA.to_vec();
    for i in 0..3u8 {
        let mut s = vec![25, 0x03];
        for j in 0..12u8 {
            s.extend_from_slice(&[i * 12 + j, 0x18]);
        }
        d.extend_from_slice(&s);
    }
    let mut r = BleRecord::new(BlePdu::AdvInd);
    ad::structures(&d[6..], &mut r);
    assert_eq!(r.services.len(), ad::MAX_SERVICES);
}
