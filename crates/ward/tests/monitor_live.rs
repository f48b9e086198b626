//! Live monitoring on a real interface (feature `live`): `ward baseline learn
//! --interface` and `ward monitor --interface` capture on the bridge of the
//! network namespaces of `tests/netns/scenario.sh` while DCMTK, an HL7 sink,
//! nmap and telnet produce traffic.
//!
//! - Learning runs until SIGINT, then stores a baseline of the two devices.
//! - Monitoring runs continuously: while it still runs, exactly the expected
//!   alerts (unknown DICOM AE, new device, port scan, telnet management
//!   access, cleartext login) are in the store and were printed as JSON
//!   lines; the inventory holds the intruder. SIGTERM then ends it cleanly
//!   (exit 0, nothing new and nothing lost).
//!
//! Needs root and the tools of `tests/monitor.rs`; skips with a message otherwise.
#![cfg(feature = "live")]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PACS: &str = "127.0.10.1";
const INTRUDER: &str = "127.0.10.66";

fn ward_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ward")
}

#[path = "support/realtools.rs"]
mod realtools;
use realtools::{missing, not_root, ward};

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A scenario paused around its phases (SCENARIO_PAUSE), in the background.
struct Scenario {
    out: PathBuf,
    child: Child,
}

impl Scenario {
    fn start(out: &Path, phases: &[&str]) -> (Scenario, String) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/netns/scenario.sh");
        let child = Command::new("bash")
            .arg(script)
            .arg(out)
            .args(phases)
            .env("SCENARIO_PAUSE", "1")
            .stdout(Stdio::null())
            .spawn()
            .expect("scenario");
        let s = Scenario {
            out: out.to_path_buf(),
            child,
        };
        let ready = s.file("ready");
        wait_for("the namespaces", Duration::from_secs(60), || ready.exists());
        let ns = std::fs::read_to_string(&ready).unwrap().trim().to_string();
        (s, ns)
    }

    fn file(&self, ext: &str) -> PathBuf {
        PathBuf::from(format!("{}.{ext}", self.out.display()))
    }

    /// Runs the phases and waits for their end.
    fn run_phases(&self) {
        std::fs::write(self.file("go"), b"").unwrap();
        let done = self.file("done");
        wait_for("the scenario's phases", Duration::from_secs(240), || {
            done.exists()
        });
    }

    fn finish(mut self) {
        std::fs::write(self.file("release"), b"").unwrap();
        assert!(self.child.wait().unwrap().success(), "scenario failed");
    }
}

/// `ward ARGS` inside namespace `ns`, stdout and stderr to files.
fn spawn_in(ns: &str, args: &[&str], log: &Path) -> Child {
    let stdout = std::fs::File::create(log.with_extension("out")).unwrap();
    let stderr = std::fs::File::create(log.with_extension("err")).unwrap();
    Command::new("ip")
        .args(["netns", "exec", ns, ward_bin()])
        .args(args)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("spawn ward")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// Waits for ward to print that it captures (the interface is open).
fn wait_capturing(log: &Path, child: &mut Child) {
    let err = log.with_extension("err");
    wait_for(
        "ward to open the interface",
        Duration::from_secs(30),
        || {
            assert!(
                child.try_wait().unwrap().is_none(),
                "ward exited early: {}",
                read(&err)
            );
            read(&err).contains("capturing on br0")
        },
    );
}

fn signal(child: &Child, sig: &str) {
    let st = Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
}

fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let t = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            panic!("ward did not exit within {limit:?} of the signal");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn stored(db: &str) -> BTreeSet<(String, IpAddr)> {
    let out = ward(&["alerts", "--db", db, "--format", "jsonl"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["kind"].as_str().unwrap().to_string(),
                v["ip"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn live_learn_and_monitor_on_an_interface() {
    if let Some(why) = missing("network namespaces and live capture") {
        eprintln!("skipping: {why}");
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("ward-monitor-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();

    // 1. Learn live from normal traffic until SIGINT.
    let (sc, ns) = Scenario::start(&dir.join("learn.pcap"), &["normal"]);
    let log = dir.join("learn.log");
    let mut learn = spawn_in(
        &ns,
        &["baseline", "learn", "--interface", "br0", "--db", db],
        &log,
    );
    wait_capturing(&log, &mut learn);
    sc.run_phases();
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        learn.try_wait().unwrap().is_none(),
        "learning ended by itself: {}",
        read(&log.with_extension("err"))
    );
    signal(&learn, "-INT");
    let st = exit_within(&mut learn, Duration::from_secs(30));
    sc.finish();
    let text = read(&log.with_extension("out"));
    assert!(
        st.success(),
        "learn: {st}: {}",
        read(&log.with_extension("err"))
    );
    assert!(text.contains("2 devices"), "{text}");
    let base: serde_json::Value =
        serde_json::from_slice(&ward(&["baseline", "show", "--db", db]).stdout).unwrap();
    let pacs = &base["devices"][PACS];
    let ports: BTreeSet<u64> = pacs["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["port"].as_u64().unwrap())
        .collect();
    assert_eq!(ports, [104, 2575].into_iter().collect(), "{pacs}");
    assert!(
        pacs["dicom_callers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "MODALITY"),
        "{pacs}"
    );

    // 2. Monitor live: normal traffic, then the attack.
    let (sc, ns) = Scenario::start(&dir.join("monitor.pcap"), &["normal", "attack"]);
    let log = dir.join("monitor.log");
    let mut mon = spawn_in(
        &ns,
        &[
            "monitor",
            "--interface",
            "br0",
            "--db",
            db,
            "--flush",
            "1",
            "--jsonl",
        ],
        &log,
    );
    wait_capturing(&log, &mut mon);
    sc.run_phases();
    let (pacs, intruder): (IpAddr, IpAddr) = (PACS.parse().unwrap(), INTRUDER.parse().unwrap());
    let want: BTreeSet<(String, IpAddr)> = [
        ("cleartext_credential", pacs),           // the telnet login
        ("dicom_unknown_ae", pacs),               // echoscu -aet ROGUE
        ("new_device", intruder),                 // the intruder joined
        ("port_scan", intruder),                  // nmap -sT
        ("unauthorized_management_access", pacs), // telnet session from a peer that never used it
    ]
    .into_iter()
    .map(|(k, ip)| (k.to_string(), ip))
    .collect();
    // The alerts reach the store while ward runs (closed TCP flows linger 5 s before they are final).
    wait_for(
        "the expected alerts in the store",
        Duration::from_secs(60),
        || stored(db) == want,
    );
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        mon.try_wait().unwrap().is_none(),
        "monitor ended by itself: {}",
        read(&log.with_extension("err"))
    );
    assert_eq!(
        stored(db),
        want,
        "exactly the expected alerts, and nothing more after a few flushes"
    );
    let printed: BTreeSet<(String, IpAddr)> = read(&log.with_extension("out"))
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))
        })
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["ip"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(printed, want, "printed as JSON lines as they fired");
    // The inventory is updated while it runs.
    let inv: serde_json::Value =
        serde_json::from_slice(&ward(&["inventory", "--db", db, "--json"]).stdout).unwrap();
    assert!(
        inv.to_string().contains(INTRUDER),
        "the intruder is in the inventory: {inv}"
    );

    signal(&mon, "-TERM");
    let st = exit_within(&mut mon, Duration::from_secs(30));
    sc.finish();
    let err = read(&log.with_extension("err"));
    assert!(st.success(), "monitor: {st}: {err}");
    assert!(err.contains("stopped;"), "{err}");
    assert_eq!(
        stored(db),
        want,
        "the shutdown flush adds no spurious alert"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 19, item 5: four `ward analyze` runs (several rounds) on the store a
/// live `ward monitor --interface` flushes to every second. All succeed, the
/// monitor keeps running and stores exactly the expected alerts, nothing lost:
/// every analysis stored its run (counted per capture, since the rounds
/// analyse the same fleets again and a lost run would leave the inventory as
/// it is), and the monitor stored its runs too.
#[test]
fn live_monitor_beside_concurrent_analyses() {
    if let Some(why) = missing("network namespaces and live capture") {
        eprintln!("skipping: {why}");
        return;
    }
    let dir: PathBuf =
        std::env::temp_dir().join(format!("ward-monitor-busy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let db = db.to_str().unwrap();
    // Captures for the analyses: distinct DHCP fleets of 600 clients each.
    let fleets: Vec<PathBuf> = (0..4u32)
        .map(|i| {
            let p = dir.join(format!("fleet{i}.pcap"));
            let f = std::fs::File::create(&p).unwrap();
            samplegen::fleet::write_range(std::io::BufWriter::new(f), i * 600..(i + 1) * 600)
                .unwrap();
            p
        })
        .collect();

    // The baseline, learnt from a capture of normal traffic.
    let (sc, _) = Scenario::start(&dir.join("learn.pcap"), &["normal"]);
    sc.run_phases();
    sc.finish();
    let learn = dir.join("learn.pcap");
    ward(&["baseline", "learn", learn.to_str().unwrap(), "--db", db]);

    let (sc, ns) = Scenario::start(&dir.join("monitor.pcap"), &["normal", "attack"]);
    let log = dir.join("monitor.log");
    let mut mon = spawn_in(
        &ns,
        &[
            "monitor",
            "--interface",
            "br0",
            "--db",
            db,
            "--flush",
            "1",
            "--jsonl",
        ],
        &log,
    );
    wait_capturing(&log, &mut mon);
    // Analyses in rounds of four at once while the phases run and the monitor flushes.
    let go = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let analyses = {
        let (go, fleets, db) = (go.clone(), fleets.clone(), db.to_string());
        std::thread::spawn(move || {
            let mut rounds = 0;
            while go.load(std::sync::atomic::Ordering::Relaxed) || rounds < 2 {
                let children: Vec<Child> = fleets
                    .iter()
                    .map(|p| {
                        Command::new(ward_bin())
                            .args(["analyze", p.to_str().unwrap(), "--db", &db])
                            .stdout(Stdio::null())
                            .stderr(Stdio::piped())
                            .spawn()
                            .unwrap()
                    })
                    .collect();
                for c in children {
                    let out = c.wait_with_output().unwrap();
                    assert!(
                        out.status.success(),
                        "round {rounds}: analyze failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                rounds += 1;
            }
            rounds
        })
    };
    sc.run_phases();
    let (pacs, intruder): (IpAddr, IpAddr) = (PACS.parse().unwrap(), INTRUDER.parse().unwrap());
    let want: BTreeSet<(String, IpAddr)> = [
        ("cleartext_credential", pacs),
        ("dicom_unknown_ae", pacs),
        ("new_device", intruder),
        ("port_scan", intruder),
        ("unauthorized_management_access", pacs),
    ]
    .into_iter()
    .map(|(k, ip)| (k.to_string(), ip))
    .collect();
    // The port scan is the one alert whose detection depends on the
    // capture keeping up with nmap (this machine is busy with the
    // analyses); every other one must arrive.
    let required: BTreeSet<(String, IpAddr)> = want
        .iter()
        .filter(|(k, _)| k != "port_scan")
        .cloned()
        .collect();
    let t = Instant::now();
    loop {
        assert!(
            mon.try_wait().unwrap().is_none(),
            "monitor ended: {}",
            read(&log.with_extension("err"))
        );
        let got = stored(db);
        if got == want || (t.elapsed() > Duration::from_secs(60) && got.is_superset(&required)) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(90),
            "expected alerts not stored: {got:?}; monitor: {}",
            read(&log.with_extension("err"))
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    go.store(false, std::sync::atomic::Ordering::Relaxed);
    let rounds = analyses.join().expect("every analysis succeeded");
    assert!(rounds >= 2, "{rounds} rounds of analyses");
    let runs_done = rounds * fleets.len();
    std::thread::sleep(Duration::from_secs(3));
    assert!(
        mon.try_wait().unwrap().is_none(),
        "monitor ended by itself: {}",
        read(&log.with_extension("err"))
    );
    signal(&mon, "-TERM");
    let st = exit_within(&mut mon, Duration::from_secs(60));
    sc.finish();
    let err = read(&log.with_extension("err"));
    assert!(st.success(), "monitor: {st}: {err}");
    let got = stored(db);
    assert!(
        got.is_superset(&required) && got.is_subset(&want),
        "the expected alerts and no other: {got:?}"
    );
    // A missed port scan is excused only when the capture itself lost
    // packets (libpcap's buffer overflowed while the analyses held the CPU):
    // without drops every packet was seen, so the scan must have been found.
    let starved = err.contains("libpcap dropped");
    if got != want {
        assert!(
            starved,
            "the port scan was missed although no packet was dropped: {got:?}; monitor: {err}"
        );
        eprintln!("note: the port scan was not detected (capture dropped packets: starved of CPU)");
    }
    // Nothing lost: every alert the monitor printed is stored, and only those.
    let printed: BTreeSet<(String, IpAddr)> = read(&log.with_extension("out"))
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|v| {
            (
                v["kind"].as_str().unwrap().to_string(),
                v["ip"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(printed, got, "every printed alert stored");
    // Nothing lost: every analysis run and the monitor's facts are stored.
    let runs = store::testing::run_inputs(&store::Store::open(Path::new(db)).unwrap());
    let of =
        |r: &Vec<String>, p: &Path| r.len() == 1 && Path::new(&r[0]).file_name() == p.file_name();
    for f in &fleets {
        let stored = runs.iter().filter(|r| of(r, f)).count();
        assert_eq!(
            stored,
            rounds,
            "{}: one stored run per analysis",
            f.display()
        );
    }
    let monitored = runs
        .iter()
        .filter(|r| r[..] == ["interface:br0".to_string()])
        .count();
    assert!(monitored >= 1, "the monitor's runs are stored: {runs:?}");
    let learnt = runs.iter().filter(|r| of(r, &learn)).count();
    assert_eq!(
        runs.len(),
        runs_done + monitored + learnt,
        "no other runs: {runs:?}"
    );
    let inv: serde_json::Value =
        serde_json::from_slice(&ward(&["inventory", "--db", db, "--json"]).stdout).unwrap();
    let text = inv.to_string();
    assert!(text.contains(INTRUDER), "the intruder is in the inventory");
    for i in [0u32, 599, 600, 1199, 1200, 1799, 1800, 2399] {
        let ip = samplegen::fleet::client_ip(i).to_string();
        assert!(
            text.contains(&format!("\"{ip}\"")),
            "fleet client {ip} stored"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ward capture --seconds 2` on an interface with no traffic (a filter no
/// packet matches) ends on time instead of waiting for a packet.
#[test]
fn capture_on_a_quiet_interface_stops_on_time() {
    if let Some(why) = not_root("live capture") {
        eprintln!("skipping: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ward-quiet-capture-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("ward.db");
    let t = Instant::now();
    let mut child = Command::new(ward_bin())
        .args([
            "capture",
            "--interface",
            "lo",
            "--seconds",
            "2",
            "--filter",
            "udp port 9 and host 127.0.0.254",
            "--db",
            db.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("run ward capture");
    // Bounded: a capture that waits for a packet is killed and fails the test.
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("ward capture --seconds 2 on a quiet interface still ran after 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "ward capture failed: {status}");
    let took = t.elapsed();
    assert!(took >= Duration::from_secs(2), "stopped early: {took:?}");
    assert!(
        took < Duration::from_secs(3),
        "ward capture --seconds 2 on a quiet interface took {took:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
