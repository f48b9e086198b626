//! One, two and three workers give the same records, facts and counts on the
//! committed captures (the reader hands each flow's frames to one worker).

use std::path::{Path, PathBuf};

fn inputs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    [
        "samples/hospital-room.pcap",
        "crates/ward/tests/fixtures/ssdp/ssdp-netns.pcap",
        "crates/ward/tests/fixtures/sdc/sdc-netns.pcap",
        "crates/ward/tests/fixtures/bacnet/bacnet-netns.pcap",
        "crates/ward/tests/fixtures/mqtt/mqtt-loopback.pcap",
    ]
    .iter()
    .map(|p| root.join(p))
    .collect()
}

/// Records, facts (with their evidence) and the report's counts of a run
/// with `workers` workers. Nothing is blanked: a flow's id is the number of
/// its first frame whichever worker has it, and a fact's evidence is that of
/// its earliest observation.
fn run(files: &[PathBuf], workers: usize) -> (Vec<String>, Vec<identify::Fact>, String) {
    let cfg = sensor::Config {
        workers,
        ..Default::default()
    };
    let (tx, rx) = std::sync::mpsc::sync_channel(4);
    let collector = std::thread::spawn(move || {
        let mut records: Vec<String> = rx
            .into_iter()
            .flatten()
            .map(|e: model::Event| format!("{e:?}"))
            .collect();
        records.sort();
        records
    });
    let progress = sensor::Progress::default();
    let (obs, r) = sensor::analyze_files(files, &cfg, &progress, Some(tx)).expect("analysis");
    let records = collector.join().expect("collector");
    assert_eq!(
        progress.bytes.load(std::sync::atomic::Ordering::Relaxed),
        r.bytes
    );
    let counts = format!(
        "packets {} bytes {} flows {} events {} first {:?} last {:?} inputs {:?} counters {:?} records {:?}",
        r.packets, r.bytes, r.flows, r.events, r.first_packet, r.last_packet, r.inputs,
        r.counters.iter().filter(|(k, _)| k.as_str() != "flows.peak").collect::<Vec<_>>(),
        r.records
    );
    (records, obs.into_facts(), counts)
}

/// Runs `files` with 1, 2 and 3 workers and checks that the output agrees;
/// one worker's records and facts must number more than the minimums.
fn assert_workers_agree(files: &[PathBuf], min_records: usize, min_facts: usize) {
    let (records, facts, counts) = run(files, 1);
    assert!(records.len() > min_records, "{} records", records.len());
    assert!(facts.len() > min_facts, "{} facts", facts.len());
    for workers in [2, 3] {
        let (r, f, c) = run(files, workers);
        assert_eq!(c, counts, "{workers} workers: counts differ");
        assert!(r == records, "{workers} workers: records differ");
        assert!(f == facts, "{workers} workers: facts differ");
    }
}

#[test]
fn one_two_and_three_workers_give_the_same_output() {
    assert_workers_agree(&inputs(), 100, 20);
}

/// The sample room's capture `copies` times, copy `i` moved `day(i)` days
/// in time: larger than the reader's 1 MiB buffer, so workers hold frames of
/// buffers the reader has moved on from.
fn repeated_sample(copies: u32, day: impl Fn(u32) -> i64) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let one = std::fs::read(root.join("samples/hospital-room.pcap")).expect("sample");
    assert_eq!(
        one.get(..4),
        Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]),
        "little-endian pcap"
    );
    let (header, records) = one.split_at(24);
    let mut out = header.to_vec();
    for copy in 0..copies {
        let mut at = 0;
        while let Some(h) = records.get(at..at + 16) {
            let sec = i64::from(u32::from_le_bytes([h[0], h[1], h[2], h[3]])) + day(copy) * 86_400;
            let sec = u32::try_from(sec).expect("a time pcap can hold");
            let caplen = u32::from_le_bytes([h[8], h[9], h[10], h[11]]) as usize;
            out.extend_from_slice(&sec.to_le_bytes());
            out.extend_from_slice(&h[4..16]);
            out.extend_from_slice(&records[at + 16..at + 16 + caplen]);
            at += 16 + caplen;
        }
    }
    out
}

#[test]
fn a_capture_larger_than_the_reader_buffer_gives_the_same_output() {
    let dir = std::env::temp_dir().join(format!("ward-worker-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let big = dir.join("big.pcap");
    let bytes = repeated_sample(120, i64::from);
    assert!(bytes.len() > 2 << 20, "{} bytes", bytes.len());
    std::fs::write(&big, &bytes).expect("write");
    assert_workers_agree(&[big], 1000, 20);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_fails_cleanly_with_several_workers() {
    let dir = std::env::temp_dir().join(format!("ward-worker-counts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.pcap");
    std::fs::write(&bad, b"this is not a capture file at all").expect("write");
    let mut files = inputs();
    files.push(bad);
    for workers in [1, 2] {
        let cfg = sensor::Config {
            workers,
            ..Default::default()
        };
        let r = sensor::analyze_files(&files, &cfg, &sensor::Progress::default(), None);
        assert!(r.is_err(), "{workers} workers: a bad file must fail");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Copies of the sample alternately later and earlier than the first (days
/// 0, -1, 2, -3, ...): a capture whose time goes back, as files of different
/// days joined end to end do. The same flows come back in copies of other
/// days, and expiry passes run at the newest time read so far: they must run
/// at the same frames, with the same time, for any number of workers, and
/// end every idle flow, not only those before the first busy one.
#[test]
fn a_capture_whose_time_goes_back_gives_the_same_output() {
    let dir = std::env::temp_dir().join(format!("ward-worker-back-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let back = dir.join("back.pcap");
    let day = |i: u32| {
        if i.is_multiple_of(2) {
            i64::from(i)
        } else {
            -i64::from(i)
        }
    };
    std::fs::write(&back, repeated_sample(60, day)).expect("write");
    assert_workers_agree(&[back], 500, 20);
    let _ = std::fs::remove_dir_all(&dir);
}
