//! Unit tests on a POCT1-A2 conversation shaped like the published
//! examples (scripts/poct_capture.py), split at every point, and on hostile
//! XML: deep nesting, huge attributes, truncation, entity declarations,
//! comments and CDATA hiding markup, oversized messages and garbage.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::records::Record;
use model::Direction::{ToClient, ToServer};

const HEL: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<HEL.R01><HDR><HDR.message_type V="HEL.R01" SN="POCT1" SV="1"/><HDR.control_id V="1001"/><HDR.version_id V="POCT1"/><HDR.creation_dttm V="2026-12-06T10:00:00-05:00"/></HDR><DEV><DEV.device_id V="GLU-ICU4-07"/><DEV.vendor_id V="ACMEPOC"/><DEV.model_id V="GlucoStat 300"/><DEV.serial_id V="GS3-0042-1187"/><DEV.manufacturer_name V="Acme &amp; Sons"/><DEV.hw_version V="B2"/><DEV.sw_version V="4.12.7">4.12.7_en-US</DEV.sw_version><DEV.device_name V="ICU4 meter 7"/><DSC><DSC.max_message_sz V="32768"/></DSC></DEV></HEL.R01>"#;

const OBS: &[u8] = br#"<OBS.R01><HDR><HDR.control_id V="1003"/><HDR.version_id V="POCT1"/></HDR><SVC><SVC.role_cd V="OBS"/><PT><PT.patient_id V="PT-CANARY-5513"/><PT.name V="CanaryPatient5513"/><PT.birth_date V="19030517"/><OBS><OBS.observation_id V="2341-6" DN="Glu" SN="LN"/><OBS.value V="7.77" U="CANARYRESULT5513"/></OBS><NTE><NTE.text V="CANARYNOTE5513"/></NTE></PT><OPR><OPR.operator_id V="OPR-CANARY-5513"/></OPR></SVC></OBS.R01>"#;

const QC: &[u8] = br#"<OBS.R02><HDR><HDR.control_id V="1004"/></HDR><SVC><CTC><OBS><OBS.value V="5.55" U="mmol/L"/></OBS></CTC></SVC></OBS.R02>"#;

const ACK: &[u8] = br#"<ACK.R01><HDR><HDR.control_id V="9101"/></HDR><ACK><ACK.type_cd V="AA"/><ACK.ack_control_id V="1001"/></ACK></ACK.R01>"#;

fn records(chunks: &[(Direction, &[u8])]) -> Vec<PoctRecord> {
    poct(run(&Poct1a, Transport::Tcp, 15300, chunks))
}

/// Without probing: the harness drops chunks the probe did not match yet.
fn forced(chunks: &[(Direction, &[u8])]) -> Vec<PoctRecord> {
    poct(run_forced(&Poct1a, Transport::Tcp, 15300, chunks))
}

fn poct(recs: Vec<Record>) -> Vec<PoctRecord> {
    recs.into_iter()
        .filter_map(|r| match r {
            Record::Poct1a(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn weirds(chunks: &[(Direction, &[u8])]) -> Vec<String> {
    run_forced(&Poct1a, Transport::Tcp, 15300, chunks)
        .into_iter()
        .filter_map(|r| match r {
            Record::Weird(w) => Some(w.name),
            _ => None,
        })
        .collect()
}

fn all_strings(r: &[PoctRecord]) -> String {
    serde_json::to_string(r).unwrap()
}

#[test]
fn probe_wants_a_poct_message_root() {
    let p = |d: &[u8]| Poct1a.probe(ToServer, d, false);
    assert_eq!(p(HEL), Probe::Match);
    assert_eq!(p(b"<DST.R01>"), Probe::Match);
    assert_eq!(p(b"\xef\xbb\xbf  <ACK.R01 xmlns='x'>"), Probe::Match);
    assert_eq!(p(b"<OBS.R0"), Probe::NeedMore);
    assert_eq!(p(b"<?xml version"), Probe::NeedMore);
    assert_eq!(p(b"<?x"), Probe::NeedMore);
    assert_eq!(p(b""), Probe::NeedMore);
    assert_eq!(p(b"<OBS.R01x>"), Probe::NoMatch);
    assert_eq!(p(b"<FOO.R01>"), Probe::NoMatch);
    assert_eq!(p(b"<html>"), Probe::NoMatch);
    assert_eq!(p(b"<?xml version='1.0'?><soap:Envelope>"), Probe::NoMatch);
    assert_eq!(p(b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(p(b"H|\\^&|||"), Probe::NoMatch);
    let long = [b"<?xml ".as_slice(), &[b'a'; 400]].concat();
    assert_eq!(p(&long), Probe::NoMatch);
}

#[test]
fn hello_gives_the_device_identity() {
    let r = records(&[(ToServer, HEL), (ToClient, ACK)]);
    assert_eq!(r.len(), 2, "{r:#?}");
    let h = &r[0];
    assert_eq!(h.message_type, "HEL.R01");
    assert_eq!(h.direction, Some(ToServer));
    assert_eq!(h.control_id.as_deref(), Some("1001"));
    assert_eq!(h.version_id.as_deref(), Some("POCT1"));
    let d = h.device.as_ref().expect("DEV");
    assert_eq!(d.device_id.as_deref(), Some("GLU-ICU4-07"));
    assert_eq!(d.vendor_id.as_deref(), Some("ACMEPOC"));
    assert_eq!(d.model_id.as_deref(), Some("GlucoStat 300"));
    assert_eq!(d.serial_id.as_deref(), Some("GS3-0042-1187"));
    assert_eq!(d.manufacturer_name.as_deref(), Some("Acme & Sons"));
    assert_eq!(d.sw_version.as_deref(), Some("4.12.7"), "V, not the text");
    assert_eq!(d.hw_version.as_deref(), Some("B2"));
    assert_eq!(d.device_name.as_deref(), Some("ICU4 meter 7"));
    assert!(!h.carries_phi && !h.truncated);
    assert_eq!(r[1].message_type, "ACK.R01");
    assert_eq!(r[1].direction, Some(ToClient));
    assert_eq!(r[1].ack_type.as_deref(), Some("AA"));
    assert!(r[1].device.is_none());
}

#[test]
fn observations_are_counted_never_kept() {
    let r = records(&[(ToServer, HEL), (ToServer, OBS), (ToServer, QC)]);
    assert_eq!(r.len(), 3);
    let o = &r[1];
    assert_eq!(o.message_type, "OBS.R01");
    assert_eq!(
        (
            o.counts.patient,
            o.counts.observation,
            o.counts.operator,
            o.counts.note
        ),
        (1, 1, 1, 1)
    );
    assert!(o.carries_phi);
    assert!(o.device.is_none());
    let q = &r[2];
    assert_eq!((q.counts.patient, q.counts.observation), (0, 1));
    assert!(!q.carries_phi, "QC results are not patient data");
    let s = all_strings(&r);
    for c in [
        "CANARY", "Canary", "19030517", "7.77", "5.55", "2341-6", "OPR-",
    ] {
        assert!(!s.contains(c), "{c} kept: {s}");
    }
}

#[test]
fn every_split_point_gives_the_same_records() {
    let whole: Vec<u8> = [HEL, b"\r\n", OBS, QC].concat();
    let expect = records(&[(ToServer, &whole)]);
    assert_eq!(expect.len(), 3);
    for i in 0..whole.len() {
        let (a, b) = whole.split_at(i);
        assert_eq!(forced(&[(ToServer, a), (ToServer, b)]), expect, "split {i}");
    }
    // Byte by byte.
    let bytes: Vec<(Direction, &[u8])> = whole.chunks(1).map(|c| (ToServer, c)).collect();
    assert_eq!(forced(&bytes), expect);
}

#[test]
fn deep_nesting_is_bounded_and_reported() {
    let depth = 100_000;
    let mut m = b"<OBS.R01>".to_vec();
    m.extend(b"<PT>".repeat(depth));
    m.extend(b"</PT>".repeat(depth));
    m.extend(b"</OBS.R01><ACK.R01/>");
    let r = records(&[(ToServer, &m)]);
    assert_eq!(r.len(), 2, "the message ends where its root does");
    assert_eq!(r[0].counts.patient, depth as u32);
    assert_eq!(r[1].message_type, "ACK.R01");
    assert!(weirds(&[(ToServer, &m)]).contains(&"poct1a_deep_nesting".to_string()));
}

#[test]
fn huge_attributes_are_skipped_or_capped() {
    let big = "x".repeat(300_000);
    let m = format!(
        r#"<HEL.R01><DEV><DEV.model_id V="{big}"/><DEV.serial_id V="S1" junk="{big}"/></DEV></HEL.R01>"#
    );
    let r = records(&[(ToServer, m.as_bytes())]);
    assert_eq!(r.len(), 1);
    let d = r[0].device.as_ref().unwrap();
    assert_eq!(d.model_id.as_ref().unwrap().len(), MAX_VALUE);
    assert_eq!(d.serial_id.as_deref(), Some("S1"));
    let long_name = format!("<HEL.R01><DEV.{big} V='1'/></HEL.R01>");
    assert_eq!(records(&[(ToServer, long_name.as_bytes())]).len(), 1);
}

#[test]
fn oversized_message_is_truncated_then_skipped() {
    let pad = "<NTE V='a'/>".repeat((MAX_MESSAGE as usize) / 12 + 10);
    let m = format!("<OBS.R01><PT/>{pad}<DEV><DEV.serial_id V='LATE'/></DEV></OBS.R01><ACK.R01/>");
    let r = records(&[(ToServer, m.as_bytes())]);
    assert_eq!(
        r.len(),
        2,
        "{:?}",
        r.iter().map(|r| &r.message_type).collect::<Vec<_>>()
    );
    assert!(r[0].truncated);
    assert!(r[0].device.is_none(), "nothing read after the cap");
    assert_eq!(r[1].message_type, "ACK.R01");
    assert!(!r[1].truncated);
}

#[test]
fn truncated_message_is_flushed_at_the_end() {
    let r = records(&[(ToServer, &HEL[..HEL.len() - 40])]);
    assert_eq!(r.len(), 1);
    assert!(r[0].truncated);
    assert_eq!(
        r[0].device.as_ref().unwrap().model_id.as_deref(),
        Some("GlucoStat 300")
    );
    let w = weirds(&[(ToServer, &HEL[..HEL.len() - 40])]);
    assert!(w.contains(&"poct1a_unterminated_message".to_string()));
}

#[test]
fn entity_declarations_are_never_expanded() {
    // A billion-laughs document: its DOCTYPE is skipped as a declaration.
    let mut m = b"<?xml version='1.0'?><!DOCTYPE HEL.R01 [<!ENTITY a \"aaaaaaaaaa\">".to_vec();
    for i in 1..10 {
        let p = (b'a' + i - 1) as char;
        let c = (b'a' + i) as char;
        m.extend(format!("<!ENTITY {c} \"{}\">", format!("&{p};").repeat(10)).bytes());
    }
    m.extend(b"]><HEL.R01><DEV><DEV.model_id V=\"&j;\"/><DEV.vendor_id V=\"V&lt;1&gt;\"/></DEV></HEL.R01>");
    // The probe wants the message root right after the declaration.
    assert_eq!(Poct1a.probe(ToServer, &m, false), Probe::NoMatch);
    let r = forced(&[(ToServer, &m)]);
    assert_eq!(r.len(), 1);
    let d = r[0].device.as_ref().unwrap();
    assert_eq!(d.model_id.as_deref(), Some("&j;"), "left as written");
    assert_eq!(d.vendor_id.as_deref(), Some("V<1>"));
}

#[test]
fn comments_and_cdata_hide_markup() {
    let m = br#"<HEL.R01><!-- <DEV.model_id V="FAKE"/> --><![CDATA[ <DEV.serial_id V="FAKE"/> ]]><DEV><DEV.model_id V='Real'/></DEV></HEL.R01>"#;
    let r = records(&[(ToServer, m)]);
    assert_eq!(r.len(), 1);
    let d = r[0].device.as_ref().unwrap();
    assert_eq!(d.model_id.as_deref(), Some("Real"));
    assert!(d.serial_id.is_none());
}

#[test]
fn unknown_roots_and_garbage_are_reported() {
    let w = weirds(&[(ToServer, b"hello <html><body/></html><HEL.R01/>")]);
    assert!(
        w.contains(&"poct1a_data_outside_message".to_string()),
        "{w:?}"
    );
    assert!(w.contains(&"poct1a_unknown_message".to_string()), "{w:?}");
    let r = forced(&[(ToServer, b"<html><DEV.model_id V='x'/></html><HEL.R01/>")]);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].message_type, "HEL.R01");
    let w = weirds(&[(ToServer, b"<HEL.R01><DEV a=b/></HEL.R01>")]);
    assert!(w.contains(&"poct1a_malformed_tag".to_string()), "{w:?}");
}

#[test]
fn a_gap_resynchronises_on_the_next_message() {
    let mut events = Vec::new();
    let info = analyzer_api::testing::flow(Transport::Tcp, 15300);
    let mut a = Poct1a.start();
    let mut out = Out::new(model::Timestamp(0), Some(&info), "poct1a", &mut events);
    a.feed(ToServer, &OBS[..60], &mut out);
    a.gap(ToServer, 100, &mut out);
    a.feed(ToServer, b"V='x'/></PT></SVC></OBS.R01>", &mut out);
    a.feed(ToServer, HEL, &mut out);
    a.finish(&mut out);
    let recs: Vec<&PoctRecord> = events
        .iter()
        .filter_map(|e| match &e.record {
            Record::Poct1a(p) => Some(p),
            _ => None,
        })
        .collect();
    assert_eq!(recs.len(), 2);
    assert!(recs[0].truncated);
    assert_eq!(recs[1].message_type, "HEL.R01");
    assert!(recs[1].device.is_some());
}

#[test]
fn never_panics_on_splits_and_cuts() {
    let whole: Vec<u8> = [HEL, OBS, ACK].concat();
    assert!(never_panics(&Poct1a, Transport::Tcp, 15300, &whole) > 0);
    for junk in [
        b"<".as_slice(),
        b"<<<<>>>>",
        b"<HEL.R01 V=",
        b"<HEL.R01><a V='",
        b"<HEL.R01><!",
        b"<HEL.R01><![CDATA[",
        b"<HEL.R01></",
        b"<HEL.R01>\xff\xfe<\x00>",
        b"<HEL.R01><DEV.model_id V=\"\xe2\x80\xae\x1b[31m\"/></HEL.R01>",
    ] {
        run_forced(
            &Poct1a,
            Transport::Tcp,
            1,
            &[(ToServer, junk), (ToClient, junk)],
        );
    }
    let r = records(&[(
        ToServer,
        b"<HEL.R01><DEV><DEV.model_id V=\"\xe2\x80\xae\x1b[31mX\"/></DEV></HEL.R01>",
    )]);
    let m = r[0].device.as_ref().unwrap().model_id.clone().unwrap();
    assert!(!m.contains('\u{1b}') && !m.contains('\u{202e}'), "{m:?}");
}
