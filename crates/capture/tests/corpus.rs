//! Reads every capture file under ../shared/testdata with `FileReader`, decodes
//! every frame with `wire::decode`, and compares frame counts with Wireshark's
//! `capinfos` for a sample of files. Skips when the data (or capinfos) is absent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use capture::{Error, FileReader, Source};

const TESTDATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/testdata");

fn is_capture_name(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("pcap" | "pcapng" | "cap" | "trace")
    )
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if is_capture_name(&p) {
            out.push(p);
        }
    }
}

fn captures() -> Option<Vec<PathBuf>> {
    let root = Path::new(TESTDATA);
    if !root.is_dir() {
        println!("skipping: ../shared/testdata not found");
        return None;
    }
    let mut files = Vec::new();
    walk(root, &mut files);
    Some(files)
}

#[derive(Default)]
struct Summary {
    files: usize,
    not_captures: usize,
    frames: u64,
    bytes: u64,
    per_link: BTreeMap<String, u64>,
    malformed: BTreeMap<&'static str, u64>,
    anomalies: BTreeMap<&'static str, u64>,
    ip: u64,
    link: u64,
    none: u64,
}

/// Reads one file; returns its frame count.
fn read_file(path: &Path, s: &mut Summary) -> Result<u64, Error> {
    let mut r = FileReader::open(path)?;
    let mut n = 0u64;
    while let Some(f) = r.next_frame()? {
        n += 1;
        assert!(f.data.len() <= capture::MAX_CAPLEN as usize);
        let name = match f.link {
            capture::LinkType::Other(x) => format!("other({x})"),
            l => l.name().to_string(),
        };
        *s.per_link.entry(name).or_default() += 1;
        match wire::decode(f.link, f.data) {
            Ok(p) => match p.net {
                wire::Net::Ip(_) => s.ip += 1,
                wire::Net::Link(_) => s.link += 1,
                wire::Net::None => s.none += 1,
            },
            Err(m) => *s.malformed.entry(m.name()).or_default() += 1,
        }
    }
    assert!(r.next_frame()?.is_none(), "stays at the end");
    assert!(r.bytes_read() <= r.file_len());
    for (k, v) in r.anomalies().iter() {
        *s.anomalies.entry(k).or_default() += v;
    }
    s.frames += n;
    s.bytes += r.file_len();
    Ok(n)
}

#[test]
fn reads_and_decodes_all_testdata() {
    let Some(files) = captures() else { return };
    let mut s = Summary::default();
    for path in &files {
        s.files += 1;
        match read_file(path, &mut s) {
            Ok(_) => {}
            Err(Error::NotACapture { .. }) => s.not_captures += 1,
            Err(e) => panic!("{e}"),
        }
    }
    println!(
        "capture files: {} ({} not captures), frames: {}, bytes: {}",
        s.files, s.not_captures, s.frames, s.bytes
    );
    println!("frames per link type: {:?}", s.per_link);
    println!(
        "decoded: ip {} link {} none {}; malformed: {:?}",
        s.ip, s.link, s.none, s.malformed
    );
    println!("reader anomalies: {:?}", s.anomalies);
    assert!(s.frames > 0);
}

/// Frame count according to `capinfos -c -M`, if capinfos can read the file.
fn capinfos_count(path: &Path) -> Option<u64> {
    let out = Command::new("capinfos")
        .arg("-c")
        .arg("-M")
        .arg(path)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Number of packets"))?;
    line.split(':').nth(1)?.trim().parse().ok()
}

#[test]
fn frame_counts_match_capinfos() {
    let Some(files) = captures() else { return };
    if Command::new("capinfos").arg("-h").output().is_err() {
        println!("skipping: capinfos not installed");
        return;
    }
    // All pcapng files, the generated captures, and every 25th other file.
    let picked: Vec<&PathBuf> = files
        .iter()
        .enumerate()
        .filter(|(i, p)| {
            let s = p.to_string_lossy();
            s.ends_with(".pcapng")
                || s.contains("/generated/")
                || s.contains("ndpi_")
                || i % 25 == 0
        })
        .map(|(_, p)| p)
        .filter(|p| {
            std::fs::metadata(p)
                .map(|m| m.len() < 20 << 20)
                .unwrap_or(false)
        })
        .collect();
    let mut compared = 0;
    for path in picked {
        let mut s = Summary::default();
        let ours = match read_file(path, &mut s) {
            Ok(n) => n,
            Err(Error::NotACapture { .. }) => continue,
            Err(e) => panic!("{e}"),
        };
        // Files we found anomalies in are not comparable (capinfos stops at the first error).
        if s.anomalies.values().any(|&v| v > 0) {
            continue;
        }
        let Some(theirs) = capinfos_count(path) else {
            continue;
        };
        assert_eq!(ours, theirs, "{}", path.display());
        compared += 1;
    }
    println!("frame counts equal to capinfos for {compared} files");
    assert!(compared >= 5, "too few files compared: {compared}");
}
