//! End to end: hostile *files* (SBOMs, CMMS exports, feeds, odd inputs) —
//! issue 19. Strings from files carry terminal escapes and bidi controls and
//! must reach no output raw (terminal, HTML, CSV, JSON, SVG); CSV cells that
//! a spreadsheet would run as formulas are neutralised; malformed or odd
//! inputs are refused (or skipped) in one line without losing what is stored.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("run ward")
}

fn ok(args: &[&str]) -> Output {
    let o = ward(args);
    assert!(
        o.status.success(),
        "ward {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Escape sequences (CSI clear screen, colour, OSC title, C1 CSI) and bidi
/// controls: what an attacker puts into a vendor document.
const ESC_PASS: &str = "\x1b[2J\x1b[3J\x1b[H\x1b[32mverdict: PASS (0 findings)\x1b[0m\x1b[8m";
const BIDI: &str = "\u{202E}exe.pdf\u{202C}\u{2066}\u{2069}\u{200F}\u{061C}";
const OSC: &str = "\x1b]0;pwned\x07\u{9b}31m";

/// Returns what is wrong with `bytes` as an output: a raw ESC, a C1 control,
/// a bidi or other invisible format character, or (in JSON, which escapes
/// controls) an escaped ESC that `jq -r` would print.
fn raw_hostile(bytes: &[u8]) -> Option<String> {
    if let Some(i) = bytes.iter().position(|&b| b == 0x1b || b == 0x07) {
        return Some(format!("control byte at {i}"));
    }
    let text = String::from_utf8_lossy(bytes);
    if let Some(c) = text.chars().find(|&c| {
        matches!(c, '\u{80}'..='\u{9f}' | '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    }) {
        return Some(format!("character U+{:04X}", c as u32));
    }
    if text.contains("\\u001b") || text.contains("\\u001B") {
        return Some("escaped ESC in JSON".into());
    }
    None
}

fn write_hostile_inputs(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    // A CMMS export: vendor/model/location with escapes and bidi.
    let cmms = dir.join("cmms.csv");
    std::fs::write(
        &cmms,
        format!(
            "vendor,model,firmware,serial,location\n\
             OFFIS,DCMTK {BIDI},3.6.6,SN-1{OSC},Radiology{ESC_PASS}\n\
             \"Evil{ESC_PASS}Corp{BIDI}\",\"Pump{OSC}\",1.0,SN-2,ICU{BIDI}\n"
        ),
    )
    .unwrap();
    // A CSAF advisory and a KEV catalog with hostile texts for the DCMTK CVE.
    let j = |s: &str| serde_json::to_string(s).unwrap();
    let csaf = dir.join("csaf.json");
    std::fs::write(
        &csaf,
        format!(
            r#"{{
      "document": {{"category": "csaf_security_advisory", "csaf_version": "2.0", "title": {title},
        "aggregate_severity": {{"text": {sev}}},
        "tracking": {{"id": "ICSMA-HOSTILE-01", "version": "2", "current_release_date": "2022-06-23T00:00:00Z"}}}},
      "product_tree": {{"branches": [{{"category": "vendor", "name": "OFFIS", "branches": [
        {{"category": "product_name", "name": "DCMTK", "branches": [
          {{"category": "product_version_range", "name": "< 3.6.7", "product": {{"name": {pname}, "product_id": "P1"}}}}]}}]}}]}},
      "vulnerabilities": [{{"cve": "CVE-2022-2119",
        "product_status": {{"known_affected": ["P1"]}},
        "scores": [{{"cvss_v3": {{"baseScore": 7.5, "vectorString": "CVSS:3.1/AV:A"}}, "products": ["P1"]}}],
        "remediations": [{{"category": "vendor_fix", "details": {details}, "url": "https://example.org", "product_ids": ["P1"]}}]}}]
    }}"#,
            title = j(&format!("OFFIS DCMTK{ESC_PASS}{BIDI}")),
            sev = j(&format!("High{OSC}")),
            pname = j(&format!("DCMTK{BIDI}: < 3.6.7{ESC_PASS}")),
            details = j(&format!("Update{ESC_PASS}\r\nto 3.6.7{BIDI}")),
        ),
    )
    .unwrap();
    let kev = dir.join("kev.json");
    std::fs::write(
        &kev,
        format!(
            r#"{{"title":"t","catalogVersion":"2025.08.25","count":2,"vulnerabilities":[
          {{"cveID":"CVE-2022-2119","vendorProject":{v},"product":{p},"vulnerabilityName":{n},"dateAdded":"2025-08-25","knownRansomwareCampaignUse":{r}}},
          {{"cveID":"CVE-2020-11022","vendorProject":"jQuery","product":"jQuery","vulnerabilityName":"jQuery XSS","dateAdded":"2025-01-23","knownRansomwareCampaignUse":"Unknown"}}]}}"#,
            v = j(&format!("OFFIS{BIDI}")),
            p = j(&format!("DCMTK{ESC_PASS}")),
            n = j(&format!("Path traversal{OSC}{BIDI}")),
            r = j(&format!("Unknown{ESC_PASS}")),
        ),
    )
    .unwrap();
    // A CycloneDX SBOM whose component names fake a verdict.
    let sbom = dir.join("device.cdx.json");
    std::fs::write(
        &sbom,
        format!(
            r#"{{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,
          "metadata":{{"component":{{"type":"device","name":{dev},"version":"1"}},"supplier":{{"name":{sup}}}}},
          "components":[
            {{"type":"library","name":{zlib},"version":"1.2.11"}},
            {{"type":"library","name":"jquery","version":"3.1.1","purl":"pkg:npm/jquery@3.1.1"}},
            {{"type":"library","name":"dcmtk","version":{ver},"supplier":{{"name":{sup}}}}}]}}"#,
            dev = j(&format!("Infusion{BIDI}")),
            sup = j(&format!("OFFIS{OSC}")),
            zlib = j(&format!("zlib{ESC_PASS}")),
            ver = j(&format!("3.6.6{BIDI}")),
        ),
    )
    .unwrap();
    (cmms, csaf, kev, sbom)
}

#[test]
fn escapes_and_bidi_from_files_reach_no_output() {
    let dir = scratch("esc");
    let db = dir.join("ward.db");
    let db = s(&db);
    let pcap = dir.join("hostile.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Hostile).unwrap(),
    )
    .unwrap();
    let (cmms, csaf, kev, sbom) = write_hostile_inputs(&dir);

    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut run = |label: &str, args: &[&str]| {
        let o = ward(args);
        outputs.push((format!("{label} stdout"), o.stdout.clone()));
        outputs.push((format!("{label} stderr"), o.stderr.clone()));
        o
    };
    assert!(
        run("analyze", &["analyze", "--quiet", "--db", db, s(&pcap)])
            .status
            .success()
    );
    assert!(run("cmms", &["inventory", "import", s(&cmms), "--db", db])
        .status
        .success());
    assert!(
        run("feeds", &["feeds", "import", s(&csaf), s(&kev), "--db", db])
            .status
            .success()
    );
    let assess = run("assess", &["assess", s(&sbom), "--db", db]);
    assert!(assess.status.success());
    let table = String::from_utf8_lossy(&assess.stdout).to_string();
    assert!(
        table.contains("FAIL"),
        "jQuery 3.1.1 is in KEV: the verdict is FAIL: {table}"
    );
    run("assess json", &["assess", s(&sbom), "--db", db, "--json"]);
    let adv = run("advisories", &["advisories", "--db", db]);
    assert!(
        String::from_utf8_lossy(&adv.stdout).contains("CVE-2022-2119"),
        "the hostile advisory matches the declared DCMTK"
    );
    run("advisories json", &["advisories", "--db", db, "--json"]);
    run("risk", &["risk", "--db", db]);
    run("risk json", &["risk", "--db", db, "--json"]);
    run("inventory", &["inventory", "--db", db]);
    run("inventory json", &["inventory", "--db", db, "--json"]);
    let out = dir.join("report");
    assert!(run("report", &["report", "--db", db, "--out", s(&out)])
        .status
        .success());
    for f in ["report.html", "report.json", "devices.csv", "findings.csv"] {
        outputs.push((f.into(), std::fs::read(out.join(f)).unwrap()));
    }
    let html = String::from_utf8(std::fs::read(out.join("report.html")).unwrap()).unwrap();
    assert!(html.contains("<svg"), "the report has its charts");
    let bad: Vec<String> = outputs
        .iter()
        .filter_map(|(label, bytes)| raw_hostile(bytes).map(|e| format!("{label}: {e}")))
        .collect();
    assert!(
        bad.is_empty(),
        "hostile characters reached outputs: {bad:#?}"
    );
}

/// Issue 19, item 2: a DHCP hostname `=HYPERLINK(...)` (samplegen's
/// `Variant::Formula`) reaches `devices.csv` and `findings.csv` only as text:
/// no cell of any CSV Ward writes starts with `=`, `+`, `-`, `@`, tab or CR.
#[test]
fn csv_cells_are_never_live_formulas() {
    let dir = scratch("formula");
    let db = dir.join("ward.db");
    let db = s(&db);
    let pcap = dir.join("formula.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Formula).unwrap(),
    )
    .unwrap();
    ok(&["analyze", "--quiet", "--db", db, s(&pcap)]);
    let cmms = dir.join("cmms.csv");
    std::fs::write(
        &cmms,
        "vendor,model,firmware,serial,location\nOFFIS,DCMTK,3.6.6,SN-1,\"-1+1\"\n\"@Evil\",\"+Pump\",1.0,SN-2,\"=1+1\"\n",
    )
    .unwrap();
    ok(&["inventory", "import", s(&cmms), "--db", db]);
    let out = dir.join("report");
    ok(&["report", "--db", db, "--out", s(&out)]);
    let mut seen_hostname = false;
    for f in ["devices.csv", "findings.csv"] {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_path(out.join(f))
            .unwrap();
        for rec in rdr.records() {
            for cell in rec.unwrap().iter() {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{f}: live formula cell {cell:?}"
                );
                seen_hostname |=
                    cell.contains(&format!("'{}", samplegen::hospital::FORMULA_HOSTNAME));
            }
        }
    }
    assert!(
        seen_hostname,
        "the hostile hostname is in devices.csv, as text"
    );
}

/// Issue 19, item 6: `--events` keeps no patient identifier from an HTTP path
/// and no SNMP community: a capture with a canary in a request path
/// (`/patients/ZZPHI-DOE^JOHN-MRN424242/chart`) and a secret community
/// writes events with the path's shape and the community's class only.
#[test]
fn events_keep_path_shapes_and_community_classes() {
    use samplegen::conv::{udp_exchange, TcpConversation};
    use samplegen::packet::Endpoint;
    use samplegen::payload::snmp;
    use std::net::Ipv4Addr;
    const PHI: &str = "ZZPHI-DOE^JOHN-MRN424242";
    const SECRET: &str = "ZZSECRET-c0mmunity";
    let dir = scratch("events");
    let client = Endpoint::new([2, 0, 0, 0, 0, 1], Ipv4Addr::new(10, 1, 0, 5), 50123);
    let web = Endpoint::new([2, 0, 0, 0, 0, 2], Ipv4Addr::new(10, 1, 0, 9), 80);
    let agent = Endpoint::new([2, 0, 0, 0, 0, 3], Ipv4Addr::new(10, 1, 0, 7), 161);
    let mut http = TcpConversation::new(client, web, 1_700_000_000_000_000);
    http.handshake()
        .client_send(
            format!("GET /patients/{PHI}/chart?mrn=424242 HTTP/1.1\r\nHost: emr\r\n\r\n")
                .as_bytes(),
        )
        .server_send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        .close();
    let mut frames = http.into_frames();
    let oid: &[u32] = &[1, 3, 6, 1, 2, 1, 1, 5, 0];
    frames.extend(udp_exchange(
        &client.with_port(40000),
        &agent,
        1_700_000_001_000_000,
        &snmp::message(SECRET, snmp::GET_REQUEST, 7, &[(oid, snmp::Value::Null)]),
        Some(&snmp::message(
            SECRET,
            snmp::RESPONSE,
            7,
            &[(oid, snmp::Value::Octets(b"pump-1"))],
        )),
    ));
    let pcap = dir.join("phi.pcap");
    let mut w = samplegen::pcap::PcapWriter::new(Vec::new(), 1).unwrap();
    w.write_frames(&frames).unwrap();
    std::fs::write(&pcap, w.into_inner().unwrap()).unwrap();
    let events = dir.join("events.jsonl");
    let db = dir.join("ward.db");
    ok(&[
        "analyze",
        "--quiet",
        "--db",
        s(&db),
        "--events",
        s(&events),
        s(&pcap),
    ]);
    let ev = std::fs::read_to_string(&events).unwrap();
    assert!(
        ev.contains(r#""uri":"/patients/*/chart?mrn=*""#),
        "the path's shape is kept: {ev}"
    );
    assert!(ev.contains(r#""community":"other""#), "{ev}");
    for canary in [PHI, "MRN424242", "424242", SECRET] {
        assert!(!ev.contains(canary), "{canary} in the events file");
    }
}

fn sample_pcap(dir: &Path) -> PathBuf {
    let pcap = dir.join("sample.pcap");
    std::fs::write(
        &pcap,
        samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Normal).unwrap(),
    )
    .unwrap();
    pcap
}

/// Issue 19, item 8: `ward analyze` on a named pipe is refused in one line
/// at once (it used to block forever opening it), and nothing is stored.
#[test]
fn named_pipe_input_is_refused_not_waited_on() {
    let dir = scratch("fifo");
    let fifo = dir.join("capture.pcap");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipping: mkfifo failed");
        return;
    }
    let db = dir.join("ward.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["analyze", "--quiet", "--db", s(&db), s(&fifo)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ward analyze blocks on a named pipe");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("not a regular file"), "{err}");
    assert!(!db.exists(), "nothing stored");
}

/// Issue 19, item 8: one empty file among several inputs is skipped with a
/// warning; the others are analysed and stored.
#[test]
fn empty_input_among_many_is_skipped_with_a_warning() {
    let dir = scratch("empty");
    let pcap = sample_pcap(&dir);
    let empty = dir.join("rotated-0003.pcap");
    std::fs::write(&empty, b"").unwrap();
    let db = dir.join("ward.db");
    let o = ok(&["analyze", "--quiet", "--db", s(&db), s(&pcap), s(&empty)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rotated-0003.pcap: empty file, skipped"),
        "{err}"
    );
    let inv = ok(&["inventory", "--db", s(&db)]);
    assert!(
        String::from_utf8_lossy(&inv.stdout).contains("ALARIS"),
        "the other input was stored"
    );
    // Only empty inputs: nothing to do, one line, exit 2.
    let o = ward(&["analyze", "--quiet", "--db", s(&db), s(&empty)]);
    assert_eq!(o.status.code(), Some(2));
}

/// Issue 19, item 8: `ward report` into a full file system fails in one line
/// and leaves no `.tmp` file behind (a 16 KiB tmpfs in a private mount
/// namespace; skipped where unprivileged user namespaces are unavailable).
#[test]
fn report_on_a_full_disk_leaves_no_temporary_files() {
    let dir = scratch("full");
    let pcap = sample_pcap(&dir);
    let db = dir.join("ward.db");
    ok(&["analyze", "--quiet", "--db", s(&db), s(&pcap)]);
    let mnt = dir.join("mnt");
    std::fs::create_dir_all(&mnt).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=16k tmpfs '{m}' || exit 99; '{ward}' report --db '{db}' --out '{m}/out'; echo \"rc=$?\"; ls -A '{m}/out'",
        m = s(&mnt),
        ward = env!("CARGO_BIN_EXE_ward"),
        db = s(&db),
    );
    let o = Command::new("unshare")
        .args(["-rm", "sh", "-c", &script])
        .output();
    let Ok(o) = o else {
        eprintln!("skipping: unshare not available");
        return;
    };
    if o.status.code() == Some(99) || !o.status.success() {
        eprintln!(
            "skipping: cannot mount a tmpfs in a user namespace: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        return;
    }
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(out.contains("rc=2"), "the report fails: {out} {err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let left: Vec<&str> = out.lines().filter(|l| l.ends_with(".tmp")).collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// Issue 15, item 2: the CLI's papercuts. A reader that closes the pipe
/// early (`ward alerts | head -1`) is no error; a missing file is one line;
/// `ward analyze DIR` analyzes the captures under it; `ward capture` in a
/// build without the `live` feature says what is missing.
#[test]
fn cli_papercuts_pipes_missing_files_directories_and_features() {
    let dir = scratch("papercuts");
    let db = dir.join("ward.db");
    // The repository's samples/ directory: the bundled sample and its notes.
    let samples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../samples");
    let o = ok(&["analyze", "--quiet", "--db", s(&db), samples]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("inventory stored in"), "{out}");
    // The reader is gone before ward writes (`ward inventory | head -1`
    // after head exited): every write fails with a broken pipe.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["inventory", "--db", s(&db)])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let missing = dir.join("missing.pcap");
    let o = ward(&["analyze", "--quiet", "--db", s(&db), s(&missing)]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert_eq!(err.matches("No such file").count(), 1, "{err}");
    // Every command given a missing file or database says so once, in one
    // line (no "No such file or directory (os error 2): No such file or
    // directory (os error 2)").
    let gone = dir.join("nonexistent");
    let gone_db = gone.join("x.db");
    let csv = dir.join("nonexistent.csv");
    for args in [
        vec!["analyze", "--quiet", "--db", s(&db), s(&gone)],
        vec!["inventory", "--db", s(&gone_db)],
        vec!["inventory", "import", s(&csv), "--db", s(&db)],
        vec!["feeds", "import", s(&gone), "--db", s(&db)],
        vec!["advisories", "--db", s(&gone_db)],
        vec!["risk", "--db", s(&gone_db)],
        vec!["alerts", "--db", s(&gone_db)],
        vec!["intake", "list", "--db", s(&gone_db)],
        vec!["assess", s(&gone), "--db", s(&db)],
        vec!["baseline", "learn", s(&gone), "--db", s(&db)],
        vec!["mud", "import", s(&gone), "--db", s(&db)],
        vec!["policy", "simulate", "--policy", s(&gone), samples],
        vec!["report", "--db", s(&gone_db), "--out", s(&gone)],
    ] {
        let o = ward(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.matches("os error").count() <= 1, "{args:?}: {err}");
        let parts: Vec<&str> = err.trim_end().split(": ").collect();
        assert!(
            parts.windows(2).all(|w| w[0] != w[1]),
            "{args:?}: said twice: {err}"
        );
        assert!(err.contains("nonexistent"), "{args:?}: which file? {err}");
    }
    let o = ward(&["capture", "--interface", "eth0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    if cfg!(feature = "live") {
        assert!(!err.contains("built without live capture"), "{err}");
    } else {
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("--features live"), "{err}");
    }
}
