//! Several writers on one SQLite store at once (issue 19, item 5): every
//! write transaction takes the write lock up front (`BEGIN IMMEDIATE`), so
//! the busy timeout applies instead of an immediate "database is locked";
//! first runs that race each other migrate one after the other.

use identify::{EndpointKey, Fact, FactKind};
use model::Timestamp;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use store::{RunSummary, Store};

fn fact(ip: &str, kind: FactKind, value: &str, ts: i64) -> Fact {
    Fact {
        endpoint: EndpointKey {
            mac: None,
            ip: ip.parse().ok(),
        },
        kind,
        value: value.into(),
        source: "test".into(),
        first_seen: Timestamp(ts),
        last_seen: Timestamp(ts),
        count: 1,
        evidence: "flow 1".into(),
    }
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `n` threads run `f(i)` at the same instant; every result.
fn race<T: Send + 'static>(n: usize, f: impl Fn(usize) -> T + Send + Sync + 'static) -> Vec<T> {
    let gate = Arc::new(Barrier::new(n));
    let f = Arc::new(f);
    let threads: Vec<_> = (0..n)
        .map(|i| {
            let (gate, f) = (gate.clone(), f.clone());
            std::thread::spawn(move || {
                gate.wait();
                f(i)
            })
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

/// One writer's work: `runs` ingests of its own facts (read, then write, in
/// one transaction), each followed by an alert.
fn write(db: &Path, writer: usize, runs: usize) -> Result<(), String> {
    let mut s = Store::open(db).map_err(|e| format!("open: {e}"))?;
    for r in 0..runs {
        let facts: Vec<Fact> = (0..200)
            .map(|k| {
                fact(
                    &format!("10.{writer}.{}.{}", k / 200, k % 200 + 1),
                    FactKind::Hostname,
                    &format!("host-{writer}-{k}"),
                    (r * 1000 + k) as i64,
                )
            })
            .collect();
        s.ingest(
            &RunSummary {
                inputs: vec![format!("writer {writer} run {r}")],
                ..Default::default()
            },
            &facts,
            &[("x".into(), 1)],
        )
        .map_err(|e| format!("ingest: {e}"))?;
    }
    Ok(())
}

#[test]
fn concurrent_first_runs_migrate_one_after_the_other() {
    for round in 0..5 {
        let dir = scratch(&format!("first-runs-{round}"));
        let db = dir.join("ward.db");
        let results = race(6, move |i| write(&db, i, 1));
        for (i, r) in results.iter().enumerate() {
            assert!(r.is_ok(), "round {round}, writer {i}: {r:?}");
        }
        let s = Store::open(&dir.join("ward.db")).unwrap();
        assert_eq!(s.run_count().unwrap(), 6, "no run lost");
        assert_eq!(s.fact_count().unwrap(), 6 * 200);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn concurrent_writers_all_succeed_and_nothing_is_lost() {
    let dir = scratch("writers");
    let db = dir.join("ward.db");
    Store::open(&db).unwrap();
    let results = race(4, move |i| write(&db, i, 8));
    for (i, r) in results.iter().enumerate() {
        assert!(r.is_ok(), "writer {i}: {r:?}");
    }
    let s = Store::open(&dir.join("ward.db")).unwrap();
    assert_eq!(s.run_count().unwrap(), 4 * 8, "no run lost");
    assert_eq!(
        s.fact_count().unwrap(),
        4 * 200,
        "each writer's facts merged across its runs"
    );
    assert_eq!(
        s.anomalies().unwrap(),
        vec![("x".to_string(), 4 * 8)],
        "every run's counters added"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
