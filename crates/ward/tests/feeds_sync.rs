//! `ward feeds sync` against a local HTTP server started here, serving the
//! real CISA ICSMA CSAF advisories, KEV catalog and NVD records from
//! `../shared/testdata` (skipped when absent) in the shapes of the real
//! endpoints: the KEV JSON, a CSAF provider-metadata.json with a ROLIE feed and
//! a directory `index.txt`, and NVD CVE API 2.0 pages. Never the internet.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

fn testdata() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/vuln");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: {} not found", p.display());
        None
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status500,
    Garbage,
    Truncated,
}

#[derive(Default)]
struct State {
    fault: Option<(String, Fault)>,
    log: Vec<String>,
}

struct Content {
    kev: Vec<u8>,
    /// File name (lower case) → bytes.
    csaf: HashMap<String, Vec<u8>>,
    nvd: Vec<serde_json::Value>,
    /// `epss.csv.gz` of the directory, if any.
    epss: Option<Vec<u8>>,
    /// The `results` of `fda.json` of the directory (openFDA recalls), if any.
    fda: Option<Vec<serde_json::Value>>,
}

/// `icsma-24-163-01.json` → `2024/icsma-24-163-01.json` (the CSAF directory layout).
fn year_path(name: &str) -> String {
    format!("20{}/{name}", &name[6..8])
}

fn respond(mut s: TcpStream, status: &str, body: &[u8]) {
    let head = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let _ = s.flush();
}

fn query(q: &str, key: &str) -> Option<String> {
    q.split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .map(str::to_string)
}

fn route(base: &str, c: &Content, path: &str, q: &str) -> Option<Vec<u8>> {
    let mut names: Vec<&String> = c.csaf.keys().collect();
    names.sort();
    let body = match path {
        "/kev.json" => c.kev.clone(),
        "/.well-known/csaf/provider-metadata.json" => serde_json::to_vec(&serde_json::json!({
            "canonical_url": format!("{base}/.well-known/csaf/provider-metadata.json"),
            "metadata_version": "2.0",
            "role": "csaf_trusted_provider",
            "publisher": {"category": "coordinator", "name": "Test CISA", "namespace": base},
            "distributions": [
                {"rolie": {"feeds": [{"summary": "WHITE advisories", "tlp_label": "WHITE", "url": format!("{base}/csaf/feed-tlp-white.json")}]}},
                {"directory_url": format!("{base}/csaf")}
            ]
        }))
        .unwrap(),
        "/csaf/feed-tlp-white.json" => {
            // The ROLIE feed lists every other advisory, and one ICS (not medical) advisory that must not be fetched.
            let mut entries: Vec<serde_json::Value> = names
                .iter()
                .step_by(2)
                .map(|n| {
                    let href = format!("{base}/csaf/{}", year_path(n));
                    serde_json::json!({"id": n.trim_end_matches(".json").to_uppercase(), "title": n,
                        "link": [{"rel": "self", "href": href}], "published": "2024-01-01T00:00:00Z", "updated": "2024-01-01T00:00:00Z",
                        "content": {"type": "application/json", "src": href}, "format": {"schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json", "version": "2.0"}})
                })
                .collect();
            entries.push(serde_json::json!({"id": "ICSA-99-999-99", "link": [{"rel": "self", "href": format!("{base}/csaf/2099/icsa-99-999-99.json")}]}));
            serde_json::to_vec(&serde_json::json!({"feed": {"id": "csaf-feed-tlp-white", "title": "CSAF feed (TLP:WHITE)", "entry": entries}})).unwrap()
        }
        "/csaf/index.txt" => {
            let mut t: String = names.iter().map(|n| format!("{}\n", year_path(n))).collect();
            t.push_str("2099/icsa-99-999-99.json\n");
            t.into_bytes()
        }
        "/nvd/cves/2.0" => {
            let start: usize = query(q, "startIndex").and_then(|v| v.parse().ok()).unwrap_or(0);
            // Like the real API, the server caps the page size (here at 2, to force paging).
            let per: usize = query(q, "resultsPerPage").and_then(|v| v.parse().ok()).unwrap_or(2000).min(2);
            let since = query(q, "lastModStartDate");
            let recs: Vec<&serde_json::Value> = c
                .nvd
                .iter()
                .filter(|r| since.as_deref().is_none_or(|s| r["lastModified"].as_str().unwrap_or("") >= &s[..19.min(s.len())]))
                .collect();
            let page: Vec<serde_json::Value> = recs.iter().skip(start).take(per).map(|r| serde_json::json!({"cve": r})).collect();
            serde_json::to_vec(&serde_json::json!({"resultsPerPage": page.len(), "startIndex": start, "totalResults": recs.len(),
                "format": "NVD_CVE", "version": "2.0", "timestamp": "2025-01-01T00:00:00.000", "vulnerabilities": page}))
            .unwrap()
        }
        "/epss.csv.gz" => c.epss.clone()?,
        "/fda/device/enforcement.json" => {
            // openFDA: `search`, `limit` and `skip`; here one report per page, to force paging.
            let all = c.fda.as_ref()?;
            query(q, "search").filter(|s| s.starts_with("report_date:["))?;
            let skip: usize = query(q, "skip").and_then(|v| v.parse().ok()).unwrap_or(0);
            let page: Vec<&serde_json::Value> = all.iter().skip(skip).take(1).collect();
            serde_json::to_vec(&serde_json::json!({"meta": {"disclaimer": "test", "results": {"skip": skip, "limit": 1, "total": all.len()}},
                "results": page}))
            .unwrap()
        }
        p => {
            let name = p.strip_prefix("/csaf/20")?.split_once('/')?.1;
            c.csaf.get(name)?.clone()
        }
    };
    Some(body)
}

fn handle(mut s: TcpStream, base: &str, c: &Content, state: &Mutex<State>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (path, q) = target.split_once('?').unwrap_or((&target, ""));
    let fault = {
        let mut st = state.lock().unwrap();
        st.log.push(target.clone());
        st.fault
            .as_ref()
            .filter(|(p, _)| p == path)
            .map(|(_, f)| *f)
    };
    match (route(base, c, path, q), fault) {
        (_, Some(Fault::Status500)) => respond(s, "500 Internal Server Error", b"oops"),
        (_, Some(Fault::Garbage)) => respond(
            s,
            "200 OK",
            b"<html><body>Service Unavailable</body></html>",
        ),
        (Some(body), Some(Fault::Truncated)) => respond(s, "200 OK", &body[..body.len() / 2]),
        (Some(body), None) => respond(s, "200 OK", &body),
        (None, _) => respond(s, "404 Not Found", b"not found"),
    }
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start(vuln: &Path) -> Server {
        let mut csaf = HashMap::new();
        for e in std::fs::read_dir(vuln.join("csaf_icsma")).unwrap() {
            let p = e.unwrap().path();
            csaf.insert(
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_ascii_lowercase(),
                std::fs::read(&p).unwrap(),
            );
        }
        let mut nvd_files: Vec<PathBuf> = std::fs::read_dir(vuln.join("nvd_cve_json"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        nvd_files.sort();
        let nvd = nvd_files
            .iter()
            .map(|p| serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap())
            .collect();
        let content = Arc::new(Content {
            kev: std::fs::read(vuln.join("known_exploited_vulnerabilities.json")).unwrap(),
            csaf,
            nvd,
            epss: std::fs::read(vuln.join("epss.csv.gz")).ok(),
            fda: std::fs::read(vuln.join("fda.json")).ok().map(|b| {
                let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
                v["results"].as_array().unwrap().clone()
            }),
        });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let (b, st) = (base.clone(), state.clone());
        std::thread::spawn(move || {
            for s in listener.incoming() {
                let Ok(s) = s else { continue };
                let (b, c, st) = (b.clone(), content.clone(), st.clone());
                std::thread::spawn(move || handle(s, &b, &c, &st));
            }
        });
        Server { base, state }
    }

    fn sync(&self, db: &str, extra: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ward"));
        cmd.args(["feeds", "sync", "--db", db])
            .args([
                "--source",
                &format!("csaf={}/.well-known/csaf/provider-metadata.json", self.base),
            ])
            .args(["--source", &format!("nvd={}/nvd/cves/2.0", self.base)])
            .args(extra)
            .env_remove("WARD_FEED_CSAF_URL")
            .env_remove("WARD_FEED_NVD_URL")
            .env_remove("NVD_API_KEY")
            // The KEV URL through the environment, the others through flags;
            // EPSS and openFDA off unless a test names them (`extra` comes after).
            .env("WARD_FEED_KEV_URL", format!("{}/kev.json", self.base))
            .env("WARD_FEED_EPSS_URL", "off")
            .env("WARD_FEED_FDA_URL", "off");
        cmd.output().expect("run ward")
    }

    fn fault(&self, f: Option<(&str, Fault)>) {
        self.state.lock().unwrap().fault = f.map(|(p, f)| (p.to_string(), f));
    }

    fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

fn ok(o: Output, what: &str) -> String {
    assert!(
        o.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn stored_line(out: &str) -> String {
    out.lines()
        .find(|l| l.starts_with("stored:"))
        .expect("stored line")
        .to_string()
}

#[test]
fn sync_stores_what_import_stores_idempotently_and_atomically() {
    let Some(vuln) = testdata() else { return };
    let dir = std::env::temp_dir().join(format!("ward-feeds-sync-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (db_import, db_sync) = (dir.join("import.db"), dir.join("sync.db"));
    let (db_import, db_sync) = (db_import.to_str().unwrap(), db_sync.to_str().unwrap());

    // The reference: `feeds import` of the same files.
    let (csaf, kev, nvd) = (
        vuln.join("csaf_icsma"),
        vuln.join("known_exploited_vulnerabilities.json"),
        vuln.join("nvd_cve_json"),
    );
    let o = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "feeds",
            "import",
            csaf.to_str().unwrap(),
            kev.to_str().unwrap(),
            nvd.to_str().unwrap(),
            "--db",
            db_import,
        ])
        .output()
        .unwrap();
    let want = stored_line(&ok(o, "feeds import"));
    assert!(
        want.starts_with("stored: 144 CSAF advisories, 5 NVD records,")
            && want.ends_with("1404 KEV entries, 150 files"),
        "{want}"
    );

    let srv = Server::start(&vuln);

    // First sync: everything new, the same totals as the import.
    let first = ok(srv.sync(db_sync, &[]), "first sync");
    eprintln!("{first}");
    assert!(
        first.contains("csaf: fetched 144 ICSMA advisories"),
        "{first}"
    );
    assert!(
        first.contains("nvd: fetched 5 CVE records in 3 pages (full)"),
        "{first}"
    );
    assert!(
        first.contains("csaf: 144 files (0 unchanged): advisories 144 new"),
        "{first}"
    );
    assert!(first.contains("KEV entries 1404 new"), "{first}");
    assert_eq!(stored_line(&first), want, "{first}");
    let log = srv.take_log();
    assert!(
        log.iter().all(|r| !r.contains("icsa-")),
        "only ICSMA advisories are fetched: {log:?}"
    );
    assert_eq!(
        log.iter().filter(|r| r.contains("/csaf/20")).count(),
        144,
        "each advisory once (ROLIE and index deduplicated)"
    );

    // Second sync: nothing changes; NVD asks only for what changed since.
    let second = ok(srv.sync(db_sync, &[]), "second sync");
    assert!(
        second.contains(
            "csaf: 144 files (144 unchanged): advisories 0 new, 0 updated, 144 unchanged"
        ),
        "{second}"
    );
    assert!(
        second.contains("KEV entries 0 new, 0 updated, 1404 unchanged"),
        "{second}"
    );
    assert!(
        second.contains("nvd: fetched 0 CVE records in 1 pages (modified since"),
        "{second}"
    );
    assert_eq!(stored_line(&second), want);
    let log = srv.take_log();
    assert!(
        log.iter().any(|r| r.starts_with("/nvd/cves/2.0?")
            && r.contains("lastModStartDate=")
            && r.contains("lastModEndDate=")),
        "{log:?}"
    );
    // A full NVD re-sync is unchanged too.
    let full = ok(srv.sync(db_sync, &["--nvd-full"]), "full sync");
    assert!(
        full.contains("nvd: 5 files (5 unchanged): CVE records 0 new, 0 updated, 5 unchanged"),
        "{full}"
    );
    assert_eq!(stored_line(&full), want);

    let snapshot = || {
        let s = store::Store::open(Path::new(db_sync)).unwrap();
        (
            s.feed_totals().unwrap(),
            s.sync_state("nvd").unwrap(),
            s.sync_state("csaf").unwrap(),
        )
    };
    let before = snapshot();
    assert!(before.1.is_some() && before.2.is_some());

    // Failures: one line naming the URL and the problem, nothing stored.
    let advisory = format!("/csaf/{}", year_path("icsma-24-163-01.json"));
    type Case<'a> = (Option<(&'a str, Fault)>, &'a [&'a str], String, &'a str);
    let cases: Vec<Case> = vec![
        (
            Some((advisory.as_str(), Fault::Status500)),
            &[],
            format!("{}{advisory}: HTTP 500", srv.base),
            "500",
        ),
        (
            Some((advisory.as_str(), Fault::Truncated)),
            &[],
            format!("{}{advisory}: invalid JSON: EOF while parsing", srv.base),
            "truncated",
        ),
        (
            Some((advisory.as_str(), Fault::Garbage)),
            &[],
            format!("{}{advisory}: invalid JSON", srv.base),
            "garbage advisory",
        ),
        (
            Some(("/csaf/feed-tlp-white.json", Fault::Garbage)),
            &[],
            format!("{}/csaf/feed-tlp-white.json: invalid JSON", srv.base),
            "garbage ROLIE",
        ),
        (
            Some(("/.well-known/csaf/provider-metadata.json", Fault::Status500)),
            &[],
            format!(
                "{}/.well-known/csaf/provider-metadata.json: HTTP 500",
                srv.base
            ),
            "metadata 500",
        ),
        (
            Some(("/nvd/cves/2.0", Fault::Truncated)),
            &["--nvd-full"],
            format!(
                "{}/nvd/cves/2.0?startIndex=0&resultsPerPage=2000: invalid JSON",
                srv.base
            ),
            "NVD page",
        ),
        (
            None,
            &["--max-document-mib", "1"],
            format!(
                "{}/kev.json: response is larger than the limit of 1 MiB per document",
                srv.base
            ),
            "size cap",
        ),
    ];
    for (fault, extra, want_err, what) in cases {
        srv.fault(fault);
        let o = srv.sync(db_sync, extra);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{what} must fail: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        let err = String::from_utf8_lossy(&o.stderr);
        eprint!("{what}: {err}");
        assert_eq!(err.lines().count(), 1, "{what}: one line: {err}");
        assert!(
            err.starts_with(&format!("ward: error: {want_err}")),
            "{what}: {err}"
        );
        assert_eq!(snapshot(), before, "{what}: nothing stored");
    }
    srv.fault(None);

    // Not a server at all: a clear connection error naming the URL.
    let o = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "feeds",
            "sync",
            "--db",
            db_sync,
            "--source",
            "kev=http://127.0.0.1:9/kev.json",
            "--source",
            "csaf=off",
            "--source",
            "nvd=off",
        ])
        .env_remove("WARD_FEED_KEV_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.starts_with("ward: error: http://127.0.0.1:9/kev.json: ") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(snapshot(), before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A feed directory in the shape `Server::start` serves: the given CSAF
/// advisories (file name → document), an empty KEV catalog, no NVD records.
fn feed_dir(dir: &Path, advisories: &[(&str, &serde_json::Value)]) -> PathBuf {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("csaf_icsma")).unwrap();
    std::fs::create_dir_all(dir.join("nvd_cve_json")).unwrap();
    for (name, doc) in advisories {
        std::fs::write(
            dir.join("csaf_icsma").join(name),
            serde_json::to_vec(doc).unwrap(),
        )
        .unwrap();
    }
    std::fs::write(
        dir.join("known_exploited_vulnerabilities.json"),
        br#"{"title":"CISA Catalog of Known Exploited Vulnerabilities","catalogVersion":"2026.01.01","dateReleased":"2026-01-01T00:00:00.000Z","count":0,"vulnerabilities":[]}"#,
    )
    .unwrap();
    dir.to_path_buf()
}

/// The stored alerts of kind `new_advisory_match` (`ward alerts --json`).
fn advisory_alerts(db: &str) -> Vec<serde_json::Value> {
    let o = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["alerts", "--json", "--db", db])
        .output()
        .unwrap();
    let all: Vec<serde_json::Value> = serde_json::from_str(&ok(o, "alerts")).unwrap();
    all.into_iter()
        .filter(|a| a["kind"] == "new_advisory_match")
        .collect()
}

/// Issue 17, acceptance 2: a sync that brings an advisory matching an
/// inventoried device raises exactly one `new_advisory_match` alert, with
/// the advisory, CVE, product entry and rule as evidence; an advisory that
/// matches nothing raises none, and syncing the same advisories again raises
/// nothing new. Needs no shared test data: the sample capture and CMMS file,
/// and the sample advisory served by a local CSAF provider.
#[test]
fn sync_raises_one_alert_per_newly_matching_advisory() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::temp_dir().join(format!("ward-feeds-alert-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    let ward = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(args)
            .args(["--db", db])
            .current_dir(&root)
            .output()
            .unwrap();
        ok(o, &args.join(" "))
    };
    ward(&["analyze", "samples/hospital-room.pcap"]);
    ward(&["inventory", "import", "samples/cmms.csv"]);

    let sample: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("samples/advisory.csaf.json")).unwrap())
            .unwrap();
    // The same advisory for a vendor nobody in the room has.
    let mut other = serde_json::to_string(&sample)
        .unwrap()
        .replace("Example Medical", "Nobody Here Medical")
        .replace("WARD-SAMPLE-2026-01", "WARD-SAMPLE-2026-02");
    other = other.replace("CVE-0000-0001", "CVE-0000-0002");
    let other: serde_json::Value = serde_json::from_str(&other).unwrap();
    let nvd_off = ["--source", "nvd=off"];

    let first = Server::start(&feed_dir(
        &dir.join("feed1"),
        &[("icsma-26-002-01.json", &other)],
    ));
    let out = ok(first.sync(db, &nvd_off), "first sync");
    assert!(!out.contains("new advisory matches"), "{out}");
    assert!(advisory_alerts(db).is_empty());

    let both = [
        ("icsma-26-001-01.json", &sample),
        ("icsma-26-002-01.json", &other),
    ];
    let feed2 = feed_dir(&dir.join("feed2"), &both);
    let fx = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    std::fs::copy(
        fx.join("epss_scores-2026-12-05.csv.gz"),
        feed2.join("epss.csv.gz"),
    )
    .unwrap();
    std::fs::copy(fx.join("device-recall.json"), feed2.join("fda.json")).unwrap();
    let second = Server::start(&feed2);
    let (epss, fda) = (
        format!("epss={}/epss.csv.gz", second.base),
        format!("fda={}/fda/device/enforcement.json", second.base),
    );
    let with_risk_feeds = ["--source", "nvd=off", "--source", &epss, "--source", &fda];
    let out = ok(second.sync(db, &with_risk_feeds), "second sync");
    assert!(out.contains("new advisory matches: 1 "), "{out}");
    assert!(out.contains("epss: fetched 3 scores from"), "{out}");
    assert!(
        out.contains("fda: fetched 2 device recall reports of the last 730 days in 2 pages"),
        "{out}"
    );
    assert!(
        out.contains("stored: 3 EPSS scores, 2 FDA recalls"),
        "{out}"
    );
    let alerts = advisory_alerts(db);
    assert_eq!(alerts.len(), 1, "{alerts:#?}");
    let a = &alerts[0];
    assert_eq!(a["key"], "WARD-SAMPLE-2026-01", "{a:#}");
    assert!(
        a["device"].as_str().unwrap().starts_with("declared:"),
        "the declared Example Infusion Pump: {a:#}"
    );
    let summary = a["summary"].as_str().unwrap();
    for want in ["CVE-0000-0001", "Example Infusion Pump", "rule"] {
        assert!(summary.contains(want), "{want} in {summary}");
    }

    // The same advisories again: folded, nothing new.
    let out = ok(second.sync(db, &nvd_off), "third sync");
    assert!(!out.contains("new advisory matches"), "{out}");
    let again = advisory_alerts(db);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["count"], 1, "{:#}", again[0]);
    let _ = std::fs::remove_dir_all(&dir);
}
