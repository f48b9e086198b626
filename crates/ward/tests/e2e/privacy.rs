//! No patient data at rest: the patient names (and IDs) carried in the HL7
//! captures, and the canaries planted in our sample's HL7 and DICOM P-DATA,
//! appear nowhere in the database, stdout, stderr or the events file.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// PID-3 (ids) and PID-5 (names) components of every PID segment, per tshark.
fn pid_values(file: &Path, port: u16) -> Vec<String> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(file)
        .args([
            "-d",
            &format!("tcp.port=={port},hl7"),
            "-o",
            "hl7.display_raw:TRUE",
            "-Y",
            "hl7",
            "-T",
            "fields",
            "-e",
            "hl7.raw.segment",
        ])
        .output()
        .expect("tshark");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut vals = Vec::new();
    for seg in text.split([',', '\n']).filter(|s| s.starts_with("PID|")) {
        let f: Vec<&str> = seg.split('|').collect();
        // PID-3: the ID number (first component of each repetition; the
        // others name the assigning authority, often the sending facility).
        // PID-5: family, given and middle names of each repetition.
        let ids = f
            .get(3)
            .unwrap_or(&"")
            .split('~')
            .filter_map(|rep| rep.split('^').next());
        let names = f
            .get(5)
            .unwrap_or(&"")
            .split('~')
            .flat_map(|rep| rep.split('^').take(3));
        for comp in ids.chain(names) {
            {
                let c = comp.trim();
                // Short tokens ("MR", "JR") would match unrelated text.
                if c.len() >= 4 && c.chars().any(|ch| ch.is_ascii_alphabetic()) {
                    vals.push(c.to_string());
                }
            }
        }
    }
    vals.sort();
    vals.dedup();
    vals
}

pub(crate) fn assert_nowhere(canaries: &[String], dir: &Path, outputs: &[&[u8]], what: &str) {
    assert!(!canaries.is_empty(), "{what}: no canaries to look for");
    let mut blobs: Vec<(String, Vec<u8>)> = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        blobs.push((
            e.path().display().to_string(),
            std::fs::read(e.path()).unwrap_or_default(),
        ));
    }
    for (i, o) in outputs.iter().enumerate() {
        blobs.push((format!("output #{i}"), o.to_vec()));
    }
    for (name, blob) in &blobs {
        let hay = String::from_utf8_lossy(blob);
        for c in canaries {
            // Report which kind of value leaked, never the value itself.
            assert!(
                !hay.contains(c.as_str()),
                "{what}: a patient identifier ({} chars) leaked into {name}",
                c.len()
            );
        }
    }
}

/// The canary check for a capture with planted patient values: every
/// canary is on the wire in `file` (so the check can fail), and after
/// `ward analyze` (plain and `--json`, with trace logging), `ward inventory`
/// and `ward report` none of them is in anything Ward wrote or printed.
pub(crate) fn assert_canaries_never_stored(file: &Path, canaries: &[&str], what: &str) {
    let raw = String::from_utf8_lossy(&std::fs::read(file).unwrap()).to_string();
    for c in canaries {
        assert!(
            raw.contains(c),
            "{what}: the capture carries {c} on the wire"
        );
    }
    let dir = scratch(&format!("{what}-privacy"));
    let mut outs = run_and_collect(file, &dir);
    let db = dir.join("ward.db");
    let report = dir.join("report.html");
    let o = ward(&[
        "report",
        "--db",
        db.to_str().unwrap(),
        "--out",
        report.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    outs.push(o.stdout);
    outs.push(o.stderr);
    let canaries: Vec<String> = canaries.iter().map(|c| c.to_string()).collect();
    let refs: Vec<&[u8]> = outs.iter().map(|o| o.as_slice()).collect();
    assert_nowhere(&canaries, &dir, &refs, what);
}

pub(crate) fn run_and_collect(file: &Path, dir: &Path) -> Vec<Vec<u8>> {
    let db = dir.join("ward.db");
    let events = dir.join("events.jsonl");
    let mut outs = Vec::new();
    for json in [false, true] {
        let mut args = vec![
            "analyze",
            "--quiet",
            "--db",
            db.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            file.to_str().unwrap(),
        ];
        if json {
            args.push("--json");
        }
        let o = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(&args)
            .env("RUST_LOG", "trace")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        outs.push(o.stdout);
        outs.push(o.stderr);
    }
    let inv = ward(&["inventory", "--json", "--db", db.to_str().unwrap()]);
    outs.push(inv.stdout);
    outs
}

#[test]
fn hl7_patient_names_never_leave_the_wire() {
    let Some(td) = testdata() else { return };
    if !have("tshark") {
        return;
    }
    for (rel, port) in [
        ("generated/hl7_mllp_python-hl7_loopback.pcap", 2575),
        ("medical_pcaps/ndpi_hl7.pcap", 6661),
    ] {
        let file = td.join(rel);
        let mut canaries = pid_values(&file, port);
        // A "name" such as `test` also occurs in the capture's own path, which
        // the run rightly records; such values prove nothing either way.
        canaries.retain(|c| !file.to_string_lossy().contains(c.as_str()));
        let dir = scratch(&format!("privacy-{}", rel.replace('/', "_")));
        let outs = run_and_collect(&file, &dir);
        let refs: Vec<&[u8]> = outs.iter().map(|o| o.as_slice()).collect();
        assert_nowhere(&canaries, &dir, &refs, rel);
    }
}

#[test]
fn planted_canaries_in_sample_never_stored() {
    let file = repo().join("samples/hospital-room.pcap");
    assert!(
        file.exists(),
        "samples/hospital-room.pcap is part of the repository"
    );
    let raw = std::fs::read(&file).unwrap();
    let canaries: Vec<String> = ["CANARY^PATIENT^ZEBRA", "CANARY", "ZEBRA", "MRN-CANARY-0001"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(
        String::from_utf8_lossy(&raw).contains("CANARY^PATIENT^ZEBRA"),
        "the sample carries the canary on the wire"
    );
    let dir = scratch("privacy-sample");
    let outs = run_and_collect(&file, &dir);
    let refs: Vec<&[u8]> = outs.iter().map(|o| o.as_slice()).collect();
    assert_nowhere(&canaries, &dir, &refs, "sample");
}
