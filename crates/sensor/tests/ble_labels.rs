//! Issue 22, acceptance 1, Bluetooth rows: every `*/bluetooth` folder named
//! in `iotsec-lab-medical.LABELS.tsv` is analyzed on its own, and must yield
//! BLE advertising devices, the folder's own device among them with a
//! category (not `unknown`), no anomaly counts for the frames and no
//! unsupported-link message. Prints a per-device table. Skipped with a
//! message when the shared data is absent.
//!
//! The folder's own device is the advertiser seen in the most advertising
//! frames with a stable or self-describing address — read from the
//! traffic, not from a list of names.

use identify::{build_inventory, Category, FactKind};
use std::path::{Path, PathBuf};

fn root() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/medical_pcaps");
    if p.join("iotsec-lab-medical.LABELS.tsv").exists() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/testdata/medical_pcaps not found");
        None
    }
}

fn pcaps(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| Some(e.ok()?.path())).collect();
    v.sort();
    for p in v {
        if p.is_dir() {
            pcaps(&p, out);
        } else if p.extension().is_some_and(|e| e == "pcap") {
            out.push(p);
        }
    }
}

#[test]
fn each_bluetooth_folder_yields_its_advertisers_with_a_category() {
    let Some(root) = root() else { return };
    let labels = std::fs::read_to_string(root.join("iotsec-lab-medical.LABELS.tsv")).unwrap();
    let row = labels
        .lines()
        .find(|l| l.starts_with("*/bluetooth"))
        .expect("a */bluetooth row in the labels");
    assert!(row.contains("272"), "{row}");
    let base = root.join("iotsec-lab-medical");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&base)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path().join("bluetooth")))
        .filter(|p| p.is_dir())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 5, "bluetooth folders: {folders:?}");
    let mut failures = Vec::new();
    println!(
        "{:<22} {:<18} {:<26} {:<18} {:<10} why",
        "folder", "address", "name", "vendor", "category"
    );
    for folder in &folders {
        let mut files = Vec::new();
        pcaps(folder, &mut files);
        let cfg = sensor::Config::default();
        let (obs, report) =
            sensor::analyze_files(&files, &cfg, &sensor::Progress::default(), None).unwrap();
        let name = folder
            .parent()
            .and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !report
            .anomalies()
            .iter()
            .all(|(k, _)| k == "anomaly.ble.crc_error")
        {
            failures.push(format!("{name}: anomalies {:?}", report.anomalies()));
        }
        if !report.unsupported_links().is_empty() {
            failures.push(format!(
                "{name}: unsupported {:?}",
                report.unsupported_links()
            ));
        }
        let devices: Vec<_> = build_inventory(&obs.into_facts())
            .into_iter()
            .filter(|d| d.roles.iter().any(|r| r == identify::ble::ROLE))
            .collect();
        if devices.is_empty() {
            failures.push(format!("{name}: no BLE devices"));
            continue;
        }
        // The folder's own device: the most often heard advertiser.
        let heard = |d: &identify::Device| {
            d.facts
                .iter()
                .filter(|f| f.kind == FactKind::Role && f.value == identify::ble::ROLE)
                .map(|f| f.count)
                .sum::<u64>()
        };
        let own = devices.iter().max_by_key(|d| heard(d)).unwrap();
        for d in &devices {
            let mark = if std::ptr::eq(d, own) { "*" } else { " " };
            println!(
                "{mark}{:<21} {:<18} {:<26} {:<18} {:<10} {}",
                name,
                d.key.trim_start_matches("mac:"),
                d.hostnames.first().map(String::as_str).unwrap_or("-"),
                d.vendor
                    .as_deref()
                    .unwrap_or("-")
                    .chars()
                    .take(18)
                    .collect::<String>(),
                d.category.label(),
                d.reasons.first().map(|r| r.why.as_str()).unwrap_or("-")
            );
        }
        if own.category == Category::Unknown {
            failures.push(format!(
                "{name}: its advertiser {} has no category",
                own.key
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
