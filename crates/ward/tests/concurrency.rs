//! Several Ward processes on one SQLite store at once (issue 19, item 5):
//! first runs racing each other's migrations, then four `ward analyze` and a
//! `ward monitor` (on capture files) writing at the same time. Every process
//! succeeds and the store ends up holding exactly what the same runs store
//! one after the other. (The live variant, `ward monitor --interface` in a
//! network namespace, is in `monitor_live.rs`.)

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ward_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ward"));
    c.args(args);
    c
}

fn ok(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs every command at once; each one's output.
fn all_at_once(cmds: Vec<(String, Command)>) -> Vec<(String, Output)> {
    let children: Vec<_> = cmds
        .into_iter()
        .map(|(name, mut c)| {
            let child = c
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn ward");
            (name, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(name, c)| (name, c.wait_with_output().unwrap()))
        .collect()
}

/// Four captures of distinct DHCP fleets (600 clients each), so each
/// analysis stores a few thousand facts.
fn fleets(dir: &Path) -> Vec<PathBuf> {
    (0..4u32)
        .map(|i| {
            let p = dir.join(format!("fleet{i}.pcap"));
            let f = std::fs::File::create(&p).unwrap();
            samplegen::fleet::write_range(std::io::BufWriter::new(f), i * 600..(i + 1) * 600)
                .unwrap();
            p
        })
        .collect()
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/hospital-room.pcap")
}

fn analyze(db: &Path, pcap: &Path) -> Command {
    ward_cmd(&[
        "analyze",
        pcap.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--workers",
        "1",
    ])
}

fn monitor(db: &Path, pcap: &Path) -> Command {
    ward_cmd(&[
        "monitor",
        pcap.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
        "--json",
    ])
}

/// Device keys and alert (kind, device) pairs stored in `db`.
fn contents(db: &Path) -> (BTreeSet<String>, BTreeSet<(String, String)>, u64) {
    let db = db.to_str().unwrap();
    let out = ward_cmd(&["inventory", "--db", db, "--json"])
        .output()
        .unwrap();
    ok("inventory", &out);
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = inv
        .as_array()
        .or_else(|| inv["devices"].as_array())
        .expect("inventory JSON array")
        .iter()
        .map(|d| d["key"].as_str().unwrap().to_string())
        .collect();
    let out = ward_cmd(&["alerts", "--db", db, "--format", "jsonl"])
        .output()
        .unwrap();
    ok("alerts", &out);
    let mut occurrences = 0;
    let alerts = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            occurrences += v["count"].as_u64().unwrap();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["device"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (devices, alerts, occurrences)
}

/// Runs stored in `db` per input file name (one-input runs).
fn runs_per_input(db: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut runs = std::collections::BTreeMap::new();
    for r in store::testing::run_inputs(&store::Store::open(db).unwrap()) {
        let name = r
            .iter()
            .map(|i| Path::new(i).file_name().unwrap().to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ");
        *runs.entry(name).or_insert(0) += 1;
    }
    runs
}

#[test]
fn four_analyses_and_a_monitor_on_one_store_all_succeed_and_lose_nothing() {
    let dir = std::env::temp_dir().join(format!("ward-concurrency-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let pcaps = fleets(&dir);
    let sample = sample();

    // Reference: the same runs one after the other.
    let reference = dir.join("reference.db");
    for p in &pcaps {
        ok("analyze", &analyze(&reference, p).output().unwrap());
    }
    ok(
        "baseline learn",
        &ward_cmd(&[
            "baseline",
            "learn",
            sample.to_str().unwrap(),
            "--db",
            reference.to_str().unwrap(),
        ])
        .output()
        .unwrap(),
    );
    ok("monitor", &monitor(&reference, &pcaps[0]).output().unwrap());
    let want = contents(&reference);
    let want_runs = runs_per_input(&reference);
    assert!(want.0.len() >= 4 * 600, "{} devices", want.0.len());
    assert!(
        !want.1.is_empty(),
        "the monitor raises alerts on a new fleet"
    );

    for round in 0..3 {
        let db = dir.join(format!("round{round}.db"));
        // First runs racing each other: all migrate, none fails.
        let first: Vec<(String, Command)> = pcaps
            .iter()
            .map(|p| (format!("first analyze {}", p.display()), analyze(&db, p)))
            .collect();
        for (name, out) in all_at_once(first) {
            ok(&format!("round {round}: {name}"), &out);
        }
        ok(
            "baseline learn",
            &ward_cmd(&[
                "baseline",
                "learn",
                sample.to_str().unwrap(),
                "--db",
                db.to_str().unwrap(),
            ])
            .output()
            .unwrap(),
        );
        // Four analyses (the same captures again: facts merge, runs add)
        // beside a monitor, all writing at once.
        let mut busy: Vec<(String, Command)> = pcaps
            .iter()
            .map(|p| (format!("analyze {}", p.display()), analyze(&db, p)))
            .collect();
        busy.push(("monitor".into(), monitor(&db, &pcaps[0])));
        for (name, out) in all_at_once(busy) {
            ok(&format!("round {round}: {name}"), &out);
        }
        let got = contents(&db);
        assert_eq!(got.0, want.0, "round {round}: the same inventory");
        assert_eq!(got.1, want.1, "round {round}: the same alerts");
        assert_eq!(got.2, want.2, "round {round}: every occurrence counted");
        // Every run stored: one more analysis of each capture than in the
        // reference (the second ones change no fact, so only the runs show
        // that they were not lost), and the monitor's and the baseline's.
        let got_runs = runs_per_input(&db);
        for p in &pcaps {
            let name = p.file_name().unwrap().to_str().unwrap();
            assert_eq!(
                got_runs.get(name),
                want_runs.get(name).map(|n| n + 1).as_ref(),
                "round {round}: runs of {name}: {got_runs:?}"
            );
        }
        assert_eq!(
            got_runs.values().sum::<usize>(),
            want_runs.values().sum::<usize>() + pcaps.len(),
            "round {round}: no run lost, none other: {got_runs:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
