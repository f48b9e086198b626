//! HTTP resynchronises after a gap in a body whose length is known: on
//! Zeek's public `entity_gap` traces (a download whose response lost one
//! or two segments, 1,448 bytes each, mid-body) the transaction is
//! recorded with its whole Content-Length counted and is not reported as
//! truncated. Before, the response direction was abandoned at the gap:
//! the body length stopped short and `http_truncated_response_body` was
//! reported.

use model::{Event, Record};
use std::path::Path;

/// HTTP records and weird names of one capture, through the whole engine.
fn analyze(path: &Path) -> (Vec<model::records::HttpRecord>, Vec<String>) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Event>>(64);
    let collector = std::thread::spawn(move || rx.into_iter().flatten().collect::<Vec<_>>());
    let cfg = sensor::Config::default();
    sensor::analyze_files(
        &[path.to_path_buf()],
        &cfg,
        &sensor::Progress::default(),
        Some(tx),
    )
    .expect("analyzes");
    let (mut http, mut weirds) = (Vec::new(), Vec::new());
    for e in collector.join().unwrap() {
        match e.record {
            Record::Http(h) => http.push(h),
            Record::Weird(w) => weirds.push(w.name),
            _ => {}
        }
    }
    (http, weirds)
}

/// The Content-Length of the first response in the capture, read from the
/// server's first segment.
fn content_length(path: &Path) -> u64 {
    let frames = testkit::pcap::frames(path);
    for f in &frames {
        let Some(p) = testkit::pcap::decode(f) else {
            continue;
        };
        let text = String::from_utf8_lossy(p.payload);
        if p.sport == 80 && text.starts_with("HTTP/1.") {
            let line = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-length:"))
                .expect("Content-Length");
            return line[15..].trim().parse().unwrap();
        }
    }
    panic!("no response in {}", path.display());
}

#[test]
fn a_gap_inside_a_known_length_body_is_skipped() {
    for trace in ["entity_gap.pcap", "entity_gap2.pcap"] {
        let Some(path) = testkit::testdata(&format!("zeek/Traces/http/{trace}")) else {
            return;
        };
        let want = content_length(&path);
        let (http, weirds) = analyze(&path);
        println!("{trace}: {http:?} {weirds:?}");
        assert_eq!(http.len(), 1, "{trace}");
        assert_eq!(http[0].status_code, Some(200), "{trace}");
        assert_eq!(
            http[0].response_body_len, want,
            "{trace}: the whole body counted"
        );
        assert!(
            weirds.iter().any(|w| w == "content_gap"),
            "{trace}: {weirds:?}"
        );
        assert!(
            !weirds.iter().any(|w| w == "http_truncated_response_body"),
            "{trace}: {weirds:?}"
        );
    }
}
