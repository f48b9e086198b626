//! Oracle test over the real DICOM captures in `../shared/testdata`: TCP
//! streams are reassembled by tshark (`-z follow,tcp,raw`), fed through the
//! analyzer, and the association PDUs compared with tshark's DICOM dissector
//! (AE titles, implementation class UID and version, max PDU length,
//! reject/abort codes).
//!
//! Skips (with a message) when the test data or tshark is absent. The captures
//! are read in place and never copied into the repository.

use analyzer_api::testing::run;
use model::records::{DicomPdu, DicomRecord};
use model::{Record, Transport};
use testkit::tshark::{self, Stream};

/// What tshark shows for one association-level PDU, as a comparable line.
fn oracle_line(f: &[&str]) -> String {
    // Fields: stream, type, called, calling, uid, version, max pdu,
    // rj result, rj source, rj reason, abort source, abort reason.
    let g = |i: usize| f.get(i).map_or("", |s| s.trim());
    let ty = u8::from_str_radix(g(1).trim_start_matches("0x"), 16).unwrap_or(0);
    match ty {
        1 | 2 => format!(
            "{ty} called={} calling={} uid={} version={} max={}",
            g(2),
            g(3),
            g(4),
            g(5),
            g(6)
        ),
        3 => format!("3 reject={}/{}/{}", g(7), g(8), g(9)),
        7 => format!("7 abort={}/{}", g(10), g(11)),
        _ => format!("{ty}"),
    }
}

/// The same line from one of our records.
fn our_line(d: &DicomRecord) -> String {
    let o = |s: &Option<String>| s.clone().unwrap_or_default();
    match d.pdu {
        DicomPdu::AssociateRq | DicomPdu::AssociateAc => format!(
            "{} called={} calling={} uid={} version={} max={}",
            if d.pdu == DicomPdu::AssociateRq { 1 } else { 2 },
            o(&d.called_ae),
            o(&d.calling_ae),
            o(&d.implementation_class_uid),
            o(&d.implementation_version),
            d.max_pdu_length.map(|m| m.to_string()).unwrap_or_default()
        ),
        DicomPdu::AssociateRj => format!("3 reject={}", o(&d.reject_reason)),
        DicomPdu::Abort => format!("7 abort={}", o(&d.reject_reason)),
        DicomPdu::ReleaseRq => "5".into(),
        DicomPdu::ReleaseRp => "6".into(),
    }
}

fn check(rel: &str, decode_as: &[&str]) {
    let Some(path) = testkit::testdata(rel) else {
        return;
    };
    let file = path.to_str().unwrap();
    if !tshark::available() {
        return;
    }
    let mut args = vec!["-r", file];
    args.extend_from_slice(decode_as);
    args.extend_from_slice(&[
        "-Y",
        "dicom.pdu.type in {1, 2, 3, 5, 6, 7}",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
    ]);
    for f in [
        "tcp.stream",
        "dicom.pdu.type",
        "dicom.assoc.ae.called",
        "dicom.assoc.ae.calling",
        "dicom.userinfo.uid",
        "dicom.userinfo.version",
        "dicom.max_pdu_len",
        "dicom.assoc.reject.result",
        "dicom.assoc.reject.source",
        "dicom.assoc.reject.reason",
        "dicom.assoc.abort.source",
        "dicom.assoc.abort.reason",
    ] {
        args.extend_from_slice(&["-e", f]);
    }
    let oracle = tshark::run(&args).unwrap_or_default();
    // Second pass with every occurrence: PDU types and lengths (for the P-DATA
    // byte count) and proposed abstract syntaxes (`Name (uid)`).
    let mut args = vec!["-r", file];
    args.extend_from_slice(decode_as);
    args.extend_from_slice(&[
        "-Y",
        "dicom",
        "-T",
        "fields",
        "-E",
        "occurrence=a",
        "-E",
        "aggregator=;",
    ]);
    for f in [
        "tcp.stream",
        "dicom.pdu.type",
        "dicom.pdu.len",
        "dicom.pctx.abss.syntax",
    ] {
        args.extend_from_slice(&["-e", f]);
    }
    let all = tshark::run(&args).unwrap_or_default();
    let mut checked = 0;
    for Stream {
        id: stream,
        port,
        chunks,
    } in tshark::follow_tcp(&path, &[]).unwrap_or_default()
    {
        let refs = testkit::tcp::borrowed(&chunks);
        let records = run(&proto_dicom::Dicom, Transport::Tcp, port, &refs);
        let weirds: Vec<&Record> = records
            .iter()
            .filter(|r| matches!(r, Record::Weird(_)))
            .collect();
        assert!(weirds.is_empty(), "{rel} stream {stream}: {weirds:?}");
        let ours: Vec<String> = records
            .iter()
            .filter_map(|r| {
                if let Record::Dicom(d) = r {
                    Some(our_line(d))
                } else {
                    None
                }
            })
            .collect();
        let theirs: Vec<String> = oracle
            .lines()
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f.first().and_then(|s| s.parse::<u32>().ok()) == Some(stream))
            .map(|f| oracle_line(&f))
            .collect();
        assert_eq!(ours, theirs, "{rel} stream {stream}");
        let ours_d: Vec<&DicomRecord> = records
            .iter()
            .filter_map(|r| {
                if let Record::Dicom(d) = r {
                    Some(d)
                } else {
                    None
                }
            })
            .collect();
        let (mut pdata, mut proposed) = (0u64, Vec::<String>::new());
        for line in all.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            if f.first().and_then(|s| s.parse::<u32>().ok()) != Some(stream) {
                continue;
            }
            let types = f.get(1).unwrap_or(&"").split(';');
            let lens = f.get(2).unwrap_or(&"").split(';');
            let mut rq = false;
            for (t, l) in types.zip(lens) {
                rq |= t == "0x01";
                if t == "0x04" {
                    pdata += l.parse::<u64>().unwrap_or(0);
                }
            }
            if rq {
                for a in f.get(3).unwrap_or(&"").split(';').filter(|a| !a.is_empty()) {
                    let uid = a
                        .rsplit('(')
                        .next()
                        .unwrap_or("")
                        .trim_end_matches(')')
                        .to_string();
                    if !proposed.contains(&uid) {
                        proposed.push(uid);
                    }
                }
            }
        }
        assert_eq!(
            ours_d.iter().map(|d| d.pdata_bytes).max().unwrap_or(0),
            pdata,
            "{rel} stream {stream}: P-DATA bytes"
        );
        if let Some(rq) = ours_d.iter().find(|d| d.pdu == DicomPdu::AssociateRq) {
            assert_eq!(
                rq.abstract_syntaxes, proposed,
                "{rel} stream {stream}: proposed abstract syntaxes"
            );
        }
        for r in &records {
            println!(
                "{rel} stream {stream}: {}",
                serde_json::to_string(r).unwrap()
            );
        }
        checked += theirs.len();
    }
    assert!(checked > 0, "{rel}: tshark decoded no DICOM");
}

#[test]
fn ndpi_dicom_port_104() {
    check("medical_pcaps/ndpi_dicom.pcap", &[]);
}

#[test]
fn dcmtk_and_pynetdicom_loopback() {
    // tcp/11113 is the refusing SCP; tshark only knows 104/11112 by default.
    check(
        "generated/dicom_dcmtk_pynetdicom_loopback.pcap",
        &["-d", "tcp.port==11113,dicom"],
    );
}
