//! Oracle test over the real HL7 captures in `../shared/testdata`: TCP streams
//! are reassembled by tshark (`-z follow,tcp,raw`), fed through the analyzer,
//! and the message types compared with tshark's HL7 dissector. Also checks
//! that no PID field value from the capture reaches any record.
//!
//! Skips (with a message) when the test data or tshark is absent. The captures
//! are read in place and never copied into the repository.

use analyzer_api::testing::run;
use model::{Record, Transport};
use testkit::tshark::{self, Stream};

/// PID-3, PID-5, PID-7, PID-11 values (and their components) from a raw stream,
/// read at test time so that no patient data is written into this file.
fn pid_values(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for seg in text.split(['\r', '\n']) {
        let Some(fields) = seg.strip_prefix("PID|") else {
            continue;
        };
        for (i, f) in fields.split('|').enumerate() {
            if [2, 4, 6, 10].contains(&i) {
                for comp in f.split(['^', '~']) {
                    if comp.trim().len() >= 5 {
                        out.push(comp.trim().to_string());
                    }
                }
            }
        }
    }
    out
}

/// MSH-3..6 (first component), MSH-9 type^trigger, MSH-11, MSH-12 from an MSH line.
fn msh_line(msh: &str) -> String {
    let msh = msh.trim_end_matches("\\r");
    let f: Vec<&str> = msh.split('|').collect();
    let first = |n: usize| {
        f.get(n - 1)
            .map_or("", |v| v.split(['^', '~']).next().unwrap_or(""))
    };
    let ty: Vec<&str> = f
        .get(8)
        .map_or("", |v| v.split('~').next().unwrap_or(""))
        .split('^')
        .take(2)
        .filter(|c| !c.is_empty())
        .collect();
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        first(3),
        first(4),
        first(5),
        first(6),
        ty.join("^"),
        first(11),
        first(12)
    )
}

/// The same line from one of our records.
fn our_line(h: &model::records::Hl7Record) -> String {
    let o = |v: &Option<String>| v.clone().unwrap_or_default();
    format!(
        "{}|{}|{}|{}|{}|{}|{}",
        o(&h.sending_application),
        o(&h.sending_facility),
        o(&h.receiving_application),
        o(&h.receiving_facility),
        o(&h.message_type),
        o(&h.processing_id),
        o(&h.version)
    )
}

fn check(rel: &str, decode_as: &[&str]) {
    let Some(path) = testkit::testdata(rel) else {
        return;
    };
    let file = path.to_str().unwrap();
    if !tshark::available() {
        return;
    }
    // The first `hl7.segment` of each message tshark decodes is its MSH line
    // (tshark prints <CR> as the two characters `\r`).
    let mut args = vec!["-r", file];
    args.extend_from_slice(decode_as);
    args.extend_from_slice(&[
        "-Y",
        "hl7",
        "-T",
        "fields",
        "-E",
        "occurrence=f",
        "-e",
        "tcp.stream",
        "-e",
        "hl7.segment",
    ]);
    let oracle = tshark::run(&args).unwrap_or_default();
    let mut checked = 0;
    for Stream {
        id: stream,
        port,
        chunks,
    } in tshark::follow_tcp(&path, &[]).unwrap_or_default()
    {
        let refs = testkit::tcp::borrowed(&chunks);
        let records = run(&proto_hl7::Hl7, Transport::Tcp, port, &refs);
        let ours: Vec<String> = records
            .iter()
            .filter_map(|r| {
                if let Record::Hl7(h) = r {
                    Some(our_line(h))
                } else {
                    None
                }
            })
            .collect();
        let theirs: Vec<String> = oracle
            .lines()
            .filter_map(|l| {
                let (s, msh) = l.split_once('\t')?;
                (s.parse::<u32>().ok()? == stream).then(|| msh_line(msh))
            })
            .collect();
        // tshark skips messages it finds malformed; every message it decodes
        // must be among ours, in order.
        let mut it = ours.iter();
        for t in &theirs {
            assert!(
                it.any(|o| o == t),
                "{rel} stream {stream}: tshark {theirs:?}, ours {ours:?}"
            );
        }
        // One record per MLLP frame start.
        let frames = chunks
            .iter()
            .flat_map(|(_, b)| b.windows(4))
            .filter(|w| w == b"\x0bMSH")
            .count();
        assert_eq!(ours.len(), frames, "{rel} stream {stream}: {records:?}");
        let secrets: Vec<String> = chunks.iter().flat_map(|(_, b)| pid_values(b)).collect();
        for r in &records {
            let json = serde_json::to_string(r).unwrap();
            for s in &secrets {
                assert!(
                    !json.contains(s.as_str()),
                    "{rel} stream {stream}: a PID value reached a record"
                );
            }
            println!("{rel} stream {stream}: {json}");
        }
        checked += theirs.len();
    }
    assert!(checked > 0, "{rel}: tshark decoded no HL7");
}

#[test]
fn ndpi_hl7_on_port_6661() {
    check("medical_pcaps/ndpi_hl7.pcap", &["-d", "tcp.port==6661,hl7"]);
}

#[test]
fn python_hl7_mllp_loopback() {
    check("generated/hl7_mllp_python-hl7_loopback.pcap", &[]);
}
