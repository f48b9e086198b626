//! HL7 and DICOM fields Ward extracts agree with tshark's dissectors.

use crate::common::*;
use std::collections::BTreeSet;
use std::process::Command;

fn tshark(file: &std::path::Path, extra: &[&str], fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-r")
        .arg(file)
        .args(extra)
        .args(["-T", "fields", "-E", "separator=\t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("tshark");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(|c| c.trim().to_string()).collect())
        .collect()
}

/// DICOM association PDUs as (pdu, calling, called, impl uid, impl version).
#[test]
fn dicom_associations_match_tshark() {
    let Some(td) = testdata() else { return };
    if !have("tshark") {
        return;
    }
    for (rel, decode_as) in [
        (
            "generated/dicom_dcmtk_pynetdicom_loopback.pcap",
            "tcp.port==11113,dicom",
        ),
        ("medical_pcaps/ndpi_dicom.pcap", "tcp.port==104,dicom"),
    ] {
        let file = td.join(rel);
        let dir = scratch(&format!("dicom-{}", rel.replace('/', "_")));
        let (inv, events) = analyze(&file, &dir);
        let ours: BTreeSet<(String, String, String, String, String)> = records(&events, "dicom")
            .into_iter()
            .filter(|r| matches!(s(r, "pdu"), "associate_rq" | "associate_ac"))
            .map(|r| {
                let pdu = if s(r, "pdu") == "associate_rq" {
                    "0x01"
                } else {
                    "0x02"
                };
                (
                    pdu.into(),
                    s(r, "calling_ae").into(),
                    s(r, "called_ae").into(),
                    s(r, "implementation_class_uid").into(),
                    s(r, "implementation_version").into(),
                )
            })
            .collect();
        let theirs: BTreeSet<(String, String, String, String, String)> = tshark(
            &file,
            &[
                "-d",
                decode_as,
                "-Y",
                "dicom.pdu.type==1 || dicom.pdu.type==2",
            ],
            &[
                "dicom.pdu.type",
                "dicom.assoc.ae.calling",
                "dicom.assoc.ae.called",
                "dicom.userinfo.uid",
                "dicom.userinfo.version",
            ],
        )
        .into_iter()
        .filter(|r| r.len() == 5)
        .map(|r| {
            (
                r[0].clone(),
                r[1].clone(),
                r[2].clone(),
                r[3].clone(),
                r[4].clone(),
            )
        })
        .collect();
        assert!(!theirs.is_empty(), "tshark found no DICOM in {rel}");
        assert_eq!(
            ours, theirs,
            "{rel}: Ward vs tshark DICOM association fields"
        );
        // Rejections are seen too.
        let rj = tshark(
            &file,
            &["-d", decode_as, "-Y", "dicom.pdu.type==3"],
            &["frame.number"],
        )
        .len();
        assert_eq!(
            records(&events, "dicom")
                .iter()
                .filter(|r| s(r, "pdu") == "associate_rj")
                .count(),
            rj,
            "{rel}: A-ASSOCIATE-RJ count"
        );
        if rel.starts_with("generated") {
            let text = inv.to_string();
            for want in [
                "OFFIS_DCMTK_367",
                "PYNETDICOM_304",
                "MODALITY_CT",
                "WORKSTATION1",
                "PYNET_SCU",
                "PACS_SCP",
            ] {
                assert!(text.contains(want), "inventory lacks {want}");
            }
            let apps: Vec<String> = inv["devices"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|d| d["applications"].as_array().cloned().unwrap_or_default())
                .filter_map(|a| a.as_str().map(String::from))
                .collect();
            assert!(
                apps.iter()
                    .any(|a| a.contains("AE=MODALITY_CT") && a.contains("OFFIS_DCMTK_367")),
                "{apps:?}"
            );
            assert!(
                apps.iter()
                    .any(|a| a.contains("AE=PYNET_SCU") && a.contains("PYNETDICOM_304")),
                "{apps:?}"
            );
            assert!(
                apps.iter()
                    .any(|a| a.contains("dicom-scp AE=PACS_SCP") && a.contains("OFFIS_DCMTK_367")),
                "{apps:?}"
            );
        }
    }
}

/// HL7 headers as (sending app, sending facility, receiving app, receiving facility, type^trigger).
#[test]
fn hl7_headers_match_tshark() {
    let Some(td) = testdata() else { return };
    if !have("tshark") {
        return;
    }
    for (rel, port) in [
        ("generated/hl7_mllp_python-hl7_loopback.pcap", 2575),
        ("medical_pcaps/ndpi_hl7.pcap", 6661),
    ] {
        let file = td.join(rel);
        let dir = scratch(&format!("hl7-{}", rel.replace('/', "_")));
        let (inv, events) = analyze(&file, &dir);
        let key = |v: [&str; 5]| v.map(String::from);
        let ours: Vec<[String; 5]> = records(&events, "hl7")
            .into_iter()
            .map(|r| {
                key([
                    s(r, "sending_application"),
                    s(r, "sending_facility"),
                    s(r, "receiving_application"),
                    s(r, "receiving_facility"),
                    s(r, "message_type"),
                ])
            })
            .collect();
        // tshark splits messages; we take MSH-3..6 and MSH-9 (first two components) from its MSH segment.
        let decode = format!("tcp.port=={port},hl7");
        let theirs: Vec<[String; 5]> = tshark(
            &file,
            &["-d", &decode, "-o", "hl7.display_raw:TRUE", "-Y", "hl7"],
            &["hl7.raw.segment"],
        )
        .into_iter()
        .flat_map(|row| {
            row.into_iter()
                .flat_map(|cell| cell.split(',').map(String::from).collect::<Vec<_>>())
        })
        .filter(|seg| seg.starts_with("MSH"))
        .map(|msh| {
            let msh = msh.trim_end_matches("\\r").to_string();
            let f: Vec<&str> = msh.split('|').collect();
            let comp1 = |i: usize| {
                f.get(i)
                    .map(|x| x.split('^').next().unwrap_or("").to_string())
                    .unwrap_or_default()
            };
            let mt = f
                .get(8)
                .map(|x| {
                    x.split('^')
                        .take(2)
                        .filter(|c| !c.is_empty())
                        .collect::<Vec<_>>()
                        .join("^")
                })
                .unwrap_or_default();
            [comp1(2), comp1(3), comp1(4), comp1(5), mt]
        })
        .collect();
        assert!(!theirs.is_empty(), "tshark found no HL7 in {rel}");
        // Every message tshark dissects, Ward reports with the same fields.
        let mut extra: Vec<([String; 5], i64)> = records(&events, "hl7")
            .into_iter()
            .zip(&ours)
            .map(|(r, k)| (k.clone(), r["ts"].as_i64().unwrap_or(0)))
            .collect();
        for t in &theirs {
            let i = extra.iter().position(|(k, _)| k == t);
            assert!(
                i.is_some(),
                "{rel}: tshark's HL7 message {t:?} is missing from Ward's records"
            );
            extra.swap_remove(i.unwrap());
        }
        // Ward also reads messages whose segments are joined by spaces instead
        // of carriage returns (a habit of some senders); tshark's dissector
        // leaves those undecoded. Each extra must be such a frame: an MLLP
        // block starting `MSH|` in which tshark found no segment.
        let undissected: Vec<i64> = tshark(
            &file,
            &[
                "-d",
                &decode,
                "-o",
                "hl7.display_raw:TRUE",
                "-Y",
                "tcp.payload contains 0b:4d:53:48:7c && !hl7.raw.segment",
            ],
            &["frame.time_epoch"],
        )
        .into_iter()
        .filter_map(|r| r.first().and_then(|t| t.parse::<f64>().ok()))
        .map(|t| (t * 1e6).round() as i64)
        .collect();
        for (k, ts) in &extra {
            assert!(
                undissected.contains(ts),
                "{rel}: Ward reports HL7 message {k:?} at {ts} that tshark does not see"
            );
        }
        // The inventory names each application and facility.
        let text = inv.to_string();
        for t in &theirs {
            assert!(
                text.contains(&format!("{}^{}", t[0], t[1])),
                "inventory lacks {}^{}",
                t[0],
                t[1]
            );
        }
    }
}
