//! Unit tests: framing, checksums, header fields, counts, privacy, splits.

use super::*;
use analyzer_api::testing::{never_panics, run, run_forced};
use model::Record;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

/// One E1381 frame around `text` with frame number `n`, ended by ETX (or ETB).
fn frame(n: u8, text: &[u8], last: bool) -> Vec<u8> {
    let mut body = vec![b'0' + n];
    body.extend_from_slice(text);
    body.push(if last { ETX } else { ETB });
    let sum = body.iter().fold(0u8, |s, &b| s.wrapping_add(b));
    let mut f = vec![STX];
    f.extend_from_slice(&body);
    f.extend_from_slice(format!("{sum:02X}\r\n").as_bytes());
    f
}

const HEADER: &[u8] =
    b"H|\\^&|||Cobalyzer 9000^4.2.1^SN-88123|||||LIS-HOST||P|LIS2-A2|20240101120000\r";
const PATIENT: &[u8] = b"P|1||PID-CANARY-7731||ZEBULON^QUIXANDER||19070413|M\r";
const ORDER: &[u8] = b"O|1|SPEC-1||^^^GLU|R\r";
const RESULT: &[u8] = b"R|1|^^^GLU|987.654|mg/dL||H||F\r";
const TERMINATOR: &[u8] = b"L|1|N\r";

/// A session sending each record in its own frame, as the instrument does.
fn session(records: &[&[u8]]) -> Vec<(Direction, Vec<u8>)> {
    let mut conv = vec![(C, vec![ENQ]), (S, vec![ACK])];
    for (i, r) in records.iter().enumerate() {
        conv.push((C, frame(((i + 1) % 8) as u8, r, true)));
        conv.push((S, vec![ACK]));
    }
    conv.push((C, vec![EOT]));
    conv
}

fn astm(records: &[Record]) -> Vec<&AstmRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Astm(a) => Some(a),
            _ => None,
        })
        .collect()
}

fn weirds(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Weird(w) => Some(w.name.as_str()),
            _ => None,
        })
        .collect()
}

fn go(conv: &[(Direction, Vec<u8>)]) -> Vec<Record> {
    let chunks: Vec<(Direction, &[u8])> = conv.iter().map(|(d, b)| (*d, &b[..])).collect();
    run(&Astm, Transport::Tcp, 15200, &chunks)
}

#[test]
fn framed_session_reads_header_and_counts() {
    let out = go(&session(&[
        HEADER, PATIENT, ORDER, RESULT, RESULT, TERMINATOR,
    ]));
    assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
    let recs = astm(&out);
    assert_eq!(recs.len(), 1);
    let r = recs[0];
    assert_eq!(r.direction, Some(C));
    assert_eq!(r.sender_name.as_deref(), Some("Cobalyzer 9000"));
    assert_eq!(r.sender_version.as_deref(), Some("4.2.1"));
    assert_eq!(r.sender_serial.as_deref(), Some("SN-88123"));
    assert_eq!(r.receiver_id.as_deref(), Some("LIS-HOST"));
    assert_eq!(r.processing_id.as_deref(), Some("P"));
    assert_eq!(r.version.as_deref(), Some("LIS2-A2"));
    assert_eq!(r.termination_code.as_deref(), Some("N"));
    let c = r.counts;
    assert_eq!(
        (c.header, c.patient, c.order, c.result, c.terminator),
        (1, 1, 1, 2, 1)
    );
    assert_eq!(r.frames, 6);
    assert_eq!(r.checksum_errors, 0);
    assert!(r.carries_phi);
}

#[test]
fn patient_and_result_values_never_leave_the_analyzer() {
    let out = go(&session(&[HEADER, PATIENT, RESULT, TERMINATOR]));
    let json = serde_json::to_string(&out).unwrap();
    for canary in [
        "CANARY",
        "ZEBULON",
        "QUIXANDER",
        "19070413",
        "987.654",
        "mg/dL",
    ] {
        assert!(!json.contains(canary), "{canary} leaked: {json}");
    }
}

#[test]
fn access_password_is_never_read() {
    let h = b"H|\\^&||s3cr3t-pw|ANALYZER^1.0\r";
    let out = go(&session(&[h, TERMINATOR]));
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("s3cr3t"), "{json}");
    assert_eq!(astm(&out)[0].sender_name.as_deref(), Some("ANALYZER"));
}

#[test]
fn checksum_errors_are_counted() {
    let mut conv = session(&[HEADER, RESULT, TERMINATOR]);
    // Corrupt the checksum of the result frame (conversation item 4).
    let f = &mut conv[4].1;
    let n = f.len();
    f[n - 3] = if f[n - 3] == b'0' { b'1' } else { b'0' };
    let out = go(&conv);
    let r = astm(&out)[0];
    assert_eq!(r.checksum_errors, 1);
    assert_eq!(r.counts.result, 1);
    assert_eq!(weirds(&out), ["astm_checksum_error"]);
}

#[test]
fn intermediate_frames_continue_the_record() {
    // The header split in three frames (ETB, ETB, ETX), as a 240-byte frame
    // limit or a small chunk size does.
    let (a, rest) = HEADER.split_at(10);
    let (b, c) = rest.split_at(20);
    let mut conv = vec![(C, vec![ENQ]), (S, vec![ACK])];
    conv.push((C, frame(1, a, false)));
    conv.push((C, frame(2, b, false)));
    conv.push((C, frame(3, c, true)));
    conv.push((C, frame(4, TERMINATOR, true)));
    conv.push((C, vec![EOT]));
    let out = go(&conv);
    assert!(weirds(&out).is_empty(), "{:?}", weirds(&out));
    let r = astm(&out)[0];
    assert_eq!(r.sender_name.as_deref(), Some("Cobalyzer 9000"));
    assert_eq!(r.frames, 4);
}

#[test]
fn a_whole_message_in_one_frame() {
    let mut text = Vec::new();
    for r in [HEADER, PATIENT, ORDER, RESULT, TERMINATOR] {
        text.extend_from_slice(r);
    }
    let conv = vec![
        (C, vec![ENQ]),
        (S, vec![ACK]),
        (C, frame(1, &text, true)),
        (S, vec![ACK]),
        (C, vec![EOT]),
    ];
    let out = go(&conv);
    let r = astm(&out)[0];
    assert_eq!(r.frames, 1);
    assert_eq!(r.counts.result, 1);
    assert_eq!(r.counts.patient, 1);
}

#[test]
fn unframed_records_are_read() {
    let mut text = Vec::new();
    for r in [HEADER, PATIENT, RESULT, TERMINATOR] {
        text.extend_from_slice(r);
        text.push(b'\n');
    }
    let out = run(&Astm, Transport::Tcp, 5000, &[(C, &text)]);
    let r = astm(&out);
    assert_eq!(r.len(), 1, "{out:?}");
    assert_eq!(r[0].frames, 0);
    assert_eq!(r[0].sender_serial.as_deref(), Some("SN-88123"));
    assert_eq!(r[0].counts.result, 1);
}

#[test]
fn custom_delimiters() {
    let h = b"H#%$!###MAKER$9.9$X1#####HOST##T#1394-97\r";
    let out = go(&session(&[h, b"L#1#N\r"]));
    let r = astm(&out)[0];
    assert_eq!(r.sender_name.as_deref(), Some("MAKER"));
    assert_eq!(r.sender_version.as_deref(), Some("9.9"));
    assert_eq!(r.receiver_id.as_deref(), Some("HOST"));
    assert_eq!(r.processing_id.as_deref(), Some("T"));
    assert_eq!(r.termination_code.as_deref(), Some("N"));
}

#[test]
fn messages_in_both_directions_and_missing_terminator() {
    let mut conv = session(&[HEADER, RESULT, TERMINATOR]);
    // The host answers with a message of its own, cut before its L record.
    conv.push((S, vec![ENQ]));
    conv.push((S, frame(1, b"H|\\^&|||LIS-HOST\r", true)));
    conv.push((S, frame(2, ORDER, true)));
    let out = go(&conv);
    let r = astm(&out);
    assert_eq!(r.len(), 2);
    assert_eq!(r[1].direction, Some(S));
    assert_eq!(r[1].sender_name.as_deref(), Some("LIS-HOST"));
    assert!(!r[1].carries_phi);
    assert!(weirds(&out).contains(&"astm_missing_terminator"));
}

#[test]
fn probe() {
    let p = |d: &[u8]| Astm.probe(C, d, false);
    assert_eq!(p(b""), Probe::NeedMore);
    assert_eq!(p(&[ENQ]), Probe::NeedMore);
    assert_eq!(p(&[ACK]), Probe::NeedMore);
    assert_eq!(p(&[ENQ, STX]), Probe::NeedMore);
    assert_eq!(p(&[ENQ, STX, b'1', b'H', b'|']), Probe::NeedMore);
    assert_eq!(p(&frame(1, HEADER, true)), Probe::Match);
    let mut enq = vec![ENQ];
    enq.extend(frame(1, HEADER, true));
    assert_eq!(p(&enq), Probe::Match);
    assert_eq!(p(HEADER), Probe::Match);
    assert_eq!(p(b"H|\\^&"), Probe::NeedMore);
    assert_eq!(p(b"HTTP/1.1 200 OK"), Probe::NoMatch);
    assert_eq!(p(b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(p(&[STX, b'9', b'H']), Probe::NoMatch);
    assert_eq!(p(&[ENQ; 9]), Probe::NoMatch);
    assert_eq!(p(b"H||^&|"), Probe::NoMatch, "repeated delimiter");
}

#[test]
fn every_split_point_gives_the_same_message() {
    let mut bytes = vec![ENQ];
    for (i, r) in [HEADER, PATIENT, RESULT, TERMINATOR].iter().enumerate() {
        bytes.extend(frame(i as u8 + 1, r, true));
    }
    bytes.push(EOT);
    let whole = run(&Astm, Transport::Tcp, 1, &[(C, &bytes)]);
    assert_eq!(astm(&whole).len(), 1);
    for split in 1..bytes.len() {
        let (a, b) = bytes.split_at(split);
        let out = run(&Astm, Transport::Tcp, 1, &[(C, a), (C, b)]);
        if out != whole {
            // A split inside the first frame's header start can leave the
            // probe undecided on the first chunk only; the forced run must agree.
            let forced = run_forced(&Astm, Transport::Tcp, 1, &[(C, a), (C, b)]);
            assert_eq!(forced, whole, "split at {split}");
        }
    }
    assert!(never_panics(&Astm, Transport::Tcp, 1, &bytes) > 0);
}

#[test]
fn gaps_and_garbage_are_survived() {
    let mut a = Astm.start();
    let mut events = Vec::new();
    let info = analyzer_api::testing::flow(Transport::Tcp, 1);
    let mut out = Out::new(model::Timestamp(0), Some(&info), "astm", &mut events);
    let f = frame(1, HEADER, true);
    a.feed(C, &f, &mut out);
    a.gap(C, 100, &mut out);
    a.feed(C, b"garbage 1|2|3\r\n", &mut out);
    a.feed(C, &frame(2, TERMINATOR, true), &mut out);
    a.feed(C, &[0xff; 64], &mut out);
    a.finish(&mut out);
    let recs: Vec<Record> = events.into_iter().map(|e| e.record).collect();
    assert_eq!(astm(&recs).len(), 1);
    assert!(weirds(&recs).contains(&"content_gap"));
}

#[test]
fn long_records_are_bounded() {
    let mut h = b"H|\\^&|||".to_vec();
    h.extend(std::iter::repeat_n(b'A', 100_000));
    h.push(b'\r');
    let out = go(&session(&[&h, TERMINATOR]));
    let r = astm(&out)[0];
    assert!(r.sender_name.as_ref().unwrap().len() <= MAX_NAME);
}
