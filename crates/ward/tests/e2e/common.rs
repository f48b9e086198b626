//! Helpers shared by the end-to-end tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `../shared/testdata`, or None (tests then print why they skip).
pub fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/testdata not found");
        None
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// True when `tool` is on PATH (tests that need it skip otherwise).
pub fn have(tool: &str) -> bool {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipping: {tool} not installed");
    }
    ok
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("scratch dir");
    d
}

/// Runs `ward` with args; panics with stderr if it fails.
pub fn ward(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward");
    assert!(
        out.status.success(),
        "ward {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `ward analyze FILE --events` into `dir` and returns (inventory JSON, events).
pub fn analyze(file: &Path, dir: &Path) -> (serde_json::Value, Vec<serde_json::Value>) {
    let db = dir.join("ward.db");
    let events = dir.join("events.jsonl");
    let out = ward(&[
        "analyze",
        "--quiet",
        "--json",
        "--db",
        db.to_str().unwrap(),
        "--events",
        events.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    let inv: serde_json::Value = serde_json::from_slice(&out.stdout).expect("inventory JSON");
    let evs = std::fs::read_to_string(&events).expect("events file");
    let evs = evs
        .lines()
        .map(|l| serde_json::from_str(l).expect("event JSON"))
        .collect();
    (inv, evs)
}

/// Records of one type from an event list.
pub fn records<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

/// A string field of a JSON object, or "".
pub fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or("")
}

/// Compares per-message field values of an oracle (tshark) with Ward's,
/// keyed alike: every field of every oracle message counts, and so does
/// every message only Ward saw. Prints `NAME vs tshark: A/F fields agree
/// (P%) over N UNIT` and each disagreement, and returns the percentage.
pub fn field_agreement<K: std::fmt::Debug + Ord>(
    name: &str,
    unit: &str,
    fields: &[&str],
    oracle: &std::collections::BTreeMap<K, Vec<String>>,
    ours: &std::collections::BTreeMap<K, Vec<String>>,
) -> f64 {
    let (mut compared, mut agree) = (0usize, 0usize);
    let empty = vec![String::new(); fields.len()];
    for (key, want) in oracle {
        let got = ours.get(key).unwrap_or(&empty);
        for (i, (a, b)) in want.iter().zip(got).enumerate() {
            compared += 1;
            agree += usize::from(a == b);
            if a != b {
                eprintln!("{key:?} {}: tshark {a:?} ward {b:?}", fields[i]);
            }
        }
    }
    for key in ours.keys().filter(|k| !oracle.contains_key(k)) {
        compared += 1;
        eprintln!("{key:?}: a {unit} tshark did not see");
    }
    let pct = 100.0 * agree as f64 / compared.max(1) as f64;
    println!(
        "{name} vs tshark: {agree}/{compared} fields agree ({pct:.1}%) over {} {unit}s",
        oracle.len()
    );
    pct
}

/// [`field_agreement`] for oracles whose messages carry fields by name
/// (field name → value per message, keyed alike): every oracle field counts,
/// and so does every field only Ward gave. Prints `NAME vs tshark: A/F
/// fields agree (P%) over N UNITs` and each disagreement; returns the percentage.
pub fn named_field_agreement<K: std::fmt::Debug + Ord>(
    name: &str,
    unit: &str,
    oracle: &std::collections::BTreeMap<K, std::collections::BTreeMap<String, String>>,
    ours: &std::collections::BTreeMap<K, std::collections::BTreeMap<String, String>>,
) -> f64 {
    let (mut compared, mut agree) = (0usize, 0usize);
    let empty = std::collections::BTreeMap::new();
    for (key, want) in oracle {
        let got = ours.get(key).unwrap_or(&empty);
        for (field, value) in want {
            compared += 1;
            if got.get(field) == Some(value) {
                agree += 1;
            } else {
                eprintln!(
                    "{unit} {key:?} {field}: tshark {value:?} ward {:?}",
                    got.get(field)
                );
            }
        }
        for field in got.keys().filter(|f| !want.contains_key(*f)) {
            compared += 1;
            eprintln!("{unit} {key:?} {field}: {:?} not in tshark", got[field]);
        }
    }
    for key in ours.keys().filter(|k| !oracle.contains_key(k)) {
        compared += ours[key].len();
        eprintln!("{unit} {key:?}: one tshark did not see");
    }
    let pct = 100.0 * agree as f64 / compared.max(1) as f64;
    println!(
        "{name} vs tshark: {agree}/{compared} fields agree ({pct:.1}%) over {} {unit}s",
        oracle.len()
    );
    pct
}

/// The inventory device (of `ward inventory --json`) that has address `ip`.
pub fn device<'a>(inv: &'a serde_json::Value, ip: &str) -> &'a serde_json::Value {
    inv["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| {
            d["ips"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i == ip))
        })
        .unwrap_or_else(|| panic!("no device {ip} in {inv:#}"))
}

/// The strings of a JSON array (empty for anything else).
pub fn strings(v: &serde_json::Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default()
}
