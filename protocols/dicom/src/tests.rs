//! Unit tests for the DICOM analyzer.
//!
//! `ECHO_*` are the bytes of one C-ECHO association between DCMTK 3.6.7
//! `echoscu` and `storescp` on loopback (from the team's generated capture
//! `dicom_dcmtk_pynetdicom_loopback.pcap`, TCP stream 0; no patient data: a
//! C-ECHO carries only a command set). Everything else is built here.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A-ASSOCIATE-RQ: PACS_SCP <- MODALITY_CT, one context (Verification, Implicit LE),
/// max PDU 16384, DCMTK implementation class UID and version.
const ECHO_RQ: &str = "
    01 00 000000cd  0001 0000
    504143535f5343502020202020202020   4d4f44414c4954595f43542020202020
    0000000000000000000000000000000000000000000000000000000000000000
    10 00 0015 312e322e3834302e31303030382e332e312e312e31
    20 00 002e 01 00 ff 00
        30 00 0011 312e322e3834302e31303030382e312e31
        40 00 0011 312e322e3834302e31303030382e312e32
    50 00 003a
        51 00 0004 00004000
        52 00 001b 312e322e3237362e302e373233303031302e332e302e332e362e37
        55 00 000f 4f464649535f44434d544b5f333637";
/// A-ASSOCIATE-AC accepting context 1 with Implicit VR Little Endian.
const ECHO_AC: &str = "
    02 00 000000b8  0001 0000
    504143535f5343502020202020202020   4d4f44414c4954595f43542020202020
    0000000000000000000000000000000000000000000000000000000000000000
    10 00 0015 312e322e3834302e31303030382e332e312e312e31
    21 00 0019 01 00 00 00
        40 00 0011 312e322e3834302e31303030382e312e32
    50 00 003a
        51 00 0004 00004000
        52 00 001b 312e322e3237362e302e373233303031302e332e302e332e362e37
        55 00 000f 4f464649535f44434d544b5f333637";
/// P-DATA-TF with the C-ECHO-RQ command, as two TCP segments.
const ECHO_PDATA_RQ: [&str; 2] = [
    "04000000004a000000460103",
    "0000000004000000380000000000020012000000312e322e3834302e31303030382e312e3100000000010200000030000000100102000000010000000008020000000101",
];
/// P-DATA-TF with the C-ECHO-RSP command, as two TCP segments.
const ECHO_PDATA_RSP: [&str; 2] = [
    "040000000054000000500103",
    "0000000004000000420000000000020012000000312e322e3834302e31303030382e312e310000000001020000003080000020010200000001000000000802000000010100000009020000000000",
];
const RELEASE_RQ: &str = "05000000000400000000";
const RELEASE_RP: &str = "06000000000400000000";
/// A-ASSOCIATE-RJ: rejected-permanent, service-user, no-reason-given.
const REJECT: &str = "03000000000400010101";
/// A-ABORT: service-user, reason 0.
const ABORT: &str = "07000000000400000000";

const VERIFICATION: &str = "1.2.840.10008.1.1";
const IMPLICIT_LE: &str = "1.2.840.10008.1.2";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
const DCMTK_UID: &str = "1.2.276.0.7230010.3.0.3.6.7";
const APP_CONTEXT: &str = "1.2.840.10008.3.1.1.1";

fn echo_conversation() -> Vec<(Direction, Vec<u8>)> {
    use Direction::{ToClient as C, ToServer as S};
    vec![
        (S, hex(ECHO_RQ)),
        (C, hex(ECHO_AC)),
        (S, hex(ECHO_PDATA_RQ[0])),
        (S, hex(ECHO_PDATA_RQ[1])),
        (C, hex(ECHO_PDATA_RSP[0])),
        (C, hex(ECHO_PDATA_RSP[1])),
        (S, hex(RELEASE_RQ)),
        (C, hex(RELEASE_RP)),
    ]
}

fn run_conv(conv: &[(Direction, Vec<u8>)]) -> Vec<Record> {
    let chunks: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, b.as_slice())).collect();
    run(&Dicom, Transport::Tcp, 11112, &chunks)
}

fn dicom_records(records: &[Record]) -> Vec<&DicomRecord> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Dicom(d) = r {
                Some(d)
            } else {
                None
            }
        })
        .collect()
}

fn weirds(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| {
            if let Record::Weird(w) = r {
                Some(w.name.as_str())
            } else {
                None
            }
        })
        .collect()
}

fn assert_no_canary(records: &[Record]) {
    for r in records {
        let json = serde_json::to_string(r).unwrap();
        assert!(
            !json.contains("CANARY") && !format!("{r:?}").contains("CANARY"),
            "leaked: {json}"
        );
    }
}

/// Item or sub-item: type, reserved, 16-bit length, value.
fn item(ty: u8, value: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 0];
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// A-ASSOCIATE-RQ/AC PDU with the given AE titles and items.
fn associate_pdu(ty: u8, called: &str, calling: &str, items: &[Vec<u8>]) -> Vec<u8> {
    let mut body = vec![0x00, 0x01, 0x00, 0x00];
    body.extend_from_slice(format!("{called:<16}").as_bytes());
    body.extend_from_slice(format!("{calling:<16}").as_bytes());
    body.extend_from_slice(&[0; 32]);
    body.extend(item(item_type::APPLICATION_CONTEXT, APP_CONTEXT.as_bytes()));
    for i in items {
        body.extend_from_slice(i);
    }
    pdu_bytes(ty, &body)
}

fn pdu_bytes(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![ty, 0];
    v.extend_from_slice(&(body.len() as u32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

/// Presentation context item: id, reserved, result, reserved, sub-items.
fn context(
    ty: u8,
    id: u8,
    result: u8,
    abstract_syntax: Option<&str>,
    transfer: &[&str],
) -> Vec<u8> {
    let mut v = vec![id, 0, result, 0];
    if let Some(a) = abstract_syntax {
        v.extend(item(item_type::ABSTRACT_SYNTAX, a.as_bytes()));
    }
    for t in transfer {
        v.extend(item(item_type::TRANSFER_SYNTAX, t.as_bytes()));
    }
    item(ty, &v)
}

#[test]
fn dcmtk_echo_association() {
    let records = run_conv(&echo_conversation());
    assert!(weirds(&records).is_empty(), "{records:?}");
    let d = dicom_records(&records);
    assert_eq!(
        d.iter().map(|r| r.pdu).collect::<Vec<_>>(),
        [
            DicomPdu::AssociateRq,
            DicomPdu::AssociateAc,
            DicomPdu::ReleaseRq,
            DicomPdu::ReleaseRp
        ]
    );
    let rq = d[0];
    assert_eq!(rq.called_ae.as_deref(), Some("PACS_SCP"));
    assert_eq!(rq.calling_ae.as_deref(), Some("MODALITY_CT"));
    assert_eq!(rq.application_context.as_deref(), Some(APP_CONTEXT));
    assert_eq!(rq.abstract_syntaxes, [VERIFICATION]);
    assert_eq!(rq.transfer_syntaxes, [IMPLICIT_LE]);
    assert_eq!(rq.max_pdu_length, Some(16384));
    assert_eq!(rq.implementation_class_uid.as_deref(), Some(DCMTK_UID));
    assert_eq!(
        rq.implementation_version.as_deref(),
        Some("OFFIS_DCMTK_367")
    );
    assert_eq!(rq.user_identity, None);
    assert_eq!(rq.pdata_bytes, 0);
    let ac = d[1];
    assert_eq!(
        ac.abstract_syntaxes,
        [VERIFICATION],
        "accepted context 1 maps back to the RQ's proposal"
    );
    assert_eq!(ac.transfer_syntaxes, [IMPLICIT_LE]);
    assert_eq!(
        ac.implementation_version.as_deref(),
        Some("OFFIS_DCMTK_367")
    );
    // 0x4a + 0x54 bytes of P-DATA-TF before the release.
    assert_eq!(d[2].pdata_bytes, 0x4a + 0x54);
    assert_eq!(d[3].pdata_bytes, 0x4a + 0x54);
}

#[test]
fn reject_and_abort() {
    use Direction::{ToClient as C, ToServer as S};
    let records = run_conv(&[(S, hex(ECHO_RQ)), (C, hex(REJECT))]);
    let d = dicom_records(&records);
    assert_eq!(d[1].pdu, DicomPdu::AssociateRj);
    assert_eq!(d[1].reject_reason.as_deref(), Some("1/1/1"));
    let records = run_conv(&[(S, hex(ECHO_RQ)), (C, hex(ECHO_AC)), (S, hex(ABORT))]);
    let d = dicom_records(&records);
    assert_eq!(d[2].pdu, DicomPdu::Abort);
    assert_eq!(d[2].reject_reason.as_deref(), Some("0/0"));
    assert!(weirds(&records).is_empty());
}

#[test]
fn ac_lists_only_accepted_contexts() {
    use Direction::{ToClient as C, ToServer as S};
    let (ct, mr, us) = (
        "1.2.840.10008.5.1.4.1.1.2",
        "1.2.840.10008.5.1.4.1.1.4",
        "1.2.840.10008.5.1.4.1.1.6.1",
    );
    let rq = associate_pdu(
        1,
        "PACS",
        "CT01",
        &[
            context(0x20, 1, 0, Some(ct), &[EXPLICIT_LE, IMPLICIT_LE]),
            context(0x20, 3, 0, Some(mr), &[IMPLICIT_LE]),
            context(0x20, 5, 0, Some(us), &[IMPLICIT_LE]),
            context(0x20, 7, 0, Some(ct), &[IMPLICIT_LE]),
        ],
    );
    let ac = associate_pdu(
        2,
        "PACS",
        "CT01",
        &[
            context(0x21, 1, 0, None, &[EXPLICIT_LE]),
            context(0x21, 3, 3, None, &[IMPLICIT_LE]), // abstract syntax not supported
            context(0x21, 5, 0, None, &[IMPLICIT_LE]),
            context(0x21, 9, 0, None, &[IMPLICIT_LE]), // never proposed
        ],
    );
    let records = run_conv(&[(S, rq), (C, ac)]);
    let d = dicom_records(&records);
    assert_eq!(
        d[0].abstract_syntaxes,
        [ct, mr, us],
        "deduplicated in order"
    );
    assert_eq!(d[0].transfer_syntaxes, [EXPLICIT_LE, IMPLICIT_LE]);
    assert_eq!(d[1].abstract_syntaxes, [ct, us]);
    assert_eq!(d[1].transfer_syntaxes, [EXPLICIT_LE, IMPLICIT_LE]);
    assert_eq!(d[1].called_ae.as_deref(), Some("PACS"));
}

#[test]
fn user_identity_type_kept_credentials_dropped() {
    // User identity: type 2 (username + passcode), response requested 0,
    // primary field (user), secondary field (passcode).
    let mut ui = vec![2, 0];
    for f in [&b"CANARYUSER"[..], b"CANARYPASS"] {
        ui.extend_from_slice(&(f.len() as u16).to_be_bytes());
        ui.extend_from_slice(f);
    }
    let user_info = item(
        item_type::USER_INFO,
        &[
            item(0x51, &[0, 0, 0x40, 0]),
            item(item_type::USER_IDENTITY, &ui),
        ]
        .concat(),
    );
    let rq = associate_pdu(
        1,
        "PACS",
        "CT01",
        &[
            context(0x20, 1, 0, Some(VERIFICATION), &[IMPLICIT_LE]),
            user_info,
        ],
    );
    let records = run_conv(&[(Direction::ToServer, rq)]);
    assert_no_canary(&records);
    let d = dicom_records(&records);
    assert_eq!(d[0].user_identity.as_deref(), Some("username_passcode"));
    assert_eq!(d[0].max_pdu_length, Some(16384));
}

#[test]
fn pdata_is_skipped_as_it_streams() {
    // A 1 MiB P-DATA-TF full of "CANARY" (stands in for a dataset with patient data).
    let body: Vec<u8> = b"CANARY".iter().copied().cycle().take(1 << 20).collect();
    let pdata = pdu_bytes(4, &body);
    let mut a = Dicom.start();
    let info = analyzer_api::testing::flow(Transport::Tcp, 104);
    let mut events = Vec::new();
    let mut out = Out::new(model::Timestamp(0), Some(&info), "dicom", &mut events);
    let rq = hex(ECHO_RQ);
    assert_eq!(
        a.feed(Direction::ToServer, &rq, &mut out),
        Progress::Consumed(rq.len())
    );
    // Every chunk of the P-DATA is consumed at once, header included.
    for chunk in pdata.chunks(4000) {
        assert_eq!(
            a.feed(Direction::ToServer, chunk, &mut out),
            Progress::Consumed(chunk.len())
        );
    }
    // A gap inside a P-DATA-TF keeps the framing.
    let second = pdu_bytes(4, &body[..10_000]);
    assert_eq!(
        a.feed(Direction::ToServer, &second[..5000], &mut out),
        Progress::Consumed(5000)
    );
    assert_eq!(
        a.gap(Direction::ToServer, 3000, &mut out),
        Progress::Consumed(0)
    );
    assert_eq!(
        a.feed(Direction::ToServer, &second[8000..], &mut out),
        Progress::Consumed(second.len() - 8000)
    );
    let rel = hex(RELEASE_RQ);
    assert_eq!(
        a.feed(Direction::ToServer, &rel, &mut out),
        Progress::Consumed(rel.len())
    );
    a.finish(&mut out);
    let records: Vec<Record> = events.into_iter().map(|e| e.record).collect();
    assert_no_canary(&records);
    assert!(weirds(&records).is_empty());
    let d = dicom_records(&records);
    assert_eq!(d[1].pdu, DicomPdu::ReleaseRq);
    assert_eq!(d[1].pdata_bytes, (1 << 20) + 10_000);
}

#[test]
fn partial_association_pdu_waits() {
    let rq = hex(ECHO_RQ);
    let mut a = Dicom.start();
    let info = analyzer_api::testing::flow(Transport::Tcp, 104);
    let mut events = Vec::new();
    let mut out = Out::new(model::Timestamp(0), Some(&info), "dicom", &mut events);
    assert_eq!(
        a.feed(Direction::ToServer, &rq[..100], &mut out),
        Progress::Consumed(0)
    );
    assert_eq!(
        a.feed(Direction::ToServer, &rq[..4], &mut out),
        Progress::Consumed(0)
    );
    assert_eq!(
        a.feed(Direction::ToServer, &rq, &mut out),
        Progress::Consumed(rq.len())
    );
    assert_eq!(events.len(), 1);
}

#[test]
fn oversized_and_unknown_pdus() {
    // An RQ claiming more than MAX_PDU is skipped by length, then parsing resumes.
    let mut s = vec![1, 0];
    s.extend_from_slice(&(MAX_PDU + 1).to_be_bytes());
    s.extend(std::iter::repeat_n(0u8, MAX_PDU as usize + 1));
    s.extend(pdu_bytes(0x09, b"xyz"));
    s.extend(hex(RELEASE_RQ));
    let records = run_forced(&Dicom, Transport::Tcp, 104, &[(Direction::ToServer, &s)]);
    assert_eq!(
        weirds(&records),
        ["dicom_pdu_too_large", "dicom_unknown_pdu_type"]
    );
    assert_eq!(dicom_records(&records).len(), 1);
    // Too many unknown PDUs: the analyzer gives up.
    let junk: Vec<u8> = (0..10).flat_map(|_| pdu_bytes(0x42, b"")).collect();
    let mut a = Dicom.start();
    let mut events = Vec::new();
    let mut out = Out::new(model::Timestamp(0), None, "dicom", &mut events);
    assert_eq!(a.feed(Direction::ToServer, &junk, &mut out), Progress::Done);
}

#[test]
fn malformed_items_and_lengths() {
    // User info item claiming more bytes than present; truncated RQ; RJ of the wrong length.
    let mut rq = associate_pdu(
        1,
        "PACS",
        "CT01",
        &[context(0x20, 1, 0, Some(VERIFICATION), &[IMPLICIT_LE])],
    );
    rq.extend_from_slice(&[0x50, 0, 0, 50, 0x51, 0]);
    let len = (rq.len() - 6) as u32;
    rq[2..6].copy_from_slice(&len.to_be_bytes());
    let mut s = rq;
    s.extend(pdu_bytes(1, &[0, 1, 0, 0]));
    s.extend(pdu_bytes(3, &[0, 1, 1]));
    let records = run_forced(&Dicom, Transport::Tcp, 104, &[(Direction::ToServer, &s)]);
    assert_eq!(
        weirds(&records),
        [
            "dicom_bad_item_length",
            "dicom_truncated_pdu",
            "dicom_bad_pdu_length"
        ]
    );
    let d = dicom_records(&records);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].abstract_syntaxes, [VERIFICATION]);
    assert_eq!(d[1].pdu, DicomPdu::AssociateRj);
    assert_eq!(d[1].reject_reason, None);
}

#[test]
fn uid_lists_are_capped() {
    let contexts: Vec<Vec<u8>> = (0..200u32)
        .map(|i| {
            context(
                0x20,
                (2 * i + 1) as u8,
                0,
                Some(&format!("1.2.3.{i}")),
                &[IMPLICIT_LE],
            )
        })
        .collect();
    let rq = associate_pdu(1, "PACS", "CT01", &contexts);
    let records = run_conv(&[(Direction::ToServer, rq)]);
    assert_eq!(dicom_records(&records)[0].abstract_syntaxes.len(), MAX_UIDS);
    assert_eq!(weirds(&records), ["dicom_too_many_uids"]);
}

#[test]
fn uids_lose_padding() {
    let rq = associate_pdu(
        1,
        "PACS",
        "CT01",
        &[context(
            0x20,
            1,
            0,
            Some("1.2.840.10008.1.1\0"),
            &["1.2.840.10008.1.2 "],
        )],
    );
    let d = run_conv(&[(Direction::ToServer, rq)]);
    let d = dicom_records(&d);
    assert_eq!(d[0].abstract_syntaxes, [VERIFICATION]);
    assert_eq!(d[0].transfer_syntaxes, [IMPLICIT_LE]);
}

#[test]
fn probe() {
    let p = |d: &[u8], hint: bool| Dicom.probe(Direction::ToServer, d, hint);
    let rq = hex(ECHO_RQ);
    assert_eq!(p(&rq, false), Probe::Match);
    for cut in 0..75 {
        assert_eq!(p(&rq[..cut], false), Probe::NeedMore, "prefix {cut}");
    }
    assert_eq!(p(&hex(ECHO_AC), false), Probe::Match);
    assert_eq!(p(&hex(REJECT), true), Probe::Match);
    assert_eq!(p(&hex(REJECT), false), Probe::NoMatch);
    assert_eq!(p(&hex(RELEASE_RQ), true), Probe::NoMatch);
    assert_eq!(p(&hex(ECHO_PDATA_RQ[0]), true), Probe::NoMatch);
    let mut bad = rq.clone();
    bad[7] = 2; // protocol version 2
    assert_eq!(p(&bad, true), Probe::NoMatch);
    let mut bad = rq.clone();
    bad[12] = 0x07; // control character in the called AE
    assert_eq!(p(&bad, true), Probe::NoMatch);
    let mut bad = rq.clone();
    bad[74] = 0x20; // first item is not the application context
    assert_eq!(p(&bad, true), Probe::NoMatch);
    let mut bad = rq.clone();
    bad[2] = 0x40; // length over MAX_PDU
    assert_eq!(p(&bad, true), Probe::NoMatch);
    assert_eq!(p(b"GET / HTTP/1.1\r\n", true), Probe::NoMatch);
    assert_eq!(p(b"\x0bMSH|^~\\&|", true), Probe::NoMatch);
    assert_eq!(p(b"\x01\x01", true), Probe::NoMatch);
}

#[test]
fn identical_records_at_every_split_point() {
    let stream: Vec<u8> = echo_conversation()
        .into_iter()
        .flat_map(|(_, b)| b)
        .chain(hex(ABORT))
        .collect();
    let whole = run_forced(
        &Dicom,
        Transport::Tcp,
        104,
        &[(Direction::ToServer, &stream)],
    );
    assert_eq!(dicom_records(&whole).len(), 5);
    for split in 0..=stream.len() {
        let (a, b) = stream.split_at(split);
        assert_eq!(
            run_forced(
                &Dicom,
                Transport::Tcp,
                104,
                &[(Direction::ToServer, a), (Direction::ToServer, b)]
            ),
            whole,
            "split {split}"
        );
    }
    let bytes: Vec<(Direction, &[u8])> =
        stream.chunks(1).map(|c| (Direction::ToServer, c)).collect();
    assert_eq!(run_forced(&Dicom, Transport::Tcp, 104, &bytes), whole);
    assert!(never_panics(&Dicom, Transport::Tcp, 104, &stream) > 0);
}
