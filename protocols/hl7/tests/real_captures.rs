//! Oracle test over the real HL7 captures in `../shared/testdata`: TCP streams
//! are reassembled by tshark (`-z follow,tcp,raw`), fed through the analyzer,
//! and the message types compared with tshark's HL7 dissector. Also checks
//! that no PID field value from the capture reaches any record.
//!
//! Skips (with a message) when the test data or tshark is absent. The captures
//! are read in place and never copied into the repository.

use analyzer_api::testing::run;
use model::{Direction, Record, Transport};
use std::path::PathBuf;
use std::process::Command;

fn testdata(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(rel);
    p.exists().then_some(p)
}

fn tshark(args: &[&str]) -> Option<String> {
    let out = Command::new("tshark").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok())
        .collect()
}

/// A reassembled TCP stream: server port and chunks in capture order.
struct Stream {
    id: u32,
    port: u16,
    chunks: Vec<(Direction, Vec<u8>)>,
}

/// Reassembles every TCP stream of `file` with one tshark run.
fn follow_all(file: &str) -> Vec<Stream> {
    let ids = tshark(&[
        "-r",
        file,
        "-Y",
        "tcp.len>0",
        "-T",
        "fields",
        "-e",
        "tcp.stream",
    ])
    .unwrap_or_default();
    let mut ids: Vec<u32> = ids.lines().filter_map(|l| l.trim().parse().ok()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut args = vec!["-r".to_string(), file.to_string(), "-q".to_string()];
    for id in &ids {
        args.extend(["-z".to_string(), format!("follow,tcp,raw,{id}")]);
    }
    let text = tshark(&args.iter().map(String::as_str).collect::<Vec<_>>()).unwrap_or_default();
    let mut streams: Vec<Stream> = Vec::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("Filter: tcp.stream eq ") {
            streams.push(Stream {
                id: id.trim().parse().unwrap_or(u32::MAX),
                port: 0,
                chunks: Vec::new(),
            });
        } else if let Some(node) = line.strip_prefix("Node 1: ") {
            if let Some(s) = streams.last_mut() {
                s.port = node
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0);
            }
        } else if line.starts_with("=====")
            || line.starts_with("Node 0: ")
            || line.starts_with("Follow: ")
        {
        } else if let Some(s) = streams.last_mut().filter(|_| !line.trim().is_empty()) {
            let dir = if line.starts_with('\t') {
                Direction::ToClient
            } else {
                Direction::ToServer
            };
            s.chunks.push((dir, hex(line.trim())));
        }
    }
    streams
}

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
    let Some(path) = testdata(rel) else {
        println!("skipping: ../shared/testdata not found");
        return;
    };
    let file = path.to_str().unwrap();
    if tshark(&["-v"]).is_none() {
        println!("skipping: tshark not installed");
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
    let oracle = tshark(&args).unwrap_or_default();
    let mut checked = 0;
    for Stream {
        id: stream,
        port,
        chunks,
    } in follow_all(file)
    {
        let refs: Vec<(Direction, &[u8])> =
            chunks.iter().map(|(d, b)| (*d, b.as_slice())).collect();
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
