//! Unit tests: MBAP framing, function and exception counts, Read Device
//! Identification, bounds, and what is never kept.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::Record;
use model::Direction::{ToClient, ToServer};

fn adu(tid: u16, unit: u8, pdu: &[u8]) -> Vec<u8> {
    let mut v = tid.to_be_bytes().to_vec();
    v.extend_from_slice(&[0, 0]);
    v.extend_from_slice(&((pdu.len() + 1) as u16).to_be_bytes());
    v.push(unit);
    v.extend_from_slice(pdu);
    v
}

fn device_id_response() -> Vec<u8> {
    let mut pdu = vec![0x2b, 0x0e, 0x02, 0x82, 0x00, 0x00, 0x07];
    for (id, s) in [
        (0u8, "Acme Building Controls"),
        (1, "ABC-AHU-200"),
        (2, "4.7.2"),
        (3, "https://acme-bc.example"),
        (4, "AHU Controller"),
        (5, "AHU-200\r\nOR Suite"),
        (0x80, "private object"),
    ] {
        pdu.push(id);
        pdu.push(s.len() as u8);
        pdu.extend_from_slice(s.as_bytes());
    }
    adu(7, 1, &pdu)
}

fn records(chunks: &[(Direction, &[u8])]) -> Vec<ModbusRecord> {
    run(&Modbus, Transport::Tcp, 502, chunks)
        .into_iter()
        .filter_map(|r| match r {
            Record::Modbus(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[test]
fn probe_needs_port_and_mbap_structure() {
    let req = adu(1, 1, &[3, 0, 0, 0, 3]);
    assert_eq!(Modbus.probe(ToServer, &req, true), Probe::Match);
    assert_eq!(Modbus.probe(ToServer, &req, false), Probe::NoMatch);
    assert_eq!(Modbus.probe(ToServer, &req[..5], true), Probe::NeedMore);
    assert_eq!(
        Modbus.probe(ToServer, b"GET / HTTP/1.1\r\n", true),
        Probe::NoMatch
    );
    // Protocol identifier not 0, length out of range, exception as a request.
    assert_eq!(
        Modbus.probe(ToServer, &[0, 1, 0, 1, 0, 6, 1, 3], true),
        Probe::NoMatch
    );
    assert_eq!(
        Modbus.probe(ToServer, &[0, 1, 0, 0, 1, 0, 1, 3], true),
        Probe::NoMatch
    );
    assert_eq!(
        Modbus.probe(ToServer, &[0, 1, 0, 0, 0, 3, 1, 0x83], true),
        Probe::NoMatch
    );
    assert_eq!(
        Modbus.probe(ToClient, &[0, 1, 0, 0, 0, 3, 1, 0x83], true),
        Probe::Match
    );
    assert_eq!(Modbus.probe(ToServer, &[0, 1, 2], true), Probe::NeedMore);
    assert_eq!(Modbus.probe(ToServer, &[0, 1, 2, 3], true), Probe::NoMatch);
}

#[test]
fn counts_functions_exceptions_and_reads_device_identification() {
    let read = adu(1, 1, &[3, 0, 0, 0, 3]);
    let read_ok = adu(1, 1, &[3, 6, 0x7a, 0x69, 0x08, 0x98, 0, 45]);
    let write = adu(2, 1, &[6, 0, 1, 0x08, 0x66]);
    let write_ok = adu(2, 1, &[6, 0, 1, 0x08, 0x66]);
    let bad = adu(3, 1, &[3, 0x13, 0x88, 0, 4]);
    let bad_rsp = adu(3, 1, &[0x83, 2]);
    let dev = adu(7, 1, &[0x2b, 0x0e, 0x02, 0x00]);
    let dev_rsp = device_id_response();
    let stray = adu(99, 2, &[0x80, 1]);
    let recs = records(&[
        (ToServer, &read),
        (ToClient, &read_ok),
        (
            ToServer,
            &[write.as_slice(), bad.as_slice(), dev.as_slice()].concat(),
        ),
        (
            ToClient,
            &[write_ok.as_slice(), bad_rsp.as_slice()].concat(),
        ),
        (ToClient, &dev_rsp[..10]),
        (ToClient, &[&dev_rsp[10..], stray.as_slice()].concat()),
    ]);
    assert_eq!(recs.len(), 1, "{recs:#?}");
    let r = &recs[0];
    assert_eq!((r.requests, r.responses, r.unmatched_responses), (4, 5, 1));
    assert_eq!(r.unit_ids, vec![1, 2]);
    let f = |code| r.functions.iter().find(|f| f.code == code).cloned();
    assert_eq!(
        f(3),
        Some(ModbusFunctionCount {
            code: 3,
            requests: 2,
            responses: 1
        })
    );
    assert_eq!(f(6).map(|f| (f.requests, f.responses)), Some((1, 1)));
    assert_eq!(f(43).map(|f| (f.requests, f.responses)), Some((1, 1)));
    assert_eq!(
        r.exceptions,
        vec![
            ModbusException {
                function: 3,
                code: 2,
                count: 1
            },
            ModbusException {
                function: 0,
                code: 1,
                count: 1
            }
        ]
    );
    let id = r.device_id.as_ref().expect("device id");
    assert_eq!(id.vendor_name.as_deref(), Some("Acme Building Controls"));
    assert_eq!(id.product_code.as_deref(), Some("ABC-AHU-200"));
    assert_eq!(id.revision.as_deref(), Some("4.7.2"));
    assert_eq!(id.vendor_url.as_deref(), Some("https://acme-bc.example"));
    assert_eq!(id.product_name.as_deref(), Some("AHU Controller"));
    let model = id.model_name.as_deref().unwrap();
    assert!(
        !model.contains('\n') && model.starts_with("AHU-200"),
        "{model:?}"
    );
    assert_eq!(id.conformity_level, Some(0x82));
    // Register values are never kept.
    let json = serde_json::to_string(r).unwrap();
    for v in ["31337", "2200", "private object"] {
        assert!(!json.contains(v), "{json}");
    }
}

#[test]
fn bad_header_stops_with_a_weird_and_keeps_what_was_seen() {
    let read = adu(1, 1, &[3, 0, 0, 0, 3]);
    let out = run(
        &Modbus,
        Transport::Tcp,
        502,
        &[(
            ToServer,
            &[read.as_slice(), b"\x00\x02\x00\x07\x00\x06\x01\x03"].concat(),
        )],
    );
    assert!(out
        .iter()
        .any(|r| matches!(r, Record::Weird(w) if w.name == "modbus_malformed_adu")));
    assert!(out
        .iter()
        .any(|r| matches!(r, Record::Modbus(m) if m.requests == 1)));
}

#[test]
fn truncated_device_identification_is_weird_not_fatal() {
    let mut rsp = device_id_response();
    // Claim more objects than there are.
    rsp[7 + 6] = 9;
    let out = run_forced(&Modbus, Transport::Tcp, 502, &[(ToClient, &rsp)]);
    assert!(out.iter().any(|r| matches!(r, Record::Weird(_))));
    let m = out
        .iter()
        .find_map(|r| match r {
            Record::Modbus(m) => Some(m),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        m.device_id.as_ref().unwrap().vendor_name.as_deref(),
        Some("Acme Building Controls")
    );
}

#[test]
fn lists_are_bounded() {
    let reqs: Vec<u8> = (0..=255u8)
        .flat_map(|i| adu(u16::from(i), i, &[(i % 127) + 1, 0, 0, 0, 1]))
        .collect();
    let rsps: Vec<u8> = (0..=255u8)
        .flat_map(|i| adu(1000 + u16::from(i), i, &[0x80 | ((i % 127) + 1), i]))
        .collect();
    let recs = records(&[(ToServer, &reqs), (ToClient, &rsps)]);
    let r = &recs[0];
    assert_eq!(r.unit_ids.len(), MAX_UNITS);
    assert_eq!(r.functions.len(), MAX_FUNCTIONS);
    assert_eq!(r.exceptions.len(), MAX_EXCEPTIONS);
    assert_eq!(r.requests, 256);
    assert_eq!(r.unmatched_responses, 256);
}

#[test]
fn never_panics_on_splits_and_truncations() {
    let conv = [
        adu(1, 1, &[3, 0, 0, 0, 3]),
        device_id_response(),
        adu(3, 1, &[0x83, 2]),
    ]
    .concat();
    assert!(never_panics(&Modbus, Transport::Tcp, 502, &conv) > 0);
    for cut in 0..conv.len() {
        run_forced(&Modbus, Transport::Tcp, 502, &[(ToClient, &conv[..cut])]);
    }
}
