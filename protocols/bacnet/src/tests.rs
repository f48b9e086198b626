//! Unit tests on datagrams captured from bacpypes3 (scripts/bacnet-capture)
//! and hand-made variants: probe, Who-Is, I-Am, ReadProperty(-Multiple)
//! requests and ACKs, routed NPDUs, network messages, bounds and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::Record;
use model::Direction::{ToClient, ToServer};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

const WHO_IS: &str = "810b000c0120ffff00ff1008";
const I_AM: &str = "810a001401001000c4020004b122040091002105";
const RP_VENDOR: &str = "810a001101040244000c0c020004b11979";
const RP_VENDOR_ACK: &str =
    "810a0025010030000c0c020004b119793e7511004a6f686e736f6e20436f6e74726f6c733f";
const RPM: &str = "810a001b01040244050e0c020004b11e09790946092c090c094d1f";
const RPM_ACK: &str = "810a006c010030050e0c020004b11e29794e7511004a6f686e736f6e20436f6e74726f6c734f29464e750b0046582d504347323632314f292c4e75070031302e322e314f290c4e750c004f52332d41485520322e344f294d4e750f004148552d33204f522053756974654f1f";
const ERROR: &str = "810a000d010050060c9101911f";

/// A BVLC header (function, computed length) and `body` (hex).
fn bvlc(function: u8, body: &str) -> String {
    format!("81{function:02x}{:04x}{body}", 4 + body.len() / 2)
}

fn one(d: Direction, s: &str) -> BacnetRecord {
    let recs = run(&Bacnet, Transport::Udp, 47808, &[(d, &hex(s))]);
    let mut it = recs.into_iter().filter_map(|r| match r {
        Record::Bacnet(b) => Some(b),
        _ => None,
    });
    let r = it.next().expect("a bacnet record");
    assert!(it.next().is_none());
    r
}

#[test]
fn probe_checks_bvlc_structure() {
    for s in [WHO_IS, I_AM, RPM_ACK, ERROR] {
        assert_eq!(Bacnet.probe(ToServer, &hex(s), true), Probe::Match, "{s}");
        assert_eq!(Bacnet.probe(ToServer, &hex(s), false), Probe::Match, "{s}");
    }
    let mut bad = hex(I_AM);
    bad.push(0); // length no longer matches
    assert_eq!(Bacnet.probe(ToServer, &bad, true), Probe::NoMatch);
    let mut v2 = hex(I_AM);
    v2[4] = 2; // NPDU version
    assert_eq!(Bacnet.probe(ToServer, &v2, true), Probe::NoMatch);
    assert_eq!(Bacnet.probe(ToServer, b"\x81\x0a", true), Probe::NoMatch);
    assert_eq!(Bacnet.probe(ToServer, b"GET / HTTP", true), Probe::NoMatch);
    // A BVLC-Result (no NPDU) is BACnet too.
    assert_eq!(
        Bacnet.probe(ToClient, &hex("810000060000"), true),
        Probe::Match
    );
}

#[test]
fn who_is_and_i_am() {
    let w = one(ToServer, WHO_IS);
    assert_eq!(w.bvlc_function, 0x0b);
    assert_eq!(w.dnet, Some(0xffff));
    assert_eq!((w.apdu_type, w.service), (Some(1), Some(8)));
    assert_eq!(w.who_is_range, None);
    let i = one(ToClient, I_AM);
    let iam = i.i_am.expect("i-am");
    assert_eq!(iam.device_instance, 1201);
    assert_eq!(iam.max_apdu, 1024);
    assert_eq!(iam.segmentation, 0);
    assert_eq!(iam.vendor_id, 5);
    assert_eq!(iam.vendor.as_deref(), Some("Johnson Controls, Inc."));
    assert_eq!(i.direction, ToClient);
    // A ranged Who-Is.
    let r = one(ToServer, &bvlc(0x0b, "0120ffff00ff1008090a1914"));
    assert_eq!(r.who_is_range, Some((10, 20)));
}

#[test]
fn read_property_request_and_ack() {
    let q = one(ToServer, RP_VENDOR);
    assert_eq!(
        (q.apdu_type, q.service, q.invoke_id),
        (Some(0), Some(12), Some(0))
    );
    assert_eq!(q.object, Some((8, 1201)));
    assert_eq!(q.properties, vec![121]);
    assert!(q.device.is_none());
    let a = one(ToClient, RP_VENDOR_ACK);
    assert_eq!((a.apdu_type, a.service), (Some(3), Some(12)));
    assert_eq!(
        a.device.unwrap().vendor_name.as_deref(),
        Some("Johnson Controls")
    );
    let e = one(ToClient, ERROR);
    assert_eq!(
        (e.apdu_type, e.service, e.invoke_id),
        (Some(5), Some(12), Some(6))
    );
}

#[test]
fn read_property_multiple_request_and_ack() {
    let q = one(ToServer, RPM);
    assert_eq!(q.service, Some(14));
    assert_eq!(q.properties, vec![121, 70, 44, 12, 77]);
    let a = one(ToClient, RPM_ACK);
    assert_eq!(a.properties, vec![121, 70, 44, 12, 77]);
    let d = a.device.expect("device properties");
    assert_eq!(d.vendor_name.as_deref(), Some("Johnson Controls"));
    assert_eq!(d.model_name.as_deref(), Some("FX-PCG2621"));
    assert_eq!(d.firmware_revision.as_deref(), Some("10.2.1"));
    assert_eq!(
        d.application_software_version.as_deref(),
        Some("OR3-AHU 2.4")
    );
    assert_eq!(d.object_name.as_deref(), Some("AHU-3 OR Suite"));
}

#[test]
fn values_of_other_objects_are_not_kept() {
    // The RP ACK of vendor-name, but for analog-value 77 instead of the device.
    let mut ack = hex(RP_VENDOR_ACK);
    let at = ack
        .windows(4)
        .position(|w| w == [0x02, 0x00, 0x04, 0xb1])
        .unwrap();
    ack[at..at + 4].copy_from_slice(&[0x00, 0x80, 0x00, 0x4d]);
    let r = run(&Bacnet, Transport::Udp, 47808, &[(ToClient, &ack)]);
    let Some(Record::Bacnet(b)) = r.first() else {
        panic!("{r:?}")
    };
    assert_eq!(b.object, Some((2, 77)));
    assert!(b.device.is_none());
}

#[test]
fn routed_and_network_layer_messages() {
    // Forwarded-NPDU from 10.0.0.9:47808, source network 5 (SLEN 1, SADR 7),
    // carrying an I-Am.
    let fwd = bvlc(
        4,
        "0a000009bac0010800050107100 0c4020004b122040091002105"
            .replace(' ', "")
            .as_str(),
    );
    let r = one(ToServer, &fwd);
    assert_eq!(r.bvlc_function, 4);
    assert_eq!(r.snet, Some(5));
    assert_eq!(r.i_am.map(|i| i.device_instance), Some(1201));
    // Who-Is-Router-To-Network (network layer message 0).
    let n = one(ToServer, &bvlc(0x0b, "018000"));
    assert_eq!(n.network_message, Some(0));
    assert_eq!(n.apdu_type, None);
}

#[test]
fn garbage_is_weird_not_fatal() {
    let recs = run_forced(
        &Bacnet,
        Transport::Udp,
        47808,
        &[
            (ToServer, b"\x81\x0a\x00\x09\x01\x00\x30\xff\xff"),
            (ToServer, b"junk"),
        ],
    );
    assert!(recs.iter().any(|r| matches!(r, Record::Weird(_))));
    assert_eq!(vendor_name(65000), None);
    assert_eq!(vendor_name(36), Some("Tridium Inc."));
}

#[test]
fn property_list_is_bounded() {
    // An RPM request listing 40 properties.
    let mut body = vec![0x0c, 0x02, 0x00, 0x04, 0xb1, 0x1e];
    for p in 0..40u8 {
        body.extend([0x09, p]);
    }
    body.push(0x1f);
    let mut d = vec![0x81, 0x0a, 0, 0, 0x01, 0x04, 0x02, 0x44, 0x05, 0x0e];
    d.extend(body);
    let n = d.len() as u16;
    d[2..4].copy_from_slice(&n.to_be_bytes());
    let r = run(&Bacnet, Transport::Udp, 47808, &[(ToServer, &d)]);
    let Some(Record::Bacnet(b)) = r.first() else {
        panic!("{r:?}")
    };
    assert_eq!(b.properties.len(), MAX_PROPERTIES);
}

#[test]
fn never_panics_on_truncations() {
    for s in [WHO_IS, I_AM, RP_VENDOR_ACK, RPM, RPM_ACK, ERROR] {
        let d = hex(s);
        assert!(never_panics(&Bacnet, Transport::Udp, 47808, &d) > 0);
        for cut in 0..d.len() {
            let mut t = d[..cut].to_vec();
            if t.len() >= 4 {
                let n = t.len() as u16;
                t[2..4].copy_from_slice(&n.to_be_bytes());
            }
            run_forced(&Bacnet, Transport::Udp, 47808, &[(ToClient, &t)]);
        }
    }
}
