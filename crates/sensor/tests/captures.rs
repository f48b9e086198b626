//! Every capture under ../shared/testdata goes through the whole pipeline
//! without a panic, within the configured limits.

use std::path::{Path, PathBuf};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if let Some(ext) = p.extension().and_then(|e| e.to_str()) {
            if matches!(
                ext,
                "pcap" | "pcapng" | "cap" | "trace" | "dmp" | "pcap0" | "pcap1"
            ) {
                out.push(p);
            }
        }
    }
}

#[test]
fn every_testdata_capture_is_survived_within_limits() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    if !root.is_dir() {
        eprintln!("skipping: ../shared/testdata not found");
        return;
    }
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 500,
        "expected the whole corpus, found {}",
        files.len()
    );
    let mut cfg = sensor::Config {
        workers: 2,
        ..Default::default()
    };
    cfg.flow.max_flows = 20_000;
    cfg.max_stream_buffer = 64 * 1024;
    let (mut ok, mut refused, mut packets, mut records, mut anomalies) = (0, 0, 0u64, 0u64, 0u64);
    for f in &files {
        let progress = sensor::Progress::default();
        match sensor::analyze_files(std::slice::from_ref(f), &cfg, &progress, None) {
            Ok((_obs, report)) => {
                ok += 1;
                packets += report.packets;
                records += report.events;
                anomalies += report.anomalies().iter().map(|(_, v)| v).sum::<u64>();
                let peak = report.counters.get("flows.peak").copied().unwrap_or(0);
                assert!(
                    peak <= (cfg.flow.max_flows / 2) as u64 * 2,
                    "{}: {peak} flows held",
                    f.display()
                );
            }
            Err(sensor::Error::Capture(e)) => {
                // Files named like captures that are not (e.g. empty or a different format) are refused, not crashed on.
                refused += 1;
                eprintln!("refused {}: {e}", f.display());
            }
            Err(e) => panic!("{}: {e}", f.display()),
        }
    }
    eprintln!("{ok} captures analysed, {refused} refused, {packets} packets, {records} records, {anomalies} anomalies counted");
    assert!(ok > files.len() * 9 / 10, "most files are real captures");
    assert!(records > 10_000);
}
