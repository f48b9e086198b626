//! Multi-site acceptance against a real NATS JetStream and PostgreSQL:
//! two sensors (two sites, different captures) and one server.
//!
//! 1. A reference run, uninterrupted.
//! 2. The same captures again, where the server is SIGKILLed mid-ingest and
//!    NATS is SIGKILLed and restarted while the sensors publish: the stored
//!    facts (counts, first/last seen, evidence), devices, anomalies and runs
//!    must equal the reference exactly.
//! 3. A sensor started while NATS is down buffers to disk up to its limit,
//!    says `buffering`/`full` in its status, and delivers everything once NATS
//!    and the server are up: again equal to the reference for its site.
//!
//! Each run has a private nats-server (free port, its own store directory)
//! and a scratch PostgreSQL schema. Skips (with a message) when nats-server
//! or PostgreSQL is missing, unless WARD_REQUIRE_SERVICES=1.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use store::testing::{services_required, ScratchDb};

const NATS_BIN: &str = "/usr/sbin/nats-server";

fn ward() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ward"))
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ward-multisite-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private nats-server; killed when dropped.
struct Nats {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

impl Nats {
    fn new(dir: &Path) -> Nats {
        Nats {
            port: free_port(),
            dir: dir.join("nats"),
            child: None,
        }
    }
    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
    fn start(&mut self) {
        std::fs::create_dir_all(&self.dir).unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.with_extension("log"))
            .unwrap();
        let child = Command::new(NATS_BIN)
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A child process killed (SIGKILL) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn services() -> bool {
    if !Path::new(NATS_BIN).exists() {
        assert!(
            !services_required(),
            "{NATS_BIN} missing and WARD_REQUIRE_SERVICES=1"
        );
        eprintln!("skipping: {NATS_BIN} not installed");
        return false;
    }
    true
}

/// Two sites' captures: different files, some facts shared between files.
fn captures(root: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();
    for (site, files) in [
        ("north", vec![("a-room.pcap", 0u64), ("b-flows.pcap", 2500)]),
        ("south", vec![("a-hostile.pcap", 0), ("b-flows.pcap", 800)]),
    ] {
        let dir = root.join(site);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, flows) in files {
            let bytes = if flows > 0 {
                samplegen::flows::write(Vec::new(), flows).unwrap()
            } else if site == "north" {
                std::fs::read(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/hospital-room.pcap"),
                )
                .unwrap()
            } else {
                samplegen::hospital::write(Vec::new(), samplegen::hospital::Variant::Hostile)
                    .unwrap()
            };
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        out.push((site, dir));
    }
    // Let the files age past the sensor's "still being written" second.
    std::thread::sleep(Duration::from_millis(1100));
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
    std::thread::sleep(Duration::from_millis(1100));
}

fn sensor(site: &str, watch: &Path, buffer: &Path, nats: &str, log: &Path, extra: &[&str]) -> Proc {
    let log = std::fs::File::create(log).unwrap();
    let child = ward()
        .args([
            "sensor",
            "--site",
            site,
            "--nats",
            nats,
            "--max-facts",
            "10",
            "--workers",
            "1",
            "--exit-when-drained",
            "--watch",
        ])
        .arg(watch)
        .arg("--buffer-dir")
        .arg(buffer)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proc(child)
}

/// `ward server` with the dashboard and API on (plain HTTP on loopback, port `web`).
fn server(db: &str, nats: &str, log: &Path, web: u16) -> Proc {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let state = std::env::temp_dir().join(format!("ward-multisite-state-{web}"));
    let child = ward()
        .args([
            "server",
            "--batch",
            "4",
            "--ack-wait-secs",
            "2",
            "--stats-every",
            "0",
            "--nats",
            nats,
            "--db",
            db,
            "--insecure-http",
            "--listen",
            &format!("127.0.0.1:{web}"),
        ])
        .arg("--state-dir")
        .arg(state)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    Proc(child)
}

/// A viewer account with an API token on `db`.
fn api_token(db: &str) -> String {
    let mut child = ward()
        .args([
            "user",
            "add",
            "vic",
            "--role",
            "viewer",
            "--password-stdin",
            "--db",
            db,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "a long enough passphrase 42").unwrap();
    }
    assert!(child.wait().unwrap().success(), "ward user add");
    let out = ward()
        .args(["user", "token", "vic", "--db", db])
        .output()
        .unwrap();
    assert!(out.status.success(), "ward user token");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// GET of the API as JSON: (status, body).
fn api(web: u16, token: &str, path: &str) -> (u16, serde_json::Value) {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build(),
    );
    let mut r = agent
        .get(format!("http://127.0.0.1:{web}{path}"))
        .header("authorization", &format!("Bearer {token}"))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
    )
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What the centre shows: every site's devices through `/api/v1/devices?site=`
/// (exactly the stored ones), the overview's per-site counts, a device page
/// by its `SITE/KEY`, and `ward risk` scoring every one of them.
fn check_centre_views(db: &ScratchDb, web: u16, token: &str) {
    let stored = db.store().devices().unwrap();
    let sites = db.store().sites().unwrap();
    assert!(sites.len() >= 2, "{sites:?}");
    // The snapshot is rebuilt in the background after ingest: wait for it.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (st, risk) = api(web, token, "/api/v1/risk");
        if st == 200 && risk["devices"].as_u64() == Some(stored.len() as u64) {
            let counts: Vec<(String, u64)> = risk["sites"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["label"].as_str().unwrap().to_string(),
                        c["count"].as_u64().unwrap(),
                    )
                })
                .collect();
            let want: Vec<(String, u64)> = sites
                .iter()
                .map(|s| {
                    let n = stored
                        .iter()
                        .filter(|d| d.key.starts_with(&format!("{s}/")))
                        .count();
                    (s.clone(), n as u64)
                })
                .collect();
            assert_eq!(counts, want, "per-site counts of the overview");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the dashboard never showed the {} stored devices: {risk}",
            stored.len()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    for site in &sites {
        let mut want: Vec<String> = stored
            .iter()
            .filter(|d| d.key.starts_with(&format!("{site}/")))
            .map(|d| d.key.clone())
            .collect();
        want.sort();
        let mut got = Vec::new();
        for page in 1.. {
            let (st, v) = api(
                web,
                token,
                &format!("/api/v1/devices?site={site}&per_page=500&page={page}&sort=name"),
            );
            assert_eq!(st, 200);
            assert_eq!(v["total"].as_u64(), Some(want.len() as u64), "site {site}");
            let devs = v["devices"].as_array().unwrap();
            for d in devs {
                assert_eq!(d["site"], site.as_str(), "{d}");
                got.push(d["key"].as_str().unwrap().to_string());
            }
            if got.len() >= want.len() || devs.is_empty() {
                break;
            }
        }
        got.sort();
        assert_eq!(got, want, "the devices of site {site}");
        // A device page by its SITE/KEY, URL-encoded.
        let key = &want[0];
        let (st, d) = api(web, token, &format!("/api/v1/devices/{}", enc(key)));
        assert_eq!(st, 200, "device {key}: {d}");
        assert_eq!(d["summary"]["key"], key.as_str());
        assert_eq!(d["summary"]["site"], site.as_str());
    }
    let (st, _) = api(web, token, "/api/v1/devices/nosuchsite%2Fip%3A10.9.9.9");
    assert_eq!(st, 404);
    // `ward risk` on the central store scores every device of every site.
    let out = ward_ok(&["risk", "--json", "--db", &db.url]);
    let scored: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    let mut keys: Vec<&str> = scored.iter().filter_map(|d| d["key"].as_str()).collect();
    keys.sort_unstable();
    let mut want: Vec<&str> = stored.iter().map(|d| d.key.as_str()).collect();
    want.sort_unstable();
    assert_eq!(keys, want, "ward risk scores every site's devices");
}

/// Messages the sensors queued, from their logs.
fn queued(logs: &[PathBuf]) -> u64 {
    let mut n = 0;
    for l in logs {
        for line in std::fs::read_to_string(l).unwrap_or_default().lines() {
            if let Some(x) = line
                .split(": ")
                .nth(2)
                .and_then(|r| r.strip_suffix(" messages queued"))
            {
                n += x.parse::<u64>().unwrap();
            }
        }
    }
    n
}

fn wait_exit(p: &mut Proc, what: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(st) = p.0.try_wait().unwrap() {
            assert!(st.success(), "{what} failed: {st}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not finish in {secs} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the store holds `n` messages and no site waits for a rebuild.
fn wait_ingested(db: &ScratchDb, n: u64, secs: u64) {
    let s = db.store();
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = s.ingested_count().unwrap();
        assert!(got <= n, "more messages stored ({got}) than sent ({n})");
        if got == n && s.dirty_sites().unwrap().is_empty() && s.device_count().unwrap() > 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {got} of {n} messages ingested after {secs} s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until the server's remediation items stand still (the same for a
/// second, none of the sites waiting for a rebuild) and are not none: the
/// server brings the items of the devices it rebuilds in line itself. How
/// many there are.
fn wait_remediation(db: &ScratchDb, secs: u64) -> usize {
    let s = db.store();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut last = (0, Instant::now());
    loop {
        let n = s
            .remediation_items(&store::remediation::ItemFilter::default())
            .unwrap()
            .len();
        if n != last.0 {
            last = (n, Instant::now());
        }
        if n > 0 && last.1.elapsed() > Duration::from_secs(1) && s.dirty_sites().unwrap().is_empty()
        {
            return n;
        }
        assert!(
            Instant::now() < deadline,
            "the server opened no remediation items for its {} devices in {secs} s",
            s.device_count().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A whole sync of the server's store finds nothing left to do (the server's
/// syncs after its rebuilds kept every item in line), and the server said
/// what it opened in its log.
fn check_remediation_in_line(db: &ScratchDb, items: usize, log: &Path) {
    let out = ward_ok(&["remediation", "sync", "--db", &db.url]);
    assert_eq!(
        String::from_utf8_lossy(&out).trim(),
        "remediation: 0 opened, 0 verified automatically, 0 reopened; 0 firmware changes"
    );
    let n = db
        .store()
        .remediation_items(&store::remediation::ItemFilter::default())
        .unwrap()
        .len();
    assert_eq!(n, items);
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("remediation: "), "{log}");
}

#[derive(Debug, PartialEq)]
struct Snapshot {
    facts: Vec<identify::Fact>,
    devices: Vec<identify::Device>,
    anomalies: Vec<(String, u64)>,
    site_anomalies: Vec<Vec<(String, u64)>>,
    runs: u64,
    messages: u64,
    sites: Vec<String>,
}

fn snapshot(db: &ScratchDb) -> Snapshot {
    let s = db.store();
    let sites = s.sites().unwrap();
    Snapshot {
        facts: s.facts().unwrap(),
        devices: s.devices().unwrap(),
        anomalies: s.anomalies().unwrap(),
        site_anomalies: sites.iter().map(|x| s.site_anomalies(x).unwrap()).collect(),
        runs: s.run_count().unwrap(),
        messages: s.ingested_count().unwrap(),
        sites,
    }
}

#[test]
fn two_sensors_one_server_survive_kills_and_outages() {
    if !services() {
        return;
    }
    let Some(ref_db) = ScratchDb::new("multisite reference") else {
        return;
    };
    let root = scratch("acceptance");
    let caps = captures(&root.join("captures"));

    // 1. Reference: uninterrupted.
    let mut nats = Nats::new(&root.join("ref"));
    nats.start();
    let web = free_port();
    let token = api_token(&ref_db.url);
    let mut srv = server(&ref_db.url, &nats.url(), &root.join("ref-server.log"), web);
    let mut logs = Vec::new();
    let mut sensors = Vec::new();
    for (site, dir) in &caps {
        let watch = root.join(format!("ref-watch-{site}"));
        copy_dir(dir, &watch);
        let log = root.join(format!("ref-sensor-{site}.log"));
        sensors.push(sensor(
            site,
            &watch,
            &root.join(format!("ref-buf-{site}")),
            &nats.url(),
            &log,
            &[],
        ));
        logs.push(log);
    }
    for (i, s) in sensors.iter_mut().enumerate() {
        wait_exit(s, &format!("reference sensor {i}"), 120);
    }
    let total = queued(&logs);
    assert!(total > 100, "enough messages to interrupt ({total})");
    wait_ingested(&ref_db, total, 120);
    check_centre_views(&ref_db, web, &token);
    let items = wait_remediation(&ref_db, 60);
    terminate(&mut srv, "server");
    check_remediation_in_line(&ref_db, items, &root.join("ref-server.log"));
    drop(srv);
    let reference = snapshot(&ref_db);
    assert_eq!(reference.sites, vec!["north", "south"]);
    assert_eq!(reference.runs, 4, "one run per capture");
    assert!(
        reference
            .devices
            .iter()
            .any(|d| d.key.starts_with("north/"))
            && reference
                .devices
                .iter()
                .any(|d| d.key.starts_with("south/"))
    );
    drop(nats);

    // 2. Interrupted: server SIGKILLed mid-ingest, NATS SIGKILLed and restarted.
    let Some(db) = ScratchDb::new("multisite interrupted") else {
        return;
    };
    let mut nats = Nats::new(&root.join("int"));
    nats.start();
    let srv_log = root.join("int-server.log");
    let web = free_port();
    srv = server(&db.url, &nats.url(), &srv_log, web);
    let mut logs = Vec::new();
    let mut sensors = Vec::new();
    for (site, dir) in &caps {
        let watch = root.join(format!("int-watch-{site}"));
        copy_dir(dir, &watch);
        let log = root.join(format!("int-sensor-{site}.log"));
        sensors.push(sensor(
            site,
            &watch,
            &root.join(format!("int-buf-{site}")),
            &nats.url(),
            &log,
            &[],
        ));
        logs.push(log);
    }
    let store = db.store();
    let deadline = Instant::now() + Duration::from_secs(120);
    while store.ingested_count().unwrap() < 20 {
        assert!(Instant::now() < deadline, "ingest did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(srv); // SIGKILL mid-ingest
    let at_kill = store.ingested_count().unwrap();
    assert!(
        at_kill < total,
        "the server was killed mid-ingest ({at_kill} of {total})"
    );
    nats.kill(); // SIGKILL while sensors may still publish
    std::thread::sleep(Duration::from_millis(1500));
    nats.start();
    let token = api_token(&db.url);
    srv = server(&db.url, &nats.url(), &srv_log, web);
    for (i, s) in sensors.iter_mut().enumerate() {
        wait_exit(s, &format!("sensor {i}"), 120);
    }
    assert_eq!(queued(&logs), total);
    wait_ingested(&db, total, 180);
    check_centre_views(&db, web, &token);
    drop(srv);
    assert_eq!(
        snapshot(&db),
        reference,
        "interrupted run differs from the reference"
    );
    drop(nats);

    // 3. A sensor cut off from NATS: buffers (1 MiB limit: fills up), says so, then delivers.
    let Some(db3) = ScratchDb::new("multisite buffered") else {
        return;
    };
    let mut nats = Nats::new(&root.join("buf"));
    let (site, dir) = &caps[0];
    let watch = root.join("buf-watch");
    copy_dir(dir, &watch);
    let buffer = root.join("buf-buffer");
    let log = root.join("buf-sensor.log");
    let mut s = sensor(
        site,
        &watch,
        &buffer,
        &nats.url(),
        &log,
        &["--buffer-max-mib", "1"],
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = std::collections::BTreeSet::new();
    loop {
        if let Ok(st) = std::fs::read(buffer.join("status.json")) {
            let st: serde_json::Value = serde_json::from_slice(&st).unwrap();
            seen.insert(st["state"].as_str().unwrap().to_string());
            assert!(
                st["pending_bytes"].as_u64().unwrap() <= 1024 * 1024,
                "over the buffer limit: {st}"
            );
            if st["state"] == "full" {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "sensor never reported a full buffer (saw {seen:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // `ward sensor status` says it too.
    let out = ward()
        .args(["sensor", "status", "--buffer-dir"])
        .arg(&buffer)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("full") && text.contains("north"),
        "{text}"
    );
    assert!(
        s.0.try_wait().unwrap().is_none(),
        "the sensor waits, it does not exit or drop"
    );
    nats.start();
    let srv = server(
        &db3.url,
        &nats.url(),
        &root.join("buf-server.log"),
        free_port(),
    );
    wait_exit(&mut s, "buffered sensor", 180);
    let n = queued(&[log]);
    wait_ingested(&db3, n, 120);
    drop(srv);
    let got = snapshot(&db3);
    let north = |x: &Snapshot| -> (Vec<identify::Device>, Vec<(String, u64)>) {
        (
            x.devices
                .iter()
                .filter(|d| d.key.starts_with("north/"))
                .cloned()
                .collect(),
            x.site_anomalies[0].clone(),
        )
    };
    assert_eq!(got.sites, vec!["north"]);
    assert_eq!(north(&got), north(&reference));
    assert_eq!(got.facts, db_site_facts(&ref_db, "north"));
    let _ = std::fs::remove_dir_all(&root);
}

fn db_site_facts(db: &ScratchDb, site: &str) -> Vec<identify::Fact> {
    db.store().site_facts(site).unwrap()
}

/// Sends SIGTERM and waits: exit 0 within 10 s.
fn terminate(p: &mut Proc, what: &str) {
    let st = Command::new("kill")
        .args(["-TERM", &p.0.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let started = Instant::now();
    wait_exit(p, what, 10);
    eprintln!(
        "{what}: stopped {} ms after SIGTERM",
        started.elapsed().as_millis()
    );
}

/// Waits until the API answers.
fn wait_api(web: u16, token: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", web)).is_err() {
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(api(web, token, "/api/v1/risk").0, 200);
}

#[test]
fn sigterm_stops_serve_and_server_on_postgres_cleanly() {
    if !services() {
        return;
    }
    let Some(db) = ScratchDb::new("multisite sigterm") else {
        return;
    };
    let root = scratch("sigterm");
    let token = api_token(&db.url);
    // `ward serve` on PostgreSQL.
    let web = free_port();
    let mut serve = Proc(
        ward()
            .args([
                "serve",
                "--db",
                &db.url,
                "--insecure-http",
                "--listen",
                &format!("127.0.0.1:{web}"),
            ])
            .arg("--state-dir")
            .arg(root.join("state"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("serve.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_api(web, &token);
    terminate(&mut serve, "ward serve --db postgres://");
    let log = std::fs::read_to_string(root.join("serve.log")).unwrap();
    assert!(!log.contains("panicked"), "{log}");
    // `ward server` (ingest + dashboard), then with --no-web.
    let mut nats = Nats::new(&root);
    nats.start();
    let web = free_port();
    let mut srv = server(&db.url, &nats.url(), &root.join("server.log"), web);
    wait_api(web, &token);
    terminate(&mut srv, "ward server");
    let mut srv = Proc(
        ward()
            .args(["server", "--no-web", "--nats", &nats.url(), "--db", &db.url])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(root.join("server-noweb.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(root.join("server-noweb.log"))
        .unwrap_or_default()
        .contains("consuming")
    {
        assert!(
            Instant::now() < deadline,
            "ward server --no-web never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    terminate(&mut srv, "ward server --no-web");
    for l in ["server.log", "server-noweb.log"] {
        let log = std::fs::read_to_string(root.join(l)).unwrap();
        assert!(!log.contains("panicked"), "{l}: {log}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// Runs `ward` to success; stdout.
fn ward_ok(args: &[&str]) -> Vec<u8> {
    let out = ward().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "ward {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// (kind, ip, key, count) of alerts as JSON (`ward monitor --json`, the API).
fn alert_keys(v: &serde_json::Value) -> Vec<(String, String, String, u64)> {
    let mut out: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap().to_string(),
                a["ip"].as_str().unwrap().to_string(),
                a["key"].as_str().unwrap().to_string(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// An attack replayed at site `south`'s sensor (a connect scan and a Telnet
/// login, `samplegen::attack`) reaches the centre as exactly the alerts
/// `ward monitor` raises on the same capture with the same baseline, once
/// each — although NATS is SIGKILLed with the messages in its store, the
/// server is SIGKILLed right after it stored them, and the sensor sends the
/// same capture again — with `site: south` in the API and in the syslog
/// export; an alert closed at the centre stays closed.
#[test]
fn site_alerts_reach_the_centre_once_each() {
    if !services() {
        return;
    }
    let Some(db) = ScratchDb::new("multisite alerts") else {
        return;
    };
    let root = scratch("alerts");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    // The baseline, learnt at the centre from normal traffic and shipped to the site.
    let normal = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/hospital-room.pcap");
    let baseline = root.join("baseline.json");
    ward_ok(&[
        "baseline",
        "learn",
        &s(&normal),
        "--db",
        &s(&root.join("learn.db")),
        "--out",
        &s(&baseline),
    ]);
    let attack = root.join("attack.pcap");
    std::fs::write(&attack, samplegen::attack::write(Vec::new()).unwrap()).unwrap();
    // The oracle: the same capture and baseline on a single box.
    let local: serde_json::Value = serde_json::from_slice(&ward_ok(&[
        "monitor",
        &s(&attack),
        "--db",
        &s(&root.join("local.db")),
        "--baseline-file",
        &s(&baseline),
        "--json",
    ]))
    .unwrap();
    let want = alert_keys(&local);
    let kinds: Vec<&str> = want.iter().map(|a| a.0.as_str()).collect();
    assert!(
        kinds.contains(&"port_scan") && kinds.contains(&"cleartext_credential"),
        "the attack raises a scan and a cleartext login: {want:?}"
    );

    // The site's sensor delivers to NATS while the server is down.
    let mut nats = Nats::new(&root);
    nats.start();
    let nats_url = nats.url();
    let deliver = |n: usize| {
        let watch = root.join(format!("watch-{n}"));
        std::fs::create_dir_all(&watch).unwrap();
        std::fs::copy(&attack, watch.join("attack.pcap")).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let log = root.join(format!("sensor-{n}.log"));
        let mut p = sensor(
            "south",
            &watch,
            &root.join("buffer"),
            &nats_url,
            &log,
            &["--baseline", &s(&baseline)],
        );
        wait_exit(&mut p, "site sensor", 120);
        queued(&[log])
    };
    let total = deliver(1);
    assert!(total >= 2, "observations and alerts: {total} messages");
    nats.kill(); // SIGKILL with the messages in its store
    nats.start();
    let syslog = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let syslog_url = format!("udp://{}", syslog.local_addr().unwrap());
    let token = api_token(&db.url);
    let web = free_port();
    let start_server = || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("server.log"))
            .unwrap();
        Proc(
            ward()
                .args([
                    "server",
                    "--ack-wait-secs",
                    "2",
                    "--stats-every",
                    "0",
                    "--nats",
                    &nats_url,
                    "--db",
                    &db.url,
                    "--insecure-http",
                    "--listen",
                    &format!("127.0.0.1:{web}"),
                    "--syslog",
                    &syslog_url,
                ])
                .arg("--state-dir")
                .arg(root.join("state"))
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        )
    };
    let srv = start_server();
    wait_ingested(&db, total, 120);
    drop(srv); // SIGKILL right after the commit: the acks may be lost
    let mut lines = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = syslog.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    let srv = start_server();
    wait_api(web, &token);
    // Redelivered (unacknowledged) messages are skipped; wait past the ack wait.
    std::thread::sleep(Duration::from_secs(3));

    let central = |q: &str| -> serde_json::Value {
        let (st, v) = api(
            web,
            &token,
            &format!("/api/v1/alerts?status=all&per_page=500{q}"),
        );
        assert_eq!(st, 200, "{v}");
        v["alerts"].clone()
    };
    let got = central("&site=south");
    assert_eq!(
        alert_keys(&got),
        want,
        "the centre holds exactly the site's alerts, once each"
    );
    for a in got.as_array().unwrap() {
        assert_eq!(a["site"], "south", "{a}");
        assert!(a["device"].as_str().unwrap().starts_with("south/"), "{a}");
    }
    assert_eq!(central("&site=north").as_array().unwrap().len(), 0);
    assert_eq!(central("").as_array().unwrap().len(), want.len());

    // The syslog export: each alert once, with the site named.
    while let Ok(n) = syslog.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).to_string());
    }
    assert_eq!(lines.len(), want.len(), "{lines:#?}");
    for l in &lines {
        assert!(
            l.contains(" site=\"south\"")
                && l.contains("cs5Label=site cs5=south")
                && l.contains("CEF:0|Ward|"),
            "{l}"
        );
    }

    // Closed at the centre, then the sensor sends the same capture again:
    // the redelivered alerts change nothing.
    let scan = got
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "port_scan")
        .unwrap();
    let id = scan["id"].as_i64().unwrap().to_string();
    ward_ok(&[
        "alerts",
        "close",
        &id,
        "--comment",
        "pentest",
        "--db",
        &db.url,
    ]);
    let before = db.store().ingested_count().unwrap();
    let again = deliver(2);
    assert_eq!(again, total, "the same messages");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        db.store().ingested_count().unwrap(),
        before,
        "nothing new stored"
    );
    let after = central("&site=south");
    assert_eq!(alert_keys(&after), want, "no count added");
    let closed = after
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"].as_i64().unwrap().to_string() == id)
        .unwrap();
    assert_eq!(closed["status"], "closed", "{closed}");
    assert!(syslog.recv(&mut buf).is_err(), "nothing exported twice");
    drop(srv);
    let _ = std::fs::remove_dir_all(&root);
}
