//! Several workers give the same facts on every run, and as one worker does,
//! also when the fact and endpoint limits are reached and facts have to be
//! dropped (which ones are kept must not depend on the per-process seed of a
//! hash map, nor on which worker saw what).

use std::path::{Path, PathBuf};

fn captures() -> Option<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/medical_pcaps/iotsec-lab-medical/wyzescale/wifi");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    (!files.is_empty()).then_some(files)
}

fn facts(files: &[PathBuf], cfg: &sensor::Config) -> (Vec<identify::Fact>, u64) {
    let progress = sensor::Progress::default();
    let (obs, report) = sensor::analyze_files(files, cfg, &progress, None).expect("analysis");
    let dropped = report.counters.get("facts.dropped").copied().unwrap_or(0);
    (obs.into_facts(), dropped)
}

#[test]
fn two_workers_keep_the_same_facts_on_every_run_at_the_fact_limits() {
    let Some(files) = captures() else {
        eprintln!("skipping: ../shared/testdata/medical_pcaps not found");
        return;
    };
    let mut cfg = sensor::Config {
        workers: 2,
        ..Default::default()
    };
    // Tight: few endpoints, and few facts per endpoint.
    cfg.observer.max_endpoints = 12;
    cfg.observer.max_facts_per_endpoint = 8;
    cfg.observer.max_per_kind = 2;
    let (first, dropped) = facts(&files, &cfg);
    assert!(
        dropped > 0,
        "the limits must be reached for this test to mean anything"
    );
    assert!(first.len() > 12, "{} facts", first.len());
    for workers in [2, 2, 2, 1, 3] {
        cfg.workers = workers;
        let (again, d) = facts(&files, &cfg);
        assert_eq!(d, dropped, "{workers} workers");
        assert!(
            again == first,
            "facts differ between two runs of the same input ({workers} workers)"
        );
    }
}
